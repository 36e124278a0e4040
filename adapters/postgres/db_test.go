package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"io/fs"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/internal/storetest"
	"github.com/gatehouse/gatehouse/migrations"
)

// openTestDB opens the test database in a schema of its own (see
// storetest.Schema), migrated up unless migrate is false.
func openTestDB(t testing.TB, migrate bool) *DB {
	t.Helper()
	url, schema := storetest.Schema(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := Open(ctx, Config{URL: url, Schema: schema, Timeout: 5 * time.Second, MigrateOnStart: migrate})
	if err != nil {
		t.Fatalf("open test database (set GATEHOUSE_TEST_DATABASE_URL, or =skip): %v", err)
	}
	// Registered after the schema's cleanup, so it runs first.
	t.Cleanup(db.Close)
	return db
}

func TestMigrateUpDownStatus(t *testing.T) {
	db := openTestDB(t, false)
	ctx := t.Context()
	tables := func() []string {
		t.Helper()
		var names []string
		for _, name := range []string{"users", "login_history", "goose_db_version"} {
			var found bool
			// to_regclass resolves through the search_path: the tables
			// must be in the test schema, and only there.
			if err := db.pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", name).Scan(&found); err != nil {
				t.Fatal(err)
			}
			if found {
				names = append(names, name)
			}
		}
		return names
	}
	run := func(command string) string {
		t.Helper()
		var out strings.Builder
		if err := db.Migrate(ctx, command, &out); err != nil {
			t.Fatalf("Migrate(%s) = %v\n%s", command, err, out.String())
		}
		return out.String()
	}

	// Counted from the embedded files, so a new migration needs no edit
	// here; the tables checked are those of the first two.
	files, err := fs.Glob(migrations.FS, "0*")
	if err != nil || len(files) < 4 {
		t.Fatalf("embedded migrations: %v, %v", files, err)
	}
	n := len(files)
	if status := run("status"); strings.Count(status, "pending") != n {
		t.Errorf("status before up:\n%s\nwant %d pending migrations", status, n)
	}
	up := run("up")
	for _, f := range files {
		if !strings.Contains(up, f) {
			t.Errorf("up printed:\n%s\nwithout %s", up, f)
		}
	}
	if got := strings.Join(tables(), ","); got != "users,login_history,goose_db_version" {
		t.Errorf("after up the schema has %q", got)
	}
	if status := run("status"); strings.Count(status, "applied") != n {
		t.Errorf("status after up:\n%s\nwant %d applied migrations", status, n)
	}
	if again := run("up"); !strings.Contains(again, "no pending") {
		t.Errorf("a second up printed:\n%s", again)
	}

	for range n - 2 {
		run("down")
	}
	if got := strings.Join(tables(), ","); got != "users,login_history,goose_db_version" {
		t.Errorf("after downs to 00002 the schema has %q", got)
	}
	run("down")
	if got := strings.Join(tables(), ","); got != "users,goose_db_version" {
		t.Errorf("after 00002 down the schema has %q", got)
	}
	run("down")
	if got := strings.Join(tables(), ","); got != "goose_db_version" {
		t.Errorf("after 00001 down the schema has %q", got)
	}
	if out := run("down"); !strings.Contains(out, "no migration") {
		t.Errorf("down with nothing applied printed:\n%s", out)
	}
	run("up")

	if err := db.Migrate(ctx, "sideways", io.Discard); err == nil {
		t.Error("Migrate with an unknown command succeeded")
	}
}

func TestLoginHistoryIsAppendOnly(t *testing.T) {
	db := openTestDB(t, true)
	store := NewUserStore(db, testKeyring(t))
	u := &domain.User{Email: "a@example.com", EmailKey: domain.NewEmailKey("a@example.com"), Active: true}
	if err := store.Create(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	for _, ok := range []bool{false, true} {
		rec := domain.LoginRecord{Time: time.Now(), IP: "192.0.2.1", UserAgent: "ua", Method: domain.LoginEmail, Success: ok}
		if err := store.RecordLogin(t.Context(), u.ID, rec); err != nil {
			t.Fatal(err)
		}
	}
	var lines, successes int
	err := db.pool.QueryRow(t.Context(),
		"SELECT count(*), count(*) FILTER (WHERE success) FROM login_history WHERE user_id = $1", u.ID).Scan(&lines, &successes)
	if err != nil || lines != 2 || successes != 1 {
		t.Errorf("history has %d lines, %d successes (%v); want 2, 1", lines, successes, err)
	}
	if _, err := db.pool.Exec(t.Context(), "UPDATE login_history SET success = true"); err == nil {
		t.Error("updating the login history succeeded")
	}
}

// Two schemas of one database do not see each other's accounts.
func TestSchemasAreSeparate(t *testing.T) {
	a := NewUserStore(openTestDB(t, true), testKeyring(t))
	b := NewUserStore(openTestDB(t, true), testKeyring(t))
	u := &domain.User{Email: "a@example.com", EmailKey: domain.NewEmailKey("a@example.com"), Active: true}
	if err := a.Create(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ByID(t.Context(), u.ID); !errors.Is(err, domain.ErrUserNotFound) {
		t.Errorf("the other schema's ByID = %v, want ErrUserNotFound", err)
	}
	v := &domain.User{Email: "a@example.com", EmailKey: domain.NewEmailKey("a@example.com"), Active: true}
	if err := b.Create(t.Context(), v); err != nil {
		t.Errorf("the same email in another schema: %v", err)
	}
}

// An outage must answer ErrUnavailable, fast: never "not found", which a
// login would turn into "wrong password".
func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	// A listener that accepts and never answers stands for a hung server;
	// port 1 refuses at once.
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	go func() {
		for {
			conn, err := hung.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	for name, url := range map[string]string{
		"refused": "postgres://postgres@127.0.0.1:1/test?sslmode=disable",
		"hung":    "postgres://postgres@" + hung.Addr().String() + "/test?sslmode=disable",
	} {
		t.Run(name, func(t *testing.T) {
			const timeout = 300 * time.Millisecond
			ctx := t.Context()
			db, err := Open(ctx, Config{URL: url, Timeout: timeout})
			if err != nil {
				t.Fatalf("Open without schema or migration must not connect: %v", err)
			}
			defer db.Close()
			store := NewUserStore(db, testKeyring(t))
			u := &domain.User{Email: "a@example.com", EmailKey: domain.NewEmailKey("a@example.com")}
			calls := map[string]func() error{
				"Ping":       func() error { return store.Ping(ctx) },
				"ByID":       func() error { _, err := store.ByID(ctx, "0190a6a4-4f7a-7c3e-8000-000000000000"); return err },
				"ByEmailKey": func() error { _, err := store.ByEmailKey(ctx, domain.NewEmailKey("a@example.com")); return err },
				"Create":     func() error { return store.Create(ctx, u) },
				"RecordLogin": func() error {
					return store.RecordLogin(ctx, "0190a6a4-4f7a-7c3e-8000-000000000000", domain.LoginRecord{})
				},
				"List":    func() error { _, err := store.List(ctx); return err },
				"Migrate": func() error { return db.Migrate(ctx, "status", io.Discard) },
			}
			for call, f := range calls {
				start := time.Now()
				err := f()
				if !errors.Is(err, domain.ErrUnavailable) {
					t.Errorf("%s = %v, want ErrUnavailable", call, err)
				}
				if took := time.Since(start); took > timeout+time.Second {
					t.Errorf("%s took %v with a %v timeout", call, took, timeout)
				}
			}
			_, err = Open(ctx, Config{URL: url, Schema: "gh_unreachable", Timeout: timeout})
			if !errors.Is(err, domain.ErrUnavailable) {
				t.Errorf("Open creating a schema = %v, want ErrUnavailable", err)
			}
		})
	}
}

func TestOpenRefusesABadURLWithoutEchoingIt(t *testing.T) {
	_, err := Open(t.Context(), Config{URL: "postgres://user:hunter2@[::1"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open = %v, want an error that does not quote the password", err)
	}
}

func TestServerErrorsAreNotOutages(t *testing.T) {
	db := openTestDB(t, false)
	_, err := db.pool.Exec(t.Context(), "SELECT * FROM no_such_table")
	if err = dbError("query", err); err == nil || errors.Is(err, domain.ErrUnavailable) {
		t.Errorf("a query error classified as %v, want a plain error", err)
	}
}

// testKeyring returns a keyring with one random current key.
func testKeyring(t testing.TB) Keyring {
	t.Helper()
	k, err := NewKeyring("t1:"+randomKey(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func randomKey() string {
	key := make([]byte, 32)
	rand.Read(key)
	return base64.StdEncoding.EncodeToString(key)
}
