package postgres

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports/portstest"
)

func TestLoginHistory(t *testing.T) {
	portstest.TestLoginHistory(t, func(t *testing.T) portstest.HistoryStore {
		return NewUserStore(openTestDB(t, true), testKeyring(t))
	})
}

// The page query and the prune's batch use the indexes of migration 00005,
// so their cost does not grow with the table: a page walks
// login_history_user_at_id backwards from the cursor (the rows of all
// accounts interleave in time, as they do in service), and a batch finds
// the oldest rows through the BRIN index login_history_at.
func TestLoginHistoryQueriesUseTheIndexes(t *testing.T) {
	db := openTestDB(t, true)
	store := NewUserStore(db, testKeyring(t))
	ctx := t.Context()
	var ids []domain.UserID
	for i := range 20 {
		email := fmt.Sprintf("u%d@example.com", i)
		u := &domain.User{Email: email, EmailKey: domain.NewEmailKey(email), Active: true}
		if err := store.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	_, err := db.pool.Exec(ctx, `
		INSERT INTO login_history (user_id, at, ip, user_agent, method, success)
		SELECT u.id, now() - g * interval '1 minute', '198.51.100.1', 'agent', 'email', g % 3 = 0
		FROM generate_series(1000, 1, -1) g CROSS JOIN users u`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `ANALYZE login_history`); err != nil {
		t.Fatal(err)
	}
	plan := func(query string, args ...any) string {
		t.Helper()
		rows, err := db.pool.Query(ctx, "EXPLAIN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return strings.Join(lines, "\n")
	}
	cursor := time.Now().Add(-500 * time.Minute)
	for name, p := range map[string]string{
		"first page": plan(historyPageQuery(false), ids[3], 21),
		"next page":  plan(historyPageQuery(true), ids[3], 21, cursor, int64(1<<40)),
	} {
		if !strings.Contains(p, "Scan Backward using login_history_user_at_id") || strings.Contains(p, "Sort") {
			t.Errorf("%s: plan does not walk login_history_user_at_id backwards:\n%s", name, p)
		}
	}
	p := plan(pruneBatchQuery, time.Now().Add(-995*time.Minute), 1000)
	if !strings.Contains(p, "Bitmap Index Scan on login_history_at") || !strings.Contains(p, "Index Scan using login_history_pkey") {
		t.Errorf("prune batch does not find rows through login_history_at and delete through the primary key:\n%s", p)
	}
}
