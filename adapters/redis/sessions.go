package redis

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// SessionStore keeps sessions in Redis. A session is a small hash at
// <prefix>sess:{<user>}:<session id>, holding the user id (u), creation time
// (c) and absolute expiry (a) in Unix milliseconds and the idle timeout (i)
// in milliseconds; its TTL is the session's idle TTL. The sorted set
// <prefix>sess:{<user>} lists the user's session ids for DeleteAllForUser,
// scored by absolute expiry: no session outlives that score, so expired ids
// are pruned by score in O(log n), and renewing a session (every GET
// /verify) never has to touch the index. The index expires with its
// longest-lived session.
//
// Times are kept to the millisecond.
type SessionStore struct{ c *Client }

var _ ports.SessionStore = (*SessionStore)(nil)

// NewSessionStore returns the session store of c.
func NewSessionStore(c *Client) *SessionStore { return &SessionStore{c: c} }

// createSession replaces the session hash, indexes it and drops from the
// index the ids past their absolute expiry.
// KEYS: session, index. ARGV: session id, user id, created (= now),
// absolute expiry, idle timeout, ttl (all ms).
var createSession = rueidis.NewLuaScript(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'u', ARGV[2], 'c', ARGV[3], 'a', ARGV[4], 'i', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
local keep = tonumber(ARGV[4]) - tonumber(ARGV[3])
if redis.call('PTTL', KEYS[2]) < keep then
  redis.call('PEXPIRE', KEYS[2], keep)
end
return 1
`)

// touchSession is the hot path of GET /verify: one HMGET and one PEXPIRE
// in one round trip. It ends a session past its absolute expiry at the
// caller's now rather than leaving it to its TTL.
// KEYS: session. ARGV: user id, now (ms).
// Returns {created, absolute expiry, idle timeout}, or nil when not found.
var touchSession = rueidis.NewLuaScript(`
local s = redis.call('HMGET', KEYS[1], 'u', 'c', 'a', 'i')
if s[1] ~= ARGV[1] then
  return false
end
local ttl = math.min(tonumber(s[4]), tonumber(s[3]) - tonumber(ARGV[2]))
if ttl <= 0 then
  redis.call('DEL', KEYS[1])
  return false
end
redis.call('PEXPIRE', KEYS[1], ttl)
return {tonumber(s[2]), tonumber(s[3]), tonumber(s[4])}
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
		s.UserID,
		strconv.FormatInt(s.CreatedAt.UnixMilli(), 10),
		strconv.FormatInt(s.AbsoluteExpiry.UnixMilli(), 10),
		strconv.FormatInt(s.IdleTimeout.Milliseconds(), 10),
		strconv.FormatInt(millis(ttl), 10),
	}).Error()
	return storeError("create session", err)
}

// Touch returns the live session and renews it to s.IdleTTL(now) in one
// round trip, or returns domain.ErrSessionNotFound.
func (st *SessionStore) Touch(ctx context.Context, userID, sessionID string, now time.Time) (domain.Session, error) {
	ctx, cancel := st.c.bound(ctx)
	defer cancel()
	v, err := touchSession.Exec(ctx, st.c.rdb, []string{st.index(userID) + ":" + sessionID}, []string{
		userID,
		strconv.FormatInt(now.UnixMilli(), 10),
	}).AsIntSlice()
	if rueidis.IsRedisNil(err) {
		return domain.Session{}, domain.ErrSessionNotFound
	}
	if err != nil {
		return domain.Session{}, storeError("touch session", err)
	}
	return domain.Session{
		ID:             sessionID,
		UserID:         userID,
		CreatedAt:      time.UnixMilli(v[0]).UTC(),
		AbsoluteExpiry: time.UnixMilli(v[1]).UTC(),
		IdleTimeout:    time.Duration(v[2]) * time.Millisecond,
	}, nil
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
