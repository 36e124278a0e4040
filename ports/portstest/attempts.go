package portstest

import (
	"context"
	"crypto/rand"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// TestAttemptCounter runs the ports.AttemptCounter contract against h.
func TestAttemptCounter(t *testing.T, h Harness[ports.AttemptCounter]) {
	t.Run("the limit locks", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		key := attemptKey()
		const limit = 3
		for i := range limit {
			attemptAdmitted(t, store, key, limit)
			// Only the failure that locks says so: a lockout is
			// observed once, when it starts.
			if started := attemptFail(t, store, key, limit); started != (i == limit-1) {
				t.Fatalf("Fail %d started the lock = %v", i+1, started)
			}
		}
		checkDurationIn(t, "Admit while locked", attemptAdmit(t, store, key, limit).Locked, suiteTTL-suiteMargin, suiteTTL)

		// The lock ends, and the count has started over.
		tl.Advance(suiteTTL + suiteMargin)
		for range limit - 1 {
			attemptAdmitted(t, store, key, limit)
			attemptFail(t, store, key, limit)
		}
		attemptAdmitted(t, store, key, limit)
		attemptFail(t, store, key, limit)
		checkDurationIn(t, "Admit while locked", attemptAdmit(t, store, key, limit).Locked, suiteTTL-suiteMargin, suiteTTL)
	})

	t.Run("the window starts at the first failure", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		key := attemptKey()
		const limit = 3
		attemptAdmitted(t, store, key, limit)
		attemptFail(t, store, key, limit)
		tl.Advance(suiteTTL - suiteMargin)
		attemptAdmitted(t, store, key, limit)
		attemptFail(t, store, key, limit)
		// The window of the first attempt has closed: the next ones count
		// anew, although three came within less than one window.
		tl.Advance(2 * suiteMargin)
		for range limit - 1 {
			attemptAdmitted(t, store, key, limit)
			attemptFail(t, store, key, limit)
		}
		attemptAdmitted(t, store, key, limit)
		attemptFail(t, store, key, limit)
		if attemptAdmit(t, store, key, limit).Locked <= 0 {
			t.Fatal("not locked after limit failures in one window")
		}
	})

	t.Run("attempts in flight fill the limit but do not lock", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := attemptKey()
		const limit = 3
		for range limit {
			attemptAdmitted(t, store, key, limit)
		}
		attemptBusy(t, store, key, limit)
		// One of them succeeded: its place is free again, and no lock came.
		attemptRelease(t, store, key)
		attemptAdmitted(t, store, key, limit)
	})

	t.Run("failures and attempts in flight add up", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := attemptKey()
		const limit = 3
		for range limit - 1 {
			attemptAdmitted(t, store, key, limit)
			attemptFail(t, store, key, limit)
		}
		attemptAdmitted(t, store, key, limit)
		attemptBusy(t, store, key, limit)
		attemptRelease(t, store, key)
		attemptAdmitted(t, store, key, limit)
		// The last failure locks.
		attemptFail(t, store, key, limit)
		checkDurationIn(t, "Admit while locked", attemptAdmit(t, store, key, limit).Locked, suiteTTL-suiteMargin, suiteTTL)
	})

	t.Run("only failures lock", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := attemptKey()
		const limit = 3
		for range limit {
			attemptAdmitted(t, store, key, limit)
		}
		attemptFail(t, store, key, limit)
		for range limit - 1 {
			attemptRelease(t, store, key)
		}
		// One failure and nothing in flight: room for limit-1 more.
		for range limit - 1 {
			attemptAdmitted(t, store, key, limit)
		}
		attemptBusy(t, store, key, limit)
	})

	t.Run("succeed forgets failures and lock but not other attempts", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := attemptKey()
		const limit = 3
		attemptAdmitted(t, store, key, limit)
		attemptFail(t, store, key, limit)
		attemptAdmitted(t, store, key, limit)
		attemptAdmitted(t, store, key, limit)
		attemptBusy(t, store, key, limit)
		attemptSucceed(t, store, key)
		// No failure left, one attempt still in flight.
		attemptAdmitted(t, store, key, limit)
		attemptAdmitted(t, store, key, limit)
		attemptBusy(t, store, key, limit)

		locked := attemptKey()
		for range limit {
			attemptAdmitted(t, store, locked, limit)
			attemptFail(t, store, locked, limit)
		}
		attemptSucceed(t, store, locked) // as a password reset would, with nothing in flight
		attemptAdmitted(t, store, locked, limit)
	})

	t.Run("an attempt never settled stops counting after hold", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		key := attemptKey()
		attemptAdmitted(t, store, key, 1)
		attemptBusy(t, store, key, 1)
		tl.Advance(suiteTTL + suiteMargin)
		attemptAdmitted(t, store, key, 1)
		// Settling the late attempt never makes room beyond the limit.
		attemptRelease(t, store, key)
		attemptRelease(t, store, key)
		attemptAdmitted(t, store, key, 1)
		attemptBusy(t, store, key, 1)
	})

	t.Run("release never goes below zero", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := attemptKey()
		attemptRelease(t, store, key)
		attemptRelease(t, store, key)
		attemptAdmitted(t, store, key, 1)
		attemptBusy(t, store, key, 1)
	})

	t.Run("reset forgets attempts and the lock", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key, other := attemptKey(), attemptKey()
		const limit = 2
		for range limit {
			attemptAdmitted(t, store, key, limit)
			attemptFail(t, store, key, limit)
			attemptAdmitted(t, store, other, limit)
			attemptFail(t, store, other, limit)
		}
		attemptReset(t, store, key)
		attemptAdmitted(t, store, key, limit)
		if attemptAdmit(t, store, other, limit).Locked <= 0 {
			t.Fatal("Reset of one key reset another")
		}
		attemptReset(t, store, other)
		attemptAdmitted(t, store, other, limit)
		attemptReset(t, store, attemptKey())

		// Attempts in flight are not failures: they keep counting.
		flying := attemptKey()
		for range limit {
			attemptAdmitted(t, store, flying, limit)
		}
		attemptReset(t, store, flying)
		attemptBusy(t, store, flying, limit)
	})

	t.Run("parallel attempts cannot pass the limit", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := attemptKey()
		const limit = 5
		var admitted atomic.Int32
		var wg sync.WaitGroup
		for range raceGoroutines {
			wg.Go(func() {
				a, err := store.Admit(context.Background(), key, limit, suiteTTL)
				if err != nil {
					t.Errorf("Admit: %v", err)
				}
				if a.Admitted {
					admitted.Add(1)
				}
			})
		}
		wg.Wait()
		if n := admitted.Load(); n != limit {
			t.Fatalf("%d of %d parallel attempts admitted, want %d", n, raceGoroutines, limit)
		}
	})
}

// attemptAdmit admits one attempt whose hold is suiteTTL.
func attemptAdmit(t *testing.T, store ports.AttemptCounter, key domain.LimitKey, limit int) ports.Admission {
	t.Helper()
	a, err := store.Admit(context.Background(), key, limit, suiteTTL)
	if err != nil {
		t.Fatalf("Admit: %v", err)
	}
	if a.Admitted && a.Locked != 0 {
		t.Fatalf("Admit = %+v: admitted and locked", a)
	}
	return a
}

func attemptAdmitted(t *testing.T, store ports.AttemptCounter, key domain.LimitKey, limit int) {
	t.Helper()
	if a := attemptAdmit(t, store, key, limit); !a.Admitted {
		t.Fatalf("Admit = %+v, want admitted", a)
	}
}

// attemptBusy fails t unless key is full of failures and attempts in
// flight, and not locked.
func attemptBusy(t *testing.T, store ports.AttemptCounter, key domain.LimitKey, limit int) {
	t.Helper()
	if a := attemptAdmit(t, store, key, limit); !a.Busy() {
		t.Fatalf("Admit = %+v, want busy", a)
	}
}

// attemptFail settles one attempt as a failure and returns whether that
// started the lock.
func attemptFail(t *testing.T, store ports.AttemptCounter, key domain.LimitKey, limit int) bool {
	t.Helper()
	started, err := store.Fail(context.Background(), key, limit, suiteTTL)
	if err != nil {
		t.Fatalf("Fail: %v", err)
	}
	return started
}

func attemptRelease(t *testing.T, store ports.AttemptCounter, key domain.LimitKey) {
	t.Helper()
	if err := store.Release(context.Background(), key); err != nil {
		t.Fatalf("Release: %v", err)
	}
}

func attemptSucceed(t *testing.T, store ports.AttemptCounter, key domain.LimitKey) {
	t.Helper()
	if err := store.Succeed(context.Background(), key); err != nil {
		t.Fatalf("Succeed: %v", err)
	}
}

func attemptReset(t *testing.T, store ports.AttemptCounter, key domain.LimitKey) {
	t.Helper()
	if err := store.Reset(context.Background(), key); err != nil {
		t.Fatalf("Reset: %v", err)
	}
}

// attemptKey returns a key no other test uses: the lockout key of a random
// identifier, as the guard makes for an unknown account.
func attemptKey() domain.LimitKey { return domain.LockoutIdentifierLimitKey(rand.Text()) }
