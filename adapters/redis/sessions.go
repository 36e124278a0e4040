package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
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
// session's idle TTL. Renewal is a single command (see Touch), because
// GET /verify renews on every page load of every frontend.
//
// The renewal is also the last-seen record, at no cost: it sets the TTL to
// exactly the idle timeout, so a key's remaining TTL says when it was last
// renewed (idle - PTTL ago). That is what List reports and what the
// per-account limit evicts by. Touch keeps the stored idle timeout equal to
// the one it renews with (it rewrites the value once after a change of the
// configured timeout), so the arithmetic holds.
//
// The sorted set <prefix>sess:{<user>} indexes the user's session ids,
// scored by absolute expiry, for Create, List, Delete and DeleteAllForUser,
// and the hash <prefix>sess:{<user>}#origin holds, per session id, how the
// session was made (JSON). Renewal never touches either, so the index cannot
// tell by itself which sessions idled out: every script that touches it
// asks each indexed session key for its PTTL and drops the ids whose key is
// gone (idle-expired or deleted) or whose score is past, with their origin.
// Create also evicts the least recently seen live sessions beyond the
// per-account limit, and is the only way in, so the index never holds more
// than that limit of entries and every script's walk is bounded by it,
// never by sessions that ended. The index and the origins expire with the
// user's longest-lived session. All of a user's keys share the hash tag
// {<user>}, so the scripts, which build the other keys from the index key,
// stay in one slot.
//
// Times are kept to the millisecond.
type SessionStore struct {
	c      *Client
	recent *recentWrites // users whose checks skip the cache for now
}

var _ ports.SessionStore = (*SessionStore)(nil)

// NewSessionStore returns the session store of c.
func NewSessionStore(c *Client) *SessionStore {
	return &SessionStore{c: c, recent: newRecentWrites(c.sessionCache)}
}

// liveSessions is the Lua the scripts share. endSession deletes a session
// with its index entry and origin. liveSessions ends every indexed session
// that has ended (its key gone, or its score at or before now; now = 0
// checks keys only) and returns the others as {id, pttl} pairs. idleOf
// reads the idle timeout out of a stored value.
const liveSessions = `
local function endSession(index, id)
  redis.call('DEL', index .. ':' .. id)
  redis.call('ZREM', index, id)
  redis.call('HDEL', index .. '#origin', id)
end
local function liveSessions(index, now)
  local live = {}
  local entries = redis.call('ZRANGE', index, 0, -1, 'WITHSCORES')
  for i = 1, #entries, 2 do
    local id = entries[i]
    local ttl = redis.call('PTTL', index .. ':' .. id)
    if ttl < 0 or tonumber(entries[i + 1]) <= now then
      endSession(index, id)
    else
      live[#live + 1] = {id, ttl}
    end
  end
  return live
end
local function idleOf(v)
  return tonumber(string.match(v or '', '^%-?%d+|%-?%d+|(%-?%d+)|'))
end
-- values returns, in the order of live, the stored values of its sessions
-- (false for a missing one), in one MGET.
local function values(index, live)
  local keys = {}
  for i, s in ipairs(live) do keys[i] = index .. ':' .. s[1] end
  if #keys == 0 then return {} end
  return redis.call('MGET', unpack(keys))
end
`

// createSession prunes the index, ends the least recently seen live
// sessions until fewer than the limit remain, then stores and indexes the
// new one with its origin.
// KEYS: session, index. ARGV: session id, value, created (= now), absolute
// expiry, ttl (all ms), limit of live sessions (at least 1), origin.
var createSession = rueidis.NewLuaScript(liveSessions + `
local now = tonumber(ARGV[3])
local live = liveSessions(KEYS[2], now)
local excess = #live - tonumber(ARGV[6]) + 1
if excess > 0 then
  -- How long ago each was last seen: its idle timeout less its PTTL.
  local vs = values(KEYS[2], live)
  for i, s in ipairs(live) do
    s[3] = (idleOf(vs[i]) or s[2]) - s[2]
  end
end
if excess == 1 then
  -- The usual case, one login at the limit: a linear scan, no sort.
  local lru = live[1]
  for i = 2, #live do
    if live[i][3] > lru[3] then lru = live[i] end
  end
  live[1] = lru
elseif excess > 1 then
  table.sort(live, function(a, b) return a[3] > b[3] end)
end
for i = 1, excess do
  endSession(KEYS[2], live[i][1])
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
local origins = KEYS[2] .. '#origin'
redis.call('HSET', origins, ARGV[1], ARGV[7])
local keep = tonumber(ARGV[4]) - now
for _, key in ipairs({KEYS[2], origins}) do
  if redis.call('PTTL', key) < keep then
    redis.call('PEXPIRE', key, keep)
  end
end
return 1
`)

// listSessions prunes the index and returns, per live session, its id,
// PTTL, stored value and origin (nil when it has none).
// KEYS: index. ARGV: now (ms).
var listSessions = rueidis.NewLuaScript(liveSessions + `
local live = liveSessions(KEYS[1], tonumber(ARGV[1]))
if #live == 0 then return {} end
local vs = values(KEYS[1], live)
local ids = {}
for i, s in ipairs(live) do ids[i] = s[1] end
local origins = redis.call('HMGET', KEYS[1] .. '#origin', unpack(ids))
local out = {}
for i, s in ipairs(live) do
  out[#out + 1] = s[1]
  out[#out + 1] = s[2]
  out[#out + 1] = vs[i]
  out[#out + 1] = origins[i]
end
return out
`)

// deleteSession ends one session and prunes the index.
// KEYS: index. ARGV: the session id.
var deleteSession = rueidis.NewLuaScript(liveSessions + `
endSession(KEYS[1], ARGV[1])
liveSessions(KEYS[1], 0)
return 1
`)

// deleteUserSessions ends every session in the index but one, prunes that
// one's entry if it has ended, and returns how many live ones it ended.
// KEYS: index. ARGV: the session id to keep, or "".
var deleteUserSessions = rueidis.NewLuaScript(liveSessions + `
local ended = 0
for _, s in ipairs(liveSessions(KEYS[1], 0)) do
  if s[1] ~= ARGV[1] then
    endSession(KEYS[1], s[1])
    ended = ended + 1
  end
end
return ended
`)

// Create stores s, live for ttl, ending the user's least recently seen
// sessions beyond maxLive, in one script.
func (st *SessionStore) Create(ctx context.Context, s domain.Session, ttl time.Duration, maxLive int) error {
	origin, err := encodeOrigin(s.Origin)
	if err != nil {
		return fmt.Errorf("redis: create session: %w", err)
	}
	ctx, cancel := st.c.bound(ctx)
	defer cancel()
	defer st.recent.wrote(s.UserID) // it may end others at the limit
	index := st.index(s.UserID)
	err = st.c.exec(ctx, createSession, []string{index + ":" + s.ID.String(), index}, []string{
		s.ID.String(),
		encodeSession(s),
		strconv.FormatInt(s.CreatedAt.UnixMilli(), 10),
		strconv.FormatInt(s.AbsoluteExpiry.UnixMilli(), 10),
		strconv.FormatInt(millis(ttl), 10),
		strconv.Itoa(max(maxLive, 1)),
		origin,
	}).Error()
	return storeError("create session", err)
}

// Touch returns the live session and renews its idle timeout. A session
// past its absolute expiry is deleted and refused; its key may have been
// renewed past that instant, but it is never accepted there.
//
// GET /verify touches on every page load of every frontend, so with the
// client's session cache on (Config.SessionCacheTTL) Touch reads the key
// and its PTTL through rueidis' client-side cache, which answers repeated
// checks of a session without a round trip, and renews only when the last
// renewal may be renewEvery old. Redis pushes an invalidation for the key
// to every client that cached it whenever it changes (a logout's DEL, a
// renewal's PEXPIRE), so an ended session is refused by every replica as
// soon as the push arrives, and after the cache TTL at worst (see
// outlived for the one case rueidis would stretch that). The cost: the
// renewal, and so last_seen_time, lags use by up to renewEvery, which
// API.md allows (60 s at most), and a session may idle out up to
// renewEvery early, which the README states. Without the cache, when
// renewEvery is too short for the cache to pay (see cached), or for a user
// whose sessions this process has just changed (recentWrites), Touch reads
// Redis and renews, in one GETEX.
func (st *SessionStore) Touch(ctx context.Context, userID domain.UserID, sessionID domain.SessionID, now time.Time, idle time.Duration) (domain.Session, error) {
	ctx, cancel := st.c.bound(ctx)
	defer cancel()
	key := st.index(userID) + ":" + sessionID.String()
	if !st.cached(idle) || st.recent.fresh(userID) {
		return st.touchEveryTime(ctx, key, userID, sessionID, now, idle)
	}
	every := st.renewEvery(idle)
	b := st.c.rdb.B()
	res := st.c.rdb.DoMultiCache(ctx,
		rueidis.CT(b.Get().Key(key).Cache(), st.c.sessionCache),
		rueidis.CT(b.Pttl().Key(key).Cache(), st.c.sessionCache))
	if outlived(res[0]) || outlived(res[1]) {
		// The answer is a read that was sent before its own expiry and came
		// back after it: this check joined a fetch still waiting for its
		// reply (a slow network, a stalled process), which rueidis hands to
		// every check of the key meanwhile. That read may predate a
		// revocation by more than the cache TTL, so ask Redis again.
		return st.touchEveryTime(ctx, key, userID, sessionID, now, idle)
	}
	v, err := res[0].ToString()
	if rueidis.IsRedisNil(err) {
		return domain.Session{}, domain.ErrSessionNotFound
	}
	if err != nil {
		return domain.Session{}, storeError("touch session", err)
	}
	pttl, err := res[1].AsInt64()
	if err != nil {
		return domain.Session{}, storeError("touch session", err)
	}
	s, err := st.accept(ctx, v, userID, sessionID, now)
	if err != nil {
		return domain.Session{}, err
	}
	// The PTTL read may be as old as the cache TTL, so the last renewal
	// may be that much older than it says.
	sinceRenewal := idle - time.Duration(pttl)*time.Millisecond + st.c.sessionCache
	switch {
	case s.IdleTimeout != idle:
		// The configured idle timeout changed since the value was written:
		// store the new one with the TTL it counts down from, so List and
		// the eviction read the last-seen time right, and renew with it.
		// XX never brings back a session that ended meanwhile.
		s.IdleTimeout = idle
		err = st.c.rdb.Do(ctx, b.Set().Key(key).Value(encodeSession(s)).Xx().PxMilliseconds(millis(idle)).Build()).Error()
	case pttl < 0 || sinceRenewal >= every:
		var renewed bool
		renewed, err = st.c.rdb.Do(ctx, b.Pexpire().Key(key).Milliseconds(millis(idle)).Build()).AsBool()
		if err == nil && !renewed {
			err = rueidis.Nil // ended since it was read
		}
	}
	if rueidis.IsRedisNil(err) {
		return domain.Session{}, domain.ErrSessionNotFound
	}
	if err != nil {
		return domain.Session{}, storeError("touch session", err)
	}
	return s, nil
}

// cached reports whether Touch reads sessions of this idle timeout through
// the cache. Not when the cache is off (by configuration, by the Redis
// URL, or because Redis cannot track keys), and not when the renewal
// interval is under twice the cache TTL: then most checks would renew,
// each renewal empties the cached copies, and a miss costs more than the
// GETEX of the every-time path.
func (st *SessionStore) cached(idle time.Duration) bool {
	return st.c.cacheOn() && st.renewEvery(idle) >= 2*st.c.sessionCache
}

// outlived reports whether a cached read's answer expired before it could
// be used (see Touch). Answers that did not come through the cache carry
// no expiry (-1).
func outlived(r rueidis.RedisResult) bool {
	pxat := r.CachePXAT()
	return pxat >= 0 && pxat <= time.Now().UnixMilli()
}

// renewEvery is how long a cached session may go without renewal: the
// configured interval, but at most a 60th of the idle timeout, so that a
// session never idles out more than a minute early at the default hour,
// and proportionally less with a shorter timeout.
func (st *SessionStore) renewEvery(idle time.Duration) time.Duration {
	return min(st.c.renewal, idle/60)
}

// touchEveryTime renews the session on every call, in one GETEX.
func (st *SessionStore) touchEveryTime(ctx context.Context, key string, userID domain.UserID, sessionID domain.SessionID, now time.Time, idle time.Duration) (domain.Session, error) {
	v, err := st.c.rdb.Do(ctx, st.c.rdb.B().Getex().Key(key).PxMilliseconds(millis(idle)).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return domain.Session{}, domain.ErrSessionNotFound
	}
	if err != nil {
		return domain.Session{}, storeError("touch session", err)
	}
	s, err := st.accept(ctx, v, userID, sessionID, now)
	if err != nil {
		return domain.Session{}, err
	}
	if s.IdleTimeout != idle {
		// The configured idle timeout changed since the value was written:
		// store the new one, which the TTL now counts down from, so List
		// and the eviction read the last-seen time right. This happens once
		// per session after a change; XX never brings back a session that
		// ended meanwhile.
		s.IdleTimeout = idle
		err := st.c.rdb.Do(ctx, st.c.rdb.B().Set().Key(key).Value(encodeSession(s)).Xx().Keepttl().Build()).Error()
		if err != nil && !rueidis.IsRedisNil(err) {
			return domain.Session{}, storeError("touch session", err)
		}
	}
	return s, nil
}

// accept decodes a stored session and refuses it when it is not the
// user's or is past its absolute expiry, which it then deletes.
func (st *SessionStore) accept(ctx context.Context, v string, userID domain.UserID, sessionID domain.SessionID, now time.Time) (domain.Session, error) {
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

// List returns the user's live sessions, newest first, in one script that
// also prunes the index. A session's last-seen time is when its key was
// last renewed: its idle timeout less its remaining TTL before now.
func (st *SessionStore) List(ctx context.Context, userID domain.UserID, now time.Time) ([]domain.Session, error) {
	ctx, cancel := st.c.bound(ctx)
	defer cancel()
	reply, err := st.c.exec(ctx, listSessions, []string{st.index(userID)}, []string{
		strconv.FormatInt(now.UnixMilli(), 10),
	}).ToArray()
	if err != nil {
		return nil, storeError("list sessions", err)
	}
	list := make([]domain.Session, 0, len(reply)/4)
	for i := 0; i+3 < len(reply); i += 4 {
		id, err1 := reply[i].ToString()
		pttl, err2 := reply[i+1].AsInt64()
		v, err3 := reply[i+2].ToString()
		if err1 != nil || err2 != nil || err3 != nil {
			continue // ended between the PTTL and the GET, or not ours to read
		}
		s, ok := decodeSession(v, domain.SessionID(id))
		if !ok || s.UserID != userID || !now.Before(s.AbsoluteExpiry) {
			continue
		}
		if o, err := reply[i+3].ToString(); err == nil {
			s.Origin = decodeOrigin(o)
		}
		// A session made with a TTL cut short by its absolute expiry reads
		// as seen before its creation: it was last seen then.
		seen := now.UnixMilli() - (s.IdleTimeout.Milliseconds() - pttl)
		s.LastSeen = time.UnixMilli(min(max(seen, s.CreatedAt.UnixMilli()), now.UnixMilli())).UTC()
		list = append(list, s)
	}
	slices.SortFunc(list, func(a, b domain.Session) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID.String(), b.ID.String())
	})
	return list, nil
}

// storedOrigin is the JSON form of a domain.SessionOrigin in the origin
// hash; its field names are the stored format, apart from the domain's.
type storedOrigin struct {
	Method    string          `json:"m"`
	IP        string          `json:"ip"`
	UserAgent string          `json:"ua"`
	Location  *storedLocation `json:"loc,omitempty"`
}

type storedLocation struct {
	Country string `json:"country"`
	Region  string `json:"region"`
	City    string `json:"city"`
}

func encodeOrigin(o domain.SessionOrigin) (string, error) {
	so := storedOrigin{Method: string(o.Method), IP: o.IP, UserAgent: o.UserAgent}
	if l := o.Location; l != nil {
		so.Location = &storedLocation{Country: l.Country, Region: l.Region, City: l.City}
	}
	b, err := json.Marshal(so)
	return string(b), err
}

// decodeOrigin reads what encodeOrigin wrote; a value it cannot read is an
// unknown origin, which costs the list a column, not the session.
func decodeOrigin(v string) domain.SessionOrigin {
	var so storedOrigin
	if json.Unmarshal([]byte(v), &so) != nil {
		return domain.SessionOrigin{}
	}
	o := domain.SessionOrigin{Method: domain.LoginMethod(so.Method), IP: so.IP, UserAgent: so.UserAgent}
	if l := so.Location; l != nil {
		o.Location = &domain.Location{Country: l.Country, Region: l.Region, City: l.City}
	}
	return o
}

// encodeSession writes the stored form; the user id goes last, so it may
// hold any character.
func encodeSession(s domain.Session) string {
	return strconv.FormatInt(s.CreatedAt.UnixMilli(), 10) + "|" +
		strconv.FormatInt(s.AbsoluteExpiry.UnixMilli(), 10) + "|" +
		strconv.FormatInt(s.IdleTimeout.Milliseconds(), 10) + "|" + s.UserID.String()
}

func decodeSession(v string, sessionID domain.SessionID) (domain.Session, bool) {
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
		UserID:         domain.UserID(v),
		CreatedAt:      time.UnixMilli(n[0]).UTC(),
		AbsoluteExpiry: time.UnixMilli(n[1]).UTC(),
		IdleTimeout:    time.Duration(n[2]) * time.Millisecond,
	}, true
}

// Delete ends one session and prunes the user's index, in one script.
func (st *SessionStore) Delete(ctx context.Context, userID domain.UserID, sessionID domain.SessionID) error {
	ctx, cancel := st.c.bound(ctx)
	defer cancel()
	defer st.recent.wrote(userID)
	err := st.c.exec(ctx, deleteSession, []string{st.index(userID)}, []string{sessionID.String()}).Error()
	return storeError("delete session", err)
}

// DeleteAllForUser ends every session of the user except keep, in one
// atomic step, and returns how many it ended. It judges sessions by their
// keys alone: one past its absolute expiry whose key has not idled out yet
// (Touch refuses it) counts as ended here.
func (st *SessionStore) DeleteAllForUser(ctx context.Context, userID domain.UserID, keep domain.SessionID) (int, error) {
	ctx, cancel := st.c.bound(ctx)
	defer cancel()
	defer st.recent.wrote(userID)
	n, err := st.c.exec(ctx, deleteUserSessions, []string{st.index(userID)}, []string{keep.String()}).AsInt64()
	if err != nil {
		return 0, storeError("delete sessions of user", err)
	}
	return int(n), nil
}

// Ping reports whether Redis answers.
func (st *SessionStore) Ping(ctx context.Context) error { return st.c.Ping(ctx) }

// index is the key of the user's set of session ids; a session's key is the
// index key, a colon and the session id.
func (st *SessionStore) index(userID domain.UserID) string {
	return st.c.tagged("sess", userID.String())
}
