package test

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/jwt"
	"github.com/gatehouse/gatehouse/internal/config"
)

// tcpProxy forwards loopback connections to a store. cut closes every
// connection and refuses new ones (accepted then closed at once) until
// restore, which is how an outage of the store looks to Gatehouse.
type tcpProxy struct {
	t      *testing.T
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	hang  bool // blackhole: keep connections open, forward nothing
	conns map[net.Conn]struct{}
	hung  []net.Conn // accepted while blackholed: never reached the store
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{t: t, ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down, hang := p.down, p.hang
		if hang {
			p.conns[in] = struct{}{}
			p.hung = append(p.hung, in)
		}
		p.mu.Unlock()
		if hang {
			go p.pipe(io.Discard, in)
			continue
		}
		if down {
			in.Close()
			continue
		}
		out, err := net.DialTimeout("tcp", p.target, 2*time.Second)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		if p.down { // cut while dialling
			p.mu.Unlock()
			in.Close()
			out.Close()
			continue
		}
		p.conns[in] = struct{}{}
		p.conns[out] = struct{}{}
		p.mu.Unlock()
		go p.pipe(in, out)
		go p.pipe(out, in)
	}
}

func (p *tcpProxy) pipe(dst io.Writer, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			hang := p.hang
			p.mu.Unlock()
			if !hang { // a blackhole swallows the bytes
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
		}
		if err != nil {
			break
		}
	}
	src.Close()
	p.mu.Lock()
	delete(p.conns, src)
	if c, ok := dst.(net.Conn); ok {
		c.Close()
		delete(p.conns, c)
	}
	p.mu.Unlock()
}

// blackhole keeps every connection open but forwards nothing, as a store
// that hangs (or a network that drops packets) looks.
func (p *tcpProxy) blackhole() {
	p.mu.Lock()
	p.hang = true
	p.mu.Unlock()
}

// cut drops every open connection and refuses new ones.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// restore lets connections through again.
func (p *tcpProxy) restore() {
	p.mu.Lock()
	p.down, p.hang = false, false
	// Connections opened during a blackhole never reached the store; they
	// end as a reset would end them (pgx's cancel requests wait on them).
	for _, c := range p.hung {
		c.Close()
	}
	p.hung = nil
	p.mu.Unlock()
}

func (p *tcpProxy) close() {
	p.ln.Close()
	p.cut()
}

// storeProxy puts a proxy in front of Redis (which="redis") or PostgreSQL
// and a 500ms store timeout into the configuration.
func storeProxy(t *testing.T, which string, p **tcpProxy) func(*config.Config) {
	return func(cfg *config.Config) {
		raw, port := &cfg.DatabaseURL, "5432"
		if which == "redis" {
			raw, port = &cfg.RedisURL, "6379"
		}
		u, target := hostPort(t, *raw, port)
		*p = newTCPProxy(t, target)
		u.Host = (*p).addr()
		*raw = u.String()
		cfg.StoreTimeout = 500 * time.Millisecond
	}
}

// TestRedisBlackholeOutage is the outage that only a timeout ends: Redis
// stops answering but no connection breaks.
func TestRedisBlackholeOutage(t *testing.T) {
	skipWithoutStores(t)
	var p *tcpProxy
	e := newEnv(t, persistentMode, storeProxy(t, "redis", &p))
	e.createUser(alice, alicePass, "")
	c := e.browser()
	c.login(alice, alicePass)

	p.blackhole()
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

	p.restore()
	eventually(t, 10*time.Second, "/verify after Redis answers again", func() bool { return c.get("/verify").status == http.StatusNoContent })
}

// TestPostgresBlackholeOutage: PostgreSQL stops answering, nothing breaks.
func TestPostgresBlackholeOutage(t *testing.T) {
	skipWithoutStores(t)
	var p *tcpProxy
	e := newEnv(t, persistentMode, storeProxy(t, "postgres", &p))
	e.createUser(alice, alicePass, "")
	c := e.browser()
	c.login(alice, alicePass)

	p.blackhole()
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

	p.restore()
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

func skipWithoutStores(t *testing.T) {
	t.Helper()
	if testDatabaseURL() == "skip" || testRedisURL() == "skip" {
		t.Skip("GATEHOUSE_TEST_DATABASE_URL or GATEHOUSE_TEST_REDIS_URL is skip")
	}
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
	skipWithoutStores(t)
	var p *tcpProxy
	e := newEnv(t, persistentMode, func(cfg *config.Config) {
		u, target := hostPort(t, cfg.RedisURL, "6379")
		p = newTCPProxy(t, target)
		u.Host = p.addr()
		cfg.RedisURL = u.String()
		cfg.StoreTimeout = 500 * time.Millisecond
	})
	e.createUser(alice, alicePass, "")
	c := e.browser()
	c.login(alice, alicePass)
	expect(t, c.get("/verify"), http.StatusNoContent, "")

	p.cut()
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

	p.restore()
	eventually(t, 10*time.Second, "/verify after Redis is back", func() bool { return c.get("/verify").status == http.StatusNoContent })
	eventually(t, 5*time.Second, "/readyz after Redis is back", func() bool { return c.get("/readyz").status == http.StatusOK })
	other.login(alice, alicePass)
}

func TestPostgresOutage(t *testing.T) {
	skipWithoutStores(t)
	var p *tcpProxy
	e := newEnv(t, persistentMode, func(cfg *config.Config) {
		u, target := hostPort(t, cfg.DatabaseURL, "5432")
		p = newTCPProxy(t, target)
		u.Host = p.addr()
		cfg.DatabaseURL = u.String()
		cfg.StoreTimeout = 500 * time.Millisecond
	})
	e.createUser(alice, alicePass, "")
	c := e.browser()
	c.login(alice, alicePass)
	expect(t, c.get("/user"), http.StatusOK, "")

	p.cut()
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

	p.restore()
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
	skipWithoutStores(t)
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
	skipWithoutStores(t)
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

	// Logout on A ends the session everywhere.
	expect(t, c.post("/logout", nil), http.StatusNoContent, "")
	expect(t, onB.get("/verify"), http.StatusUnauthorized, "")
	expect(t, b.bearer(fresh.Value).get("/verify"), http.StatusUnauthorized, "")
	expect(t, onB.get("/user"), http.StatusUnauthorized, "")
}
