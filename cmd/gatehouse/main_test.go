package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/adapters/jwt"
	"github.com/gatehouse/gatehouse/internal/storetest"
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

// realStores points the command at a fresh Postgres schema and Redis key
// prefix, both removed when the test ends.
func realStores(t *testing.T) {
	t.Helper()
	redisURL := storetest.RedisURL(t)
	dbURL, _ := storetest.Schema(t)
	t.Setenv("GATEHOUSE_DATABASE_URL", dbURL)
	t.Setenv("GATEHOUSE_REDIS_URL", redisURL)
	t.Setenv("GATEHOUSE_REDIS_KEY_PREFIX", storetest.RedisPrefix(t))
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
