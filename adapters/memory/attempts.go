package memory

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// AttemptCounter counts login attempts and locks keys in memory.
type AttemptCounter struct {
	clock ports.Clock
	mu    sync.Mutex
	// failures counts each key's failures; an entry expires when the window
	// opened by its first failure closes.
	failures *expiringMap[domain.LimitKey, int]
	locks    *expiringMap[domain.LimitKey, struct{}]
	// inFlight holds, per key, when each attempt in flight stops counting
	// if it is never settled. A key with none has no entry.
	inFlight map[domain.LimitKey][]time.Time
}

var _ ports.AttemptCounter = (*AttemptCounter)(nil)

// NewAttemptCounter returns an empty counter whose windows and locks run on
// clock.
func NewAttemptCounter(clock ports.Clock) *AttemptCounter {
	return &AttemptCounter{
		clock:    clock,
		failures: newExpiringMap[domain.LimitKey, int](),
		locks:    newExpiringMap[domain.LimitKey, struct{}](),
		inFlight: make(map[domain.LimitKey][]time.Time),
	}
}

// Admit counts one attempt in flight under key unless it is locked or its
// failures and attempts in flight reach limit.
func (ac *AttemptCounter) Admit(_ context.Context, key domain.LimitKey, limit int, hold time.Duration) (ports.Admission, error) {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	now := ac.clock.Now()
	if _, until, ok := ac.locks.get(key, now); ok {
		return ports.Admission{Locked: until.Sub(now)}, nil
	}
	live := slices.DeleteFunc(ac.inFlight[key], func(deadline time.Time) bool { return !now.Before(deadline) })
	failed, _, _ := ac.failures.get(key, now)
	if failed+len(live) >= limit {
		ac.setInFlight(key, live)
		return ports.Admission{}, nil
	}
	ac.setInFlight(key, append(live, now.Add(hold)))
	return ports.Admission{Admitted: true}, nil
}

// Fail settles an attempt in flight as a failure and locks key once its
// window holds limit failures.
func (ac *AttemptCounter) Fail(_ context.Context, key domain.LimitKey, limit int, lock time.Duration) (bool, error) {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	ac.release(key)
	now := ac.clock.Now()
	if _, _, locked := ac.locks.get(key, now); locked {
		return false, nil
	}
	n, _, ok := ac.failures.get(key, now)
	switch {
	case n+1 >= limit:
		ac.locks.set(key, struct{}{}, now.Add(lock), now)
		ac.failures.delete(key)
		return true, nil
	case !ok:
		ac.failures.set(key, 1, now.Add(lock), now)
	default:
		ac.failures.update(key, n+1)
	}
	return false, nil
}

// Release settles an attempt in flight that counts for nothing.
func (ac *AttemptCounter) Release(_ context.Context, key domain.LimitKey) error {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	ac.release(key)
	return nil
}

// Succeed settles an attempt in flight and forgets key's failures and lock.
func (ac *AttemptCounter) Succeed(_ context.Context, key domain.LimitKey) error {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	ac.release(key)
	ac.failures.delete(key)
	ac.locks.delete(key)
	return nil
}

// Reset forgets the failures and the lock of key.
func (ac *AttemptCounter) Reset(_ context.Context, key domain.LimitKey) error {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	ac.failures.delete(key)
	ac.locks.delete(key)
	return nil
}

// release drops the attempt in flight that would stop counting last, as
// the Redis counter does: attempts are anonymous, and keeping the earliest
// deadlines lets one that was never settled stop counting on time.
func (ac *AttemptCounter) release(key domain.LimitKey) {
	live := ac.inFlight[key]
	if len(live) == 0 {
		return
	}
	i := 0
	for j, d := range live {
		if d.After(live[i]) {
			i = j
		}
	}
	ac.setInFlight(key, slices.Delete(live, i, i+1))
}

func (ac *AttemptCounter) setInFlight(key domain.LimitKey, live []time.Time) {
	if len(live) == 0 {
		delete(ac.inFlight, key)
		return
	}
	ac.inFlight[key] = live
}
