package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/jwt"
	"github.com/gatehouse/gatehouse/adapters/postgres"
	"github.com/gatehouse/gatehouse/domain"
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
		// Unknown flags and stray arguments, on every command.
		{"version", "--no-such-flag"},
		{"version", "extra"},
		{"serve", "--no-such-flag"},
		{"serve", "extra"},
		{"keys", "generate", "--no-such-flag"},
		{"keys", "generate", "extra"},
		{"keys", "check", "--no-such-flag"},
		{"keys", "check", "extra"},
		{"keys", "rotate"},
		{"migrate"},
		{"migrate", "up", "--no-such-flag"},
		{"migrate", "down", "extra"},
		{"migrate", "status", "--steps", "1"},
		{"migrate", "up", "down"},
		{"user", "create", "--email", "a@example.com", "--password", "long-Pass-1234", "--no-such-flag"},
		{"user", "create", "--email", "a@example.com", "--password", "long-Pass-1234", "extra"},
		{"user", "list", "--no-such-flag"},
		{"user", "list", "extra"},
		{"user", "list", "--email", "a@example.com"}, // list takes no flags
		{"user", "disable", "--email", "a@example.com", "--password", "x"},
		{"user", "disable", "--email", "a@example.com", "extra"},
		{"user", "enable", "--email", "a@example.com", "--name", "x"},
		{"user", "enable"},
		{"user", "set-password", "--email", "a@example.com", "--password", "long-Pass-1234", "--phone", "1"},
		{"user", "set-password", "--email", "a@example.com"},
	} {
		code, out, errOut := runCLI(t, args...)
		if code != exitUsage || !strings.Contains(errOut, "Usage:") || out != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 with usage on stderr", args, code, out, errOut)
		}
	}
}

func TestGoodInvocationsAreNotUsageErrors(t *testing.T) {
	clearStores(t)
	for _, args := range [][]string{
		{"version"},
		{"keys", "generate"},
		{"help"},
		{"--help"},
	} {
		if code, _, errOut := runCLI(t, args...); code != exitOK {
			t.Errorf("%q: exit %d, stderr %q; want 0", args, code, errOut)
		}
	}
	// Well-formed commands that need a database get past the parsing and
	// fail only for want of one.
	for _, args := range [][]string{
		{"user", "list"},
		{"user", "create", "--email", "a@example.com", "--password", "long-Pass-1234", "--name", "A", "--phone", "13800138000"},
		{"user", "disable", "--email", "a@example.com"},
		{"user", "enable", "--email=a@example.com"},
		{"user", "set-password", "--email", "a@example.com", "--password", "long-Pass-1234"},
		{"keys", "check"},
		{"migrate", "up"},
	} {
		if code, _, errOut := runCLI(t, args...); code != exitFailed || !strings.Contains(errOut, "GATEHOUSE_DATABASE_URL") {
			t.Errorf("%q: exit %d, stderr %q; want 1 naming GATEHOUSE_DATABASE_URL", args, code, errOut)
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
	if out := step(exitOK, "user", "disable", "--email", "a@example.com"); out != "disabled a@example.com\n" {
		t.Fatalf("disable printed %q", out)
	}
	if out := step(exitOK, "user", "list"); !strings.Contains(out, "disabled") {
		t.Fatalf("list after disable printed %q", out)
	}
	if out := step(exitOK, "user", "enable", "--email", "a@example.com"); out != "enabled a@example.com\n" {
		t.Fatalf("enable printed %q", out)
	}
	step(exitOK, "user", "set-password", "--email", "a@example.com", "--password", "other-Pass-5678")
	if out := step(exitFailed, "user", "set-password", "--email", "a@example.com", "--password", "short"); !strings.Contains(out, "PASSWORD_WEAK") {
		t.Fatalf("weak set-password printed %q", out)
	}
	step(exitFailed, "user", "set-password", "--email", "a@example.com", "--password", "password1")
	step(exitFailed, "user", "disable", "--email", "nobody@example.com")
}

// bindTOTPAs binds a TOTP secret to the account of email, sealed under the
// key derived from secret: the service's own when secret is its
// GATEHOUSE_SECRET, otherwise one it cannot open.
func bindTOTPAs(t *testing.T, email, secret string) {
	t.Helper()
	ctx := t.Context()
	db, err := postgres.Open(ctx, postgres.Config{URL: os.Getenv("GATEHOUSE_DATABASE_URL"), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ring, err := postgres.NewKeyring("", []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	store := postgres.NewUserStore(db, ring)
	u, err := store.ByEmailKey(ctx, domain.NewEmailKey(email))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Update(ctx, u.ID, func(u *domain.User) error {
		u.TOTP, err = store.SealTOTP(u.ID, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func TestKeysCheckFindsTOTPSecretsThatDoNotOpen(t *testing.T) {
	realStores(t)
	if code, _, errOut := runCLI(t, "migrate", "up"); code != exitOK {
		t.Fatalf("migrate up: %s", errOut)
	}
	for _, email := range []string{"good@example.com", "bad@example.com", "none@example.com"} {
		if code, _, errOut := runCLI(t, "user", "create", "--email", email, "--password", "long-Pass-1234"); code != exitOK {
			t.Fatalf("create %s: %s", email, errOut)
		}
	}
	bindTOTPAs(t, "good@example.com", os.Getenv("GATEHOUSE_SECRET"))

	code, out, errOut := runCLI(t, "keys", "check")
	if code != exitOK || !strings.Contains(out, "all 1 TOTP secrets open") {
		t.Fatalf("keys check with every secret readable: exit %d\n%s%s", code, out, errOut)
	}

	// Sealed under another service secret, as after a GATEHOUSE_SECRET
	// change without TOTP keys.
	bindTOTPAs(t, "bad@example.com", "a-previous-service-secret-0123456789abcdef")
	code, out, errOut = runCLI(t, "user", "list")
	if code != exitOK {
		t.Fatalf("user list with an unreadable TOTP secret: exit %d\n%s", code, errOut)
	}
	totp := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		// ID EMAIL PHONE... : the name is empty, so TOTP is the third field.
		if f := strings.Fields(line); len(f) > 3 {
			totp[f[1]] = f[2]
		}
	}
	if totp["good@example.com"] != "true" || totp["bad@example.com"] != "unreadable" || totp["none@example.com"] != "false" {
		t.Errorf("user list TOTP column = %v\n%s", totp, out)
	}
	code, out, errOut = runCLI(t, "keys", "check")
	if code != exitFailed || !strings.Contains(out, "bad@example.com") || strings.Contains(out, "good@example.com") ||
		!strings.Contains(out, " s1") || !strings.Contains(errOut, "1 of 2 TOTP secrets do not open") {
		t.Fatalf("keys check with one unreadable secret: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
}
