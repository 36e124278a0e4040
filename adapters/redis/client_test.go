package redis

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/internal/storetest"
)

// TestNewClientBeforeRedis starts a client while nothing listens on the
// Redis port: NewClient succeeds, every call answers domain.ErrUnavailable
// at once, and the client connects on its own once a Redis starts there.
func TestNewClientBeforeRedis(t *testing.T) {
	storetest.RedisURL(t)
	port := storetest.FreePort(t)
	const timeout = 300 * time.Millisecond
	c, err := NewClient(Config{URL: "redis://127.0.0.1:" + strconv.Itoa(port) + "/0", KeyPrefix: "gatehouse-test:", Timeout: timeout})
	if err != nil {
		t.Fatalf("NewClient before Redis runs: %v", err)
	}
	defer c.Close()
	ctx := context.Background()
	sessions := NewSessionStore(c)
	touch := func() error {
		_, err := sessions.Touch(ctx, "user", "session", time.Now(), time.Hour)
		return err
	}
	for name, call := range map[string]func() error{
		"Ping":  func() error { return c.Ping(ctx) },
		"Touch": touch,
		"Admit": func() error {
			_, err := NewAttemptCounter(c).Admit(ctx, domain.LockoutIdentifierLimitKey("k"), 5, time.Second)
			return err
		},
	} {
		start := time.Now()
		if err := call(); !errors.Is(err, domain.ErrUnavailable) {
			t.Errorf("%s before Redis runs: err = %v, want it to wrap %v", name, err, domain.ErrUnavailable)
		}
		if d := time.Since(start); d > timeout {
			t.Errorf("%s took %v to fail, timeout %v", name, d, timeout)
		}
	}

	storetest.StartRedis(t, port)
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("the client did not connect to the Redis that started: %v", c.Ping(ctx))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := touch(); !errors.Is(err, domain.ErrSessionNotFound) {
		t.Errorf("Touch once connected: %v, want %v", err, domain.ErrSessionNotFound)
	}
}

func TestNewClientRefusesBadConfig(t *testing.T) {
	if _, err := NewClient(Config{URL: "redis://user:s3cret@127.0.0.1:6379/0", KeyPrefix: "a{b}"}); err == nil {
		t.Error("NewClient accepted a key prefix with braces")
	}
	_, err := NewClient(Config{URL: "redis://user:s3cret@[::1/0"})
	if err == nil {
		t.Fatal("NewClient accepted a malformed URL")
	}
	if msg := err.Error(); strings.Contains(msg, "s3cret") {
		t.Errorf("the error repeats the password: %s", msg)
	}
}

// TestOutage checks that a Redis that goes away after start answers every
// kind of call (script, command, pipeline) with domain.ErrUnavailable within
// about the timeout: whether its connections are refused, or stay open and
// never answer.
func TestOutage(t *testing.T) {
	const timeout = 300 * time.Millisecond
	for _, tc := range []struct {
		name string
		cut  func(*storetest.Proxy)
	}{
		{"refused", (*storetest.Proxy).Close},
		{"silent", (*storetest.Proxy).Blackhole},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target, err := url.Parse(storetest.RedisURL(t))
			if err != nil {
				t.Fatal(err)
			}
			proxy := storetest.NewProxy(t, target.Host)
			target.Host = proxy.Addr()
			c, err := NewClient(Config{URL: target.String(), KeyPrefix: "gatehouse-test:" + rand.Text() + ":", Timeout: timeout})
			if err != nil {
				t.Fatalf("NewClient: %v", err)
			}
			defer c.Close()
			sessions, totp, attempts := NewSessionStore(c), NewTOTPStore(c), NewAttemptCounter(c)
			ctx := context.Background()
			if err := c.Ping(ctx); err != nil {
				t.Fatalf("Ping before the outage: %v", err)
			}

			tc.cut(proxy)
			calls := map[string]func() error{
				"Touch": func() error {
					_, err := sessions.Touch(ctx, "user", "session", time.Now(), time.Hour)
					return err
				},
				"Pending": func() error {
					_, err := totp.Pending(ctx, "user")
					return err
				},
				"Admit": func() error {
					_, err := attempts.Admit(ctx, domain.LockoutUserLimitKey("1"), 5, time.Minute)
					return err
				},
				"Ping": func() error { return sessions.Ping(ctx) },
			}
			for name, call := range calls {
				start := time.Now()
				err := call()
				elapsed := time.Since(start)
				t.Logf("%s: %v after %v", name, err, elapsed.Round(time.Millisecond))
				if !errors.Is(err, domain.ErrUnavailable) {
					t.Errorf("%s during an outage: err = %v, want it to wrap %v", name, err, domain.ErrUnavailable)
				}
				if elapsed > timeout+500*time.Millisecond {
					t.Errorf("%s took %v to fail, timeout %v", name, elapsed, timeout)
				}
			}
		})
	}
}

// TestReplyErrorsAreNotOutages checks that Redis refusing a command (here a
// key of the wrong type) is reported as an error, but not as an outage.
func TestReplyErrorsAreNotOutages(t *testing.T) {
	c := newTestClient(t)
	codes := NewCodeStore(c)
	key := domain.CodeKey{Purpose: domain.PurposeSMSLogin, Owner: "+15550100"}
	ctx := context.Background()
	if err := c.rdb.Do(ctx, c.rdb.B().Set().Key(codes.key(key)).Value("not a hash").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	err := codes.Consume(ctx, key, "digest", 5)
	if err == nil || errors.Is(err, domain.ErrUnavailable) || errors.Is(err, domain.ErrCodeInvalid) {
		t.Errorf("Consume of a key of the wrong type: err = %v, want a plain error", err)
	}
}

// TestHashTags checks that identifiers with braces keep all keys of one tag
// in one slot, which the multi-key scripts need in a cluster.
func TestHashTags(t *testing.T) {
	c := &Client{prefix: "p:"}
	for _, id := range []string{"", "a}b", "}", "{x}", "%7B", "plain"} {
		if a, b := slotTag(c.tagged("att", id)), slotTag(c.tagged("lock", id)); a != b || a == "" {
			t.Errorf("tags of %q: %q and %q, want one non-empty tag", id, a, b)
		}
	}
	if hashTag("%7B") == hashTag("{") || hashTag("") == hashTag("%00") {
		t.Error("two identifiers share a tag")
	}
}

// slotTag returns the part of key Redis Cluster hashes, or "" when it
// hashes the whole key.
func slotTag(key string) string {
	for i := 0; i < len(key); i++ {
		if key[i] == '{' {
			for j := i + 1; j < len(key); j++ {
				if key[j] == '}' {
					return key[i+1 : j]
				}
			}
			return ""
		}
	}
	return ""
}

// BenchmarkSessionTouch is one session check: "every time" renews in one
// GETEX round trip; "cached" answers from the client-side cache (after
// the first, and after each renewal, which the 1 h idle timeout makes once
// a minute); "cached miss" reads through the cache but always misses, as
// a session checked less often than the cache TTL does.
func BenchmarkSessionTouch(b *testing.B) {
	b.Run("every time", func(b *testing.B) { benchTouch(b, newTestClient(b), false) })
	url := storetest.RedisURL(b)
	b.Run("cached", func(b *testing.B) {
		benchTouch(b, cachedClient(b, url, storetest.RedisPrefixAt(b, url), 100*time.Millisecond, time.Minute), false)
	})
	b.Run("cached miss", func(b *testing.B) {
		benchTouch(b, cachedClient(b, url, storetest.RedisPrefixAt(b, url), 100*time.Millisecond, time.Minute), true)
	})
}

func benchTouch(b *testing.B, c *Client, miss bool) {
	store := NewSessionStore(c)
	ctx := context.Background()
	now := time.Now()
	// A miss needs a session not checked within the cache TTL: cycle
	// through more sessions than a TTL's worth of checks.
	pool := 1
	if miss {
		pool = 20_000
	}
	sessions := make([]domain.Session, pool)
	for i := range sessions {
		s := domain.Session{ID: domain.SessionID(rand.Text()), UserID: domain.UserID(rand.Text()), CreatedAt: now, AbsoluteExpiry: now.Add(time.Hour), IdleTimeout: time.Hour}
		if err := store.Create(ctx, s, s.IdleTTL(now), 50); err != nil {
			b.Fatal(err)
		}
		sessions[i] = s
	}
	// A fresh store, so that the creations above do not make it skip the
	// cache (recentWrites).
	store = NewSessionStore(c)
	i := 0
	for b.Loop() {
		s := sessions[i%pool]
		i++
		if _, err := store.Touch(ctx, s.UserID, s.ID, time.Now(), s.IdleTimeout); err != nil {
			b.Fatal(err)
		}
	}
}
