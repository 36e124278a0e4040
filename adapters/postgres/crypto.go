package postgres

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"
)

// fallbackKeyID names the key derived from the service secret when no TOTP
// keys are configured.
const fallbackKeyID = "s1"

// fallbackKeyInfo separates the TOTP key from anything else ever derived
// from the same service secret.
const fallbackKeyInfo = "gatehouse totp v1"

// Keyring seals TOTP secrets before they are stored, so a database dump or
// backup alone does not let anyone mint codes. It holds named
// XChaCha20-Poly1305 keys: the current one seals, and every one opens by the
// key id stored beside the ciphertext, so keys can rotate without rewriting
// rows at once (a row moves to the current key on its next update).
type Keyring struct {
	current string
	keys    map[string]cipher.AEAD
}

// NewKeyring builds a keyring from spec, a comma-separated list of
// "id:key" where each key is 32 bytes in standard or raw URL-safe base64.
// The first entry is the current key. An empty spec derives the one key
// "s1" from fallbackSecret with HKDF-SHA256, so a deployment without
// dedicated keys still never stores a secret in the clear; such a
// deployment rotates by listing new keys first and "s1" after them.
func NewKeyring(spec string, fallbackSecret []byte) (Keyring, error) {
	k := Keyring{keys: make(map[string]cipher.AEAD)}
	if strings.TrimSpace(spec) == "" {
		if len(fallbackSecret) == 0 {
			return Keyring{}, errors.New("postgres: no TOTP encryption key: set TOTP keys or a service secret")
		}
		key := make([]byte, chacha20poly1305.KeySize)
		if _, err := io.ReadFull(hkdf.New(sha256.New, fallbackSecret, nil, []byte(fallbackKeyInfo)), key); err != nil {
			return Keyring{}, fmt.Errorf("postgres: derive TOTP key: %w", err)
		}
		if err := k.add(fallbackKeyID, key); err != nil {
			return Keyring{}, err
		}
		return k, nil
	}
	for i, entry := range strings.Split(spec, ",") {
		// Never echo an entry: it holds a key.
		id, encoded, ok := strings.Cut(strings.TrimSpace(entry), ":")
		id = strings.TrimSpace(id)
		if !ok || id == "" {
			return Keyring{}, fmt.Errorf("postgres: TOTP key %d: want id:base64key", i+1)
		}
		if _, dup := k.keys[id]; dup {
			return Keyring{}, fmt.Errorf("postgres: TOTP key id %q is listed twice", id)
		}
		key, ok := decodeKey(strings.TrimSpace(encoded))
		if !ok {
			return Keyring{}, fmt.Errorf("postgres: TOTP key %q: want %d bytes in base64", id, chacha20poly1305.KeySize)
		}
		if err := k.add(id, key); err != nil {
			return Keyring{}, err
		}
	}
	return k, nil
}

// decodeKey reads a key in any of the base64 alphabets people paste, and
// accepts it only when it is exactly one key long.
func decodeKey(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil && len(key) == chacha20poly1305.KeySize {
			return key, true
		}
	}
	return nil, false
}

// add registers a key; the first one added becomes current.
func (k *Keyring) add(id string, key []byte) error {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return fmt.Errorf("postgres: TOTP key %q: %w", id, err)
	}
	k.keys[id] = aead
	if k.current == "" {
		k.current = id
	}
	return nil
}

// seal encrypts a TOTP secret under the current key with a random nonce.
// The user id is authenticated with it, so a sealed secret copied onto
// another account does not open there.
func (k Keyring) seal(userID, secret string) (sealed []byte, keyID string, err error) {
	aead, ok := k.keys[k.current]
	if !ok {
		return nil, "", errors.New("postgres: keyring has no key")
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(secret)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", fmt.Errorf("postgres: nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, []byte(secret), []byte(userID)), k.current, nil
}

// open decrypts what seal produced under the key named keyID.
func (k Keyring) open(keyID, userID string, sealed []byte) (string, error) {
	aead, ok := k.keys[keyID]
	if !ok {
		return "", fmt.Errorf("postgres: TOTP secret of user %s is sealed with unknown key %q", userID, keyID)
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return "", fmt.Errorf("postgres: TOTP secret of user %s is truncated", userID)
	}
	nonce, ciphertext := sealed[:aead.NonceSize()], sealed[aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, ciphertext, []byte(userID))
	if err != nil {
		return "", fmt.Errorf("postgres: TOTP secret of user %s does not open: %w", userID, err)
	}
	return string(plain), nil
}
