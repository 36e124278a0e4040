package redis

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// LarkStateStore keeps the states of Lark sign-ins in progress at
// <prefix>lark:{<state>}, each under its own hash tag: a state is only ever
// touched alone.
type LarkStateStore struct{ c *Client }

var _ ports.LarkStateStore = (*LarkStateStore)(nil)

// NewLarkStateStore returns the Lark state store of c.
func NewLarkStateStore(c *Client) *LarkStateStore { return &LarkStateStore{c: c} }

// takeState reads and deletes a key in one step (GETDEL, written as a script
// so that servers older than 6.2 take it too).
// KEYS: the state. Returns its value, or nil.
var takeState = rueidis.NewLuaScript(`
local v = redis.call('GET', KEYS[1])
if v then
  redis.call('DEL', KEYS[1])
end
return v
`)

// Put stores st under state for ttl.
func (s *LarkStateStore) Put(ctx context.Context, state string, st domain.LarkState, ttl time.Duration) error {
	ctx, cancel := s.c.bound(ctx)
	defer cancel()
	value := strings.Join([]string{string(st.Action), st.UserID.String(), st.SessionID.String()}, "\x00")
	cmd := s.c.rdb.B().Set().Key(s.key(state)).Value(value).PxMilliseconds(millis(ttl)).Build()
	return storeError("put lark state", s.c.rdb.Do(ctx, cmd).Error())
}

// Take returns and deletes the live state, or domain.ErrNotFound.
func (s *LarkStateStore) Take(ctx context.Context, state string) (domain.LarkState, error) {
	ctx, cancel := s.c.bound(ctx)
	defer cancel()
	value, err := s.c.exec(ctx, takeState, []string{s.key(state)}, nil).ToString()
	if rueidis.IsRedisNil(err) {
		return domain.LarkState{}, domain.ErrNotFound
	}
	if err != nil {
		return domain.LarkState{}, storeError("take lark state", err)
	}
	parts := strings.Split(value, "\x00")
	if len(parts) != 3 {
		return domain.LarkState{}, fmt.Errorf("redis: lark state has %d parts, want 3", len(parts))
	}
	return domain.LarkState{Action: domain.LarkAction(parts[0]), UserID: domain.UserID(parts[1]), SessionID: domain.SessionID(parts[2])}, nil
}

func (s *LarkStateStore) key(state string) string {
	return s.c.tagged("lark", state)
}
