package redis

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/storetest"
	"github.com/gatehouse/gatehouse/ports"
	"github.com/gatehouse/gatehouse/ports/portstest"
)

// newTestClient connects under a fresh key prefix whose keys are deleted
// when the test ends (see storetest.RedisPrefix).
func newTestClient(tb testing.TB) *Client {
	tb.Helper()
	c, err := NewClient(Config{URL: storetest.RedisURL(tb), KeyPrefix: storetest.RedisPrefix(tb)})
	if err != nil {
		tb.Fatalf("NewClient: %v", err)
	}
	tb.Cleanup(c.Close)
	return c
}

// redisHarness runs a Redis store on real time: the suites' TTLs are short
// enough to sleep through, but not a throttle's hour.
func redisHarness[S any](newStore func(*Client) S) portstest.Harness[S] {
	return portstest.Harness[S]{
		New: func(t *testing.T) (S, portstest.Timeline) {
			return newStore(newTestClient(t)), portstest.RealTime{}
		},
		MaxAdvance: 5 * time.Second,
	}
}

func TestSessionStore(t *testing.T) {
	portstest.TestSessionStore(t, redisHarness(func(c *Client) ports.SessionStore { return NewSessionStore(c) }))
}

func TestCodeStore(t *testing.T) {
	portstest.TestCodeStore(t, redisHarness(func(c *Client) ports.CodeStore { return NewCodeStore(c) }))
}

func TestThrottle(t *testing.T) {
	portstest.TestThrottle(t, redisHarness(func(c *Client) ports.Throttle { return NewThrottle(c) }))
}

func TestAttemptCounter(t *testing.T) {
	portstest.TestAttemptCounter(t, redisHarness(func(c *Client) ports.AttemptCounter { return NewAttemptCounter(c) }))
}

func TestTOTPStore(t *testing.T) {
	portstest.TestTOTPStore(t, redisHarness(func(c *Client) ports.TOTPStore { return NewTOTPStore(c) }))
}

func TestLarkStateStore(t *testing.T) {
	portstest.TestLarkStateStore(t, redisHarness(func(c *Client) ports.LarkStateStore { return NewLarkStateStore(c) }))
}
