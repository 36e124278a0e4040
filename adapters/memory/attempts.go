package memory

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/ports"
)

// AttemptCounter counts failed attempts and locks keys in memory.
type AttemptCounter struct {
	clock ports.Clock
	mu    sync.Mutex
	// failures counts each key's failures; an entry expires when the window
	// opened by its first failure closes.
	failures *expiringMap[string, int]
	locks    *expiringMap[string, struct{}]
}

var _ ports.AttemptCounter = (*AttemptCounter)(nil)

// NewAttemptCounter returns an empty counter whose windows and locks run on
// clock.
func NewAttemptCounter(clock ports.Clock) *AttemptCounter {
	return &AttemptCounter{
		clock:    clock,
		failures: newExpiringMap[string, int](),
		locks:    newExpiringMap[string, struct{}](),
	}
}

// LockedFor returns how long the longest lock among keys still lasts.
func (ac *AttemptCounter) LockedFor(_ context.Context, keys ...string) (time.Duration, error) {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	now := ac.clock.Now()
	var left time.Duration
	for _, k := range keys {
		if _, until, ok := ac.locks.get(k, now); ok {
			left = max(left, until.Sub(now))
		}
	}
	return left, nil
}

// Fail counts one failure for key and locks it at limit.
func (ac *AttemptCounter) Fail(_ context.Context, key string, limit int, lock time.Duration) error {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	now := ac.clock.Now()
	n, _, ok := ac.failures.get(key, now)
	n++
	if ok {
		ac.failures.update(key, n)
	} else {
		ac.failures.set(key, n, now.Add(lock), now)
	}
	if n >= limit {
		ac.locks.set(key, struct{}{}, now.Add(lock), now)
		ac.failures.delete(key)
	}
	return nil
}

// Reset forgets the failures and the lock of key.
func (ac *AttemptCounter) Reset(_ context.Context, key string) error {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	ac.failures.delete(key)
	ac.locks.delete(key)
	return nil
}
