package memory

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// LarkStateStore keeps the states of Lark sign-ins in progress in memory.
type LarkStateStore struct {
	clock  ports.Clock
	mu     sync.Mutex
	states *expiringMap[string, domain.LarkState]
}

var _ ports.LarkStateStore = (*LarkStateStore)(nil)

// NewLarkStateStore returns an empty store whose TTLs run on clock.
func NewLarkStateStore(clock ports.Clock) *LarkStateStore {
	return &LarkStateStore{clock: clock, states: newExpiringMap[string, domain.LarkState]()}
}

// Put stores st under state for ttl.
func (s *LarkStateStore) Put(_ context.Context, state string, st domain.LarkState, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.states.set(state, st, now.Add(ttl), now)
	return nil
}

// Take returns and forgets the live state, or domain.ErrNotFound.
func (s *LarkStateStore) Take(_ context.Context, state string) (domain.LarkState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, _, ok := s.states.get(state, s.clock.Now())
	if !ok {
		return domain.LarkState{}, domain.ErrNotFound
	}
	s.states.delete(state)
	return st, nil
}
