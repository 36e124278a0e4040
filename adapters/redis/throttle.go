package redis

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// Throttle limits events per key in Redis. Each key's events are a sorted
// set at <prefix>thr:{<key>}, scored by their time in milliseconds, so the
// hourly limit slides with time as the port says instead of resetting on a
// fixed hour, and the interval runs from the newest event. The set holds at
// most the hourly limit of events, and expires when they are all too old to
// matter. Distinct members (AllowDistinct) are a sorted set at
// <prefix>thd:{<key>}, one entry per member scored by when it was last
// recorded. Checks that only look (Wait, WaitDistinct) run the same scripts
// without the write, and create no key. <key> is the text of the
// domain.LimitKey, escaped as every hash tag is.
type Throttle struct{ c *Client }

var _ ports.Throttle = (*Throttle)(nil)

// NewThrottle returns the throttle of c.
func NewThrottle(c *Client) *Throttle { return &Throttle{c: c} }

// allowEvent times events by the Redis clock, which every instance of the
// service shares. An event leaves the hour when exactly an hour has passed.
// Member names carry the set's size so that two events in one millisecond
// stay two.
// KEYS: events. ARGV: interval (ms), hourly limit, 1 to record or 0 to
// check only. Returns the wait in ms, 0 when the event was (or would be)
// recorded.
var allowEvent = rueidis.NewLuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local hour = 3600000
local horizon = math.max(hour, interval)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - horizon)
local wait = 0
if interval > 0 then
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  if last[2] then
    wait = math.max(wait, tonumber(last[2]) + interval - now)
  end
end
if limit > 0 then
  local since = '(' .. (now - hour)
  local n = redis.call('ZCOUNT', KEYS[1], since, '+inf')
  if n >= limit then
    local e = redis.call('ZRANGEBYSCORE', KEYS[1], since, '+inf', 'WITHSCORES', 'LIMIT', n - limit, 1)
    wait = math.max(wait, tonumber(e[2]) + hour - now)
  end
end
if wait > 0 or ARGV[3] ~= '1' then
  return wait
end
redis.call('ZADD', KEYS[1], now, now .. '-' .. redis.call('ZCARD', KEYS[1]))
redis.call('PEXPIRE', KEYS[1], horizon)
return 0
`)

// Allow records one event for key unless it came within interval of the
// previous one or hourlyLimit events happened in the last hour, and returns
// how long until it would be allowed. A non-positive interval or limit does
// not apply.
func (th *Throttle) Allow(ctx context.Context, key domain.LimitKey, interval time.Duration, hourlyLimit int) (time.Duration, error) {
	return th.event(ctx, key, interval, hourlyLimit, "1")
}

// Wait returns what Allow would, recording nothing.
func (th *Throttle) Wait(ctx context.Context, key domain.LimitKey, interval time.Duration, hourlyLimit int) (time.Duration, error) {
	return th.event(ctx, key, interval, hourlyLimit, "0")
}

func (th *Throttle) event(ctx context.Context, key domain.LimitKey, interval time.Duration, hourlyLimit int, record string) (time.Duration, error) {
	ctx, cancel := th.c.bound(ctx)
	defer cancel()
	var intervalMS int64
	if interval > 0 {
		intervalMS = millis(interval)
	}
	wait, err := th.c.exec(ctx, allowEvent, []string{th.c.tagged("thr", key.String())}, []string{
		strconv.FormatInt(intervalMS, 10),
		strconv.Itoa(hourlyLimit),
		record,
	}).AsInt64()
	if err != nil {
		return 0, storeError("throttle", err)
	}
	return time.Duration(wait) * time.Millisecond, nil
}

// allowMember keeps the distinct members of the last hour, timed by the
// Redis clock. A member leaves the hour when exactly an hour has passed
// since it was last recorded.
// KEYS: members. ARGV: member, hourly limit, 1 to record or 0 to check only.
// Returns the wait in ms, 0 when the member was (or would be) recorded.
var allowMember = rueidis.NewLuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[2])
local hour = 3600000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - hour)
if limit > 0 and not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  local n = redis.call('ZCARD', KEYS[1])
  if n >= limit then
    local e = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
    return math.max(1, tonumber(e[2]) + hour - now)
  end
end
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], hour)
end
return 0
`)

// AllowDistinct records member under key unless it is new to the last hour
// and hourlyLimit distinct members were recorded in it, and returns how long
// until a new member would be allowed.
func (th *Throttle) AllowDistinct(ctx context.Context, key domain.LimitKey, member string, hourlyLimit int) (time.Duration, error) {
	return th.member(ctx, key, member, hourlyLimit, "1")
}

// WaitDistinct returns what AllowDistinct would, recording nothing.
func (th *Throttle) WaitDistinct(ctx context.Context, key domain.LimitKey, member string, hourlyLimit int) (time.Duration, error) {
	return th.member(ctx, key, member, hourlyLimit, "0")
}

func (th *Throttle) member(ctx context.Context, key domain.LimitKey, member string, hourlyLimit int, record string) (time.Duration, error) {
	ctx, cancel := th.c.bound(ctx)
	defer cancel()
	wait, err := th.c.exec(ctx, allowMember, []string{th.c.tagged("thd", key.String())}, []string{
		member,
		strconv.Itoa(hourlyLimit),
		record,
	}).AsInt64()
	if err != nil {
		return 0, storeError("throttle", err)
	}
	return time.Duration(wait) * time.Millisecond, nil
}
