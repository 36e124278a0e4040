package portstest

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// codeTries is the number of tries the code suite allows, as API.md does.
const codeTries = 5

// TestCodeStore runs the ports.CodeStore contract against h.
func TestCodeStore(t *testing.T, h Harness[ports.CodeStore]) {
	ctx := context.Background()

	t.Run("a code works once", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := freshCodeKey(domain.PurposeSMSLogin)
		codePut(t, store, key, "right")

		codeConsumeOK(t, store, key, "right")
		codeConsumeInvalid(t, store, key, "right")
	})

	t.Run("a missing code is invalid", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		codeConsumeInvalid(t, store, freshCodeKey(domain.PurposeMailReset), "right")
	})

	t.Run("wrong codes count tries", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := freshCodeKey(domain.PurposeSMSLogin)
		codePut(t, store, key, "right")
		for range codeTries - 1 {
			codeConsumeInvalid(t, store, key, "wrong")
		}
		codeConsumeOK(t, store, key, "right")
	})

	t.Run("the last wrong try voids the code", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := freshCodeKey(domain.PurposeSMSLogin)
		codePut(t, store, key, "right")
		for range codeTries {
			codeConsumeInvalid(t, store, key, "wrong")
		}
		codeConsumeInvalid(t, store, key, "right")
	})

	t.Run("a code expires", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		key := freshCodeKey(domain.PurposePhoneBind)
		codePut(t, store, key, "right")
		tl.Advance(suiteTTL + suiteMargin)
		codeConsumeInvalid(t, store, key, "right")
	})

	t.Run("a new code replaces the old one and its tries", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		key := freshCodeKey(domain.PurposeMailReset)
		codePut(t, store, key, "first")
		for range codeTries - 1 {
			codeConsumeInvalid(t, store, key, "wrong")
		}
		tl.Advance(suiteTTL - suiteMargin)
		codePut(t, store, key, "second")

		codeConsumeInvalid(t, store, key, "first")
		for range codeTries - 2 {
			codeConsumeInvalid(t, store, key, "wrong")
		}
		// Past the first code's TTL, with more failed tries in all than
		// allowed: the second code has its own TTL and count.
		tl.Advance(2 * suiteMargin)
		codeConsumeOK(t, store, key, "second")
	})

	t.Run("codes of other purposes and owners are apart", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		login := freshCodeKey(domain.PurposeSMSLogin)
		bind := domain.CodeKey{Purpose: domain.PurposePhoneBind, Owner: login.Owner}
		other := domain.CodeKey{Purpose: domain.PurposeSMSLogin, Owner: rand.Text()}
		codePut(t, store, login, "login")
		codePut(t, store, bind, "bind")
		codePut(t, store, other, "other")

		codeConsumeInvalid(t, store, login, "bind")
		codeConsumeInvalid(t, store, bind, "login")
		codeConsumeOK(t, store, login, "login")
		codeConsumeOK(t, store, bind, "bind")
		codeConsumeOK(t, store, other, "other")
	})

	t.Run("parallel uses of one code succeed once", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := freshCodeKey(domain.PurposeRefreshCode)
		codePut(t, store, key, "right")

		errs := make([]error, raceGoroutines)
		var wg sync.WaitGroup
		for i := range raceGoroutines {
			wg.Go(func() { errs[i] = store.Consume(ctx, key, "right", codeTries) })
		}
		wg.Wait()
		successes := 0
		for _, err := range errs {
			switch {
			case err == nil:
				successes++
			case !errors.Is(err, domain.ErrCodeInvalid):
				t.Errorf("Consume: %v", err)
			}
		}
		if successes != 1 {
			t.Errorf("%d of %d parallel uses succeeded, want 1", successes, raceGoroutines)
		}
	})

	t.Run("parallel wrong tries are all counted", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := freshCodeKey(domain.PurposeSMSLogin)
		codePut(t, store, key, "right")

		var wg sync.WaitGroup
		for range raceGoroutines {
			wg.Go(func() {
				if err := store.Consume(ctx, key, "wrong", raceGoroutines); !errors.Is(err, domain.ErrCodeInvalid) {
					t.Errorf("Consume of a wrong code: %v", err)
				}
			})
		}
		wg.Wait()
		codeConsumeInvalid(t, store, key, "right")
	})
}

// freshCodeKey returns a key of purpose with a fresh owner.
func freshCodeKey(purpose domain.CodePurpose) domain.CodeKey {
	return domain.CodeKey{Purpose: purpose, Owner: rand.Text()}
}

func codePut(t *testing.T, store ports.CodeStore, key domain.CodeKey, digest string) {
	t.Helper()
	if err := store.Put(context.Background(), key, digest, suiteTTL); err != nil {
		t.Fatalf("Put: %v", err)
	}
}

func codeConsumeOK(t *testing.T, store ports.CodeStore, key domain.CodeKey, digest string) {
	t.Helper()
	if err := store.Consume(context.Background(), key, digest, codeTries); err != nil {
		t.Fatalf("Consume of the live code: %v", err)
	}
}

func codeConsumeInvalid(t *testing.T, store ports.CodeStore, key domain.CodeKey, digest string) {
	t.Helper()
	if err := store.Consume(context.Background(), key, digest, codeTries); !errors.Is(err, domain.ErrCodeInvalid) {
		t.Fatalf("Consume: err = %v, want %v", err, domain.ErrCodeInvalid)
	}
}
