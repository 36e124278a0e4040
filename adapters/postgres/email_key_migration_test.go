package postgres

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/domain"
)

// migrateDown4 rolls back migration 4, leaving keys as the binary before it
// wrote them (strings.ToLower), and returns a function that inserts such a
// row and returns its id.
func migrateDown4(t *testing.T, db *DB) func(email string) string {
	t.Helper()
	rollBackThrough4(t, db)
	return func(email string) string {
		t.Helper()
		var id string
		err := db.pool.QueryRow(t.Context(),
			`INSERT INTO users (id, email, email_key, active) VALUES (gen_random_uuid(), $1, $2, true) RETURNING id::text`,
			email, strings.ToLower(email)).Scan(&id)
		if err != nil {
			t.Fatalf("insert %s: %v", email, err)
		}
		return id
	}
}

// rollBackThrough4 rolls back one migration at a time, the later ones
// first, until migration 4 is rolled back.
func rollBackThrough4(t *testing.T, db *DB) {
	t.Helper()
	var out strings.Builder
	for !strings.Contains(out.String(), "00004_email_key_fold.go") {
		if err := db.Migrate(t.Context(), "down", &out); err != nil || strings.Contains(out.String(), "no migration") {
			t.Fatalf("down = %v\n%s", err, out.String())
		}
	}
}

func keyOf(t *testing.T, db *DB, id string) string {
	t.Helper()
	var k string
	if err := db.pool.QueryRow(t.Context(), `SELECT email_key FROM users WHERE id = $1`, id).Scan(&k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestMigrationRecomputesEmailKeys(t *testing.T) {
	db := openTestDB(t, true)
	insert := migrateDown4(t, db)
	rows := map[string]string{ // email → the key it must have after up
		"ΑΣ@Example.com":       "ασ@example.com",
		"Straße@example.com":   "strasse@example.com",
		"user@Bücher.example":  "user@xn--bcher-kva.example",
		"Alice@Example.com":    "alice@example.com",
		"ꭰꭱ@example.com":       "ᎠᎡ@example.com",
		"bob@xn--bcher-kva.de": "bob@xn--bcher-kva.de",
	}
	ids := map[string]string{}
	for email := range rows {
		ids[email] = insert(email)
	}
	var out strings.Builder
	if err := db.Migrate(t.Context(), "up", &out); err != nil {
		t.Fatalf("up = %v\n%s", err, out.String())
	}
	for email, want := range rows {
		if got := keyOf(t, db, ids[email]); got != want || got != domain.NewEmailKey(email).String() {
			t.Errorf("key of %s = %q, want %q", email, got, want)
		}
	}
	// The store finds the accounts by any spelling.
	store := NewUserStore(db, testKeyring(t))
	for typed, email := range map[string]string{"ας@EXAMPLE.com": "ΑΣ@Example.com", "STRASSE@example.com": "Straße@example.com"} {
		u, err := store.ByEmailKey(t.Context(), domain.NewEmailKey(typed))
		if err != nil || u.ID.String() != ids[email] || u.Email != email {
			t.Errorf("ByEmailKey(%s) = %+v, %v; want %s", typed, u, err, email)
		}
	}

	// Down restores the old keys.
	rollBackThrough4(t, db)
	for email := range rows {
		if got := keyOf(t, db, ids[email]); got != strings.ToLower(email) {
			t.Errorf("after down, key of %s = %q, want %q", email, got, strings.ToLower(email))
		}
	}
}

func TestMigrationStopsOnEmailKeyConflicts(t *testing.T) {
	db := openTestDB(t, true)
	insert := migrateDown4(t, db)
	sharp := insert("straße@example.com")
	double := insert("STRASSE@example.com") // ASCII: keeps its key
	final := insert("ας@example.com")
	sigma := insert("ΑΣ@example.com")
	untouched := insert("Ünique@example.com")

	var out strings.Builder
	err := db.Migrate(t.Context(), "up", &out)
	if err == nil {
		t.Fatalf("up merged accounts that share a key:\n%s", out.String())
	}
	msg := err.Error()
	t.Logf("refused as it should: %v", err)
	for _, id := range []string{sharp, double, final, sigma} {
		if !strings.Contains(msg, id) {
			t.Errorf("the error does not name account %s: %v", id, err)
		}
	}
	if strings.Contains(msg, untouched) || strings.Contains(msg, "@") {
		t.Errorf("the error names more than the conflicting accounts, or an email: %v", err)
	}
	// Nothing changed: every key is still the old one, and 4 is pending.
	for id, want := range map[string]string{sharp: "straße@example.com", double: "strasse@example.com", final: "ας@example.com", sigma: "ασ@example.com", untouched: "ünique@example.com"} {
		if got := keyOf(t, db, id); got != want {
			t.Errorf("key of %s = %q after a failed migration, want %q", id, got, want)
		}
	}
	out.Reset()
	if err := db.Migrate(t.Context(), "status", &out); err != nil || !strings.Contains(out.String(), "pending") {
		t.Fatalf("status = %v\n%s", err, out.String())
	}

	// With the conflicts resolved, the migration goes through.
	if _, err := db.pool.Exec(t.Context(), `UPDATE users SET email = 'straße2@example.com', email_key = 'straße2@example.com' WHERE id = $1`, sharp); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(t.Context(), `DELETE FROM users WHERE id = $1`, final); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(t.Context(), "up", &out); err != nil {
		t.Fatalf("up after resolving = %v", err)
	}
	if got := keyOf(t, db, sharp); got != "strasse2@example.com" {
		t.Errorf("key = %q", got)
	}
}
