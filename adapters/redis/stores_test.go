package redis

import (
	"context"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/ports"
	"github.com/gatehouse/gatehouse/ports/portstest"
)

// testRedisURL is where the tests find Redis. They fail when it cannot be
// reached, so a missing Redis never passes for a green run; set
// GATEHOUSE_TEST_REDIS_URL=skip to skip them on purpose.
func testRedisURL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv("GATEHOUSE_TEST_REDIS_URL")
	switch url {
	case "skip":
		tb.Skip("GATEHOUSE_TEST_REDIS_URL=skip")
	case "":
		url = "redis://127.0.0.1:6379/0"
	}
	return url
}

// newTestClient connects under a fresh key prefix and deletes every key
// under it when the test ends.
func newTestClient(tb testing.TB) *Client {
	tb.Helper()
	c, err := NewClient(Config{URL: testRedisURL(tb), KeyPrefix: "gatehouse-test:" + rand.Text() + ":"})
	if err != nil {
		tb.Fatalf("NewClient: %v", err)
	}
	tb.Cleanup(func() {
		defer c.Close()
		ctx := context.Background()
		b := c.rdb.B()
		var cursor uint64
		for {
			entry, err := c.rdb.Do(ctx, b.Scan().Cursor(cursor).Match(c.prefix+"*").Count(1000).Build()).AsScanEntry()
			if err != nil {
				tb.Errorf("scan test keys: %v", err)
				return
			}
			if len(entry.Elements) > 0 {
				// Keys of different slots are deleted one by one, which a
				// cluster requires.
				for _, k := range entry.Elements {
					if err := c.rdb.Do(ctx, b.Del().Key(k).Build()).Error(); err != nil {
						tb.Errorf("delete test key: %v", err)
					}
				}
			}
			if cursor = entry.Cursor; cursor == 0 {
				return
			}
		}
	})
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
