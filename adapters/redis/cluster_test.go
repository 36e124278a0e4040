package redis

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/internal/storetest"
	"github.com/gatehouse/gatehouse/ports"
	"github.com/gatehouse/gatehouse/ports/portstest"
)

// TestMain gives the package a Redis Cluster (see storetest).
func TestMain(m *testing.M) { os.Exit(storetest.RunWithRedisCluster(m)) }

// clusterHarness is redisHarness on the test cluster.
func clusterHarness[S any](newStore func(*Client) S) portstest.Harness[S] {
	return portstest.Harness[S]{
		New: func(t *testing.T) (S, portstest.Timeline) {
			url := storetest.RedisClusterURL(t)
			c, err := NewClient(Config{URL: url, KeyPrefix: storetest.RedisPrefixAt(t, url)})
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			t.Cleanup(c.Close)
			return newStore(c), portstest.RealTime{}
		},
		MaxAdvance: 5 * time.Second,
	}
}

// TestStoresOnCluster runs every contract suite on a 3-master cluster, where
// a script whose keys span slots would fail with CROSSSLOT (and a Lua
// script that reaches a key of another node, not in its KEYS, would fail
// too).
func TestStoresOnCluster(t *testing.T) {
	t.Run("sessions", func(t *testing.T) {
		portstest.TestSessionStore(t, clusterHarness(func(c *Client) ports.SessionStore { return NewSessionStore(c) }))
	})
	t.Run("codes", func(t *testing.T) {
		portstest.TestCodeStore(t, clusterHarness(func(c *Client) ports.CodeStore { return NewCodeStore(c) }))
	})
	t.Run("throttle", func(t *testing.T) {
		portstest.TestThrottle(t, clusterHarness(func(c *Client) ports.Throttle { return NewThrottle(c) }))
	})
	t.Run("attempts", func(t *testing.T) {
		portstest.TestAttemptCounter(t, clusterHarness(func(c *Client) ports.AttemptCounter { return NewAttemptCounter(c) }))
	})
	t.Run("totp", func(t *testing.T) {
		portstest.TestTOTPStore(t, clusterHarness(func(c *Client) ports.TOTPStore { return NewTOTPStore(c) }))
	})
	t.Run("lark", func(t *testing.T) {
		portstest.TestLarkStateStore(t, clusterHarness(func(c *Client) ports.LarkStateStore { return NewLarkStateStore(c) }))
	})
}

// TestClusterPing checks that Ping follows cluster_state, not just whether
// some node answers: it fails while the cluster has lost a master, and
// passes again once that master is back, without a new client.
func TestClusterPing(t *testing.T) {
	cl := storetest.StartRedisCluster(t)
	c, err := NewClient(Config{URL: cl.URL, Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("Ping of a healthy cluster: %v", err)
	}
	cl.StopNode(cl.Ports[1])
	eventually(t, 10*time.Second, "Ping fails with cluster_state fail", func() bool {
		err := c.Ping(ctx)
		return errors.Is(err, domain.ErrUnavailable) && strings.Contains(err.Error(), "cluster_state")
	})
	cl.StartNode(cl.Ports[1])
	eventually(t, 15*time.Second, "Ping passes once the master is back", func() bool { return c.Ping(ctx) == nil })
}

// eventually polls ok every 50ms until it holds or within passes.
func eventually(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
	}
}

// TestPlaceholderCommandsNeverReachACluster checks the mark lazyClient
// relies on: a command built before the first connection (by the
// placeholder's builder) carries noSlotBit, and a cluster client's never
// does, so Do can refuse the first kind on a cluster.
func TestPlaceholderCommandsNeverReachACluster(t *testing.T) {
	ph, err := placeholderClient(rueidis.ClientOption{})
	if err != nil {
		t.Fatal(err)
	}
	defer ph.Close()
	for _, cmd := range []rueidis.Completed{ph.B().Get().Key("k").Build(), ph.B().Ping().Build()} {
		if cmd.Slot()&noSlotBit == 0 {
			t.Errorf("placeholder command %v lacks the mark", cmd.Commands())
		}
	}
	c, err := NewClient(Config{URL: storetest.RedisClusterURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rdb, err := c.conn.connected()
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []rueidis.Completed{rdb.B().Get().Key("k").Build(), rdb.B().Ping().Build()} {
		if cmd.Slot()&noSlotBit != 0 {
			t.Errorf("cluster command %v has the mark", cmd.Commands())
		}
	}
	// And Do refuses a placeholder's command on a cluster instead of
	// sending it.
	if err := c.conn.Do(context.Background(), ph.B().Get().Key("k").Build()).Error(); !errors.Is(err, errNotConnected) {
		t.Errorf("Do of a placeholder command on a cluster: %v, want %v", err, errNotConnected)
	}
}
