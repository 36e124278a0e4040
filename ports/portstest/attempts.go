package portstest

import (
	"context"
	"crypto/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/ports"
)

// TestAttemptCounter runs the ports.AttemptCounter contract against h.
func TestAttemptCounter(t *testing.T, h Harness[ports.AttemptCounter]) {
	t.Run("the limit locks", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		key := rand.Text()
		const limit = 3
		for range limit {
			attemptAdmitted(t, store, key, limit)
			attemptFail(t, store, key, limit)
		}
		checkDurationIn(t, "Admit while locked", attemptAdmit(t, store, key, limit), suiteTTL-suiteMargin, suiteTTL)

		// The lock ends, and the count has started over.
		tl.Advance(suiteTTL + suiteMargin)
		for range limit - 1 {
			attemptAdmitted(t, store, key, limit)
			attemptFail(t, store, key, limit)
		}
		attemptAdmitted(t, store, key, limit)
		attemptFail(t, store, key, limit)
		checkDurationIn(t, "Admit while locked", attemptAdmit(t, store, key, limit), suiteTTL-suiteMargin, suiteTTL)
	})

	t.Run("the window starts at the first attempt", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		key := rand.Text()
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
		if attemptAdmit(t, store, key, limit) == 0 {
			t.Fatal("not locked after limit failures in one window")
		}
	})

	t.Run("attempts in flight count", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := rand.Text()
		const limit = 3
		for range limit {
			attemptAdmitted(t, store, key, limit)
		}
		checkDurationIn(t, "Admit when full", attemptAdmit(t, store, key, limit), time.Millisecond, min(suiteTTL, ports.FullWait))
		// One of them succeeded: its place is free again, and no lock came.
		attemptRelease(t, store, key)
		attemptAdmitted(t, store, key, limit)
	})

	t.Run("release never goes below zero", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := rand.Text()
		attemptRelease(t, store, key)
		attemptRelease(t, store, key)
		attemptAdmitted(t, store, key, 1)
		if attemptAdmit(t, store, key, 1) == 0 {
			t.Fatal("Release on an empty key made room beyond the limit")
		}
	})

	t.Run("reset forgets attempts and the lock", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key, other := rand.Text(), rand.Text()
		const limit = 2
		for range limit {
			attemptAdmitted(t, store, key, limit)
			attemptFail(t, store, key, limit)
			attemptAdmitted(t, store, other, limit)
			attemptFail(t, store, other, limit)
		}
		attemptReset(t, store, key)
		attemptAdmitted(t, store, key, limit)
		if attemptAdmit(t, store, other, limit) == 0 {
			t.Fatal("Reset of one key reset another")
		}
		attemptReset(t, store, other)
		attemptAdmitted(t, store, other, limit)
		attemptReset(t, store, rand.Text())
	})

	t.Run("parallel attempts cannot pass the limit", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := rand.Text()
		const limit = 5
		var admitted atomic.Int32
		var wg sync.WaitGroup
		for range raceGoroutines {
			wg.Go(func() {
				wait, err := store.Admit(context.Background(), key, limit, suiteTTL)
				if err != nil {
					t.Errorf("Admit: %v", err)
				}
				if wait == 0 {
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

// attemptAdmit admits one attempt under a window of suiteTTL and returns
// the wait (0 when admitted).
func attemptAdmit(t *testing.T, store ports.AttemptCounter, key string, limit int) time.Duration {
	t.Helper()
	wait, err := store.Admit(context.Background(), key, limit, suiteTTL)
	if err != nil {
		t.Fatalf("Admit: %v", err)
	}
	return wait
}

func attemptAdmitted(t *testing.T, store ports.AttemptCounter, key string, limit int) {
	t.Helper()
	if wait := attemptAdmit(t, store, key, limit); wait != 0 {
		t.Fatalf("Admit refused with wait %v, want admitted", wait)
	}
}

func attemptFail(t *testing.T, store ports.AttemptCounter, key string, limit int) {
	t.Helper()
	if err := store.Fail(context.Background(), key, limit, suiteTTL); err != nil {
		t.Fatalf("Fail: %v", err)
	}
}

func attemptRelease(t *testing.T, store ports.AttemptCounter, key string) {
	t.Helper()
	if err := store.Release(context.Background(), key); err != nil {
		t.Fatalf("Release: %v", err)
	}
}

func attemptReset(t *testing.T, store ports.AttemptCounter, key string) {
	t.Helper()
	if err := store.Reset(context.Background(), key); err != nil {
		t.Fatalf("Reset: %v", err)
	}
}
