package redis

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// CodeStore keeps one-time code digests in Redis, as a hash at
// <prefix>code:{<owner>}:<purpose> holding the digest (d) and the count of
// failed tries (t), expiring with the code.
type CodeStore struct{ c *Client }

var _ ports.CodeStore = (*CodeStore)(nil)

// NewCodeStore returns the code store of c.
func NewCodeStore(c *Client) *CodeStore { return &CodeStore{c: c} }

// putCode replaces the code, so the tries start over with it.
// KEYS: code. ARGV: digest, ttl (ms).
var putCode = rueidis.NewLuaScript(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'd', ARGV[1], 't', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// consumeCode checks and spends or counts in one step, so of parallel uses
// of one code at most one sees it. Digests are HMACs under a secret the
// caller cannot choose inputs for byte by byte, so Lua's plain comparison
// leaks nothing useful.
// KEYS: code. ARGV: digest, max tries. Returns 1 when spent, 0 when invalid.
var consumeCode = rueidis.NewLuaScript(`
local d = redis.call('HGET', KEYS[1], 'd')
if not d then
  return 0
end
if d == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
if redis.call('HINCRBY', KEYS[1], 't', 1) >= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
end
return 0
`)

// Put stores digest as the one live code of key for ttl.
func (st *CodeStore) Put(ctx context.Context, key domain.CodeKey, digest string, ttl time.Duration) error {
	ctx, cancel := st.c.bound(ctx)
	defer cancel()
	err := st.c.exec(ctx, putCode, []string{st.key(key)}, []string{digest, strconv.FormatInt(millis(ttl), 10)}).Error()
	return storeError("put code", err)
}

// Consume spends the code of key when digest matches; otherwise it counts a
// try and returns domain.ErrCodeInvalid.
func (st *CodeStore) Consume(ctx context.Context, key domain.CodeKey, digest string, maxAttempts int) error {
	ctx, cancel := st.c.bound(ctx)
	defer cancel()
	spent, err := st.c.exec(ctx, consumeCode, []string{st.key(key)}, []string{digest, strconv.Itoa(maxAttempts)}).AsInt64()
	if err != nil {
		return storeError("consume code", err)
	}
	if spent != 1 {
		return domain.ErrCodeInvalid
	}
	return nil
}

func (st *CodeStore) key(k domain.CodeKey) string {
	return st.c.tagged("code", k.Owner) + ":" + string(k.Purpose)
}
