package jwt

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func pkcs8PEM(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func TestParsePrivateKeyPEM(t *testing.T) {
	key := newKey(t)
	got, err := ParsePrivateKeyPEM(pkcs8PEM(t, key))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(key) {
		t.Fatal("parsed key differs from the encoded one")
	}
}

func TestGenerateKeyPEM(t *testing.T) {
	a, err := GenerateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(a), "-----BEGIN PRIVATE KEY-----\n") {
		t.Fatalf("not a PKCS#8 PEM:\n%s", a)
	}
	ka, err := ParsePrivateKeyPEM(a)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := ParsePrivateKeyPEM(b)
	if err != nil {
		t.Fatal(err)
	}
	if ka.Equal(kb) {
		t.Fatal("two generated keys are equal")
	}
	if _, err := NewIssuer(testCfg, ka); err != nil {
		t.Fatal(err)
	}
}

// TestOpenSSLInterop checks both directions with the openssl command line:
// its Ed25519 keys parse here, and ours read there as the same key.
func TestOpenSSLInterop(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()

	theirs := filepath.Join(dir, "theirs.pem")
	if out, err := exec.Command(openssl, "genpkey", "-algorithm", "ed25519", "-out", theirs).CombinedOutput(); err != nil {
		t.Fatalf("openssl genpkey: %v\n%s", err, out)
	}
	pemBytes, err := os.ReadFile(theirs)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParsePrivateKeyPEM(pemBytes)
	if err != nil {
		t.Fatalf("openssl key refused: %v\n%s", err, pemBytes)
	}
	pubPEM, err := exec.Command(openssl, "pkey", "-in", theirs, "-pubout").Output()
	if err != nil {
		t.Fatal(err)
	}
	assertSamePublic(t, pubPEM, key)

	ours := filepath.Join(dir, "ours.pem")
	generated, err := GenerateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ours, generated, 0o600); err != nil {
		t.Fatal(err)
	}
	pubPEM, err = exec.Command(openssl, "pkey", "-in", ours, "-pubout").Output()
	if err != nil {
		t.Fatalf("openssl cannot read our key: %v", err)
	}
	key, err = ParsePrivateKeyPEM(generated)
	if err != nil {
		t.Fatal(err)
	}
	assertSamePublic(t, pubPEM, key)
}

func assertSamePublic(t *testing.T, pubPEM []byte, key ed25519.PrivateKey) {
	t.Helper()
	block, _ := pem.Decode(pubPEM)
	if block == nil {
		t.Fatalf("no PEM in openssl output:\n%s", pubPEM)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !key.Public().(ed25519.PublicKey).Equal(pub) {
		t.Fatal("openssl and Go disagree on the public key")
	}
}

func TestParsePrivateKeyPEMRefuses(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(newKey(t).Public()))})
	cases := map[string]struct {
		pem  []byte
		want string
	}{
		"RSA":         {pkcs8PEM(t, rsaKey), "RSA"},
		"ECDSA":       {pkcs8PEM(t, ecKey), "P-256"},
		"X25519":      {pkcs8PEM(t, x25519), "X25519"},
		"public key":  {pub, `"PUBLIC KEY"`},
		"encrypted":   {pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), "ENCRYPTED"},
		"PKCS#1 RSA":  {pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), "RSA PRIVATE KEY"},
		"not PEM":     {[]byte("hello"), "no PEM"},
		"empty":       {nil, "no PEM"},
		"bad DER":     {pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")}), "PKCS#8"},
		"raw 64 byte": {newKey(t), "no PEM"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParsePrivateKeyPEM(c.pem)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v; want one mentioning %q", err, c.want)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
