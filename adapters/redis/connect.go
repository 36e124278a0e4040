package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// Backoff between attempts to make the first connection.
const (
	firstRetry = 100 * time.Millisecond
	maxRetry   = 2 * time.Second
)

// errNotConnected is what every command answers until the first connection
// is made. storeError wraps it in domain.ErrUnavailable like any outage.
var errNotConnected = errors.New("not connected yet")

// lazyClient is a rueidis.Client that may not be connected yet. rueidis
// dials when a client is made and refuses to make one while Redis (or the
// cluster's slot map, or the Sentinel's master) cannot be reached; once
// made, it reconnects by itself. So a process that starts before Redis
// would exit. lazyClient lets it start: until the first connection it
// answers every command at once with errNotConnected while a goroutine
// retries with backoff, and from then on it hands everything to the real
// client.
//
// Before the first connection B returns the builder of a placeholder
// client that never dials. Its commands carry no hash slot of a cluster
// client's kind, so a command built just before the connection and sent
// just after it is refused (one request gets a 503) rather than sent to a
// cluster client that cannot route it.
type lazyClient struct {
	real         atomic.Pointer[rueidis.Client]
	cacheRefused atomic.Bool // Redis cannot track keys: no client-side cache
	placeholder  rueidis.Client
	lastErr      atomic.Pointer[error]
	stop         chan struct{}
	done         chan struct{}
	closeOnce    sync.Once
}

// noSlotBit marks the commands of a builder that is not a cluster
// client's: rueidis keeps it in Completed.Slot, and a cluster client uses
// the slot as an index, so such a command must never reach one.
const noSlotBit = 1 << 15

// connect returns a client of opt: connected when Redis answers now,
// otherwise one that keeps trying in the background. It fails only on an
// option rueidis refuses whatever the network does.
func connect(opt rueidis.ClientOption) (*lazyClient, error) {
	ph, err := placeholderClient(opt)
	if err != nil {
		return nil, err
	}
	l := &lazyClient{placeholder: ph, stop: make(chan struct{}), done: make(chan struct{})}
	if l.dial(opt) {
		close(l.done)
		return l, nil
	}
	go l.retry(opt)
	return l, nil
}

// placeholderClient is a single-node client that never dials, for its
// builder and as the target of calls nobody makes before connecting.
func placeholderClient(opt rueidis.ClientOption) (rueidis.Client, error) {
	ph := opt
	ph.InitAddress = []string{"not-connected:0"}
	ph.Sentinel = rueidis.SentinelOption{}
	ph.ForceSingleClient = true
	ph.DisableRetry = true
	ph.DialCtxFn = func(context.Context, string, *net.Dialer, *tls.Config) (net.Conn, error) {
		return nil, errNotConnected
	}
	c, err := rueidis.NewClient(ph)
	if c == nil {
		return nil, err
	}
	return c, nil // err is the refused dial, which is the point
}

// dial makes one attempt and reports whether it connected. A Redis that
// cannot track keys for a client-side cache (no RESP3, or CLIENT TRACKING
// refused, as by some proxies) gets a client without the cache, whose
// cached reads are plain reads: slower, never staler.
func (l *lazyClient) dial(opt rueidis.ClientOption) bool {
	c, err := rueidis.NewClient(opt)
	if errors.Is(err, rueidis.ErrNoCache) && !opt.DisableCache {
		opt.DisableCache = true
		if c, err = rueidis.NewClient(opt); err == nil {
			l.cacheRefused.Store(true)
		}
	}
	if err != nil {
		l.lastErr.Store(&err)
		return false
	}
	l.real.Store(&c)
	return true
}

// retry dials with doubling backoff until it connects or Close is called.
func (l *lazyClient) retry(opt rueidis.ClientOption) {
	defer close(l.done)
	wait := firstRetry
	for {
		select {
		case <-l.stop:
			return
		case <-time.After(wait):
		}
		if l.dial(opt) {
			return
		}
		wait = min(2*wait, maxRetry)
	}
}

// connected returns the real client, or nil with why it is not there.
func (l *lazyClient) connected() (rueidis.Client, error) {
	if c := l.real.Load(); c != nil {
		return *c, nil
	}
	if err := l.lastErr.Load(); err != nil {
		return nil, fmt.Errorf("%w (last attempt: %w)", errNotConnected, *err)
	}
	return nil, errNotConnected
}

// current is the real client once connected, the placeholder before.
func (l *lazyClient) current() rueidis.Client {
	if c := l.real.Load(); c != nil {
		return *c
	}
	return l.placeholder
}

// B returns the builder of the client commands will be sent to.
func (l *lazyClient) B() rueidis.Builder { return l.current().B() }

// Do sends cmd, or answers errNotConnected.
func (l *lazyClient) Do(ctx context.Context, cmd rueidis.Completed) rueidis.RedisResult {
	c, err := l.routable(1, func(int) uint16 { return cmd.Slot() })
	if err != nil {
		return rueidis.NewErrorResult(err)
	}
	return c.Do(ctx, cmd)
}

// DoMulti sends cmds in one pipeline, or answers errNotConnected to each.
func (l *lazyClient) DoMulti(ctx context.Context, cmds ...rueidis.Completed) []rueidis.RedisResult {
	c, err := l.routable(len(cmds), func(i int) uint16 { return cmds[i].Slot() })
	if err != nil {
		return errorResults(len(cmds), err)
	}
	return c.DoMulti(ctx, cmds...)
}

// DoMultiCache reads through the client-side cache, or answers
// errNotConnected to each, like DoMulti.
func (l *lazyClient) DoMultiCache(ctx context.Context, multi ...rueidis.CacheableTTL) []rueidis.RedisResult {
	c, err := l.routable(len(multi), func(i int) uint16 { return multi[i].Cmd.Slot() })
	if err != nil {
		return errorResults(len(multi), err)
	}
	return c.DoMultiCache(ctx, multi...)
}

// routable returns the real client for n commands whose slots slot
// gives, or errNotConnected: before the first connection, and for a
// command built by the placeholder's builder that would reach a cluster.
func (l *lazyClient) routable(n int, slot func(i int) uint16) (rueidis.Client, error) {
	c, err := l.connected()
	if err != nil || c.Mode() != rueidis.ClientModeCluster {
		return c, err
	}
	for i := range n {
		if slot(i)&noSlotBit != 0 {
			return nil, errNotConnected
		}
	}
	return c, nil
}

// errorResults is n results of err.
func errorResults(n int, err error) []rueidis.RedisResult {
	out := make([]rueidis.RedisResult, n)
	for i := range out {
		out[i] = rueidis.NewErrorResult(err)
	}
	return out
}

// Close stops the retries and closes whatever client there is.
func (l *lazyClient) Close() {
	l.closeOnce.Do(func() {
		close(l.stop)
		<-l.done
		if c := l.real.Load(); c != nil {
			(*c).Close()
		}
		l.placeholder.Close()
	})
}

// The rest of rueidis.Client, which the stores do not use, goes to the
// current client: before the first connection the placeholder refuses it.

func (l *lazyClient) Receive(ctx context.Context, subscribe rueidis.Completed, fn func(msg rueidis.PubSubMessage)) error {
	return l.current().Receive(ctx, subscribe, fn)
}

func (l *lazyClient) DoCache(ctx context.Context, cmd rueidis.Cacheable, ttl time.Duration) rueidis.RedisResult {
	return l.current().DoCache(ctx, cmd, ttl)
}

func (l *lazyClient) DoStream(ctx context.Context, cmd rueidis.Completed) rueidis.RedisResultStream {
	return l.current().DoStream(ctx, cmd)
}

func (l *lazyClient) DoMultiStream(ctx context.Context, multi ...rueidis.Completed) rueidis.MultiRedisResultStream {
	return l.current().DoMultiStream(ctx, multi...)
}

func (l *lazyClient) Dedicated(fn func(rueidis.DedicatedClient) error) error {
	return l.current().Dedicated(fn)
}

func (l *lazyClient) Dedicate() (rueidis.DedicatedClient, func()) { return l.current().Dedicate() }

func (l *lazyClient) Nodes() map[string]rueidis.Client {
	if c := l.real.Load(); c != nil {
		return (*c).Nodes()
	}
	return nil
}

func (l *lazyClient) Mode() rueidis.ClientMode { return l.current().Mode() }
