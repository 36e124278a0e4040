package memory

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// SessionStore keeps sessions in memory.
type SessionStore struct {
	clock    ports.Clock
	mu       sync.Mutex
	sessions *expiringMap[sessionRef, domain.Session]
}

var _ ports.SessionStore = (*SessionStore)(nil)

// sessionRef names a session the way callers do: by user and id, so that
// a session id presented under another user never matches.
type sessionRef struct{ userID, sessionID string }

// NewSessionStore returns an empty store whose TTLs run on clock.
func NewSessionStore(clock ports.Clock) *SessionStore {
	return &SessionStore{clock: clock, sessions: newExpiringMap[sessionRef, domain.Session]()}
}

// Create stores s, live for ttl.
func (st *SessionStore) Create(_ context.Context, s domain.Session, ttl time.Duration) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := st.clock.Now()
	st.sessions.set(sessionRef{s.UserID, s.ID}, s, now.Add(ttl), now)
	return nil
}

// Touch returns the live session and renews it for idle, cut short at its
// absolute expiry. A session past its absolute expiry at now is ended, not
// merely refused, as the Redis store does.
func (st *SessionStore) Touch(_ context.Context, userID, sessionID string, now time.Time, idle time.Duration) (domain.Session, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	ref := sessionRef{userID, sessionID}
	storeNow := st.clock.Now()
	s, _, ok := st.sessions.get(ref, storeNow)
	if !ok || s.UserID != userID {
		return domain.Session{}, domain.ErrSessionNotFound
	}
	ttl := min(idle, s.AbsoluteExpiry.Sub(now))
	if ttl <= 0 {
		st.sessions.delete(ref)
		return domain.Session{}, domain.ErrSessionNotFound
	}
	st.sessions.set(ref, s, storeNow.Add(ttl), storeNow)
	return s, nil
}

// Delete ends one session.
func (st *SessionStore) Delete(_ context.Context, userID, sessionID string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.sessions.delete(sessionRef{userID, sessionID})
	return nil
}

// DeleteAllForUser ends every session of the user except keep. It walks
// every session: an index by user would have to be swept too, and this
// store serves development and tests, not millions of sessions.
func (st *SessionStore) DeleteAllForUser(_ context.Context, userID, keep string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	for ref := range st.sessions.entries {
		if ref.userID == userID && ref.sessionID != keep {
			st.sessions.delete(ref)
		}
	}
	return nil
}

// Ping always succeeds: memory is always there.
func (st *SessionStore) Ping(context.Context) error { return nil }
