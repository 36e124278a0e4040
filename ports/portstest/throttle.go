package portstest

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
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
		key := throttleKey()
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
		key := throttleKey()
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
		throttleAllows(t, store, throttleKey(), throttleStep, limit)
	})

	t.Run("the hour slides", func(t *testing.T) {
		t.Parallel()
		skipLongerThan(t, h, time.Hour)
		store, tl := h.New(t)
		key := throttleKey()
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
		first := throttleKey()
		throttleAllows(t, store, first, suiteTTL, 10)
		throttleAllows(t, store, throttleKey(), suiteTTL, 10)
		throttleRefuses(t, store, first, suiteTTL, 10)
	})

	t.Run("wait checks without recording", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := throttleKey()
		for range 3 {
			if wait, err := store.Wait(ctx, key, suiteTTL, 1); err != nil || wait != 0 {
				t.Fatalf("Wait on an unused key = %v, %v; want 0", wait, err)
			}
		}
		throttleAllows(t, store, key, suiteTTL, 10)
		wait, err := store.Wait(ctx, key, suiteTTL, 10)
		if err != nil {
			t.Fatal(err)
		}
		checkDurationIn(t, "Wait", wait, suiteTTL-suiteMargin, suiteTTL)
		// The hourly limit answers too, as Allow would.
		wait, err = store.Wait(ctx, key, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		checkDurationIn(t, "Wait at the hourly limit", wait, time.Hour-time.Minute, time.Hour)
		if wait, err := store.Wait(ctx, key, 0, 2); err != nil || wait != 0 {
			t.Fatalf("Wait under the hourly limit = %v, %v; want 0", wait, err)
		}
	})

	t.Run("distinct members up to the hourly limit", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := throttleKey()
		const limit = 3
		for i := range limit {
			member := string(rune('a' + i))
			if wait, err := store.WaitDistinct(ctx, key, member, limit); err != nil || wait != 0 {
				t.Fatalf("WaitDistinct(%s) = %v, %v; want 0", member, wait, err)
			}
			distinctAllows(t, store, key, member, limit)
		}
		// Known members stay allowed, as often as asked.
		for range 2 {
			distinctAllows(t, store, key, "a", limit)
			distinctAllows(t, store, key, "c", limit)
		}
		wait := distinctRefuses(t, store, key, "d", limit)
		checkDurationIn(t, "retryAfter", wait, time.Hour-time.Minute, time.Hour)
		wait, err := store.WaitDistinct(ctx, key, "e", limit)
		if err != nil {
			t.Fatal(err)
		}
		checkDurationIn(t, "WaitDistinct", wait, time.Hour-time.Minute, time.Hour)
		// A refused member was not recorded, and the keys of Allow are apart.
		distinctRefuses(t, store, key, "d", limit)
		throttleAllows(t, store, key, 0, 1)
		distinctAllows(t, store, throttleKey(), "d", limit)
	})

	t.Run("a member stays until an hour after it was last recorded", func(t *testing.T) {
		t.Parallel()
		skipLongerThan(t, h, time.Hour)
		store, tl := h.New(t)
		key := throttleKey()
		distinctAllows(t, store, key, "a", 2)
		tl.Advance(40 * time.Minute)
		distinctAllows(t, store, key, "b", 2)
		tl.Advance(10 * time.Minute)
		distinctAllows(t, store, key, "a", 2) // renews a
		tl.Advance(15 * time.Minute)
		// a was first recorded 65 minutes ago but again 15 minutes ago.
		wait := distinctRefuses(t, store, key, "c", 2)
		checkDurationIn(t, "retryAfter", wait, 35*time.Minute-time.Second, 35*time.Minute)
		tl.Advance(wait)
		distinctAllows(t, store, key, "c", 2)
	})

	t.Run("checks count nothing", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := throttleKey()
		for range 5 {
			if _, err := store.Wait(ctx, key, time.Minute, 1); err != nil {
				t.Fatal(err)
			}
			if _, err := store.WaitDistinct(ctx, key, "m", 1); err != nil {
				t.Fatal(err)
			}
		}
		throttleAllows(t, store, key, time.Minute, 1)
		distinctAllows(t, store, key, "other", 1)
	})

	t.Run("parallel distinct members are allowed up to the limit", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := throttleKey()
		const limit = 5
		waits := make([]time.Duration, raceGoroutines)
		var wg sync.WaitGroup
		for i := range raceGoroutines {
			wg.Go(func() {
				var err error
				if waits[i], err = store.AllowDistinct(ctx, key, rand.Text(), limit); err != nil {
					t.Errorf("AllowDistinct: %v", err)
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
		if allowed != limit {
			t.Errorf("%d of %d parallel new members allowed, want %d", allowed, raceGoroutines, limit)
		}
	})

	t.Run("parallel events are allowed once", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		key := throttleKey()

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

func throttleAllows(t *testing.T, store ports.Throttle, key domain.LimitKey, interval time.Duration, limit int) {
	t.Helper()
	wait, err := store.Allow(context.Background(), key, interval, limit)
	if err != nil {
		t.Fatalf("Allow: %v", err)
	}
	if wait != 0 {
		t.Fatalf("Allow = %v, want 0 (allowed)", wait)
	}
}

func throttleRefuses(t *testing.T, store ports.Throttle, key domain.LimitKey, interval time.Duration, limit int) time.Duration {
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

func distinctAllows(t *testing.T, store ports.Throttle, key domain.LimitKey, member string, limit int) {
	t.Helper()
	wait, err := store.AllowDistinct(context.Background(), key, member, limit)
	if err != nil {
		t.Fatalf("AllowDistinct: %v", err)
	}
	if wait != 0 {
		t.Fatalf("AllowDistinct(%q) = %v, want 0 (allowed)", member, wait)
	}
}

func distinctRefuses(t *testing.T, store ports.Throttle, key domain.LimitKey, member string, limit int) time.Duration {
	t.Helper()
	wait, err := store.AllowDistinct(context.Background(), key, member, limit)
	if err != nil {
		t.Fatalf("AllowDistinct: %v", err)
	}
	if wait <= 0 {
		t.Fatalf("AllowDistinct(%q) = %v, want a wait > 0 (refused)", member, wait)
	}
	return wait
}

// throttleKey returns a key no other test uses: the resend throttle of a
// random target.
func throttleKey() domain.LimitKey { return domain.SendLimitKey(domain.PurposeSMSLogin, rand.Text()) }
