package redis

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// SessionStore keeps sessions in Redis. A session is a string at
// <prefix>sess:{<user>}:<session id> holding "created|absolute|idle|user"
// (times in Unix milliseconds, idle in milliseconds); its TTL is the
// session's idle TTL. Renewal is a single GETEX, as cheap as a GET, because
// GET /verify renews on every page load of every frontend. The sorted set
// <prefix>sess:{<user>} lists the user's session ids for DeleteAllForUser,
// scored by absolute expiry: no session is accepted past that score, so
// expired ids are pruned by score in O(log n) and renewal never touches the
// index. The index expires with its longest-lived session.
//
// Times are kept to the millisecond.
type SessionStore struct{ c *Client }

var _ ports.SessionStore = (*SessionStore)(nil)

// NewSessionStore returns the session store of c.
func NewSessionStore(c *Client) *SessionStore { return &SessionStore{c: c} }

// createSession stores the session, indexes it and drops from the index
// the ids past their absolute expiry.
// KEYS: session, index. ARGV: session id, value, created (= now), absolute
// expiry, ttl (all ms).
var createSession = rueidis.NewLuaScript(`
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
local keep = tonumber(ARGV[4]) - tonumber(ARGV[3])
if redis.call('PTTL', KEYS[2]) < keep then
  redis.call('PEXPIRE', KEYS[2], keep)
end
return 1
`)

// deleteUserSessions ends every session in the index but one. The session
// keys are built from the index key; they share its hash tag, so they live
// in its slot.
// KEYS: index. ARGV: the session id to keep, or "".
var deleteUserSessions = rueidis.NewLuaScript(`
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if id ~= ARGV[1] then
    redis.call('DEL', KEYS[1] .. ':' .. id)
    redis.call('ZREM', KEYS[1], id)
  end
end
return 1
`)

// Create stores s, live for ttl.
func (st *SessionStore) Create(ctx context.Context, s domain.Session, ttl time.Duration) error {
	ctx, cancel := st.c.bound(ctx)
	defer cancel()
	index := st.index(s.UserID)
	err := createSession.Exec(ctx, st.c.rdb, []string{index + ":" + s.ID, index}, []string{
		s.ID,
		encodeSession(s),
		strconv.FormatInt(s.CreatedAt.UnixMilli(), 10),
		strconv.FormatInt(s.AbsoluteExpiry.UnixMilli(), 10),
		strconv.FormatInt(millis(ttl), 10),
	}).Error()
	return storeError("create session", err)
}

// Touch returns the live session and renews it for idle in one GETEX. A
// session past its absolute expiry is deleted and refused; its key may have
// been renewed past that instant, but it is never accepted there.
func (st *SessionStore) Touch(ctx context.Context, userID, sessionID string, now time.Time, idle time.Duration) (domain.Session, error) {
	ctx, cancel := st.c.bound(ctx)
	defer cancel()
	key := st.index(userID) + ":" + sessionID
	v, err := st.c.rdb.Do(ctx, st.c.rdb.B().Getex().Key(key).PxMilliseconds(millis(idle)).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return domain.Session{}, domain.ErrSessionNotFound
	}
	if err != nil {
		return domain.Session{}, storeError("touch session", err)
	}
	s, ok := decodeSession(v, sessionID)
	if !ok || s.UserID != userID {
		return domain.Session{}, domain.ErrSessionNotFound
	}
	if !now.Before(s.AbsoluteExpiry) {
		if err := st.Delete(ctx, userID, sessionID); err != nil {
			return domain.Session{}, err
		}
		return domain.Session{}, domain.ErrSessionNotFound
	}
	return s, nil
}

// encodeSession writes the stored form; the user id goes last, so it may
// hold any character.
func encodeSession(s domain.Session) string {
	return strconv.FormatInt(s.CreatedAt.UnixMilli(), 10) + "|" +
		strconv.FormatInt(s.AbsoluteExpiry.UnixMilli(), 10) + "|" +
		strconv.FormatInt(s.IdleTimeout.Milliseconds(), 10) + "|" + s.UserID
}

func decodeSession(v, sessionID string) (domain.Session, bool) {
	var n [3]int64
	for i := range n {
		field, rest, ok := strings.Cut(v, "|")
		x, err := strconv.ParseInt(field, 10, 64)
		if !ok || err != nil {
			return domain.Session{}, false
		}
		n[i], v = x, rest
	}
	return domain.Session{
		ID:             sessionID,
		UserID:         v,
		CreatedAt:      time.UnixMilli(n[0]).UTC(),
		AbsoluteExpiry: time.UnixMilli(n[1]).UTC(),
		IdleTimeout:    time.Duration(n[2]) * time.Millisecond,
	}, true
}

// Delete ends one session. The session and its index entry go in one round
// trip; they need not go atomically, since an index entry without its
// session is harmless and is pruned by score on a later Create.
func (st *SessionStore) Delete(ctx context.Context, userID, sessionID string) error {
	ctx, cancel := st.c.bound(ctx)
	defer cancel()
	index := st.index(userID)
	b := st.c.rdb.B()
	for _, r := range st.c.rdb.DoMulti(ctx,
		b.Del().Key(index+":"+sessionID).Build(),
		b.Zrem().Key(index).Member(sessionID).Build(),
	) {
		if err := r.Error(); err != nil {
			return storeError("delete session", err)
		}
	}
	return nil
}

// DeleteAllForUser ends every session of the user except keep, in one
// atomic step.
func (st *SessionStore) DeleteAllForUser(ctx context.Context, userID, keep string) error {
	ctx, cancel := st.c.bound(ctx)
	defer cancel()
	err := deleteUserSessions.Exec(ctx, st.c.rdb, []string{st.index(userID)}, []string{keep}).Error()
	return storeError("delete sessions of user", err)
}

// Ping reports whether Redis answers.
func (st *SessionStore) Ping(ctx context.Context) error { return st.c.Ping(ctx) }

// index is the key of the user's set of session ids; a session's key is the
// index key, a colon and the session id.
func (st *SessionStore) index(userID string) string { return st.c.tagged("sess", userID) }
