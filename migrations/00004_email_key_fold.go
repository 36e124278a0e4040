package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/pressly/goose/v3"

	"github.com/gatehouse/gatehouse/domain"
)

// Version 4 recomputes users.email_key for the Unicode email key (local part
// NFC with full case folding, domain in IDNA ASCII form; see
// domain.EmailKey). It is Go rather than SQL because PostgreSQL has neither
// full case folding nor IDNA, and the keys must be exactly those the binary
// computes. Down goes back to the old key, strings.ToLower.
//
// Only rows whose email or key holds a non-ASCII character can change: an
// ASCII address keys to its lowercase form under both rules. Addresses that
// were two accounts and now fold to one key (straße@ and strasse@) stop the
// migration with an error naming the accounts by id; it changes nothing,
// and never merges accounts. The operator changes the email of one of each
// pair and migrates again.
func emailKeyFold() *goose.Migration {
	return goose.NewGoMigration(4,
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return rekeyEmails(ctx, tx, emailKey) }},
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error { return rekeyEmails(ctx, tx, strings.ToLower) }},
	)
}

// emailKey is domain.NewEmailKey as text, the form the column keeps.
func emailKey(address string) string { return domain.NewEmailKey(address).String() }

// nonASCII matches a value with a character outside ASCII. It is passed as a
// parameter, so PostgreSQL's regular expression engine reads the escapes.
const nonASCII = `[^\x01-\x7f]`

// rekeyEmails sets email_key = key(email) on every row whose email or key
// is not ASCII, in the migration's transaction. It refuses, changing
// nothing, when two accounts would share a key.
func rekeyEmails(ctx context.Context, tx *sql.Tx, key func(string) string) error {
	rows, err := tx.QueryContext(ctx,
		`SELECT id::text, email, email_key FROM users WHERE email ~ $1 OR email_key ~ $1 ORDER BY created_at, id FOR UPDATE`, nonASCII)
	if err != nil {
		return fmt.Errorf("read non-ASCII emails: %w", err)
	}
	owner := map[string]string{} // new key → account id
	var (
		moved     []string // ids whose key changes
		newKeys   []string // their new keys, in the same order
		conflicts []string
	)
	for rows.Next() {
		var id, email, oldKey string
		if err := rows.Scan(&id, &email, &oldKey); err != nil {
			rows.Close()
			return fmt.Errorf("read non-ASCII emails: %w", err)
		}
		k := key(email)
		if other, taken := owner[k]; taken {
			conflicts = append(conflicts, other+" and "+id)
			continue
		}
		owner[k] = id
		if k != oldKey {
			moved, newKeys = append(moved, id), append(newKeys, k)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read non-ASCII emails: %w", err)
	}
	if len(moved) == 0 && len(conflicts) == 0 {
		return nil
	}

	// The ASCII rows keep their keys; a new key equal to one of theirs is a
	// conflict too.
	clash, err := tx.QueryContext(ctx,
		`SELECT id::text, email_key FROM users WHERE email_key = ANY($1) AND NOT (email ~ $2 OR email_key ~ $2) ORDER BY id`, newKeys, nonASCII)
	if err != nil {
		return fmt.Errorf("check new email keys: %w", err)
	}
	for clash.Next() {
		var id, k string
		if err := clash.Scan(&id, &k); err != nil {
			clash.Close()
			return fmt.Errorf("check new email keys: %w", err)
		}
		conflicts = append(conflicts, id+" and "+owner[k])
	}
	clash.Close()
	if err := clash.Err(); err != nil {
		return fmt.Errorf("check new email keys: %w", err)
	}
	if len(conflicts) > 0 {
		return fmt.Errorf("email keys: these accounts have emails that now count as the same address (they differ only by case or Unicode form): %s; "+
			"nothing was changed: give one account of each pair another email, then migrate again", strings.Join(conflicts, "; "))
	}

	// Park the moving rows on keys no address can have (no @), so that
	// keys passing from one row to another never meet in the unique index.
	if _, err := tx.ExecContext(ctx, `UPDATE users SET email_key = 'rekey:' || id::text WHERE id::text = ANY($1)`, moved); err != nil {
		return fmt.Errorf("park email keys: %w", err)
	}
	for i, id := range moved {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET email_key = $1 WHERE id::text = $2`, newKeys[i], id); err != nil {
			return fmt.Errorf("set the email key of account %s: %w", id, err)
		}
	}
	return nil
}
