package privatekey

import (
	"crypto/sha1" //nolint:gosec // checking TF's SHA-1 ID
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// sshKeygenPublic runs `ssh-keygen -y -f` on a private key file: OpenSSH itself must accept the key.
func sshKeygenPublic(t *testing.T, priv string) string {
	t.Helper()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen is not installed")
	}
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte(priv), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ssh-keygen", "-y", "-f", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen -y rejected the key: %v %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

func sshKeygenFingerprint(t *testing.T, pub, hash string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key.pub")
	if err := os.WriteFile(path, []byte(pub), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ssh-keygen", "-l", "-E", hash, "-f", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen -l: %v %s", err, out)
	}
	// "<bits> <fingerprint> <comment> (<type>)"
	return strings.Fields(string(out))[1]
}

func TestGeneratedKeysAreUsableByOpenSSH(t *testing.T) {
	cases := []struct {
		alg, curve, pemType, sshType string
		bits                         int
	}{
		{"ED25519", "P224", "PRIVATE KEY", "ssh-ed25519", 2048},
		{"RSA", "P224", "RSA PRIVATE KEY", "ssh-rsa", 2048},
		{"ECDSA", "P256", "EC PRIVATE KEY", "ecdsa-sha2-nistp256", 2048},
		{"ECDSA", "P384", "EC PRIVATE KEY", "ecdsa-sha2-nistp384", 2048},
	}
	for _, c := range cases {
		t.Run(c.alg+"-"+c.curve, func(t *testing.T) {
			k, err := Generate(c.alg, c.bits, c.curve)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(k.PublicKeyOpenssh, "\n") || strings.Count(k.PublicKeyOpenssh, "\n") != 1 {
				t.Errorf("publicKeyOpenssh must be one authorized_keys line with its newline: %q", k.PublicKeyOpenssh)
			}
			if !strings.HasPrefix(k.PublicKeyOpenssh, c.sshType+" ") {
				t.Errorf("publicKeyOpenssh type: %q", k.PublicKeyOpenssh)
			}
			// ssh-keygen derives the same public key from the OpenSSH private key …
			if got := sshKeygenPublic(t, k.PrivateKeyOpenssh); got != strings.TrimSpace(k.PublicKeyOpenssh) {
				t.Errorf("ssh-keygen -y = %q, want %q", got, k.PublicKeyOpenssh)
			}
			// … and from the PEM one for RSA and ECDSA. OpenSSH 9.2 cannot load an Ed25519 key
			// from PKCS#8 PEM ("invalid format"), so for ED25519 the OpenSSH form is the usable one
			// — true of the real provider's output as well.
			if c.alg != "ED25519" {
				if got := sshKeygenPublic(t, k.PrivateKeyPem); got != strings.TrimSpace(k.PublicKeyOpenssh) {
					t.Errorf("ssh-keygen -y (PEM) = %q", got)
				}
			}
			if b, _ := pem.Decode([]byte(k.PrivateKeyPem)); b == nil || b.Type != c.pemType {
				t.Errorf("privateKeyPem block type = %v, want %s", b, c.pemType)
			}
			if b, _ := pem.Decode([]byte(k.PrivateKeyPemPkcs8)); b == nil || b.Type != "PRIVATE KEY" {
				t.Errorf("privateKeyPemPkcs8 block = %v", b)
			} else if _, err := x509.ParsePKCS8PrivateKey(b.Bytes); err != nil {
				t.Errorf("pkcs8: %v", err)
			}
			if b, _ := pem.Decode([]byte(k.PrivateKeyOpenssh)); b == nil || b.Type != "OPENSSH PRIVATE KEY" {
				t.Errorf("privateKeyOpenssh block = %v", b)
			}
			if got := sshKeygenFingerprint(t, k.PublicKeyOpenssh, "sha256"); got != k.PublicKeyFingerprintSha256 {
				t.Errorf("sha256 fingerprint %q, ssh-keygen says %q", k.PublicKeyFingerprintSha256, got)
			}
			if got := sshKeygenFingerprint(t, k.PublicKeyOpenssh, "md5"); got != "MD5:"+k.PublicKeyFingerprintMd5 {
				t.Errorf("md5 fingerprint %q, ssh-keygen says %q", k.PublicKeyFingerprintMd5, got)
			}
			// id: hex SHA-1 of the (trimmed) PKIX DER of the public key.
			b, _ := pem.Decode([]byte(k.PublicKeyPem))
			if b == nil || b.Type != "PUBLIC KEY" {
				t.Fatalf("publicKeyPem = %q", k.PublicKeyPem)
			}
			sum := sha1.Sum([]byte(strings.TrimSpace(string(b.Bytes)))) //nolint:gosec // TF's ID
			if k.ID != hex.EncodeToString(sum[:]) || len(k.ID) != 40 {
				t.Errorf("id = %q", k.ID)
			}
		})
	}
}

func TestRSABitsAreHonoured(t *testing.T) {
	k, err := Generate("RSA", 3072, "P224")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode([]byte(k.PrivateKeyPem))
	key, err := x509.ParsePKCS1PrivateKey(b.Bytes)
	if err != nil || key.N.BitLen() != 3072 {
		t.Errorf("bits = %d, err %v", key.N.BitLen(), err)
	}
}

func TestP224HasNoOpenSSHForms(t *testing.T) {
	k, err := Generate("ECDSA", 2048, "P224")
	if err != nil {
		t.Fatal(err)
	}
	if k.PrivateKeyOpenssh != "" || k.PublicKeyOpenssh != "" || k.PublicKeyFingerprintMd5 != "" || k.PublicKeyFingerprintSha256 != "" {
		t.Errorf("P-224 must leave the OpenSSH fields empty: %+v", k)
	}
	if k.PrivateKeyPem == "" || k.PublicKeyPem == "" || k.ID == "" {
		t.Errorf("P-224 still has PEM forms and an id")
	}
}

func TestCheckPassesInputsThroughAndValidates(t *testing.T) {
	in := resource.NewPropertyMapFromMap(map[string]any{"algorithm": "ED25519"})
	out, failures := Check("ssh-key", in)
	if len(failures) != 0 || !out.DeepEquals(in) {
		t.Errorf("Check must not add defaults: %v %v", out, failures)
	}
	_, failures = Check("ssh-key", resource.NewPropertyMapFromMap(map[string]any{"algorithm": "DSA", "ecdsaCurve": "P999"}))
	want := []string{
		`Invalid Attribute Value Match. Attribute algorithm value must be one of: ["RSA" "ECDSA" "ED25519"], got: "DSA". Examine values at 'ssh-key.algorithm'.`,
		`Invalid Attribute Value Match. Attribute ecdsa_curve value must be one of: ["P224" "P256" "P384" "P521"], got: "P999". Examine values at 'ssh-key.ecdsaCurve'.`,
	}
	if len(failures) != 2 || failures[0].Reason != want[0] || failures[1].Reason != want[1] {
		t.Errorf("failures = %+v", failures)
	}
	_, failures = Check("k", resource.PropertyMap{})
	if len(failures) != 1 || !strings.HasPrefix(failures[0].Reason, "Missing required property 'algorithm': ") {
		t.Errorf("missing algorithm: %+v", failures)
	}
	unknown := resource.PropertyMap{"algorithm": resource.MakeComputed(resource.NewStringProperty(""))}
	if _, failures = Check("k", unknown); len(failures) != 0 {
		t.Errorf("an unknown algorithm is not validated: %+v", failures)
	}
}

func TestDiffEveryInputChangeReplacesAndDefaultsCount(t *testing.T) {
	_, state, err := Create(resource.NewPropertyMapFromMap(map[string]any{"algorithm": "ED25519"}))
	if err != nil {
		t.Fatal(err)
	}
	if state["rsaBits"].NumberValue() != 2048 || state["ecdsaCurve"].StringValue() != "P224" {
		t.Errorf("state must hold the plan defaults: %v", state)
	}
	if state[metaKey].StringValue() != `{"schema_version":"1"}` {
		t.Errorf("__meta = %v", state[metaKey])
	}
	for k := range SecretKeys {
		if !state[resource.PropertyKey(k)].IsSecret() {
			t.Errorf("%s must be secret", k)
		}
	}
	if state["publicKeyOpenssh"].IsSecret() || state["id"].StringValue() == "" {
		t.Errorf("public outputs are plain, id set")
	}

	same := Diff(state, resource.NewPropertyMapFromMap(map[string]any{"algorithm": "ED25519"}))
	if len(same.Changed) != 0 || len(same.Replaces) != 0 {
		t.Errorf("same inputs: %+v", same)
	}
	explicitDefault := Diff(state, resource.NewPropertyMapFromMap(map[string]any{"algorithm": "ED25519", "rsaBits": 2048}))
	if len(explicitDefault.Changed) != 0 {
		t.Errorf("an explicit default is no change: %+v", explicitDefault)
	}
	alg := Diff(state, resource.NewPropertyMapFromMap(map[string]any{"algorithm": "RSA"}))
	if strings.Join(alg.Replaces, ",") != "algorithm" || alg.Detailed["algorithm"] != "UPDATE_REPLACE" {
		t.Errorf("algorithm change: %+v", alg)
	}
	bits := Diff(state, resource.NewPropertyMapFromMap(map[string]any{"algorithm": "ED25519", "rsaBits": 4096}))
	if strings.Join(bits.Replaces, ",") != "rsaBits" {
		t.Errorf("rsaBits change replaces even for ED25519 (TF RequiresReplace): %+v", bits)
	}
}

func TestPreviewStateHasUnknownOutputs(t *testing.T) {
	st := PreviewState(resource.NewPropertyMapFromMap(map[string]any{"algorithm": "ED25519"}))
	for _, k := range ComputedKeys {
		if !st[resource.PropertyKey(k)].IsComputed() {
			t.Errorf("%s must be unknown in preview", k)
		}
	}
	if st["rsaBits"].NumberValue() != 2048 {
		t.Errorf("defaults in preview: %v", st)
	}
}

func TestGetPublicKeyMatchesTheResource(t *testing.T) {
	for _, alg := range []string{"ED25519", "RSA", "ECDSA"} {
		k, err := Generate(alg, 2048, "P256")
		if err != nil {
			t.Fatal(err)
		}
		for _, arg := range []map[string]any{{"privateKeyOpenssh": k.PrivateKeyOpenssh}, {"privateKeyPem": k.PrivateKeyPem}} {
			out, err := GetPublicKey(resource.NewPropertyMapFromMap(arg))
			if err != nil {
				t.Fatalf("%s %v: %v", alg, arg, err)
			}
			if out["algorithm"].StringValue() != alg || out["publicKeyOpenssh"].StringValue() != k.PublicKeyOpenssh ||
				out["id"].StringValue() != k.ID || out["publicKeyFingerprintSha256"].StringValue() != k.PublicKeyFingerprintSha256 {
				t.Errorf("%s: %v", alg, out)
			}
		}
	}
	if _, err := GetPublicKey(resource.PropertyMap{}); err == nil {
		t.Errorf("no key must be an error")
	}
	if _, err := GetPublicKey(resource.NewPropertyMapFromMap(map[string]any{"privateKeyOpenssh": "junk"})); err == nil ||
		!strings.HasPrefix(err.Error(), "Unable to parse private key: failed to parse openssh private key: ") {
		t.Errorf("err = %v", err)
	}
}
