package memory_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/clock"
	"github.com/gatehouse/gatehouse/adapters/memory"
	"github.com/gatehouse/gatehouse/domain"
)

// FuzzUserStoreEmailKeys checks uniqueness by email key, the way the domain
// creates accounts: two valid addresses with the same key can never both
// have an account, two with different keys always can, and each account is
// found by the key of the address it was created with.
func FuzzUserStoreEmailKeys(f *testing.F) {
	for _, pair := range [][2]string{
		{"alice@example.com", "ALICE@example.com"},
		{"alice@example.com", "bob@example.com"},
		{"İ@example.com", "i̇@example.com"},
		{"ſ@example.com", "s@example.com"},
		{"\u212a@example.com", "k@example.com"},
		{"é@example.com", "e\u0301@example.com"},
		{"straße@example.de", "STRASSE@example.de"},
		{"Σ@example.gr", "ς@example.gr"},
	} {
		f.Add(pair[0], pair[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if _, err := domain.ParseEmail(a); err != nil {
			return
		}
		if _, err := domain.ParseEmail(b); err != nil {
			return
		}
		store := memory.NewUserStore(clock.NewFake(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)))
		ua := &domain.User{Email: a, EmailKey: domain.NewEmailKey(a), Active: true}
		if err := store.Create(t.Context(), ua); err != nil {
			t.Fatalf("create %q: %v", a, err)
		}
		ub := &domain.User{Email: b, EmailKey: domain.NewEmailKey(b), Active: true}
		err := store.Create(t.Context(), ub)
		sameKey := domain.NewEmailKey(a) == domain.NewEmailKey(b)
		switch {
		case sameKey && !errors.Is(err, domain.ErrEmailTaken):
			t.Fatalf("%q and %q share a key, but creating the second gave %v, want ErrEmailTaken", a, b, err)
		case !sameKey && err != nil:
			t.Fatalf("%q and %q have different keys, but creating the second failed: %v", a, b, err)
		}
		got, err := store.ByEmailKey(t.Context(), domain.NewEmailKey(a))
		if err != nil || got.ID != ua.ID {
			t.Fatalf("ByEmailKey(key of %q) = %v, %v; want the account of %q", a, got, err, a)
		}
	})
}
