package storetest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/rueidis"
)

// The variables that point the tests at the stores, and what they mean when
// unset.
const (
	DatabaseEnv        = "GATEHOUSE_TEST_DATABASE_URL"
	RedisEnv           = "GATEHOUSE_TEST_REDIS_URL"
	DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
)

// cleanupTimeout bounds the removal of a test's schema or keys.
const cleanupTimeout = 10 * time.Second

// DatabaseURL returns the PostgreSQL URL the tests use. It skips tb only when
// GATEHOUSE_TEST_DATABASE_URL is "skip".
func DatabaseURL(tb testing.TB) string {
	tb.Helper()
	return fromEnv(tb, DatabaseEnv, DefaultDatabaseURL)
}

// RedisURL returns the Redis URL the tests use. It skips tb only when
// GATEHOUSE_TEST_REDIS_URL is "skip".
func RedisURL(tb testing.TB) string {
	tb.Helper()
	return fromEnv(tb, RedisEnv, DefaultRedisURL)
}

func fromEnv(tb testing.TB, name, def string) string {
	tb.Helper()
	switch v := os.Getenv(name); v {
	case "skip":
		tb.Skip(name + "=skip")
	case "":
		return def
	default:
		return v
	}
	return ""
}

// Schema creates a fresh PostgreSQL schema for tb and returns its name and a
// database URL whose connections use it (through search_path). The schema
// and all it holds are dropped when tb ends.
func Schema(tb testing.TB) (dbURL, name string) {
	tb.Helper()
	base := DatabaseURL(tb)
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s is not a URL: %v", DatabaseEnv, err)
	}
	name = "gh_test_" + strings.ToLower(rand.Text()[:12])
	ident := pgx.Identifier{name}.Sanitize()
	exec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE SCHEMA " + ident); err != nil {
		tb.Fatalf("create schema in the PostgreSQL at %s (or set it to skip): %v", DatabaseEnv, err)
	}
	tb.Cleanup(func() {
		if err := exec("DROP SCHEMA " + ident + " CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
		}
	})
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), name
}

// RedisPrefix returns a fresh key prefix for tb and deletes every key under
// it when tb ends.
func RedisPrefix(tb testing.TB) string {
	tb.Helper()
	return RedisPrefixAt(tb, RedisURL(tb))
}

// RedisPrefixAt is RedisPrefix on the Redis (or cluster) at redisURL. The
// prefix comes before the stores' hash tags, so it moves no key to another
// slot.
func RedisPrefixAt(tb testing.TB, redisURL string) string {
	tb.Helper()
	opt, err := rueidis.ParseURL(redisURL)
	if err != nil {
		tb.Fatalf("not a Redis URL: %v", err)
	}
	opt.DisableCache = true
	c, err := rueidis.NewClient(opt)
	if err != nil {
		tb.Fatalf("connect to the test Redis (or set %s to skip): %v", RedisEnv, err)
	}
	prefix := "gatehouse-test:" + rand.Text() + ":"
	tb.Cleanup(func() {
		defer c.Close()
		if err := deleteKeys(c, prefix); err != nil {
			tb.Errorf("delete the test's Redis keys: %v", err)
		}
	})
	return prefix
}

// deleteKeys unlinks every key that starts with prefix. A SCAN sees the
// keys of one node, so on a cluster it scans every node; each key gets a
// command of its own, as a cluster requires of keys in different slots.
func deleteKeys(c rueidis.Client, prefix string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if c.Mode() != rueidis.ClientModeCluster {
		return deleteKeysOn(ctx, c, c, prefix)
	}
	for _, node := range c.Nodes() {
		if err := deleteKeysOn(ctx, node, c, prefix); err != nil {
			return err
		}
	}
	return nil
}

// deleteKeysOn scans node and deletes what it finds through c.
func deleteKeysOn(ctx context.Context, node, c rueidis.Client, prefix string) error {
	var cursor uint64
	for {
		entry, err := node.Do(ctx, node.B().Scan().Cursor(cursor).Match(prefix+"*").Count(1000).Build()).AsScanEntry()
		if err != nil {
			return err
		}
		cmds := make(rueidis.Commands, 0, len(entry.Elements))
		for _, k := range entry.Elements {
			cmds = append(cmds, c.B().Unlink().Key(k).Build())
		}
		for _, r := range c.DoMulti(ctx, cmds...) {
			if err := r.Error(); err != nil {
				return err
			}
		}
		if cursor = entry.Cursor; cursor == 0 {
			return nil
		}
	}
}
