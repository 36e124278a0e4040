package test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/testinbox"
	"github.com/gatehouse/gatehouse/internal/testlark"
)

// The Lark app of the suite, and where Gatehouse sends the browser after.
const (
	larkAppID     = "cli_gatehouse_suite"
	larkAppSecret = "lark-app-secret-for-tests"
	larkFrontend  = "https://app.gatehouse.test/"
	// larkRedirect is the callback as registered with Lark. Its host is
	// not the test server's: the suite's browser follows it by path (see
	// larkEnv.callback), as a browser behind a reverse proxy would.
	larkRedirect = "https://id.gatehouse.test/auth/lark/callback"
)

var (
	larkAda = testlark.User{OpenID: "ou_ada", UnionID: "on_ada", Name: "艾达", EnName: "Ada", AvatarURL: "https://lark.example/ada.png", TenantKey: "tenant_1",
		// What Lark reports that must never match an account.
		Email: "alice@example.com", Mobile: "+8613800000001"}
	larkEve = testlark.User{OpenID: "ou_eve", UnionID: "on_eve", Name: "Eve", EnName: "Eve", TenantKey: "tenant_1"}
)

// larkEnv is a Gatehouse with Lark on, pointed at a fake Lark, whose log
// lines are kept.
type larkEnv struct {
	*env
	fake *testlark.Server
	logs *syncBuffer
}

// newLarkEnv starts Gatehouse in mode m with Lark on; Ada is signed in to
// the fake Lark.
func newLarkEnv(t *testing.T, m mode) *larkEnv {
	t.Helper()
	fake := testlark.New(t, larkAppID, larkAppSecret, larkAda)
	logs := &syncBuffer{}
	e := &env{t: t, mode: m, sms: testinbox.NewSMSInbox(t, webhookSecret), mail: testinbox.NewMailInbox(t), logs: logs}
	e.cfg = testConfig(e.sms, e.mail)
	useStoresOf(t, m, &e.cfg)
	larkConfig(&e.cfg, fake)
	if err := e.cfg.Validate(); err != nil {
		t.Fatalf("test configuration: %v", err)
	}
	e.start()
	t.Cleanup(func() {
		// No log line may carry a code or an access token Lark handed
		// out, or the app secret.
		out := logs.String()
		for _, secret := range append(fake.Issued(), larkAppSecret) {
			if strings.Contains(out, secret) {
				t.Errorf("a log line carries the Lark secret %q:\n%s", secret, out)
			}
		}
	})
	return &larkEnv{env: e, fake: fake, logs: logs}
}

func larkConfig(cfg *config.Config, fake *testlark.Server) {
	cfg.LarkAppID = larkAppID
	cfg.LarkAppSecret = larkAppSecret
	cfg.LarkRedirectURL = larkRedirect
	cfg.LarkFrontendURL = larkFrontend
	cfg.LarkAuthorizeURL = fake.AuthorizeURL()
	cfg.LarkTokenURL = fake.TokenURL()
	cfg.LarkUserInfoURL = fake.UserInfoURL()
}

// authorize opens /lark/authorize?query in c (with extra headers as name,
// value pairs) and returns where Gatehouse sends the browser, which must be
// the fake Lark.
func (le *larkEnv) authorize(c *client, query string, extra ...string) string {
	le.t.Helper()
	r := c.get("/lark/authorize?"+query, extra...)
	if r.status != http.StatusFound {
		le.t.Fatalf("GET /lark/authorize?%s = %s, want 302", query, r)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		le.t.Errorf("/lark/authorize Cache-Control = %q", cc)
	}
	loc := r.header.Get("Location")
	if !strings.HasPrefix(loc, le.fake.AuthorizeURL()+"?") {
		le.t.Fatalf("/lark/authorize sent the browser to %s", loc)
	}
	return loc
}

// visit has the person consent at the fake Lark and returns the callback
// URL Lark sends the browser back to.
func (le *larkEnv) visit(authorizeURL string) *url.URL {
	le.t.Helper()
	back := le.fake.Visit(le.t, authorizeURL)
	if got := back.Scheme + "://" + back.Host + back.Path; got != larkRedirect {
		le.t.Fatalf("Lark sent the browser back to %s, want %s", got, larkRedirect)
	}
	return back
}

// callback opens the callback URL in c, on the test server (the proxy in
// front strips /auth), and returns the answer, which must be a redirect.
func (le *larkEnv) callback(c *client, back *url.URL) *response {
	le.t.Helper()
	r := c.get(strings.TrimPrefix(back.Path, "/auth") + "?" + back.RawQuery)
	if r.status != http.StatusFound {
		le.t.Fatalf("GET /lark/callback = %s, want 302", r)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		le.t.Errorf("/lark/callback Cache-Control = %q", cc)
	}
	if ck := r.cookie("LARK_STATE"); ck == nil || ck.MaxAge >= 0 {
		le.t.Errorf("the callback did not clear LARK_STATE: %v", ck)
	}
	return r
}

// flow runs a whole sign-in in c, as a browser would: to Gatehouse, to
// Lark, back to the callback.
func (le *larkEnv) flow(c *client, action string) *response {
	le.t.Helper()
	return le.callback(c, le.visit(le.authorize(c, "action="+action)))
}

// expectLanding fails the test unless r sends the browser to the frontend
// at fragment.
func expectLanding(t *testing.T, r *response, fragment string) {
	t.Helper()
	if loc := r.header.Get("Location"); loc != larkFrontend+fragment {
		t.Fatalf("landed at %q, want %q", loc, larkFrontend+fragment)
	}
}

func expectLarkFailure(t *testing.T, r *response, code string) {
	t.Helper()
	expectLanding(t, r, "#/unauthorized?code="+code)
	if r.cookie("TOKEN") != nil && r.cookie("TOKEN").MaxAge >= 0 {
		t.Errorf("a failed Lark sign-in set TOKEN")
	}
}

// larkOf returns the caller's Lark binding as GET /user shows it.
func larkOf(t *testing.T, c *client) map[string]any {
	t.Helper()
	r := c.get("/user")
	expect(t, r, http.StatusOK, "")
	var u struct {
		Lark map[string]any `json:"lark"`
	}
	r.json(t, &u)
	return u.Lark
}

const (
	larkAlice    = "alice@example.com"
	larkPassword = "correct horse battery staple"
)

// linkedAlice creates Alice, signs her in by password in a browser and
// links Ada's Lark account to her.
func (le *larkEnv) linkedAlice() *client {
	le.t.Helper()
	le.createUser(larkAlice, larkPassword, "")
	c := le.browser()
	c.login(larkAlice, larkPassword)
	expectLanding(le.t, le.flow(c, "link"), "#/authorized")
	return c
}

func TestLarkLinkThenLogin(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		le := newLarkEnv(t, m)
		alice := le.linkedAlice()

		if msg := le.mail.WaitFor(t, larkAlice, waitDelivery); !strings.Contains(msg.Subject, "Lark was linked") {
			t.Errorf("notice subject %q", msg.Subject)
		}
		want := map[string]any{"platform": "feishu", "name": "艾达", "en_name": "Ada", "avatar_url": larkAda.AvatarURL,
			"open_id": "ou_ada", "union_id": "on_ada", "tenant_key": "tenant_1"}
		got := larkOf(t, alice)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("GET /user lark.%s = %v, want %v", k, got[k], v)
			}
		}
		if len(got) != len(want) {
			t.Errorf("GET /user lark = %v, want exactly %v", got, want)
		}

		// A new browser logs in as Alice through Lark.
		b := le.bare()
		r := le.flow(b, "login")
		expectLanding(t, r, "")
		if ck := r.cookie("TOKEN"); ck == nil || !ck.HttpOnly || ck.Value == "" {
			t.Fatalf("no TOKEN after a Lark login: %v", ck)
		}
		r = b.get("/user")
		expect(t, r, http.StatusOK, "")
		var u struct {
			Email   string `json:"email"`
			History struct {
				Method string `json:"method"`
			} `json:"history"`
		}
		r.json(t, &u)
		if u.Email != larkAlice || u.History.Method != "lark" {
			t.Errorf("after a Lark login GET /user = %s", r.body)
		}
	})
}

func TestLarkStateCookie(t *testing.T) {
	le := newLarkEnv(t, memoryMode)
	c := le.bare()
	r := c.get("/lark/authorize")
	expect(t, r, http.StatusFound, "")
	ck := r.cookie("LARK_STATE")
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Domain != "" || ck.MaxAge != 600 || ck.Path != "/" {
		t.Fatalf("LARK_STATE = %+v; want HttpOnly, Lax, host-only, 10 min", ck)
	}
	q, _ := url.Parse(r.header.Get("Location"))
	for _, k := range []string{"client_id", "redirect_uri", "response_type", "state", "code_challenge", "code_challenge_method"} {
		if q.Query().Get(k) == "" {
			t.Errorf("the authorize URL has no %s: %s", k, q)
		}
	}
	if q.Query().Get("redirect_uri") != larkRedirect || q.Query().Get("client_id") != larkAppID || q.Query().Get("code_challenge_method") != "S256" {
		t.Errorf("authorize URL %s", q)
	}
	if strings.Contains(ck.Value, q.Query().Get("code_challenge")) {
		t.Error("the cookie carries the challenge instead of the verifier")
	}

	// Past its 10 minutes the state is refused.
	back := le.visit(r.header.Get("Location"))
	le.advance(601 * time.Second)
	expectLarkFailure(t, le.callback(c, back), "LARK_STATE_INVALID")
	if n := le.fake.Requests(testlark.TokenPath); n != 0 {
		t.Errorf("an expired state's code was redeemed (%d token requests)", n)
	}
}

func TestLarkTaken(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		le := newLarkEnv(t, m)
		le.linkedAlice()
		le.createUser("bob@example.com", larkPassword, "")
		bob := le.browser()
		bob.login("bob@example.com", larkPassword)
		expectLarkFailure(t, le.flow(bob, "link"), "LARK_TAKEN")
		if got := larkOf(t, bob); got != nil {
			t.Errorf("Bob got the taken binding: %v", got)
		}
	})
}

func TestLarkNotBound(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		le := newLarkEnv(t, m)
		// Lark reports Alice's email and phone for Ada; that must not be
		// enough to log in as Alice.
		le.createUser(larkAlice, larkPassword, larkAda.Mobile)
		expectLarkFailure(t, le.flow(le.bare(), "login"), "LARK_NOT_BOUND")
	})
}

// A login CSRF: the attacker signs in to Lark as herself, stops at the
// callback and gets the victim's browser to open it. The state is not the
// victim's, so nothing is bound or logged in, and the code is never
// redeemed.
func TestLarkStateFromAnotherBrowser(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		le := newLarkEnv(t, m)
		le.createUser(larkAlice, larkPassword, "")
		victim := le.browser()
		victim.login(larkAlice, larkPassword)

		le.fake.SignIn(larkEve)
		attacker := le.browser()
		back := le.visit(le.authorize(attacker, "action=login"))

		// The victim has no Lark sign-in of her own going...
		expectLarkFailure(t, le.callback(victim, back), "LARK_STATE_INVALID")
		// ...or one of her own (a link) whose state differs.
		le.authorize(victim, "action=link")
		expectLarkFailure(t, le.callback(victim, back), "LARK_STATE_INVALID")

		if n := le.fake.Requests(testlark.TokenPath); n != 0 {
			t.Errorf("a foreign state's code was redeemed (%d token requests)", n)
		}
		if got := larkOf(t, victim); got != nil {
			t.Errorf("the victim got the attacker's Lark account: %v", got)
		}
	})
}

func TestLarkCallbackReplayed(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		le := newLarkEnv(t, m)
		le.linkedAlice()
		c := le.bare()
		back := le.visit(le.authorize(c, "action=login"))
		u, _ := url.Parse(le.srv.URL)
		var saved string
		for _, ck := range c.jar.Cookies(u) {
			if ck.Name == "LARK_STATE" {
				saved = ck.Value
			}
		}
		expectLanding(t, le.callback(c, back), "")

		// The same callback again: the cookie is gone.
		expectLarkFailure(t, le.callback(c, back), "LARK_STATE_INVALID")
		// Even with the cookie put back, the server-side state is spent.
		c.jar.SetCookies(u, []*http.Cookie{{Name: "LARK_STATE", Value: saved, Path: "/"}})
		expectLarkFailure(t, le.callback(c, back), "LARK_STATE_INVALID")
		if n := le.fake.Requests(testlark.TokenPath); n != 2 {
			t.Errorf("token requests = %d, want 2 (the link and the one login)", n)
		}
	})
}

// An intercepted code is useless with another browser's verifier: the
// attacker starts her own sign-in and feeds the victim's code to her own
// callback; Lark refuses the verifier.
func TestLarkWrongVerifier(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		le := newLarkEnv(t, m)
		le.linkedAlice()
		victimBack := le.visit(le.authorize(le.bare(), "action=login"))

		attacker := le.bare()
		own := le.visit(le.authorize(attacker, "action=login"))
		q := own.Query()
		q.Set("code", victimBack.Query().Get("code"))
		own.RawQuery = q.Encode()
		expectLarkFailure(t, le.callback(attacker, own), "LARK_FAILED")
		if refused := strings.Join(le.fake.Refused(), "\n"); !strings.Contains(refused, "code_verifier does not match") {
			t.Errorf("Lark refused for another reason: %q", refused)
		}
	})
}

func TestLarkFailures(t *testing.T) {
	cases := []struct {
		name  string
		setup func(f *testlark.Server)
	}{
		{"token endpoint down", func(f *testlark.Server) { f.FailToken(testlark.Unreachable) }},
		{"token endpoint HTTP 500", func(f *testlark.Server) { f.FailToken(testlark.HTTPError) }},
		{"token endpoint error code in HTTP 200", func(f *testlark.Server) { f.FailToken(testlark.ErrorCode) }},
		{"user info error code in HTTP 200", func(f *testlark.Server) { f.FailUserInfo(testlark.ErrorCode) }},
		{"user info down", func(f *testlark.Server) { f.FailUserInfo(testlark.Unreachable) }},
	}
	eachMode(t, func(t *testing.T, m mode) {
		le := newLarkEnv(t, m)
		alice := le.linkedAlice()
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				le.fake.FailToken(testlark.OK)
				le.fake.FailUserInfo(testlark.OK)
				back := le.visit(le.authorize(alice, "action=link"))
				tc.setup(le.fake)
				expectLarkFailure(t, le.callback(alice, back), "LARK_FAILED")
			})
		}
		le.fake.FailToken(testlark.OK)
		le.fake.FailUserInfo(testlark.OK)
		if !strings.Contains(le.logs.String(), "lark sign-in failed") {
			t.Error("Lark's failures were not logged")
		}
	})
}

func TestLarkDenied(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		le := newLarkEnv(t, m)
		le.fake.Deny(true)
		expectLarkFailure(t, le.flow(le.bare(), "login"), "LARK_DENIED")
		if n := le.fake.Requests(testlark.TokenPath); n != 0 {
			t.Errorf("token requests after a denial: %d", n)
		}
	})
}

func TestLarkUnbind(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		le := newLarkEnv(t, m)
		alice := le.linkedAlice()
		le.mail.WaitFor(t, larkAlice, waitDelivery) // the link notice
		expect(t, alice.send(http.MethodDelete, "/user/lark", nil), http.StatusNoContent, "")
		if got := larkOf(t, alice); got != nil {
			t.Errorf("still bound after DELETE /user/lark: %v", got)
		}
		if msg := le.mail.WaitFor(t, larkAlice, waitDelivery); !strings.Contains(msg.Subject, "Lark was unlinked") {
			t.Errorf("notice subject %q", msg.Subject)
		}
		expectLarkFailure(t, le.flow(le.bare(), "login"), "LARK_NOT_BOUND")
		// The identity is free for another account.
		le.createUser("bob@example.com", larkPassword, "")
		bob := le.browser()
		bob.login("bob@example.com", larkPassword)
		expectLanding(t, le.flow(bob, "link"), "#/authorized")
	})
}

func TestLarkDisabledAccount(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		le := newLarkEnv(t, m)
		le.linkedAlice()
		if err := le.app.Profile.SetActive(context.Background(), larkAlice, false); err != nil {
			t.Fatal(err)
		}
		expectLarkFailure(t, le.flow(le.bare(), "login"), "LARK_NOT_BOUND")
	})
}

func TestLarkLinkNeedsTheStartingSession(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		le := newLarkEnv(t, m)
		le.createUser(larkAlice, larkPassword, "")

		// Without a session, a link does not start.
		expect(t, le.bare().get("/lark/authorize?action=link"), http.StatusUnauthorized, "AUTH_REQUIRED")

		// The session ends between start and callback: AUTH_EXPIRED.
		c := le.browser()
		c.login(larkAlice, larkPassword)
		back := le.visit(le.authorize(c, "action=link"))
		expect(t, c.post("/logout", nil), http.StatusNoContent, "")
		expectLarkFailure(t, le.callback(c, back), "AUTH_EXPIRED")

		// Signed in again, it is a new session: the old flow's state is
		// spent anyway, and a fresh one from the old session would not do.
		c.login(larkAlice, larkPassword)
		back = le.visit(le.authorize(c, "action=link"))
		other := le.browser()
		other.login(larkAlice, larkPassword)
		u, _ := url.Parse(le.srv.URL)
		for _, ck := range c.jar.Cookies(u) {
			if ck.Name == "LARK_STATE" {
				other.jar.SetCookies(u, []*http.Cookie{{Name: "LARK_STATE", Value: ck.Value, Path: "/"}})
			}
		}
		expectLarkFailure(t, le.callback(other, back), "AUTH_EXPIRED")
		if got := larkOf(t, c); got != nil {
			t.Errorf("bound without the starting session: %v", got)
		}
	})
}

func TestLarkAuthorizeRequests(t *testing.T) {
	le := newLarkEnv(t, memoryMode)
	le.createUser(larkAlice, larkPassword, "")
	c := le.browser()
	c.login(larkAlice, larkPassword)

	expect(t, c.get("/lark/authorize?action=bind", malformed...), http.StatusBadRequest, "VALIDATION_FAILED")
	// Another site can start a login, never a link.
	le.authorize(c, "action=login", "Sec-Fetch-Site", "cross-site")
	expect(t, c.get("/lark/authorize?action=link", "Sec-Fetch-Site", "cross-site"), http.StatusForbidden, "CSRF_INVALID")
	expect(t, c.get("/lark/authorize?action=link", "Origin", "https://evil.example"), http.StatusForbidden, "CSRF_INVALID")

	// The original dashboard's way in: /options' url with its own query.
	r := c.get("/options?type=collaboration")
	expect(t, r, http.StatusOK, "")
	var opts map[string]string
	r.json(t, &opts)
	want := map[string]string{"url": "https://id.gatehouse.test/auth/lark/authorize", "redirect": larkRedirect, "app_id": larkAppID, "platform": "feishu"}
	for k, v := range want {
		if opts[k] != v {
			t.Errorf("collaboration %s = %q, want %q", k, opts[k], v)
		}
	}
	dashboard := "redirect_uri=" + q("https://elsewhere.example/") + "&app_id=other&state=" + q(`{"action":"link","locale":"zh-CN"}`)
	loc := le.authorize(c, dashboard)
	if u, _ := url.Parse(loc); u.Query().Get("redirect_uri") != larkRedirect || u.Query().Get("client_id") != larkAppID {
		t.Errorf("the dashboard's redirect_uri or app_id was used: %s", loc)
	}
	expectLanding(t, le.callback(c, le.visit(loc)), "#/authorized")
	if got := larkOf(t, c); got == nil {
		t.Error("the dashboard's link bound nothing")
	}
}

func TestLarkOff(t *testing.T) {
	e := newEnv(t, memoryMode, nil)
	c := e.browser()
	expect(t, c.get("/lark/authorize?action=login"), http.StatusNotFound, "NOT_FOUND")
	expect(t, c.get("/lark/callback?code=x&state=y"), http.StatusNotFound, "NOT_FOUND")
	expect(t, c.get("/options?type=collaboration"), http.StatusBadRequest, "OPTION_UNKNOWN")
}
