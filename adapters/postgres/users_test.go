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
	u := &domain.User{ID: "0190b7c4-0000-7000-8000-000000000001", Email: "a@example.com", EmailKey: domain.NewEmailKey("a@example.com"), Active: true}
	if u.TOTP, err = store.SealTOTP(u.ID, secret); err != nil {
		t.Fatal(err)
	}
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
	if err != nil || got.TOTP == nil {
		t.Fatalf("ByID after rotation = %+v, %v", got, err)
	}
	if opened, err := store.OpenTOTP(got.ID, *got.TOTP); err != nil || opened != secret {
		t.Fatalf("OpenTOTP after rotation = %q, %v", opened, err)
	}
	if _, err := store.Update(t.Context(), got.ID, func(*domain.User) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, keyID := raw(); keyID != "new" {
		t.Errorf("after an update the secret is sealed under %q, want new", keyID)
	}

	// A keyring that lacks the key still reads and lists the account, with
	// TOTP bound; only opening the secret fails, and says so.
	stranger := NewUserStore(db, testKeyring(t))
	got, err = stranger.ByID(t.Context(), u.ID)
	if err != nil || got.TOTP == nil {
		t.Fatalf("ByID with an unknown key = %+v, %v; want the account, TOTP bound", got, err)
	}
	if list, err := stranger.List(t.Context()); err != nil || len(list) != 1 {
		t.Errorf("List with an unknown key = %d accounts, %v", len(list), err)
	}
	if _, err := stranger.OpenTOTP(got.ID, *got.TOTP); !errors.Is(err, domain.ErrTOTPUnreadable) || strings.Contains(err.Error(), secret) {
		t.Errorf("OpenTOTP with an unknown key = %v, want ErrTOTPUnreadable naming no secret", err)
	}
	// An update by that process keeps the secret it cannot open as stored.
	if _, err := stranger.Update(t.Context(), got.ID, func(u *domain.User) error { u.Name = "renamed"; return nil }); err != nil {
		t.Fatal(err)
	}
	if after, keyID := raw(); keyID != "new" || !bytes.Equal(after, got.TOTP.Data) {
		t.Errorf("an update by a process without the key changed the sealed secret (key %q)", keyID)
	}
}

func BenchmarkUserByID(b *testing.B) {
	store := NewUserStore(openTestDB(b, true), testKeyring(b))
	u := &domain.User{
		ID:    "0190b7c4-0000-7000-8000-000000000002",
		Email: "bench@example.com", EmailKey: domain.NewEmailKey("bench@example.com"), Name: "Bench", Phone: "+8613800000000",
		Lark: &domain.LarkProfile{Name: "Bench", OpenID: "ou_bench"}, Active: true,
	}
	var err error
	if u.TOTP, err = store.SealTOTP(u.ID, "JBSWY3DPEHPK3PXP"); err != nil {
		b.Fatal(err)
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
