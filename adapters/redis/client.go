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
}

// Client is a connection to Redis shared by the stores of this package.
type Client struct {
	rdb     rueidis.Client
	prefix  string
	timeout time.Duration
}

// NewClient connects to Redis. It returns an error that wraps
// domain.ErrUnavailable when Redis cannot be reached.
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
	// Stores read what they just wrote from scripts, never through a
	// client-side cache, and the cache needs RESP3 tracking we do not use.
	opt.DisableCache = true
	if opt.Dialer.Timeout == 0 {
		opt.Dialer.Timeout = timeout
	}
	rdb, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, storeError("connect", err)
	}
	return &Client{rdb: rdb, prefix: cfg.KeyPrefix, timeout: timeout}, nil
}

// Close closes the connections.
func (c *Client) Close() { c.rdb.Close() }

// Ping reports whether Redis answers within the timeout.
func (c *Client) Ping(ctx context.Context) error {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	return storeError("ping", c.rdb.Do(ctx, c.rdb.B().Ping().Build()).Error())
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
