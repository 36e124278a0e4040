package storetest

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/rueidis"
)

func TestURLsSkipOnlyOnSkip(t *testing.T) {
	for _, tc := range []struct {
		env, def string
		get      func(testing.TB) string
	}{
		{DatabaseEnv, DefaultDatabaseURL, DatabaseURL},
		{RedisEnv, DefaultRedisURL, RedisURL},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(tc.env, "")
			if got := tc.get(t); got != tc.def {
				t.Errorf("unset: %q, want the default %q", got, tc.def)
			}
			t.Setenv(tc.env, "scheme://elsewhere/")
			if got := tc.get(t); got != "scheme://elsewhere/" {
				t.Errorf("set: %q, want the variable", got)
			}
			t.Setenv(tc.env, "skip")
			returned := false
			t.Run("skip", func(t *testing.T) {
				tc.get(t)
				returned = true
			})
			if returned {
				t.Errorf("%s=skip did not skip", tc.env)
			}
		})
	}
}

func TestSchemaIsUsedAndDropped(t *testing.T) {
	ctx := context.Background()
	var name string
	t.Run("test", func(t *testing.T) {
		var dbURL string
		dbURL, name = Schema(t)
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var current string
		if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&current); err != nil || current != name {
			t.Fatalf("current_schema() = %q, %v; want %q", current, err, name)
		}
		if _, err := conn.Exec(ctx, "CREATE TABLE t (id int)"); err != nil {
			t.Fatal(err)
		}
	})
	conn, err := pgx.Connect(ctx, DatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", name).Scan(&exists); err != nil || exists {
		t.Errorf("schema %q after the test: exists %v, %v", name, exists, err)
	}
}

func TestRedisPrefixKeysAreDeleted(t *testing.T) {
	opt, err := rueidis.ParseURL(RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	opt.DisableCache = true
	c, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	var keys []string
	t.Run("test", func(t *testing.T) {
		prefix := RedisPrefix(t)
		// More keys than one SCAN step returns.
		for i := range 1500 {
			k := prefix + strconv.Itoa(i)
			keys = append(keys, k)
			if err := c.Do(ctx, c.B().Set().Key(k).Value("v").Build()).Error(); err != nil {
				t.Fatal(err)
			}
		}
	})
	for _, k := range keys {
		if n, err := c.Do(ctx, c.B().Exists().Key(k).Build()).AsInt64(); err != nil || n != 0 {
			t.Fatalf("key %q after the test: exists %d, %v", k, n, err)
		}
	}
}

// echoServer answers each line with the same line.
func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line on c and reads the echo, within a short deadline.
func roundTrip(c net.Conn, r *bufio.Reader) error {
	_ = c.SetDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	line, err := r.ReadString('\n')
	if err == nil && line != "ping\n" {
		return errors.New("echo " + line)
	}
	return err
}

func dial(t *testing.T, p *Proxy) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func TestProxy(t *testing.T) {
	p := NewProxy(t, echoServer(t))
	c, r := dial(t, p)
	if err := roundTrip(c, r); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}

	p.Blackhole()
	if err := roundTrip(c, r); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("open connection during a blackhole: %v, want a timeout", err)
	}
	hung, hr := dial(t, p)
	if err := roundTrip(hung, hr); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("new connection during a blackhole: %v, want a timeout", err)
	}

	p.Restore()
	c, r = dial(t, p)
	if err := roundTrip(c, r); err != nil {
		t.Fatalf("after Restore: %v", err)
	}
	if err := roundTrip(hung, hr); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("connection from the blackhole after Restore: %v, want it closed", err)
	}

	p.Cut()
	if err := roundTrip(c, r); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("open connection after Cut: %v, want it closed", err)
	}
	if c, r := dial(t, p); roundTrip(c, r) == nil {
		t.Error("new connection after Cut went through")
	}

	p.Restore()
	c, r = dial(t, p)
	if err := roundTrip(c, r); err != nil {
		t.Fatalf("after Restore: %v", err)
	}

	p.Close()
	if err := roundTrip(c, r); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("open connection after Close: %v, want it closed", err)
	}
	if c, err := net.Dial("tcp", p.Addr()); err == nil {
		c.Close()
		t.Error("Close did not stop accepting")
	}
}
