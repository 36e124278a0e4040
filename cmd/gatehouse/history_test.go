package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/postgres"
	"github.com/gatehouse/gatehouse/domain"
)

func TestHistoryUsageErrors(t *testing.T) {
	clearStores(t)
	for _, args := range [][]string{
		{"history"},
		{"history", "purge"},
		{"history", "prune", "--no-such-flag"},
		{"history", "prune", "--older-than", "1h"},
		{"history", "prune", "extra"},
	} {
		code, out, errOut := runCLI(t, args...)
		if code != exitUsage || !strings.Contains(errOut, "Usage:") || out != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 with usage on stderr", args, code, out, errOut)
		}
	}
	if code, _, errOut := runCLI(t, "history", "prune"); code != exitFailed || !strings.Contains(errOut, "GATEHOUSE_DATABASE_URL") {
		t.Errorf("history prune without a database: exit %d, stderr %q; want 1 naming GATEHOUSE_DATABASE_URL", code, errOut)
	}
}

// gatehouse history prune deletes the attempts older than the retention,
// and only those.
func TestHistoryPruneWithRealStores(t *testing.T) {
	realStores(t)
	t.Setenv("GATEHOUSE_LOGIN_HISTORY_RETENTION", "24h")
	t.Setenv("GATEHOUSE_LOGIN_HISTORY_PRUNE_BATCH", "2") // several batches
	t.Setenv("GATEHOUSE_LOGIN_HISTORY_PRUNE_PAUSE", "1ms")
	if code, out, errOut := runCLI(t, "migrate", "up"); code != exitOK {
		t.Fatalf("migrate up: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "user", "create", "--email", "a@example.com", "--password", "long-Pass-1234"); code != exitOK {
		t.Fatalf("user create: %d %s %s", code, out, errOut)
	}
	ctx := t.Context()
	db, err := postgres.Open(ctx, postgres.Config{URL: os.Getenv("GATEHOUSE_DATABASE_URL"), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ring, err := postgres.NewKeyring("", []byte("unused"))
	if err != nil {
		t.Fatal(err)
	}
	store := postgres.NewUserStore(db, ring)
	u, err := store.ByEmailKey(ctx, domain.NewEmailKey("a@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := range 5 {
		rec := domain.LoginRecord{Time: now.Add(-48*time.Hour - time.Duration(i)*time.Minute), Method: domain.LoginEmail}
		if err := store.RecordLogin(ctx, u.ID, rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.RecordLogin(ctx, u.ID, domain.LoginRecord{Time: now.Add(-time.Hour), Method: domain.LoginEmail, Success: true}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "history", "prune")
	if code != exitOK || !strings.HasPrefix(out, "deleted 5 login attempts older than ") {
		t.Fatalf("history prune: exit %d, stdout %q, stderr %q; want 0 and 5 deleted", code, out, errOut)
	}
	left, err := store.LoginHistory(ctx, u.ID, domain.HistoryPosition{}, 100)
	if err != nil || len(left) != 1 || !left[0].Success {
		t.Fatalf("history after prune = %+v, %v; want the one recent success", left, err)
	}
	if code, out, _ := runCLI(t, "history", "prune"); code != exitOK || !strings.HasPrefix(out, "deleted 0 ") {
		t.Fatalf("second prune: exit %d, stdout %q; want 0 deleted", code, out)
	}
}

// A GATEHOUSE_GEOIP_DB that is missing or not a database stops the start
// in every mode, naming the key.
func TestServeRefusesABadGeoDatabase(t *testing.T) {
	garbage := filepath.Join(t.TempDir(), "garbage.mmdb")
	if err := os.WriteFile(garbage, []byte("not a MaxMind database"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"memory", "postgres+redis"} {
		t.Run(m, func(t *testing.T) {
			if m == "memory" {
				clearStores(t)
			} else {
				realStores(t)
				t.Setenv("GATEHOUSE_MIGRATE_ON_START", "true")
			}
			for _, path := range []string{filepath.Join(t.TempDir(), "missing.mmdb"), garbage} {
				t.Setenv("GATEHOUSE_GEOIP_DB", path)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				done := make(chan struct{})
				var code int
				var errOut string
				go func() {
					defer close(done)
					code, _, errOut = runCLI(t, "serve")
				}()
				select {
				case <-done:
				case <-ctx.Done():
					t.Fatalf("serve with GATEHOUSE_GEOIP_DB=%s did not stop", path)
				}
				cancel()
				if code != exitFailed || !strings.Contains(errOut, "GATEHOUSE_GEOIP_DB") {
					t.Errorf("serve with GATEHOUSE_GEOIP_DB=%s: exit %d, stderr %q; want 1 naming GATEHOUSE_GEOIP_DB", path, code, errOut)
				}
			}
		})
	}
}
