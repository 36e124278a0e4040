package redis

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse/gatehouse/ports"
)

// Throttle limits events per key in Redis. Each key's events are a sorted
// set at <prefix>thr:{<key>}, scored by their time in milliseconds, so the
// hourly limit slides with time as the port says instead of resetting on a
// fixed hour, and the interval runs from the newest event. The set holds at
// most the hourly limit of events, and expires when they are all too old to
// matter.
type Throttle struct{ c *Client }

var _ ports.Throttle = (*Throttle)(nil)

// NewThrottle returns the throttle of c.
func NewThrottle(c *Client) *Throttle { return &Throttle{c: c} }

// allowEvent times events by the Redis clock, which every instance of the
// service shares. An event leaves the hour when exactly an hour has passed.
// Member names carry the set's size so that two events in one millisecond
// stay two.
// KEYS: events. ARGV: interval (ms), hourly limit. Returns the wait in ms, 0
// when the event was recorded.
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
if wait > 0 then
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
func (th *Throttle) Allow(ctx context.Context, key string, interval time.Duration, hourlyLimit int) (time.Duration, error) {
	ctx, cancel := th.c.bound(ctx)
	defer cancel()
	var intervalMS int64
	if interval > 0 {
		intervalMS = millis(interval)
	}
	wait, err := allowEvent.Exec(ctx, th.c.rdb, []string{th.c.tagged("thr", key)}, []string{
		strconv.FormatInt(intervalMS, 10),
		strconv.Itoa(hourlyLimit),
	}).AsInt64()
	if err != nil {
		return 0, storeError("throttle", err)
	}
	return time.Duration(wait) * time.Millisecond, nil
}
