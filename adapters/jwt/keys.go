package jwt

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// pemType is the block type of an unencrypted PKCS#8 key, the form
// `openssl genpkey -algorithm ed25519` writes.
const pemType = "PRIVATE KEY"

// ParsePrivateKeyPEM reads an Ed25519 signing key from PKCS#8 PEM, as
// written by `openssl genpkey -algorithm ed25519` or GenerateKeyPEM. Any other
// key type, an encrypted key or a PEM block of another kind is refused with
// an error that says what was found, so a misconfigured key fails at start-up
// rather than at the first login. Errors do not repeat "signing key": the
// caller knows which file it read.
func ParsePrivateKeyPEM(pemBytes []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	if block.Type != pemType {
		return nil, fmt.Errorf("PEM block is %q, want %q (unencrypted PKCS#8, as `openssl genpkey -algorithm ed25519` writes)", block.Type, pemType)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse PKCS#8 key: %w", err)
	}
	switch k := key.(type) {
	case ed25519.PrivateKey:
		return k, nil
	case *rsa.PrivateKey:
		return nil, errors.New("key is RSA, want Ed25519")
	case *ecdsa.PrivateKey:
		return nil, fmt.Errorf("key is ECDSA %s, want Ed25519", k.Curve.Params().Name)
	case *ecdh.PrivateKey:
		return nil, errors.New("key is X25519 (for key agreement), want Ed25519")
	default:
		return nil, fmt.Errorf("key is %T, want Ed25519", key)
	}
}

// GenerateKeyPEM makes a new Ed25519 signing key and returns it as PKCS#8
// PEM, the same form openssl writes, so operators can use either tool.
func GenerateKeyPEM() ([]byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode signing key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der}), nil
}

// publicPEMType is the block type of a PKIX public key, the form
// `openssl pkey -pubout` writes.
const publicPEMType = "PUBLIC KEY"

// ParseVerifyKeyPEM reads a key that tokens may be verified with: an Ed25519
// public key in PKIX PEM, or a private key in PKCS#8 PEM (as
// ParsePrivateKeyPEM reads) whose public half is taken, so the next signing
// key's own file can be listed as verify-only before it signs.
func ParseVerifyKeyPEM(pemBytes []byte) (ed25519.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	switch block.Type {
	case pemType:
		key, err := ParsePrivateKeyPEM(pemBytes)
		if err != nil {
			return nil, err
		}
		return key.Public().(ed25519.PublicKey), nil
	case publicPEMType:
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse PKIX public key: %w", err)
		}
		pub, ok := key.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("key is %T, want Ed25519", key)
		}
		return pub, nil
	default:
		return nil, fmt.Errorf("PEM block is %q, want %q or %q", block.Type, pemType, publicPEMType)
	}
}
