package postgres

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
	"github.com/gatehouse/gatehouse/ports/portstest"
)

func TestUserStore(t *testing.T) {
	portstest.TestUserStore(t, func(t *testing.T) ports.UserStore {
		return NewUserStore(openTestDB(t, true), testKeyring(t))
	})
}

func TestTOTPSecretIsSealedAtRest(t *testing.T) {
	db := openTestDB(t, true)
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	oldKey, newKey := randomKey(), randomKey()
	oldRing, err := NewKeyring("old:"+oldKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	store := NewUserStore(db, oldRing)
	u := &domain.User{Email: "a@example.com", EmailKey: "a@example.com", TOTPSecret: secret, Active: true}
	if err := store.Create(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	raw := func() (sealed []byte, keyID string) {
		t.Helper()
		err := db.pool.QueryRow(t.Context(), "SELECT totp_secret, totp_key_id FROM users WHERE id = $1", u.ID).Scan(&sealed, &keyID)
		if err != nil {
			t.Fatal(err)
		}
		return sealed, keyID
	}
	sealed, keyID := raw()
	if keyID != "old" || bytes.Contains(sealed, []byte(secret)) || bytes.Contains(bytes.ToLower(sealed), []byte(strings.ToLower(secret[:8]))) {
		t.Fatalf("stored TOTP secret %q under key %q: it must be sealed under the current key", sealed, keyID)
	}

	// After rotation the old key still opens, and the next update reseals
	// under the new one.
	rotated, err := NewKeyring("new:"+newKey+",old:"+oldKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	store = NewUserStore(db, rotated)
	got, err := store.ByID(t.Context(), u.ID)
	if err != nil || got.TOTPSecret != secret {
		t.Fatalf("ByID after rotation = %q, %v", got.TOTPSecret, err)
	}
	if _, err := store.Update(t.Context(), got.ID, func(*domain.User) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, keyID := raw(); keyID != "new" {
		t.Errorf("after an update the secret is sealed under %q, want new", keyID)
	}

	// A keyring that lacks the key fails loudly rather than reading the
	// account as if TOTP were unbound.
	stranger := NewUserStore(db, testKeyring(t))
	if _, err := stranger.ByID(t.Context(), u.ID); err == nil || errors.Is(err, domain.ErrUserNotFound) || errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("ByID with an unknown key = %v, want a plain error", err)
	}
	if _, err := stranger.List(t.Context()); err == nil {
		t.Error("List with an unknown key succeeded")
	}
}

func BenchmarkUserByID(b *testing.B) {
	store := NewUserStore(openTestDB(b, true), testKeyring(b))
	u := &domain.User{
		Email: "bench@example.com", EmailKey: "bench@example.com", Name: "Bench", Phone: "+8613800000000",
		TOTPSecret: "JBSWY3DPEHPK3PXP", Lark: &domain.LarkProfile{Name: "Bench", OpenID: "ou_bench"}, Active: true,
	}
	if err := store.Create(b.Context(), u); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := store.ByID(b.Context(), u.ID); err != nil {
			b.Fatal(err)
		}
	}
}
