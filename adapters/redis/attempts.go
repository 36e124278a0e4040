package redis

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse/gatehouse/ports"
)

// AttemptCounter counts login attempts and locks keys in Redis: a counter at
// <prefix>att:{<key>} that expires with the window opened by its first
// attempt, and a lock at <prefix>lock:{<key>} whose TTL is what is left of
// the lock. Both share the key's hash tag, so every step is one script.
type AttemptCounter struct{ c *Client }

var _ ports.AttemptCounter = (*AttemptCounter)(nil)

// NewAttemptCounter returns the attempt counter of c.
func NewAttemptCounter(c *Client) *AttemptCounter { return &AttemptCounter{c: c} }

// admitAttempt refuses while locked or full, else counts the attempt.
// Failures lock at the limit, so a full window holds attempts still in
// flight: they settle within moments, hence the short wait.
// KEYS: counter, lock. ARGV: limit, lock (ms), full wait (ms). Returns the
// wait in ms, 0 when admitted.
var admitAttempt = rueidis.NewLuaScript(`
local locked = redis.call('PTTL', KEYS[2])
if locked > 0 then
  return locked
end
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then
  return math.min(tonumber(ARGV[3]), math.max(redis.call('PTTL', KEYS[1]), 1))
end
if redis.call('INCR', KEYS[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

// failAttempt locks the key once its window holds limit attempts.
// KEYS: counter, lock. ARGV: limit, lock (ms).
var failAttempt = rueidis.NewLuaScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], 1, 'PX', ARGV[2])
  redis.call('DEL', KEYS[1])
end
return 0
`)

// releaseAttempt takes one attempt back, never below zero, keeping the
// counter's TTL (DECR does).
// KEYS: counter.
var releaseAttempt = rueidis.NewLuaScript(`
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
  redis.call('DECR', KEYS[1])
end
return 0
`)

// Admit counts one attempt under key unless it is locked or full.
func (ac *AttemptCounter) Admit(ctx context.Context, key string, limit int, lock time.Duration) (time.Duration, error) {
	ctx, cancel := ac.c.bound(ctx)
	defer cancel()
	ms, err := admitAttempt.Exec(ctx, ac.c.rdb, []string{ac.countKey(key), ac.lockKey(key)}, []string{
		strconv.Itoa(limit),
		strconv.FormatInt(millis(lock), 10),
		strconv.FormatInt(millis(ports.FullWait), 10),
	}).AsInt64()
	if err != nil {
		return 0, storeError("admit attempt", err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// Fail locks key once its window holds limit attempts.
func (ac *AttemptCounter) Fail(ctx context.Context, key string, limit int, lock time.Duration) error {
	ctx, cancel := ac.c.bound(ctx)
	defer cancel()
	err := failAttempt.Exec(ctx, ac.c.rdb, []string{ac.countKey(key), ac.lockKey(key)}, []string{
		strconv.Itoa(limit),
		strconv.FormatInt(millis(lock), 10),
	}).Error()
	return storeError("count failure", err)
}

// Release takes back one admitted attempt.
func (ac *AttemptCounter) Release(ctx context.Context, key string) error {
	ctx, cancel := ac.c.bound(ctx)
	defer cancel()
	err := releaseAttempt.Exec(ctx, ac.c.rdb, []string{ac.countKey(key)}, nil).Error()
	return storeError("release attempt", err)
}

// Reset forgets the attempts and the lock of key. Both keys share the key's
// hash tag, so one DEL removes them.
func (ac *AttemptCounter) Reset(ctx context.Context, key string) error {
	ctx, cancel := ac.c.bound(ctx)
	defer cancel()
	err := ac.c.rdb.Do(ctx, ac.c.rdb.B().Del().Key(ac.countKey(key), ac.lockKey(key)).Build()).Error()
	return storeError("reset attempts", err)
}

func (ac *AttemptCounter) countKey(key string) string { return ac.c.tagged("att", key) }
func (ac *AttemptCounter) lockKey(key string) string  { return ac.c.tagged("lock", key) }
