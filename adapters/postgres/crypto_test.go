package postgres

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
)

func TestKeyringSealOpen(t *testing.T) {
	k := testKeyring(t)
	a, keyID, err := k.seal("user-1", "SECRET")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := k.seal("user-1", "SECRET")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Error("two seals of one secret are equal: the nonce is not random")
	}
	if got, err := k.open(keyID, "user-1", a); err != nil || got != "SECRET" {
		t.Errorf("open = %q, %v", got, err)
	}
}

func TestKeyringRotates(t *testing.T) {
	k1, k2 := randomKey(), randomKey()
	old, err := NewKeyring("k1:"+k1, nil)
	if err != nil {
		t.Fatal(err)
	}
	sealed, keyID, err := old.seal("u", "SECRET")
	if err != nil || keyID != "k1" {
		t.Fatalf("seal = %q, %v", keyID, err)
	}
	rotated, err := NewKeyring("k2:"+k2+", k1:"+k1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rotated.open(keyID, "u", sealed); err != nil || got != "SECRET" {
		t.Errorf("the rotated keyring opens the old secret as %q, %v", got, err)
	}
	if _, keyID, _ := rotated.seal("u", "SECRET"); keyID != "k2" {
		t.Errorf("the rotated keyring seals under %q, want k2", keyID)
	}
	// Dropping k1 makes its secrets unreadable, not silently empty.
	dropped, err := NewKeyring("k2:"+k2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dropped.open(keyID, "u", sealed); err == nil {
		t.Error("a keyring without k1 opened a k1 secret")
	}
}

func TestKeyringRefusesTampering(t *testing.T) {
	k := testKeyring(t)
	sealed, keyID, err := k.seal("user-1", "SECRET")
	if err != nil {
		t.Fatal(err)
	}
	for i := range sealed {
		flipped := bytes.Clone(sealed)
		flipped[i] ^= 1
		if _, err := k.open(keyID, "user-1", flipped); err == nil {
			t.Fatalf("a secret with byte %d flipped opened", i)
		}
	}
	if _, err := k.open(keyID, "user-2", sealed); err == nil {
		t.Error("a secret moved to another account opened")
	}
	if _, err := k.open(keyID, "user-1", sealed[:10]); err == nil {
		t.Error("a truncated secret opened")
	}
	if _, err := k.open("nope", "user-1", sealed); err == nil {
		t.Error("a secret under an unknown key id opened")
	}
}

func TestNewKeyringSpec(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	for _, spec := range []string{
		"a:" + base64.StdEncoding.EncodeToString(key),
		"a:" + base64.RawURLEncoding.EncodeToString(key),
		" a : " + base64.RawStdEncoding.EncodeToString(key) + " ",
	} {
		k, err := NewKeyring(spec, nil)
		if err != nil || k.current != "a" {
			t.Errorf("NewKeyring(%q) = %q, %v", spec, k.current, err)
		}
	}
	for name, spec := range map[string]string{
		"no id":        ":" + base64.StdEncoding.EncodeToString(key),
		"no colon":     base64.StdEncoding.EncodeToString(key),
		"short key":    "a:" + base64.StdEncoding.EncodeToString(key[:16]),
		"not base64":   "a:" + strings.Repeat("!", 44),
		"duplicate id": "a:" + randomKey() + ",a:" + randomKey(),
		"empty entry":  "a:" + randomKey() + ",",
	} {
		_, err := NewKeyring(spec, nil)
		if err == nil {
			t.Errorf("%s: NewKeyring succeeded", name)
			continue
		}
		if strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(key)) {
			t.Errorf("%s: the error quotes the key: %v", name, err)
		}
	}
}

func TestNewKeyringFallback(t *testing.T) {
	a, err := NewKeyring("", []byte("service secret"))
	if err != nil || a.current != "s1" {
		t.Fatalf("NewKeyring fallback = %q, %v", a.current, err)
	}
	same, _ := NewKeyring("  ", []byte("service secret"))
	other, _ := NewKeyring("", []byte("another secret"))
	sealed, keyID, err := a.seal("u", "SECRET")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := same.open(keyID, "u", sealed); err != nil || got != "SECRET" {
		t.Errorf("a keyring from the same secret opens as %q, %v", got, err)
	}
	if _, err := other.open(keyID, "u", sealed); err == nil {
		t.Error("a keyring from another secret opened the secret")
	}
	if _, err := NewKeyring("", nil); err == nil {
		t.Error("NewKeyring with neither keys nor secret succeeded")
	}
}
