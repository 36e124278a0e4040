package portstest

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/ports"
)

// TestAttemptCounter runs the ports.AttemptCounter contract against h.
func TestAttemptCounter(t *testing.T, h Harness[ports.AttemptCounter]) {
	ctx := context.Background()

	t.Run("the limit locks", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		key := rand.Text()
		const limit = 3
		for range limit - 1 {
			attemptFail(t, store, key, limit, suiteTTL)
		}
		attemptUnlocked(t, store, key)
		attemptFail(t, store, key, limit, suiteTTL)
		checkDurationIn(t, "LockedFor", attemptLockedFor(t, store, key), suiteTTL-suiteMargin, suiteTTL)

		// The lock ends, and the count has started over.
		tl.Advance(suiteTTL + suiteMargin)
		attemptUnlocked(t, store, key)
		for range limit - 1 {
			attemptFail(t, store, key, limit, suiteTTL)
		}
		attemptUnlocked(t, store, key)
		attemptFail(t, store, key, limit, suiteTTL)
		checkDurationIn(t, "LockedFor", attemptLockedFor(t, store, key), suiteTTL-suiteMargin, suiteTTL)
	})

	t.Run("the window starts at the first failure", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		key := rand.Text()
		const limit = 3
		attemptFail(t, store, key, limit, suiteTTL)
		tl.Advance(suiteTTL - suiteMargin)
		attemptFail(t, store, key, limit, suiteTTL)
		// The window of the first failure has closed: this one counts anew,
		// although three failures came within less than one window.
		tl.Advance(2 * suiteMargin)
		attemptFail(t, store, key, limit, suiteTTL)
		attemptUnlocked(t, store, key)
		attemptFail(t, store, key, limit, suiteTTL)
		attemptUnlocked(t, store, key)
		attemptFail(t, store, key, limit, suiteTTL)
		checkDurationIn(t, "LockedFor", attemptLockedFor(t, store, key), suiteTTL-suiteMargin, suiteTTL)
	})

	t.Run("the longest lock among keys", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		short, long, free := rand.Text(), rand.Text(), rand.Text()
		attemptFail(t, store, short, 1, suiteTTL)
		attemptFail(t, store, long, 1, 2*suiteTTL)

		checkDurationIn(t, "LockedFor", attemptLockedFor(t, store, short, free, long), 2*suiteTTL-suiteMargin, 2*suiteTTL)
		checkDurationIn(t, "LockedFor", attemptLockedFor(t, store, free, short), suiteTTL-suiteMargin, suiteTTL)
		attemptUnlocked(t, store, free)
		attemptUnlocked(t, store)
	})

	t.Run("reset forgets failures and the lock", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key, other := rand.Text(), rand.Text()
		const limit = 3
		for range limit - 1 {
			attemptFail(t, store, key, limit, suiteTTL)
			attemptFail(t, store, other, limit, suiteTTL)
		}
		attemptReset(t, store, key)
		attemptFail(t, store, key, limit, suiteTTL)
		attemptUnlocked(t, store, key)
		attemptFail(t, store, other, limit, suiteTTL)
		if attemptLockedFor(t, store, other) <= 0 {
			t.Fatal("Reset of one key reset another")
		}

		attemptReset(t, store, other)
		attemptUnlocked(t, store, other)
		attemptReset(t, store, rand.Text())
	})

	t.Run("parallel failures are all counted", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := rand.Text()
		var wg sync.WaitGroup
		for range raceGoroutines - 1 {
			wg.Go(func() {
				if err := store.Fail(ctx, key, raceGoroutines, suiteTTL); err != nil {
					t.Errorf("Fail: %v", err)
				}
			})
		}
		wg.Wait()
		attemptUnlocked(t, store, key)
		attemptFail(t, store, key, raceGoroutines, suiteTTL)
		if attemptLockedFor(t, store, key) <= 0 {
			t.Error("not locked after as many parallel failures as the limit")
		}
	})
}

func attemptFail(t *testing.T, store ports.AttemptCounter, key string, limit int, lock time.Duration) {
	t.Helper()
	if err := store.Fail(context.Background(), key, limit, lock); err != nil {
		t.Fatalf("Fail: %v", err)
	}
}

func attemptReset(t *testing.T, store ports.AttemptCounter, key string) {
	t.Helper()
	if err := store.Reset(context.Background(), key); err != nil {
		t.Fatalf("Reset: %v", err)
	}
}

func attemptLockedFor(t *testing.T, store ports.AttemptCounter, keys ...string) time.Duration {
	t.Helper()
	d, err := store.LockedFor(context.Background(), keys...)
	if err != nil {
		t.Fatalf("LockedFor: %v", err)
	}
	return d
}

func attemptUnlocked(t *testing.T, store ports.AttemptCounter, keys ...string) {
	t.Helper()
	if d := attemptLockedFor(t, store, keys...); d != 0 {
		t.Fatalf("LockedFor(%q) = %v, want 0", keys, d)
	}
}
