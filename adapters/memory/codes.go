package memory

import (
	"context"
	"crypto/subtle"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// CodeStore keeps one-time code digests in memory.
type CodeStore struct {
	clock ports.Clock
	mu    sync.Mutex
	codes *expiringMap[domain.CodeKey, storedCode]
}

var _ ports.CodeStore = (*CodeStore)(nil)

type storedCode struct {
	digest string
	tries  int
}

// NewCodeStore returns an empty store whose TTLs run on clock.
func NewCodeStore(clock ports.Clock) *CodeStore {
	return &CodeStore{clock: clock, codes: newExpiringMap[domain.CodeKey, storedCode]()}
}

// Put stores digest as the one live code of key for ttl, with no tries.
func (st *CodeStore) Put(_ context.Context, key domain.CodeKey, digest string, ttl time.Duration) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := st.clock.Now()
	st.codes.set(key, storedCode{digest: digest}, now.Add(ttl), now)
	return nil
}

// Consume spends the code of key when digest matches, and otherwise counts
// a try, voiding the code at maxAttempts. The store's lock makes the check
// and the spend one step, so parallel uses succeed at most once.
func (st *CodeStore) Consume(_ context.Context, key domain.CodeKey, digest string, maxAttempts int) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	c, _, ok := st.codes.get(key, st.clock.Now())
	if !ok {
		return domain.ErrCodeInvalid
	}
	if subtle.ConstantTimeCompare([]byte(c.digest), []byte(digest)) == 1 {
		st.codes.delete(key)
		return nil
	}
	c.tries++
	if c.tries >= maxAttempts {
		st.codes.delete(key)
	} else {
		st.codes.update(key, c)
	}
	return domain.ErrCodeInvalid
}
