package test

import (
	"context"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/internal/storetest"
)

func TestEvery401ClearsTheTokenCookie(t *testing.T) {
	e := newEnv(t, memoryMode, nil)
	r := e.bare().get("/verify", "Cookie", "TOKEN=")
	expect(t, r, http.StatusUnauthorized, "AUTH_REQUIRED")
	if ck := r.cookie("TOKEN"); ck == nil || ck.MaxAge >= 0 {
		t.Fatalf("AUTH_REQUIRED did not clear TOKEN: %+v", ck)
	}
}

func TestRefreshInTheSameSecondGivesANewToken(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		c := e.browser()
		c.login(alice, alicePass)
		before := c.token()
		var rc struct {
			Code string `json:"code"`
		}
		c.get("/refresh_code").json(t, &rc)
		expect(t, c.post("/refresh_token", map[string]string{"code": rc.Code}), http.StatusNoContent, "")
		if after := c.token(); after == before || after == "" {
			t.Fatal("refresh handed back the same token")
		}
	})
}

// A session that outlives its account (the row removed by hand: Gatehouse
// itself never deletes one) is dead: the routes on the account answer 401
// AUTH_EXPIRED and clear the token cookie, as for an ended session. The
// domain decides this (domain.CallerGone); the HTTP table only maps the code.
func TestSessionOfAGoneAccount(t *testing.T) {
	storetest.DatabaseURL(t)
	storetest.RedisURL(t)
	e := newEnv(t, persistentMode, nil)
	e.createUser(alice, alicePass, "")
	c := e.browser()
	c.login(alice, alicePass)
	expect(t, c.get("/user"), http.StatusOK, "")

	conn, err := pgx.Connect(context.Background(), e.cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if tag, err := conn.Exec(context.Background(), "DELETE FROM users WHERE email_key = $1", alice); err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("delete the account: %v (%v)", err, tag)
	}

	// The session itself is still live: /verify reads only the session store.
	expect(t, c.get("/verify"), http.StatusNoContent, "")
	r := c.get("/user")
	expect(t, r, http.StatusUnauthorized, "AUTH_EXPIRED")
	if ck := r.cookie("TOKEN"); ck == nil || ck.MaxAge >= 0 {
		t.Fatalf("the token cookie was not cleared: %v", ck)
	}
}
