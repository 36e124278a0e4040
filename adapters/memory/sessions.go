package memory

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// SessionStore keeps sessions in memory, indexed by user the way the Redis
// store is: each index lives as long as the user's longest-lived session,
// every call that touches it drops the sessions that have ended, and Create
// keeps at most the per-account limit live, so the index never grows past
// that limit and no call walks sessions that already ended. Touch leaves the
// index alone, as in Redis, and records the session's last-seen time in
// the session itself.
type SessionStore struct {
	clock    ports.Clock
	mu       sync.Mutex
	sessions *expiringMap[sessionRef, domain.Session]
	byUser   *expiringMap[domain.UserID, map[domain.SessionID]struct{}]
}

var _ ports.SessionStore = (*SessionStore)(nil)

// sessionRef names a session the way callers do: by user and id, so that
// a session id presented under another user never matches.
type sessionRef struct {
	userID    domain.UserID
	sessionID domain.SessionID
}

// NewSessionStore returns an empty store whose TTLs run on clock.
func NewSessionStore(clock ports.Clock) *SessionStore {
	return &SessionStore{
		clock:    clock,
		sessions: newExpiringMap[sessionRef, domain.Session](),
		byUser:   newExpiringMap[domain.UserID, map[domain.SessionID]struct{}](),
	}
}

// Create stores s, live for ttl, first ending the user's least recently
// seen sessions beyond maxLive.
func (st *SessionStore) Create(_ context.Context, s domain.Session, ttl time.Duration, maxLive int) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	now := st.clock.Now()
	ids, indexExpiry := st.liveIndex(s.UserID, now)
	if excess := len(ids) - max(maxLive, 1) + 1; excess > 0 {
		live := make([]domain.Session, 0, len(ids))
		for id := range ids {
			old, _, _ := st.sessions.get(sessionRef{s.UserID, id}, now)
			live = append(live, old)
		}
		slices.SortFunc(live, func(a, b domain.Session) int { return a.LastSeen.Compare(b.LastSeen) })
		for _, old := range live[:excess] {
			st.sessions.delete(sessionRef{s.UserID, old.ID})
			delete(ids, old.ID)
		}
	}
	s = cloneSession(s)
	s.LastSeen = s.CreatedAt
	st.sessions.set(sessionRef{s.UserID, s.ID}, s, now.Add(ttl), now)
	if ids == nil {
		ids = make(map[domain.SessionID]struct{})
	}
	ids[s.ID] = struct{}{}
	st.byUser.set(s.UserID, ids, later(indexExpiry, s.AbsoluteExpiry), now)
	return nil
}

// liveIndex returns the user's index, nil when there is none, and when it
// expires, after dropping the sessions that have ended from it.
func (st *SessionStore) liveIndex(userID domain.UserID, now time.Time) (map[domain.SessionID]struct{}, time.Time) {
	ids, expires, ok := st.byUser.get(userID, now)
	if !ok {
		return nil, time.Time{}
	}
	for id := range ids {
		ref := sessionRef{userID, id}
		if s, _, live := st.sessions.get(ref, now); !live || !now.Before(s.AbsoluteExpiry) {
			st.sessions.delete(ref)
			delete(ids, id)
		}
	}
	if len(ids) == 0 {
		st.byUser.delete(userID)
		return nil, time.Time{}
	}
	return ids, expires
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Touch returns the live session and renews it for idle, cut short at its
// absolute expiry. A session past its absolute expiry at now is ended, not
// merely refused, as the Redis store does.
func (st *SessionStore) Touch(_ context.Context, userID domain.UserID, sessionID domain.SessionID, now time.Time, idle time.Duration) (domain.Session, error) {
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
	s.LastSeen = now
	st.sessions.set(ref, s, storeNow.Add(ttl), storeNow)
	return cloneSession(s), nil
}

// List returns the user's live sessions, newest first, pruning the index.
func (st *SessionStore) List(_ context.Context, userID domain.UserID, now time.Time) ([]domain.Session, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	storeNow := st.clock.Now()
	ids, _ := st.liveIndex(userID, storeNow)
	list := make([]domain.Session, 0, len(ids))
	for id := range ids {
		ref := sessionRef{userID, id}
		s, _, _ := st.sessions.get(ref, storeNow)
		// liveIndex judged the absolute expiry by the store's clock; the
		// caller's now decides too, and ends the session, as in Touch.
		if !now.Before(s.AbsoluteExpiry) {
			st.sessions.delete(ref)
			delete(ids, id)
			continue
		}
		list = append(list, cloneSession(s))
	}
	if len(ids) == 0 {
		st.byUser.delete(userID)
	}
	slices.SortFunc(list, newestFirst)
	return list, nil
}

// newestFirst orders sessions by creation, newest first, and by id among
// sessions made in the same instant, so that a list reads the same twice.
func newestFirst(a, b domain.Session) int {
	if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID.String(), b.ID.String())
}

// cloneSession returns s sharing no pointer with the store's copy.
func cloneSession(s domain.Session) domain.Session {
	if s.Origin.Location != nil {
		loc := *s.Origin.Location
		s.Origin.Location = &loc
	}
	return s
}

// Delete ends one session and prunes the user's index.
func (st *SessionStore) Delete(_ context.Context, userID domain.UserID, sessionID domain.SessionID) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.sessions.delete(sessionRef{userID, sessionID})
	st.liveIndex(userID, st.clock.Now())
	return nil
}

// DeleteAllForUser ends every session of the user except keep, walking the
// user's index only, and returns how many it ended.
func (st *SessionStore) DeleteAllForUser(_ context.Context, userID domain.UserID, keep domain.SessionID) (int, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	ids, _ := st.liveIndex(userID, st.clock.Now())
	ended := 0
	for id := range ids {
		if id != keep {
			st.sessions.delete(sessionRef{userID, id})
			delete(ids, id)
			ended++
		}
	}
	if len(ids) == 0 {
		st.byUser.delete(userID)
	}
	return ended, nil
}

// Ping always succeeds: memory is always there.
func (st *SessionStore) Ping(context.Context) error { return nil }
