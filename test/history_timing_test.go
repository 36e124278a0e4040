package test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/internal/config"
)

// userAgents are User-Agent values that are not valid UTF-8 or are longer
// than the stored limit, cut there in the middle of a character.
var userAgents = map[string]string{
	"invalid UTF-8":       "Mozilla/5.0 \xff\xfe\xc3(",
	"long 3-byte":         strings.Repeat("中", 700),
	"long 2-byte, offset": "x" + strings.Repeat("é", 700),
	"invalid and long":    strings.Repeat("\xe4\xb8", 400) + strings.Repeat("ü", 400),
}

// API.md "Abuse limits": a User-Agent that is not valid UTF-8, or longer
// than the stored limit, is cut to valid UTF-8 for storage; it never
// changes the answer. Answering differently for known accounts (whose
// attempts are stored) than for unknown ones would tell them apart.
func TestUserAgentNeverChangesTheAnswer(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, func(cfg *config.Config) {
			cfg.LoginFailures, cfg.IPLoginFailures = 1000, 1000
		})
		e.createUser(alice, alicePass, "")
		for name, agent := range userAgents {
			c := e.browser()
			c.header.Set("User-Agent", agent)
			for _, body := range []map[string]string{
				{"email": alice, "password": "wrong-Password-1"},
				{"email": "nobody@example.com", "password": "wrong-Password-1"},
				{"email": "nobody@example.com", "password": alicePass},
			} {
				if r := c.post("/login", body); r.status != http.StatusBadRequest || r.code() != "LOGIN_INVALID" {
					t.Fatalf("%s: POST /login as %s = %s, want 400 LOGIN_INVALID", name, body["email"], r)
				}
			}
			if r := c.post("/login", map[string]string{"email": alice, "password": alicePass}); r.status != http.StatusNoContent {
				t.Fatalf("%s: right password = %s, want 204", name, r)
			}
			var u struct {
				History struct {
					UserAgent string `json:"user_agent"`
				} `json:"history"`
			}
			r := c.get("/user")
			expect(t, r, http.StatusOK, "")
			r.json(t, &u)
			got := u.History.UserAgent
			if !utf8.ValidString(got) || got == "" || len(got) > 512 {
				t.Fatalf("%s: history user_agent %q (%d bytes) is not valid UTF-8 within 512 bytes", name, got, len(got))
			}
			if utf8.ValidString(agent) && !strings.HasPrefix(agent, got) {
				t.Fatalf("%s: history user_agent is not a prefix of the agent sent", name)
			}
		}
		if m != memoryMode {
			// The failures were written too, as valid UTF-8, within 1 s of
			// their answers (API.md "Login history").
			eventually(t, 2*time.Second, "failed attempts in login_history", func() bool {
				return failedHistory(t, e.cfg.DatabaseURL) == len(userAgents)
			})
		}
	})
}

// failedHistory counts the failed attempts in login_history, failing t on
// a stored user agent that is not valid UTF-8 or over the limit.
func failedHistory(t *testing.T, dbURL string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT user_agent FROM login_history WHERE NOT success")
	if err != nil {
		t.Fatal(err)
	}
	agents, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range agents {
		if !utf8.ValidString(a) || len(a) > 512 {
			t.Fatalf("stored user agent %q (%d bytes)", a, len(a))
		}
	}
	return len(agents)
}
