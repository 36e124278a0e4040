// Package redis provides the Redis adapters of the store ports: sessions,
// one-time codes, throttles, attempt counters and TOTP state. Every operation
// that reads and writes is one Lua script, so it is one atomic step and one
// round trip, and every call is bounded by Config.Timeout so that an outage
// answers quickly with domain.ErrUnavailable instead of hanging a login.
//
// All keys of one account, code owner or counter share a Redis Cluster hash
// tag, so the scripts that touch several of them run on one node. Redis must
// run with maxmemory-policy noeviction: every key here has a TTL, and a
// volatile eviction policy would quietly drop sessions' indexes and locks.
package redis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/rueidis"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse/gatehouse/domain"
)

// DefaultTimeout bounds every call when Config.Timeout is zero.
const DefaultTimeout = 2 * time.Second

// Config says where Redis is and how to use it.
type Config struct {
	// URL is redis://[user:password@]host:port/db, rediss:// for TLS; see
	// rueidis.ParseURL for the options it may carry.
	URL string
	// KeyPrefix starts every key, so that several deployments can share one
	// Redis. It may not contain braces, which would move the hash tags.
	KeyPrefix string
	// Timeout bounds each call, connecting included; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Tracer, when set, traces every command (see observedClient).
	Tracer trace.TracerProvider
	// OnError, when set, is called once per failed command.
	OnError func()

	// SessionCacheTTL, when positive, lets SessionStore.Touch answer from
	// rueidis' client-side cache (RESP3 tracking) for that long at most.
	// Redis pushes an invalidation to every client that cached a key when
	// the key changes, so a session ended on any replica is refused here
	// as soon as the push arrives; the TTL bounds only a push that never
	// does (a connection cut without this client noticing).
	SessionCacheTTL time.Duration
	// SessionRenewInterval is how long a cached session goes without its
	// idle timeout renewed, at most; see SessionStore.Touch.
	SessionRenewInterval time.Duration
}

// cacheSizeEachConn bounds the client-side cache of each connection.
// rueidis keeps one per connection: one per master on a cluster, one to
// four to a single node or a Sentinel master (by GOMAXPROCS). A cached
// session (its GET and PTTL) takes about 1.2 KiB; an entry is valid for
// SessionCacheTTL at most but stays in memory until evicted, least
// recently used first, or invalidated, so under many sessions each cache
// fills to this bound and stays there. 16 MiB holds some 14,000 sessions,
// over 100,000 checks of distinct sessions per second at the default TTL.
// (rueidis' default is 128 MiB.)
const cacheSizeEachConn = 16 << 20

// Client is a connection to Redis shared by the stores of this package:
// one node, a Redis Cluster or a master found through Sentinel, whichever
// the URL names (see rueidis.ParseURL).
type Client struct {
	rdb          rueidis.Client
	conn         *lazyClient
	prefix       string
	timeout      time.Duration
	sessionCache time.Duration
	renewal      time.Duration
}

// NewClient returns a client of the Redis the URL names. It fails only on a
// bad configuration: when Redis cannot be reached yet, the client keeps
// trying in the background and every call, Ping included, answers an error
// that wraps domain.ErrUnavailable until it connects.
func NewClient(cfg Config) (*Client, error) {
	opt, err := rueidis.ParseURL(cfg.URL)
	if err != nil {
		// A *url.Error repeats the URL, password included.
		if uerr := (*url.Error)(nil); errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("redis: invalid URL: %w", err)
	}
	if strings.ContainsAny(cfg.KeyPrefix, "{}") {
		return nil, fmt.Errorf("redis: key prefix %q contains a brace", cfg.KeyPrefix)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// Only the session check reads through the client-side cache; every
	// other read is in a script, which never does. Without the session
	// cache there is no need for RESP3 tracking at all.
	opt.DisableCache = opt.DisableCache || cfg.SessionCacheTTL <= 0
	opt.CacheSizeEachConn = cacheSizeEachConn
	sessionCache := cfg.SessionCacheTTL
	if opt.DisableCache {
		sessionCache = 0 // client_cache=0 in the URL turns it off too
	}
	if opt.Dialer.Timeout == 0 {
		opt.Dialer.Timeout = timeout
	}
	conn, err := connect(opt)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	return &Client{rdb: observe(conn, cfg), conn: conn, prefix: cfg.KeyPrefix, timeout: timeout,
		sessionCache: sessionCache, renewal: max(cfg.SessionRenewInterval, 0)}, nil
}

// cacheOn reports whether session checks may use the client-side cache:
// configured, and the Redis connected to can track keys.
func (c *Client) cacheOn() bool { return c.sessionCache > 0 && !c.conn.cacheRefused.Load() }

// Close closes the connections.
func (c *Client) Close() { c.rdb.Close() }

// Ping reports whether Redis can serve within the timeout. A PING to one
// live node of a cluster says nothing about the others, so on a cluster it
// asks every node it knows for CLUSTER INFO and wants cluster_state:ok from
// each: a cluster that lost a master reports fail on the nodes still up.
func (c *Client) Ping(ctx context.Context) error {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	rdb, err := c.conn.connected()
	if err != nil {
		return storeError("ping", err)
	}
	if rdb.Mode() != rueidis.ClientModeCluster {
		return storeError("ping", c.rdb.Do(ctx, c.rdb.B().Ping().Build()).Error())
	}
	for addr, node := range rdb.Nodes() {
		info, err := node.Do(ctx, node.B().ClusterInfo().Build()).ToString()
		if err != nil {
			return storeError("cluster info of "+addr, err)
		}
		if state := clusterState(info); state != "ok" {
			return fmt.Errorf("redis: cluster_state at %s is %q: %w", addr, state, domain.ErrUnavailable)
		}
	}
	return nil
}

// clusterState reads cluster_state out of a CLUSTER INFO reply (a verbatim
// string under RESP3, which may start with its format, "txt:").
func clusterState(info string) string {
	_, v, ok := strings.Cut(info, "cluster_state:")
	if !ok {
		return ""
	}
	v, _, _ = strings.Cut(v, "\n")
	return strings.TrimSpace(v)
}

// exec runs script on keys, after checking that they all hash to one slot.
// On a cluster a script may only touch the keys of one slot, and so may a
// single node, so that a deployment can move to a cluster: every script
// call goes through here, and a store that built keys of two slots gets a
// plain error (500) instead of a CROSSSLOT reply, on any deployment, in
// every test.
func (c *Client) exec(ctx context.Context, script *rueidis.Lua, keys, args []string) rueidis.RedisResult {
	if err := oneSlot(keys); err != nil {
		return rueidis.NewErrorResult(err)
	}
	return script.Exec(ctx, c.rdb, keys, args)
}

// bound limits one call to the client's timeout. The deadline hangs off
// a copy of ctx that cannot be cancelled: a call is short and bounded
// anyway, and not registering with the request's cancellation saves half
// the allocations of the hot path (GET /verify makes exactly one call).
func (c *Client) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
}

// tagged returns the key kind:{tag} under the prefix. Everything built from
// the same tag lands in one hash slot.
func (c *Client) tagged(kind, tag string) string {
	return c.prefix + kind + ":{" + hashTag(tag) + "}"
}

// hashTag escapes braces in an identifier (an email may hold them), which
// would end the tag early or empty it and put keys of one tag in different
// slots. Escaping % too keeps the mapping one-to-one; "%00", which escaping
// never produces, stands for the empty identifier, since Redis ignores an
// empty tag.
func hashTag(s string) string {
	if s == "" {
		return "%00"
	}
	return tagEscaper.Replace(s)
}

var tagEscaper = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D")

// millis converts a TTL to whole milliseconds, Redis's resolution, rounding
// up so that nothing lives shorter than asked, and to at least 1 because
// Redis refuses an expiry of 0.
func millis(d time.Duration) int64 {
	return max(1, int64((d+time.Millisecond-1)/time.Millisecond))
}
