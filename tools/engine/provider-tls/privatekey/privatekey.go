// Package privatekey is a REPLAY of tls:index/privateKey:PrivateKey from pulumi-tls 5.6.1, written
// by app-infra for its lab — not the real provider. pulumi-tls bridges HashiCorp's
// terraform-provider-tls (Plugin Framework) with pulumi-terraform-bridge; neither module is served
// by our module proxy, so the behaviour is re-implemented here from their source:
//
//   - TF: hashicorp/terraform-provider-tls internal/provider/resource_private_key.go and
//     common_key.go, common.go, types.go, read at commit d72d90e1 (2026-04-28). pulumi-tls's
//     go.mod pins v1.2.1-0.20260513075833-609226f53114, two weeks later, not in our snapshot.
//   - Bridge: pulumi-terraform-bridge v3.120.0 pkg/pf (served by our proxy; pulumi-tls pins
//     v3.137.0, not served) — provider_check.go, provider_diff.go, provider_create.go,
//     internal/plugin/provider_server.go.
//   - Wire shapes: pulumi-tls provider/testdata/recorded/TestProviderUpgrade/index_privatekey/
//     5.0.2/grpc.json (a recorded Check/Create of this resource).
package privatekey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // the ID is a SHA-1, as TF's hashForState makes it
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Token is the Pulumi type token.
const Token = "tls:index/privateKey:PrivateKey"

// Defaults TF's plan applies when the input is absent (resource_private_key.go:70-92):
// rsa_bits 2048, ecdsa_curve "P224" — both stored in state whatever the algorithm.
const (
	DefaultRSABits    = 2048
	DefaultECDSACurve = "P224"
)

// Allowed values, in TF's order (types.go:25-31, 57-65): the order shows in validation messages.
var (
	Algorithms  = []string{"RSA", "ECDSA", "ED25519"}
	ECDSACurves = []string{"P224", "P256", "P384", "P521"}
)

// InputKeys are the Pulumi names of the inputs; every one is RequiresReplace in TF
// (resource_private_key.go:59-61, 74-76, 83-85).
var InputKeys = []string{"algorithm", "rsaBits", "ecdsaCurve"}

// ComputedKeys are the outputs TF computes, in Pulumi names.
var ComputedKeys = []string{
	"id", "privateKeyOpenssh", "privateKeyPem", "privateKeyPemPkcs8",
	"publicKeyFingerprintMd5", "publicKeyFingerprintSha256", "publicKeyOpenssh", "publicKeyPem",
}

// SecretKeys are TF's Sensitive attributes (resource_private_key.go:95-109).
var SecretKeys = map[string]bool{"privateKeyPem": true, "privateKeyOpenssh": true, "privateKeyPemPkcs8": true}

// Key holds every computed output of a generated key, by Pulumi name.
type Key struct {
	ID                         string
	PrivateKeyPem              string
	PrivateKeyPemPkcs8         string
	PrivateKeyOpenssh          string
	PublicKeyPem               string
	PublicKeyOpenssh           string
	PublicKeyFingerprintMd5    string
	PublicKeyFingerprintSha256 string
}

// Generate makes a key the way TF's Create does (resource_private_key.go:160-263,
// common_key.go:33-67, 162-224):
//   - RSA: rsa.GenerateKey(bits); PEM "RSA PRIVATE KEY" (PKCS#1);
//   - ECDSA: P224/P256/P384/P521; PEM "EC PRIVATE KEY" (SEC 1);
//   - ED25519: PEM "PRIVATE KEY" (PKCS#8);
//   - privateKeyPemPkcs8 always PKCS#8; privateKeyOpenssh via ssh.MarshalPrivateKey without a
//     passphrase, except ECDSA P-224 which x/crypto/ssh cannot encode: then "";
//   - publicKeyPem is PKIX "PUBLIC KEY"; publicKeyOpenssh is ssh.MarshalAuthorizedKey — the
//     authorized_keys line WITH its trailing "\n"; fingerprints are ssh.FingerprintLegacyMD5 and
//     ssh.FingerprintSHA256; for P-224 those three are "";
//   - id is hex(SHA-1(TrimSpace(string(PKIX DER of the public key)))) — TF trims the raw DER
//     bytes as if they were text (common.go:21-27), kept as is.
func Generate(algorithm string, rsaBits int, ecdsaCurve string) (Key, error) {
	var prv crypto.PrivateKey
	var err error
	switch algorithm {
	case "RSA":
		prv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	case "ECDSA":
		switch ecdsaCurve {
		case "P224":
			prv, err = ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
		case "P256":
			prv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		case "P384":
			prv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		case "P521":
			prv, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		default:
			err = fmt.Errorf("invalid ECDSA curve; supported values are: %v", ECDSACurves)
		}
	case "ED25519":
		var k ed25519.PrivateKey
		_, k, err = ed25519.GenerateKey(rand.Reader)
		if err != nil {
			err = fmt.Errorf("failed to generate ED25519 key: %s", err)
		}
		prv = k
	default:
		return Key{}, fmt.Errorf("Invalid Key Algorithm: Key Algorithm %q is not supported", algorithm)
	}
	if err != nil {
		return Key{}, fmt.Errorf("Unable to generate Key from configuration: %s", err.Error())
	}
	return encode(prv)
}

func encode(prv crypto.PrivateKey) (Key, error) {
	var block *pem.Block
	switch k := prv.(type) {
	case *rsa.PrivateKey:
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return Key{}, fmt.Errorf("Unable to encode key to PEM: %s", err.Error())
		}
		block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	case ed25519.PrivateKey:
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return Key{}, fmt.Errorf("Unable to encode key to PEM: %s", err.Error())
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	default:
		return Key{}, fmt.Errorf("Unsupported private key type: Key type %T not supported", prv)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(prv)
	if err != nil {
		return Key{}, fmt.Errorf("Unable to encode private key to PKCS#8 PEM: %s", err.Error())
	}
	out := Key{
		PrivateKeyPem:      string(pem.EncodeToMemory(block)),
		PrivateKeyPemPkcs8: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
	}
	if supportsOpenSSH(prv) {
		b, err := ssh.MarshalPrivateKey(prv, "")
		if err != nil {
			return Key{}, fmt.Errorf("Unable to marshal private key into OpenSSH format: %s", err.Error())
		}
		out.PrivateKeyOpenssh = string(pem.EncodeToMemory(b))
	}

	signer, ok := prv.(crypto.Signer)
	if !ok {
		return Key{}, fmt.Errorf("Failed to get public key from private key: unsupported private key type: %T", prv)
	}
	pub := signer.Public()
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return Key{}, fmt.Errorf("Failed to marshal public key: %s", err.Error())
	}
	out.ID = hashForState(string(pubDER))
	out.PublicKeyPem = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	if sshPub, err := ssh.NewPublicKey(pub); err == nil {
		out.PublicKeyOpenssh = string(ssh.MarshalAuthorizedKey(sshPub))
		out.PublicKeyFingerprintMd5 = ssh.FingerprintLegacyMD5(sshPub)
		out.PublicKeyFingerprintSha256 = ssh.FingerprintSHA256(sshPub)
	}
	return out, nil
}

// supportsOpenSSH: resource_private_key.go:363-374 — x/crypto/ssh has no P-224.
func supportsOpenSSH(prv crypto.PrivateKey) bool {
	if k, ok := prv.(*ecdsa.PrivateKey); ok && k.Curve.Params().Name == "P-224" {
		return false
	}
	return true
}

// hashForState: common.go:21-27.
func hashForState(value string) string {
	if value == "" {
		return ""
	}
	sum := sha1.Sum([]byte(strings.TrimSpace(value))) //nolint:gosec // replayed as TF does it
	return hex.EncodeToString(sum[:])
}
