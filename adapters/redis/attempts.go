package redis

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse/gatehouse/ports"
)

// AttemptCounter counts failures and locks keys in Redis: a counter at
// <prefix>att:{<key>} that expires with the window opened by its first
// failure, and a lock at <prefix>lock:{<key>} whose TTL is what is left of
// the lock.
type AttemptCounter struct{ c *Client }

var _ ports.AttemptCounter = (*AttemptCounter)(nil)

// NewAttemptCounter returns the attempt counter of c.
func NewAttemptCounter(c *Client) *AttemptCounter { return &AttemptCounter{c: c} }

// failAttempt counts and, at the limit, locks and starts the count over, in
// one step so that parallel failures are all counted and lock exactly once.
// KEYS: counter, lock. ARGV: limit, lock (ms).
var failAttempt = rueidis.NewLuaScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if n >= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], 1, 'PX', ARGV[2])
  redis.call('DEL', KEYS[1])
end
return n
`)

// LockedFor returns how long the longest lock among keys still lasts. The
// keys belong to different hash tags (an account and an IP), so they are
// read by a pipeline of PTTLs rather than a script: still one round trip.
func (ac *AttemptCounter) LockedFor(ctx context.Context, keys ...string) (time.Duration, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	ctx, cancel := ac.c.bound(ctx)
	defer cancel()
	cmds := make(rueidis.Commands, len(keys))
	for i, k := range keys {
		cmds[i] = ac.c.rdb.B().Pttl().Key(ac.lockKey(k)).Build()
	}
	var longest int64
	for _, r := range ac.c.rdb.DoMulti(ctx, cmds...) {
		// PTTL answers -2 for no lock; -1 (no expiry) cannot happen.
		ms, err := r.AsInt64()
		if err != nil {
			return 0, storeError("read lock", err)
		}
		longest = max(longest, ms)
	}
	return time.Duration(longest) * time.Millisecond, nil
}

// Fail counts one failure for key and locks it at limit.
func (ac *AttemptCounter) Fail(ctx context.Context, key string, limit int, lock time.Duration) error {
	ctx, cancel := ac.c.bound(ctx)
	defer cancel()
	err := failAttempt.Exec(ctx, ac.c.rdb, []string{ac.countKey(key), ac.lockKey(key)}, []string{
		strconv.Itoa(limit),
		strconv.FormatInt(millis(lock), 10),
	}).Error()
	return storeError("count failure", err)
}

// Reset forgets the failures and the lock of key. Both keys share the key's
// hash tag, so one DEL removes them.
func (ac *AttemptCounter) Reset(ctx context.Context, key string) error {
	ctx, cancel := ac.c.bound(ctx)
	defer cancel()
	err := ac.c.rdb.Do(ctx, ac.c.rdb.B().Del().Key(ac.countKey(key), ac.lockKey(key)).Build()).Error()
	return storeError("reset failures", err)
}

func (ac *AttemptCounter) countKey(key string) string { return ac.c.tagged("att", key) }
func (ac *AttemptCounter) lockKey(key string) string  { return ac.c.tagged("lock", key) }
