package redis

import (
	"context"
	"crypto/rand"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// AttemptCounter counts login attempts and locks keys in Redis: failures in
// a counter at <prefix>fail:{<key>} that expires with the window opened by
// its first failure, the lock at <prefix>lock:{<key>} whose TTL is what is
// left of it, and attempts in flight in a sorted set at <prefix>fly:{<key>}
// scored by when each stops counting if never settled (by the Redis clock,
// which every replica shares). All three share the key's hash tag, so every
// step is one script. <key> is the text of the domain.LimitKey, escaped as
// every hash tag is.
type AttemptCounter struct{ c *Client }

var _ ports.AttemptCounter = (*AttemptCounter)(nil)

// NewAttemptCounter returns the attempt counter of c.
func NewAttemptCounter(c *Client) *AttemptCounter { return &AttemptCounter{c: c} }

// admitAttempt refuses while locked or while failures plus attempts in
// flight reach the limit, else adds one attempt in flight. The set expires
// with its newest attempt, so a key nobody tries again leaves nothing.
// KEYS: failures, lock, in flight. ARGV: limit, hold (ms), member.
// Returns what is left of the lock in ms, -1 when busy, 0 when admitted.
var admitAttempt = rueidis.NewLuaScript(`
local locked = redis.call('PTTL', KEYS[2])
if locked > 0 then
  return locked
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local n = tonumber(redis.call('GET', KEYS[1]) or '0') + redis.call('ZCARD', KEYS[3])
if n >= tonumber(ARGV[1]) then
  return -1
end
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return 0
`)

// failAttempt settles one attempt in flight as a failure, and locks the key
// once its window holds limit failures. Attempts in flight are anonymous:
// ZPOPMAX drops the one that would stop counting last, so one that was
// never settled keeps its earlier deadline and stops counting on time.
// KEYS: failures, lock, in flight. ARGV: limit, lock (ms).
// Returns 1 when this failure started the lock, else 0.
var failAttempt = rueidis.NewLuaScript(`
redis.call('ZPOPMAX', KEYS[3])
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
local n = redis.call('INCR', KEYS[1])
if n == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if n >= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], 1, 'PX', ARGV[2])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`)

// succeedAttempt settles one attempt in flight and forgets the failures and
// the lock.
// KEYS: failures, lock, in flight.
var succeedAttempt = rueidis.NewLuaScript(`
redis.call('ZPOPMAX', KEYS[3])
redis.call('DEL', KEYS[1], KEYS[2])
return 0
`)

// Admit counts one attempt in flight under key unless it is locked or busy.
func (ac *AttemptCounter) Admit(ctx context.Context, key domain.LimitKey, limit int, hold time.Duration) (ports.Admission, error) {
	ctx, cancel := ac.c.bound(ctx)
	defer cancel()
	ms, err := ac.c.exec(ctx, admitAttempt, ac.keys(key.String()), []string{
		strconv.Itoa(limit),
		strconv.FormatInt(millis(hold), 10),
		rand.Text(), // members must differ, or two attempts would count as one
	}).AsInt64()
	switch {
	case err != nil:
		return ports.Admission{}, storeError("admit attempt", err)
	case ms > 0:
		return ports.Admission{Locked: time.Duration(ms) * time.Millisecond}, nil
	case ms < 0:
		return ports.Admission{}, nil
	}
	return ports.Admission{Admitted: true}, nil
}

// Fail settles an attempt in flight as a failure; limit failures lock key.
func (ac *AttemptCounter) Fail(ctx context.Context, key domain.LimitKey, limit int, lock time.Duration) (bool, error) {
	ctx, cancel := ac.c.bound(ctx)
	defer cancel()
	started, err := ac.c.exec(ctx, failAttempt, ac.keys(key.String()), []string{
		strconv.Itoa(limit),
		strconv.FormatInt(millis(lock), 10),
	}).AsInt64()
	if err != nil {
		return false, storeError("count failure", err)
	}
	return started == 1, nil
}

// Release settles an attempt in flight that counts for nothing.
func (ac *AttemptCounter) Release(ctx context.Context, key domain.LimitKey) error {
	ctx, cancel := ac.c.bound(ctx)
	defer cancel()
	err := ac.c.rdb.Do(ctx, ac.c.rdb.B().Zpopmax().Key(ac.c.tagged("fly", key.String())).Build()).Error()
	return storeError("release attempt", err)
}

// Succeed settles an attempt in flight and forgets key's failures and lock.
func (ac *AttemptCounter) Succeed(ctx context.Context, key domain.LimitKey) error {
	ctx, cancel := ac.c.bound(ctx)
	defer cancel()
	err := ac.c.exec(ctx, succeedAttempt, ac.keys(key.String()), nil).Error()
	return storeError("settle attempt", err)
}

// Reset forgets the failures and the lock of key. Both share the key's hash
// tag, so one DEL removes them.
func (ac *AttemptCounter) Reset(ctx context.Context, key domain.LimitKey) error {
	keys := []string{ac.c.tagged("fail", key.String()), ac.c.tagged("lock", key.String())}
	if err := oneSlot(keys); err != nil {
		return err
	}
	ctx, cancel := ac.c.bound(ctx)
	defer cancel()
	err := ac.c.rdb.Do(ctx, ac.c.rdb.B().Del().Key(keys...).Build()).Error()
	return storeError("reset attempts", err)
}

// keys are the failures, lock and in-flight keys of the text of a
// domain.LimitKey, in the order the scripts take them.
func (ac *AttemptCounter) keys(key string) []string {
	return []string{ac.c.tagged("fail", key), ac.c.tagged("lock", key), ac.c.tagged("fly", key)}
}
