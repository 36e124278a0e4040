package memory

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// TOTPStore keeps pending TOTP secrets and used time steps in memory.
type TOTPStore struct {
	clock   ports.Clock
	mu      sync.Mutex
	pending *expiringMap[domain.UserID, string]
	used    *expiringMap[totpStepRef, struct{}]
}

var _ ports.TOTPStore = (*TOTPStore)(nil)

type totpStepRef struct {
	userID domain.UserID
	step   int64
}

// NewTOTPStore returns an empty store whose TTLs run on clock.
func NewTOTPStore(clock ports.Clock) *TOTPStore {
	return &TOTPStore{
		clock:   clock,
		pending: newExpiringMap[domain.UserID, string](),
		used:    newExpiringMap[totpStepRef, struct{}](),
	}
}

// PutPending stores the secret offered to the user for ttl.
func (st *TOTPStore) PutPending(_ context.Context, userID domain.UserID, secret string, ttl time.Duration) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := st.clock.Now()
	st.pending.set(userID, secret, now.Add(ttl), now)
	return nil
}

// Pending returns the pending secret, or domain.ErrNotFound.
func (st *TOTPStore) Pending(_ context.Context, userID domain.UserID) (string, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	secret, _, ok := st.pending.get(userID, st.clock.Now())
	if !ok {
		return "", domain.ErrNotFound
	}
	return secret, nil
}

// DeletePending forgets the pending secret.
func (st *TOTPStore) DeletePending(_ context.Context, userID domain.UserID) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.pending.delete(userID)
	return nil
}

// UseSteps marks steps as used for ttl, or marks nothing and returns false
// when any was already used.
func (st *TOTPStore) UseSteps(_ context.Context, userID domain.UserID, steps []int64, ttl time.Duration) (bool, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := st.clock.Now()
	for _, step := range steps {
		if _, _, used := st.used.get(totpStepRef{userID, step}, now); used {
			return false, nil
		}
	}
	for _, step := range steps {
		st.used.set(totpStepRef{userID, step}, struct{}{}, now.Add(ttl), now)
	}
	return true, nil
}
