package privatekey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"golang.org/x/crypto/ssh"
)

// GetPublicKeyToken is the invoke our program calls when a deploy key is configured
// (components/keys.ts: tls.getPublicKeyOutput({ privateKeyOpenssh })).
const GetPublicKeyToken = "tls:index/getPublicKey:getPublicKey"

// GetPublicKey replays TF's tls_public_key data source (data_source_public_key.go): exactly one
// of privateKeyPem / privateKeyOpenssh; the PEM one is parsed by its block type (PKCS#1 "RSA
// PRIVATE KEY", SEC 1 "EC PRIVATE KEY", PKCS#8 "PRIVATE KEY"; common_key.go:70-116), the OpenSSH
// one with ssh.ParseRawPrivateKey (common_key.go:121-133); the result carries the algorithm and the
// same public attributes and id as the resource (common_key.go:162-224), plus the given input.
func GetPublicKey(args resource.PropertyMap) (resource.PropertyMap, error) {
	pemArg, hasPEM := stringArg(args, "privateKeyPem")
	sshArg, hasSSH := stringArg(args, "privateKeyOpenssh")
	if hasPEM == hasSSH {
		// stringvalidator.ExactlyOneOf on both attributes.
		return nil, fmt.Errorf("Invalid Attribute Combination: exactly one of privateKeyPem, privateKeyOpenssh must be set")
	}
	var prv crypto.PrivateKey
	var err error
	if hasPEM {
		prv, err = parsePEM(pemArg)
	} else {
		prv, err = ssh.ParseRawPrivateKey([]byte(sshArg))
		if err != nil {
			err = fmt.Errorf("failed to parse openssh private key: %w", err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("Unable to parse private key: %s", err.Error())
	}
	var alg string
	switch prv.(type) {
	case *rsa.PrivateKey:
		alg = "RSA"
	case *ecdsa.PrivateKey:
		alg = "ECDSA"
	case ed25519.PrivateKey, *ed25519.PrivateKey:
		alg = "ED25519"
	default:
		return nil, fmt.Errorf("Unable to parse private key: unsupported private key type: %T", prv)
	}
	if p, ok := prv.(*ed25519.PrivateKey); ok {
		prv = *p
	}
	k, err := encode(prv)
	if err != nil {
		return nil, err
	}
	out := resource.PropertyMap{
		"algorithm":                  resource.NewStringProperty(alg),
		"id":                         resource.NewStringProperty(k.ID),
		"publicKeyPem":               resource.NewStringProperty(k.PublicKeyPem),
		"publicKeyOpenssh":           resource.NewStringProperty(k.PublicKeyOpenssh),
		"publicKeyFingerprintMd5":    resource.NewStringProperty(k.PublicKeyFingerprintMd5),
		"publicKeyFingerprintSha256": resource.NewStringProperty(k.PublicKeyFingerprintSha256),
	}
	if hasPEM {
		out["privateKeyPem"] = resource.MakeSecret(resource.NewStringProperty(pemArg))
	} else {
		out["privateKeyOpenssh"] = resource.MakeSecret(resource.NewStringProperty(sshArg))
	}
	return out, nil
}

func stringArg(m resource.PropertyMap, k string) (string, bool) {
	v, ok := m[resource.PropertyKey(k)]
	for ok && v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !ok || !v.IsString() {
		return "", false
	}
	return v.StringValue(), true
}

func parsePEM(s string) (crypto.PrivateKey, error) {
	block, rest := pem.Decode([]byte(s))
	if block == nil {
		return nil, fmt.Errorf("failed to decode PEM block: decoded bytes %d, undecoded %d", len(s)-len(rest), len(rest))
	}
	var prv crypto.PrivateKey
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		prv, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		prv, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		prv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("unsupported PEM preamble: %s", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to parse private key given PEM preamble '%s': %w", block.Type, err)
	}
	return prv, nil
}
