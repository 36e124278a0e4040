package test

import (
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/jwt"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/storetest"
)

// storeProxy puts a proxy in front of Redis (which="redis") or PostgreSQL
// and a 500ms store timeout into the configuration.
func storeProxy(t *testing.T, which string, p **storetest.Proxy) func(*config.Config) {
	return func(cfg *config.Config) {
		raw, port := &cfg.DatabaseURL, "5432"
		if which == "redis" {
			raw, port = &cfg.RedisURL, "6379"
		}
		u, target := hostPort(t, *raw, port)
		*p = storetest.NewProxy(t, target)
		u.Host = (*p).Addr()
		*raw = u.String()
		cfg.StoreTimeout = 500 * time.Millisecond
	}
}

// TestRedisBlackholeOutage is the outage that only a timeout ends: Redis
// stops answering but no connection breaks.
func TestRedisBlackholeOutage(t *testing.T) {
	var p *storetest.Proxy
	e := newEnv(t, persistentMode, storeProxy(t, "redis", &p))
	e.createUser(alice, alicePass, "")
	c := e.browser()
	c.login(alice, alicePass)

	p.Blackhole()
	expect(t, timed(t, "GET /verify", func() *response { return c.get("/verify") }), http.StatusServiceUnavailable, "UNAVAILABLE")
	r := timed(t, "GET /readyz", func() *response { return c.get("/readyz") })
	expect(t, r, http.StatusServiceUnavailable, "UNAVAILABLE")
	if !contains(string(r.body), "redis") {
		t.Fatalf("/readyz must name redis: %s", r.body)
	}
	r = timed(t, "POST /login", func() *response {
		return e.browser().post("/login", map[string]string{"email": alice, "password": alicePass})
	})
	expect(t, r, http.StatusServiceUnavailable, "UNAVAILABLE")

	p.Restore()
	eventually(t, 10*time.Second, "/verify after Redis answers again", func() bool { return c.get("/verify").status == http.StatusNoContent })
}

// TestPostgresBlackholeOutage: PostgreSQL stops answering, nothing breaks.
func TestPostgresBlackholeOutage(t *testing.T) {
	var p *storetest.Proxy
	e := newEnv(t, persistentMode, storeProxy(t, "postgres", &p))
	e.createUser(alice, alicePass, "")
	c := e.browser()
	c.login(alice, alicePass)

	p.Blackhole()
	expect(t, timed(t, "GET /user", func() *response { return c.get("/user") }), http.StatusServiceUnavailable, "UNAVAILABLE")
	r := timed(t, "GET /readyz", func() *response { return c.get("/readyz") })
	expect(t, r, http.StatusServiceUnavailable, "UNAVAILABLE")
	if !contains(string(r.body), "postgres") {
		t.Fatalf("/readyz must name postgres: %s", r.body)
	}
	r = timed(t, "POST /login", func() *response {
		return e.browser().post("/login", map[string]string{"email": alice, "password": alicePass})
	})
	expect(t, r, http.StatusServiceUnavailable, "UNAVAILABLE")

	p.Restore()
	eventually(t, 10*time.Second, "/user after PostgreSQL answers again", func() bool { return c.get("/user").status == http.StatusOK })
	eventually(t, 5*time.Second, "/readyz after PostgreSQL answers again", func() bool { return c.get("/readyz").status == http.StatusOK })
}

// hostPort returns the host:port of a store URL, with def as the port when
// the URL has none.
func hostPort(t *testing.T, raw, def string) (*url.URL, string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	h := u.Host
	if u.Port() == "" {
		h = net.JoinHostPort(u.Hostname(), def)
	}
	return u, h
}

// eventually polls fn until it reports true or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if fn() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// timed runs one request and fails when it takes 3 s or more: an outage must
// answer within about the store timeout, not hang.
func timed(t *testing.T, what string, fn func() *response) *response {
	t.Helper()
	start := time.Now()
	r := fn()
	if d := time.Since(start); d >= 3*time.Second {
		t.Fatalf("%s took %s during the outage (store timeout 500ms)", what, d)
	}
	return r
}

func TestRedisOutage(t *testing.T) {
	var p *storetest.Proxy
	e := newEnv(t, persistentMode, storeProxy(t, "redis", &p))
	e.createUser(alice, alicePass, "")
	c := e.browser()
	c.login(alice, alicePass)
	expect(t, c.get("/verify"), http.StatusNoContent, "")

	p.Cut()
	expect(t, timed(t, "GET /verify", func() *response { return c.get("/verify") }), http.StatusServiceUnavailable, "UNAVAILABLE")
	r := timed(t, "GET /readyz", func() *response { return c.get("/readyz") })
	expect(t, r, http.StatusServiceUnavailable, "UNAVAILABLE")
	if !contains(string(r.body), "redis") || contains(string(r.body), `"postgres":"unavailable"`) {
		t.Fatalf("/readyz must name redis alone: %s", r.body)
	}
	other := e.browser() // GET / needs no store
	for _, pass := range []string{alicePass, "wrong-Password-1"} {
		r = timed(t, "POST /login", func() *response {
			return other.post("/login", map[string]string{"email": alice, "password": pass})
		})
		expect(t, r, http.StatusServiceUnavailable, "UNAVAILABLE")
	}

	p.Restore()
	eventually(t, 10*time.Second, "/verify after Redis is back", func() bool { return c.get("/verify").status == http.StatusNoContent })
	eventually(t, 5*time.Second, "/readyz after Redis is back", func() bool { return c.get("/readyz").status == http.StatusOK })
	// The login path uses more Redis connections than /verify and /readyz
	// (scripts of the lockout, the session index); on a loaded machine the
	// last of them may take a moment longer to be redialled.
	eventually(t, 5*time.Second, "a login after Redis is back", func() bool {
		return other.post("/login", map[string]string{"email": alice, "password": alicePass}).status == http.StatusNoContent
	})
}

func TestPostgresOutage(t *testing.T) {
	var p *storetest.Proxy
	e := newEnv(t, persistentMode, storeProxy(t, "postgres", &p))
	e.createUser(alice, alicePass, "")
	c := e.browser()
	c.login(alice, alicePass)
	expect(t, c.get("/user"), http.StatusOK, "")

	p.Cut()
	expect(t, timed(t, "GET /user", func() *response { return c.get("/user") }), http.StatusServiceUnavailable, "UNAVAILABLE")
	r := timed(t, "GET /readyz", func() *response { return c.get("/readyz") })
	expect(t, r, http.StatusServiceUnavailable, "UNAVAILABLE")
	if !contains(string(r.body), "postgres") || contains(string(r.body), `"redis":"unavailable"`) {
		t.Fatalf("/readyz must name postgres alone: %s", r.body)
	}
	other := e.browser()
	for _, pass := range []string{alicePass, "wrong-Password-1"} {
		r = timed(t, "POST /login", func() *response {
			return other.post("/login", map[string]string{"email": alice, "password": pass})
		})
		expect(t, r, http.StatusServiceUnavailable, "UNAVAILABLE")
	}

	p.Restore()
	eventually(t, 10*time.Second, "/user after PostgreSQL is back", func() bool { return c.get("/user").status == http.StatusOK })
	eventually(t, 5*time.Second, "/readyz after PostgreSQL is back", func() bool { return c.get("/readyz").status == http.StatusOK })
	other.login(alice, alicePass)
}

// fixedKey makes every process of a test sign with the same key.
func fixedKey(t *testing.T) func(*config.Config) {
	pem, err := jwt.GenerateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	return func(cfg *config.Config) { cfg.JWTKey = string(pem) }
}

// twin starts another process of the same service: same configuration, so
// the same schema, key prefix, secret and signing key.
func (e *env) twin() *env {
	e.t.Helper()
	o := &env{t: e.t, mode: e.mode, cfg: e.cfg, sms: e.sms, mail: e.mail}
	o.start()
	return o
}

// bearer returns a client without a cookie jar that sends tok as a Bearer
// token: no cookies, so it is exempt from the CSRF check.
func (e *env) bearer(tok string) *client {
	c := e.bare()
	c.http.Jar = nil
	c.header.Set("Authorization", "Bearer "+tok)
	return c
}

func TestRestartLosesNothing(t *testing.T) {
	first := newEnv(t, persistentMode, fixedKey(t))
	first.createUser(alice, alicePass, alicePhone)
	c := first.browser()
	c.login(alice, alicePass)
	tok := c.token()
	if tok == "" {
		t.Fatal("no TOKEN")
	}
	// The first process stops serving; its pools close at the end of the test.
	first.srv.Close()

	second := first.twin()
	b := second.bearer(tok)
	expect(t, b.get("/verify"), http.StatusNoContent, "")
	r := b.get("/user")
	expect(t, r, http.StatusOK, "")
	if !contains(string(r.body), alice) {
		t.Fatalf("GET /user after restart: %s", r.body)
	}
	// The account itself survived: a fresh login works on the new process.
	second.browser().login(alice, alicePass)
}

func TestTwoProcessesAsOneService(t *testing.T) {
	a := newEnv(t, persistentMode, fixedKey(t))
	b := a.twin()
	a.createUser(alice, alicePass, "")

	c := a.browser()
	c.login(alice, alicePass)
	tok := c.token()
	onB := b.bearer(tok)
	expect(t, onB.get("/verify"), http.StatusNoContent, "")
	expect(t, onB.get("/user"), http.StatusOK, "")

	// Refresh on B: the code is issued and redeemed there.
	var rc struct {
		Code string `json:"code"`
	}
	r := onB.get("/refresh_code")
	expect(t, r, http.StatusOK, "")
	r.json(t, &rc)
	r = onB.post("/refresh_token", map[string]string{"code": rc.Code})
	expect(t, r, http.StatusNoContent, "")
	fresh := r.cookie("TOKEN")
	if fresh == nil || fresh.Value == "" {
		t.Fatal("refresh on B gave no TOKEN")
	}
	expect(t, a.bearer(fresh.Value).get("/verify"), http.StatusNoContent, "")

	// A code issued on A is redeemed on B too.
	r = a.bearer(tok).get("/refresh_code")
	expect(t, r, http.StatusOK, "")
	r.json(t, &rc)
	expect(t, onB.post("/refresh_token", map[string]string{"code": rc.Code}), http.StatusNoContent, "")

	// Logout on A ends the session everywhere: on B within API.md's 100 ms
	// (B may hold it in its session cache until Redis's push arrives).
	expect(t, c.post("/logout", nil), http.StatusNoContent, "")
	loggedOut := time.Now()
	refusedWithin(t, b, tok, loggedOut)
	refusedWithin(t, b, fresh.Value, loggedOut)
	expect(t, onB.get("/user"), http.StatusUnauthorized, "")
}
