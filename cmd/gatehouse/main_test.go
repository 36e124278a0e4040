package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/rueidis"

	"github.com/gatehouse/gatehouse/adapters/jwt"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// clearStores makes the command see no persistent store configuration.
func clearStores(t *testing.T) {
	t.Setenv("GATEHOUSE_DATABASE_URL", "")
	t.Setenv("GATEHOUSE_REDIS_URL", "")
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "version")
	if code != exitOK || !strings.HasPrefix(out, "gatehouse ") {
		t.Fatalf("version = %d %q", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	clearStores(t)
	for _, args := range [][]string{
		{"frobnicate"},
		{"user", "create"},
		{"user", "create", "--password", "long-Pass-1234"},
		{"user"},
		{"user", "explode"},
		{"keys"},
		{"migrate", "sideways"},
		{"--no-such-flag"},
	} {
		code, _, errOut := runCLI(t, args...)
		if code != exitUsage || !strings.Contains(errOut, "Usage:") {
			t.Errorf("%q: exit %d, stderr %q; want 2 with usage", args, code, errOut)
		}
	}
}

func TestKeysGenerate(t *testing.T) {
	code, out, _ := runCLI(t, "keys", "generate")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if _, err := jwt.ParsePrivateKeyPEM([]byte(out)); err != nil {
		t.Fatalf("generated PEM refused: %v\n%s", err, out)
	}
}

func TestUserCommandsNeedDatabase(t *testing.T) {
	clearStores(t)
	for _, args := range [][]string{{"user", "list"}, {"migrate", "status"}} {
		code, _, errOut := runCLI(t, args...)
		if code != exitFailed || !strings.Contains(errOut, "GATEHOUSE_DATABASE_URL") {
			t.Errorf("%q: exit %d, stderr %q; want 1 naming GATEHOUSE_DATABASE_URL", args, code, errOut)
		}
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func randomName(t *testing.T) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// realStores points the command at a fresh Postgres schema and Redis key
// prefix, both removed when the test ends.
func realStores(t *testing.T) {
	t.Helper()
	dbURL := envOr("GATEHOUSE_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	redisURL := envOr("GATEHOUSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
	if dbURL == "skip" || redisURL == "skip" {
		t.Skip("GATEHOUSE_TEST_DATABASE_URL or GATEHOUSE_TEST_REDIS_URL is skip")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	name := "cli_" + randomName(t)

	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect to postgres (set GATEHOUSE_TEST_DATABASE_URL=skip to skip): %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()

	opt, err := rueidis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatalf("connect to redis (set GATEHOUSE_TEST_REDIS_URL=skip to skip): %v", err)
	}
	prefix := "gatehouse-test-" + name + ":"
	t.Cleanup(func() {
		defer rc.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var cursor uint64
		for {
			e, err := rc.Do(ctx, rc.B().Scan().Cursor(cursor).Match(prefix+"*").Count(1000).Build()).AsScanEntry()
			if err != nil {
				t.Errorf("scan redis keys: %v", err)
				return
			}
			if len(e.Elements) > 0 {
				if err := rc.Do(ctx, rc.B().Del().Key(e.Elements...).Build()).Error(); err != nil {
					t.Errorf("delete redis keys: %v", err)
				}
			}
			if cursor = e.Cursor; cursor == 0 {
				return
			}
		}
	})

	t.Setenv("GATEHOUSE_DATABASE_URL", u.String())
	t.Setenv("GATEHOUSE_REDIS_URL", redisURL)
	t.Setenv("GATEHOUSE_REDIS_KEY_PREFIX", prefix)
	t.Setenv("GATEHOUSE_SECRET", "cli-test-secret-0123456789abcdef0123456789")
	t.Setenv("GATEHOUSE_ARGON2_MEMORY", "1024")
	t.Setenv("GATEHOUSE_ARGON2_ITERATIONS", "1")
}

func TestUserCommandsWithRealStores(t *testing.T) {
	realStores(t)
	step := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, args...)
		if code != want {
			t.Fatalf("%q: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, want, out, errOut)
		}
		return out + errOut
	}
	step(exitOK, "migrate", "up")
	step(exitOK, "migrate", "status")
	out := step(exitOK, "user", "create", "--email", "a@example.com", "--password", "long-Pass-1234", "--name", "A")
	if !strings.Contains(out, "created ") || !strings.Contains(out, "a@example.com") {
		t.Fatalf("create printed %q", out)
	}
	if out := step(exitFailed, "user", "create", "--email", "a@example.com", "--password", "long-Pass-1234", "--name", "A"); !strings.Contains(out, "EMAIL_TAKEN") {
		t.Fatalf("duplicate create printed %q, want EMAIL_TAKEN", out)
	}
	if out := step(exitOK, "user", "list"); !strings.Contains(out, "a@example.com") || !strings.Contains(out, "active") {
		t.Fatalf("list printed %q", out)
	}
	step(exitOK, "user", "disable", "--email", "a@example.com")
	if out := step(exitOK, "user", "list"); !strings.Contains(out, "disabled") {
		t.Fatalf("list after disable printed %q", out)
	}
	step(exitOK, "user", "enable", "--email", "a@example.com")
	step(exitOK, "user", "set-password", "--email", "a@example.com", "--password", "other-Pass-5678")
	if out := step(exitFailed, "user", "set-password", "--email", "a@example.com", "--password", "short"); !strings.Contains(out, "PASSWORD_WEAK") {
		t.Fatalf("weak set-password printed %q", out)
	}
	step(exitFailed, "user", "set-password", "--email", "a@example.com", "--password", "password1")
	step(exitFailed, "user", "disable", "--email", "nobody@example.com")
}
