package test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// API.md "Sessions (self-service)": GET /user/sessions, DELETE
// /user/sessions/:id, DELETE /user/sessions and POST /logout?scope=.

// The second account of these tests.
const (
	sessionsBob     = "bob@example.com"
	sessionsBobPass = "battery-Staple-9"
)

// sessionJSON is one item of GET /user/sessions.
type sessionJSON struct {
	ID           string          `json:"id"`
	Current      bool            `json:"current"`
	Method       string          `json:"method"`
	IP           string          `json:"ip"`
	UserAgent    string          `json:"user_agent"`
	Location     json.RawMessage `json:"location"`
	CreateTime   time.Time       `json:"create_time"`
	LastSeenTime time.Time       `json:"last_seen_time"`
	ExpireTime   time.Time       `json:"expire_time"`
}

// sidOf reads the session id (the sid claim) out of a token.
func sidOf(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	var claims struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.SID == "" {
		t.Fatalf("JWT without sid: %s", payload)
	}
	return claims.SID
}

// listSessions gets c's sessions and wants their ids to be want, in order.
func (c *client) listSessions(t *testing.T, want ...string) []sessionJSON {
	t.Helper()
	r := c.get("/user/sessions")
	expect(t, r, http.StatusOK, "")
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	var body struct {
		Items []sessionJSON `json:"items"`
	}
	r.json(t, &body)
	got := make([]string, len(body.Items))
	for i, s := range body.Items {
		got[i] = s.ID
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("GET /user/sessions lists %v, want %v", got, want)
	}
	return body.Items
}

// tokenCleared reports whether r clears the TOKEN cookie.
func tokenCleared(r *response) bool {
	ck := r.cookie("TOKEN")
	return ck != nil && ck.Value == "" && ck.MaxAge < 0
}

// ordered keeps the sessions made one after the other apart in time, so
// that lists (newest first) have one order.
func ordered(e *env) {
	if e.mode == memoryMode {
		e.advance(time.Second)
	} else {
		time.Sleep(5 * time.Millisecond)
	}
}

// device logs alice's account in from a new browser with user agent ua.
func (e *env) device(email, password, ua string) *client {
	e.t.Helper()
	ordered(e)
	c := e.browser()
	c.header.Set("User-Agent", ua)
	c.login(email, password)
	return c
}

func TestSessionsListShowsExactlyTheLiveSessions(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		a := e.device(alice, alicePass, "agent-a/1.0")
		b := e.device(alice, alicePass, "agent-b/2.0 (中文)")
		gone := e.device(alice, alicePass, "agent-c")
		expect(t, gone.post("/logout", nil), http.StatusNoContent, "")

		before := time.Now().Add(-time.Minute)
		items := a.listSessions(t, sidOf(t, b.token()), sidOf(t, a.token()))
		for i, s := range items {
			if s.Current != (i == 1) {
				t.Errorf("item %d current = %v; want only a's session current", i, s.Current)
			}
			if s.Method != "email" || s.IP != "127.0.0.1" || string(s.Location) != "null" {
				t.Errorf("item %d: method %q, ip %q, location %s; want email, 127.0.0.1, null", i, s.Method, s.IP, s.Location)
			}
			if m != memoryMode && (s.CreateTime.Before(before.Truncate(time.Second)) || s.CreateTime.After(time.Now())) {
				t.Errorf("item %d create_time %v, want about now", i, s.CreateTime)
			}
			if s.LastSeenTime.Before(s.CreateTime) || !s.ExpireTime.Equal(s.CreateTime.Add(e.cfg.SessionAbsoluteTTL)) {
				t.Errorf("item %d: created %v, last seen %v, expires %v", i, s.CreateTime, s.LastSeenTime, s.ExpireTime)
			}
		}
		if items[0].UserAgent != "agent-b/2.0 (中文)" || items[1].UserAgent != "agent-a/1.0" {
			t.Errorf("user agents = %q, %q", items[0].UserAgent, items[1].UserAgent)
		}
		// Each device sees itself as the current one.
		items = b.listSessions(t, sidOf(t, b.token()), sidOf(t, a.token()))
		if !items[0].Current || items[1].Current {
			t.Errorf("b's list marks current %v, %v; want b's own only", items[0].Current, items[1].Current)
		}

		if m == memoryMode {
			// b idles out; a's requests keep a alive.
			e.advance(e.cfg.SessionIdleTTL - time.Minute)
			expect(t, a.get("/verify"), http.StatusNoContent, "")
			e.advance(2 * time.Minute)
			items = a.listSessions(t, sidOf(t, a.token()))
			if !items[0].Current || items[0].LastSeenTime.Before(items[0].CreateTime.Add(e.cfg.SessionIdleTTL-2*time.Minute)) {
				t.Errorf("after idling: %+v", items[0])
			}
		}
	})
}

func TestSessionsRevokeReachesAnotherProcessAtOnce(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, fixedKey(t))
		other := e // memory mode has one process
		if m != memoryMode {
			other = e.twin()
		}
		e.createUser(alice, alicePass, "")
		a := e.device(alice, alicePass, "a")
		b := e.device(alice, alicePass, "b")
		bTok := b.token()
		expect(t, other.bearer(bTok).get("/verify"), http.StatusNoContent, "")

		r := a.send(http.MethodDelete, "/user/sessions/"+sidOf(t, bTok), nil)
		expect(t, r, http.StatusNoContent, "")
		if tokenCleared(r) {
			t.Error("ending another session cleared the caller's TOKEN")
		}
		refusedWithin(t, other, bTok, time.Now())
		other.bearer(a.token()).listSessions(t, sidOf(t, a.token()))

		// Ending the current session this way is a logout.
		aTok := a.token()
		r = a.send(http.MethodDelete, "/user/sessions/"+sidOf(t, aTok), nil)
		expect(t, r, http.StatusNoContent, "")
		if !tokenCleared(r) {
			t.Error("ending the current session kept TOKEN")
		}
		refusedWithin(t, other, aTok, time.Now())
	})
}

// refusedWithin wants tok refused by the process of e at most 100 ms
// after revoked (API.md "Revocation is final"). The first answer decides
// unless it is a 204 to a request sent before the bound: the time is taken
// when the request leaves, so a slow answer on a busy machine is not
// counted against the service.
func refusedWithin(t *testing.T, e *env, tok string, revoked time.Time) {
	t.Helper()
	const bound = 100 * time.Millisecond
	for {
		sent := time.Now()
		r := e.bearer(tok).get("/verify")
		if r.status == http.StatusUnauthorized && r.code() == "AUTH_EXPIRED" {
			return
		}
		if r.status != http.StatusNoContent || sent.Sub(revoked) > bound {
			t.Fatalf("a revoked token: %s to a request sent %v after the revocation", r, sent.Sub(revoked).Round(time.Millisecond))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSessionsOfAnotherAccountAreOutOfReach(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		e.createUser(sessionsBob, sessionsBobPass, "")
		a := e.device(alice, alicePass, "a")
		bobs := e.device(sessionsBob, sessionsBobPass, "bob")
		bobSID := sidOf(t, bobs.token())

		for _, id := range []string{bobSID, "no-such-session", strings.Repeat("x", 300)} {
			expect(t, a.send(http.MethodDelete, "/user/sessions/"+id, nil), http.StatusNoContent, "")
		}
		expect(t, bobs.get("/verify"), http.StatusNoContent, "")
		bobs.listSessions(t, bobSID)
		a.listSessions(t, sidOf(t, a.token()))
		// Ending "all others" of alice's account leaves bob alone too.
		r := a.send(http.MethodDelete, "/user/sessions", nil)
		expect(t, r, http.StatusOK, "")
		if string(r.body) != `{"ended":0}`+"\n" && string(r.body) != `{"ended":0}` {
			t.Errorf("DELETE /user/sessions = %s, want {\"ended\":0}", r.body)
		}
		expect(t, bobs.get("/verify"), http.StatusNoContent, "")
		if n := len(e.mail.All()); n != 0 {
			t.Errorf("%d mails sent when nothing ended", n)
		}
	})
}

func TestSessionsEndOthersAndLogoutScopes(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		a := e.device(alice, alicePass, "a")
		live := func(c *client, want bool) {
			t.Helper()
			if want {
				expect(t, e.bearer(c.token()).get("/verify"), http.StatusNoContent, "")
			} else {
				expect(t, e.bearer(c.token()).get("/verify"), http.StatusUnauthorized, "AUTH_EXPIRED")
			}
		}
		notice := func(subject string) {
			t.Helper()
			msg := e.mail.WaitFor(t, alice, waitDelivery)
			if !strings.Contains(msg.Subject, subject) {
				t.Errorf("notice subject %q, want it to say %q", msg.Subject, subject)
			}
		}

		// CSRF guards both DELETE routes; nothing ends without it.
		b := e.device(alice, alicePass, "b")
		a.noXSRF = true
		expect(t, a.send(http.MethodDelete, "/user/sessions", nil), http.StatusForbidden, "CSRF_INVALID")
		expect(t, a.send(http.MethodDelete, "/user/sessions/"+sidOf(t, b.token()), nil), http.StatusForbidden, "CSRF_INVALID")
		expect(t, a.post("/logout?scope=global", nil), http.StatusForbidden, "CSRF_INVALID")
		a.noXSRF = false
		live(b, true)

		// DELETE /user/sessions: every other session, with a count and a notice.
		c := e.device(alice, alicePass, "c")
		r := a.send(http.MethodDelete, "/user/sessions", nil)
		expect(t, r, http.StatusOK, "")
		var ended struct {
			Ended *int `json:"ended"`
		}
		r.json(t, &ended)
		if ended.Ended == nil || *ended.Ended != 2 || tokenCleared(r) {
			t.Fatalf("DELETE /user/sessions = %s (TOKEN cleared: %v), want {ended: 2} and TOKEN kept", r, tokenCleared(r))
		}
		live(a, true)
		live(b, false)
		live(c, false)
		notice("signed out")

		// scope=others: the same, through /logout.
		d := e.device(alice, alicePass, "d")
		r = a.post("/logout?scope=others", nil)
		expect(t, r, http.StatusNoContent, "")
		if tokenCleared(r) {
			t.Error("logout scope=others cleared TOKEN")
		}
		live(a, true)
		live(d, false)
		notice("signed out")

		// An unknown scope changes nothing.
		f := e.device(alice, alicePass, "f")
		for _, scope := range []string{"all", "GLOBAL", "local,global"} {
			expect(t, a.post("/logout?scope="+q(scope), nil, malformed...), http.StatusBadRequest, "VALIDATION_FAILED")
		}
		live(a, true)
		live(f, true)

		// scope=local (and no scope) ends the caller's session only.
		fTok := f.token()
		r = f.post("/logout?scope=local", nil)
		expect(t, r, http.StatusNoContent, "")
		if !tokenCleared(r) {
			t.Error("logout scope=local kept TOKEN")
		}
		expect(t, e.bearer(fTok).get("/verify"), http.StatusUnauthorized, "AUTH_EXPIRED")
		live(a, true)

		// scope=global: all, this one included.
		g := e.device(alice, alicePass, "g")
		aTok := a.token()
		r = a.post("/logout?scope=global", nil)
		expect(t, r, http.StatusNoContent, "")
		if !tokenCleared(r) {
			t.Error("logout scope=global kept TOKEN")
		}
		expect(t, e.bearer(aTok).get("/verify"), http.StatusUnauthorized, "AUTH_EXPIRED")
		live(g, false)
		notice("everywhere")

		// The method and the route are checked as everywhere else.
		h := e.device(alice, alicePass, "h")
		expect(t, h.post("/user/sessions", nil), http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
		expect(t, h.send(http.MethodDelete, "/user/sessions/a/b", nil), http.StatusNotFound, "NOT_FOUND")
		expect(t, e.bare().get("/user/sessions"), http.StatusUnauthorized, "AUTH_REQUIRED")
		if n := len(e.mail.All()); n != 3 {
			t.Errorf("%d mails, want the 3 notices", n)
		}
	})
}

// BenchmarkSessionsList50 is GET /user/sessions for an account that holds
// 50 sessions, the default per-account limit.
func BenchmarkSessionsList50(b *testing.B) {
	eachBenchMode(b, func(b *testing.B, m mode) {
		e := newBenchEnv(b, m)
		c, x := e.browserClient(b)
		var tok string
		for range 50 {
			tok = e.login(b, c, x)
		}
		get := func() []byte {
			req, _ := http.NewRequest(http.MethodGet, e.url+"/user/sessions", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := e.client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("GET /user/sessions = %d %s", resp.StatusCode, body)
			}
			return body
		}
		var list struct {
			Items []sessionJSON `json:"items"`
		}
		if err := json.Unmarshal(get(), &list); err != nil || len(list.Items) != 50 {
			b.Fatalf("the account lists %d sessions (%v), want 50", len(list.Items), err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			get()
		}
	})
}
