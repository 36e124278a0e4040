package portstest

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/ports"
)

// throttleStep is the interval of the throttle tests that count to the
// hourly limit: short, so that reaching the limit takes little real time.
const throttleStep = 20 * time.Millisecond

// TestThrottle runs the ports.Throttle contract against h.
func TestThrottle(t *testing.T, h Harness[ports.Throttle]) {
	ctx := context.Background()

	t.Run("one event per interval", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		key := rand.Text()
		throttleAllows(t, store, key, suiteTTL, 10)

		wait := throttleRefuses(t, store, key, suiteTTL, 10)
		checkDurationIn(t, "retryAfter", wait, suiteTTL-suiteMargin, suiteTTL)
		// A refused event records nothing: it does not restart the interval.
		tl.Advance(suiteTTL - suiteMargin)
		wait = throttleRefuses(t, store, key, suiteTTL, 10)
		checkDurationIn(t, "retryAfter", wait, 0, suiteMargin)
		tl.Advance(2 * suiteMargin)
		throttleAllows(t, store, key, suiteTTL, 10)
	})

	t.Run("at most the hourly limit", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		key := rand.Text()
		const limit = 3
		for range limit {
			throttleAllows(t, store, key, throttleStep, limit)
			tl.Advance(throttleStep + throttleStep/2)
		}
		wait := throttleRefuses(t, store, key, throttleStep, limit)
		checkDurationIn(t, "retryAfter", wait, time.Hour-time.Minute, time.Hour)
		// Refused events are not counted either.
		tl.Advance(throttleStep)
		wait = throttleRefuses(t, store, key, throttleStep, limit)
		checkDurationIn(t, "retryAfter", wait, time.Hour-time.Minute, time.Hour)
		throttleAllows(t, store, rand.Text(), throttleStep, limit)
	})

	t.Run("the hour slides", func(t *testing.T) {
		t.Parallel()
		skipLongerThan(t, h, time.Hour)
		store, tl := h.New(t)
		key := rand.Text()
		const limit = 3
		throttleAllows(t, store, key, time.Minute, limit)
		tl.Advance(40 * time.Minute)
		throttleAllows(t, store, key, time.Minute, limit)
		tl.Advance(10 * time.Minute)
		throttleAllows(t, store, key, time.Minute, limit)
		tl.Advance(5 * time.Minute)

		// Three events in the last hour; the first leaves it in 5 minutes.
		wait := throttleRefuses(t, store, key, time.Minute, limit)
		checkDurationIn(t, "retryAfter", wait, 5*time.Minute-time.Second, 5*time.Minute)
		tl.Advance(wait)
		throttleAllows(t, store, key, time.Minute, limit)
		// Now the second event, 40 minutes in, is the oldest of the hour.
		tl.Advance(2 * time.Minute)
		wait = throttleRefuses(t, store, key, time.Minute, limit)
		checkDurationIn(t, "retryAfter", wait, 38*time.Minute-time.Second, 38*time.Minute)
	})

	t.Run("keys are apart", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		first := rand.Text()
		throttleAllows(t, store, first, suiteTTL, 10)
		throttleAllows(t, store, rand.Text(), suiteTTL, 10)
		throttleRefuses(t, store, first, suiteTTL, 10)
	})

	t.Run("parallel events are allowed once", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := rand.Text()

		waits := make([]time.Duration, raceGoroutines)
		var wg sync.WaitGroup
		for i := range raceGoroutines {
			wg.Go(func() {
				var err error
				if waits[i], err = store.Allow(ctx, key, time.Minute, raceGoroutines); err != nil {
					t.Errorf("Allow: %v", err)
				}
			})
		}
		wg.Wait()
		allowed := 0
		for _, w := range waits {
			if w == 0 {
				allowed++
			}
		}
		if allowed != 1 {
			t.Errorf("%d of %d parallel events allowed, want 1", allowed, raceGoroutines)
		}
	})
}

func throttleAllows(t *testing.T, store ports.Throttle, key string, interval time.Duration, limit int) {
	t.Helper()
	wait, err := store.Allow(context.Background(), key, interval, limit)
	if err != nil {
		t.Fatalf("Allow: %v", err)
	}
	if wait != 0 {
		t.Fatalf("Allow = %v, want 0 (allowed)", wait)
	}
}

func throttleRefuses(t *testing.T, store ports.Throttle, key string, interval time.Duration, limit int) time.Duration {
	t.Helper()
	wait, err := store.Allow(context.Background(), key, interval, limit)
	if err != nil {
		t.Fatalf("Allow: %v", err)
	}
	if wait <= 0 {
		t.Fatalf("Allow = %v, want a wait > 0 (refused)", wait)
	}
	return wait
}
