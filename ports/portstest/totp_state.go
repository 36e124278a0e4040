package portstest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// TestTOTPStore runs the ports.TOTPStore contract against h.
func TestTOTPStore(t *testing.T, h Harness[ports.TOTPStore]) {
	ctx := context.Background()

	t.Run("pending secret", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		user := anyUserID()
		totpPendingMissing(t, store, user)

		totpPutPending(t, store, user, "FIRST")
		totpPendingIs(t, store, user, "FIRST")
		totpPutPending(t, store, user, "SECOND")
		totpPendingIs(t, store, user, "SECOND")
		totpPendingMissing(t, store, anyUserID())

		for range 2 {
			if err := store.DeletePending(ctx, user); err != nil {
				t.Fatalf("DeletePending: %v", err)
			}
			totpPendingMissing(t, store, user)
		}
	})

	t.Run("pending secret expires", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		user := anyUserID()
		totpPutPending(t, store, user, "FIRST")
		tl.Advance(suiteTTL - suiteMargin)
		// Replacing the secret restarts its TTL.
		totpPutPending(t, store, user, "SECOND")
		tl.Advance(2 * suiteMargin)
		totpPendingIs(t, store, user, "SECOND")
		tl.Advance(suiteTTL)
		totpPendingMissing(t, store, user)
	})

	t.Run("a step is used once", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		user := anyUserID()
		totpUseSteps(t, store, user, true, 10, 11)
		totpUseSteps(t, store, user, false, 11)
		// A refused call marks nothing, not even its unused steps.
		totpUseSteps(t, store, user, false, 12, 10)
		totpUseSteps(t, store, user, true, 12)
		totpUseSteps(t, store, anyUserID(), true, 10, 11, 12)
		totpUseSteps(t, store, user, true)
	})

	t.Run("a used step is forgotten after its ttl", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		user := anyUserID()
		totpUseSteps(t, store, user, true, 7)
		tl.Advance(suiteTTL - suiteMargin)
		totpUseSteps(t, store, user, false, 7)
		tl.Advance(2 * suiteMargin)
		totpUseSteps(t, store, user, true, 7)
	})

	t.Run("parallel uses of one step succeed once", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		user := anyUserID()
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range raceGoroutines {
			// Half ask for the step alone, half with a neighbour: whichever
			// way they overlap, one call wins.
			steps := []int64{100}
			if i%2 == 1 {
				steps = append(steps, 101)
			}
			wg.Go(func() {
				ok, err := store.UseSteps(ctx, user, steps, suiteTTL)
				if err != nil {
					t.Errorf("UseSteps: %v", err)
				}
				if ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Errorf("%d of %d parallel uses of one step succeeded, want 1", n, raceGoroutines)
		}
	})
}

func totpPutPending(t *testing.T, store ports.TOTPStore, user domain.UserID, secret string) {
	t.Helper()
	if err := store.PutPending(context.Background(), user, secret, suiteTTL); err != nil {
		t.Fatalf("PutPending: %v", err)
	}
}

func totpPendingIs(t *testing.T, store ports.TOTPStore, user domain.UserID, want string) {
	t.Helper()
	got, err := store.Pending(context.Background(), user)
	if err != nil || got != want {
		t.Fatalf("Pending = %q, %v; want %q", got, err, want)
	}
}

func totpPendingMissing(t *testing.T, store ports.TOTPStore, user domain.UserID) {
	t.Helper()
	if got, err := store.Pending(context.Background(), user); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("Pending = %q, %v; want %v", got, err, domain.ErrNotFound)
	}
}

func totpUseSteps(t *testing.T, store ports.TOTPStore, user domain.UserID, want bool, steps ...int64) {
	t.Helper()
	got, err := store.UseSteps(context.Background(), user, steps, suiteTTL)
	if err != nil {
		t.Fatalf("UseSteps(%v): %v", steps, err)
	}
	if got != want {
		t.Fatalf("UseSteps(%v) = %v, want %v", steps, got, want)
	}
}
