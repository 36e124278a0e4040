package redis

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// TOTPStore keeps TOTP state in Redis: the pending secret at
// <prefix>totp:{<user>}:pending and each used time step at
// <prefix>totp:{<user>}:step:<n>. All keys of a user share a hash tag, so
// one script can check and mark several steps.
type TOTPStore struct{ c *Client }

var _ ports.TOTPStore = (*TOTPStore)(nil)

// NewTOTPStore returns the TOTP store of c.
func NewTOTPStore(c *Client) *TOTPStore { return &TOTPStore{c: c} }

// useSteps marks all the steps or none.
// KEYS: the steps. ARGV: ttl (ms). Returns 1 when marked, 0 when any was used.
var useSteps = rueidis.NewLuaScript(`
if redis.call('EXISTS', unpack(KEYS)) > 0 then
  return 0
end
for _, k in ipairs(KEYS) do
  redis.call('SET', k, 1, 'PX', ARGV[1])
end
return 1
`)

// PutPending stores the secret offered to the user for ttl.
func (st *TOTPStore) PutPending(ctx context.Context, userID domain.UserID, secret string, ttl time.Duration) error {
	ctx, cancel := st.c.bound(ctx)
	defer cancel()
	cmd := st.c.rdb.B().Set().Key(st.pendingKey(userID)).Value(secret).PxMilliseconds(millis(ttl)).Build()
	return storeError("put pending secret", st.c.rdb.Do(ctx, cmd).Error())
}

// Pending returns the pending secret, or domain.ErrNotFound.
func (st *TOTPStore) Pending(ctx context.Context, userID domain.UserID) (string, error) {
	ctx, cancel := st.c.bound(ctx)
	defer cancel()
	secret, err := st.c.rdb.Do(ctx, st.c.rdb.B().Get().Key(st.pendingKey(userID)).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return "", domain.ErrNotFound
	}
	if err != nil {
		return "", storeError("read pending secret", err)
	}
	return secret, nil
}

// DeletePending forgets the pending secret.
func (st *TOTPStore) DeletePending(ctx context.Context, userID domain.UserID) error {
	ctx, cancel := st.c.bound(ctx)
	defer cancel()
	err := st.c.rdb.Do(ctx, st.c.rdb.B().Del().Key(st.pendingKey(userID)).Build()).Error()
	return storeError("delete pending secret", err)
}

// UseSteps marks the steps of the user as used for ttl, or marks nothing
// and returns false when any was already used.
func (st *TOTPStore) UseSteps(ctx context.Context, userID domain.UserID, steps []int64, ttl time.Duration) (bool, error) {
	if len(steps) == 0 {
		return true, nil
	}
	ctx, cancel := st.c.bound(ctx)
	defer cancel()
	keys := make([]string, len(steps))
	for i, step := range steps {
		keys[i] = st.c.tagged("totp", userID.String()) + ":step:" + strconv.FormatInt(step, 10)
	}
	marked, err := st.c.exec(ctx, useSteps, keys, []string{strconv.FormatInt(millis(ttl), 10)}).AsInt64()
	if err != nil {
		return false, storeError("use totp steps", err)
	}
	return marked == 1, nil
}

func (st *TOTPStore) pendingKey(userID domain.UserID) string {
	return st.c.tagged("totp", userID.String()) + ":pending"
}
