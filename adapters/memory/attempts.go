package memory

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/ports"
)

// AttemptCounter counts login attempts and locks keys in memory.
type AttemptCounter struct {
	clock ports.Clock
	mu    sync.Mutex
	// attempts counts each key's admitted attempts; an entry expires when
	// the window opened by its first attempt closes.
	attempts *expiringMap[string, int]
	locks    *expiringMap[string, struct{}]
}

var _ ports.AttemptCounter = (*AttemptCounter)(nil)

// NewAttemptCounter returns an empty counter whose windows and locks run on
// clock.
func NewAttemptCounter(clock ports.Clock) *AttemptCounter {
	return &AttemptCounter{
		clock:    clock,
		attempts: newExpiringMap[string, int](),
		locks:    newExpiringMap[string, struct{}](),
	}
}

// Admit counts one attempt under key unless it is locked or full.
func (ac *AttemptCounter) Admit(_ context.Context, key string, limit int, lock time.Duration) (time.Duration, error) {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	now := ac.clock.Now()
	if _, until, ok := ac.locks.get(key, now); ok {
		return until.Sub(now), nil
	}
	n, until, ok := ac.attempts.get(key, now)
	switch {
	case !ok:
		ac.attempts.set(key, 1, now.Add(lock), now)
	case n >= limit:
		// Failures lock at the limit, so a full window holds attempts still
		// in flight: they settle within moments.
		return min(ports.FullWait, max(until.Sub(now), time.Millisecond)), nil
	default:
		ac.attempts.update(key, n+1)
	}
	return 0, nil
}

// Fail locks key once its window holds limit attempts.
func (ac *AttemptCounter) Fail(_ context.Context, key string, limit int, lock time.Duration) error {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	now := ac.clock.Now()
	if n, _, ok := ac.attempts.get(key, now); ok && n >= limit {
		ac.locks.set(key, struct{}{}, now.Add(lock), now)
		ac.attempts.delete(key)
	}
	return nil
}

// Release takes back one admitted attempt.
func (ac *AttemptCounter) Release(_ context.Context, key string) error {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	if n, _, ok := ac.attempts.get(key, ac.clock.Now()); ok && n > 0 {
		ac.attempts.update(key, n-1)
	}
	return nil
}

// Reset forgets the attempts and the lock of key.
func (ac *AttemptCounter) Reset(_ context.Context, key string) error {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	ac.attempts.delete(key)
	ac.locks.delete(key)
	return nil
}
