// Package test is the black-box suite: it assembles the whole service, serves
// it over real HTTP, and talks to it only as a client would, reading SMS
// through a local webhook receiver and mail through a local SMTP server. Each
// scenario runs against the in-memory stores, against PostgreSQL + Redis,
// and against PostgreSQL + a 3-master Redis Cluster.
package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/clock"
	"github.com/gatehouse/gatehouse/domain/profile"
	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/storetest"
	"github.com/gatehouse/gatehouse/internal/testinbox"
)

const (
	webhookSecret = "webhook-secret-for-tests"
	testSecret    = "test-secret-that-is-at-least-32-bytes-long"
	waitDelivery  = 5 * time.Second
)

// mode is where the stores live.
type mode string

const (
	memoryMode     mode = "memory"
	persistentMode mode = "postgres+redis"
	clusterMode    mode = "postgres+cluster"
)

// TestMain gives the suite a Redis Cluster: the one
// GATEHOUSE_TEST_REDIS_CLUSTER_URL names (CI starts it), or one it starts
// itself with test/redis-cluster.sh.
func TestMain(m *testing.M) { os.Exit(storetest.RunWithRedisCluster(m)) }

// eachMode runs fn once per store mode. The real stores' modes skip only
// when a test URL is explicitly "skip" (see storetest).
func eachMode(t *testing.T, fn func(t *testing.T, m mode)) {
	t.Helper()
	for _, m := range []mode{memoryMode, persistentMode, clusterMode} {
		t.Run(string(m), func(t *testing.T) {
			switch m {
			case persistentMode:
				storetest.DatabaseURL(t)
				storetest.RedisURL(t)
			case clusterMode:
				storetest.DatabaseURL(t)
				storetest.RedisClusterURL(t)
			}
			fn(t, m)
		})
	}
}

// env is one running Gatehouse with its inboxes.
type env struct {
	t     *testing.T
	mode  mode
	cfg   config.Config
	app   *app.App
	srv   *httptest.Server
	clock *clock.Fake // nil in persistent mode, where time is real
	sms   *testinbox.SMSInbox
	mail  *testinbox.MailInbox
	// logs, when set before start, receives every log line of the service
	// at debug level, for tests that check what is logged.
	logs io.Writer
}

// testConfig is the configuration every test starts from: webhook SMS and
// SMTP delivery to the test's own inboxes, and cheap argon2 parameters so the
// race detector stays fast (the real parameters have their own tests).
func testConfig(sms *testinbox.SMSInbox, mail *testinbox.MailInbox) config.Config {
	cfg := config.Default()
	cfg.Secret = testSecret
	cfg.SMSProvider = "webhook"
	cfg.SMSWebhookURL = sms.URL()
	cfg.SMSWebhookSecret = webhookSecret
	cfg.SMTPAddr = mail.Addr()
	cfg.SMTPTLS = "none"
	cfg.SMTPFrom = "Gatehouse <no-reply@gatehouse.test>"
	cfg.Argon2Memory = 1024
	cfg.Argon2Iterations = 1
	cfg.Name = "gatehouse-test"
	return cfg
}

// newEnv starts a service in mode m; tweak may change the configuration.
func newEnv(t *testing.T, m mode, tweak func(*config.Config)) *env {
	t.Helper()
	e := &env{t: t, mode: m, sms: testinbox.NewSMSInbox(t, webhookSecret), mail: testinbox.NewMailInbox(t)}
	e.cfg = testConfig(e.sms, e.mail)
	useStoresOf(t, m, &e.cfg)
	if tweak != nil {
		tweak(&e.cfg)
	}
	if err := e.cfg.Validate(); err != nil {
		t.Fatalf("test configuration: %v", err)
	}
	e.start()
	return e
}

// start assembles the app and serves it. Persistent mode may start a second
// process on the same stores (see restart and twin).
func (e *env) start() {
	t := e.t
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if e.logs != nil {
		log = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	var (
		a       *app.App
		cleanup func()
		err     error
	)
	if e.mode == memoryMode {
		if e.clock == nil {
			e.clock = clock.NewFake(time.Now())
		}
		a, cleanup, err = app.InMemory(e.cfg, log, e.clock)
	} else {
		a, cleanup, err = app.Persistent(context.Background(), e.cfg, log, clock.System{})
	}
	if err != nil {
		t.Fatalf("assemble %s: %v", e.mode, err)
	}
	if err := a.Seed(context.Background()); err != nil {
		t.Fatalf("seed: %v", err)
	}
	e.app = a
	e.srv = httptest.NewServer(a.Handler)
	t.Cleanup(func() {
		e.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Drain(ctx)
		cleanup()
	})
}

// useRealStores points cfg at a fresh PostgreSQL schema, migrated at start,
// and a fresh Redis key prefix, both removed when tb ends.
func useRealStores(tb testing.TB, cfg *config.Config) {
	tb.Helper()
	useRealStoresAt(tb, cfg, storetest.RedisURL(tb))
}

// useRealStoresAt is useRealStores on the Redis (or cluster) at redisURL.
func useRealStoresAt(tb testing.TB, cfg *config.Config, redisURL string) {
	tb.Helper()
	cfg.DatabaseURL, _ = storetest.Schema(tb)
	cfg.RedisURL = redisURL
	cfg.RedisKeyPrefix = storetest.RedisPrefixAt(tb, redisURL)
	cfg.MigrateOnStart = true
}

// useStoresOf points cfg at the stores of mode m: nothing to do in memory.
func useStoresOf(tb testing.TB, m mode, cfg *config.Config) {
	tb.Helper()
	switch m {
	case persistentMode:
		useRealStores(tb, cfg)
	case clusterMode:
		useRealStoresAt(tb, cfg, storetest.RedisClusterURL(tb))
	}
}

// advance moves time forward: the fake clock in memory mode. Tests that need
// it run in memory mode only.
func (e *env) advance(d time.Duration) {
	e.t.Helper()
	if e.clock == nil {
		e.t.Fatal("advance needs the fake clock of memory mode")
	}
	e.clock.Advance(d)
}

// createUser makes an account through the profile service, as the seed file
// or the CLI would.
func (e *env) createUser(email, password, phone string) {
	e.t.Helper()
	acc := profile.NewAccount{Email: email, Password: password, Phone: phone, Name: "Test User"}
	if _, err := e.app.Profile.CreateAccount(context.Background(), acc); err != nil {
		e.t.Fatalf("create %s: %v", email, err)
	}
}

// client is a browser-like HTTP client with its own cookie jar.
type client struct {
	e    *env
	http *http.Client
	jar  *cookiejar.Jar
	// header is sent with every request (Accept-Language, X-Forwarded-For...).
	header http.Header
	// noXSRF leaves out the X-XSRF-TOKEN header.
	noXSRF bool
}

// browser returns a client that has loaded GET / and so holds XSRF-TOKEN.
func (e *env) browser() *client {
	e.t.Helper()
	c := e.bare()
	if r := c.get("/"); r.status != http.StatusOK {
		e.t.Fatalf("GET / = %d", r.status)
	}
	return c
}

// bare returns a client with an empty cookie jar.
func (e *env) bare() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, jar: jar, header: http.Header{}, http: &http.Client{
		Jar: jar,
		// Every exchange is checked against the OpenAPI document.
		Transport:     newSpecTransport(e.t),
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// code is the error code of a failure body.
func (r *response) code() string {
	var b struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(r.body, &b)
	return b.Code
}

func (r *response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// cookie returns the Set-Cookie of name in the response, or nil.
func (r *response) cookie(name string) *http.Cookie {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (r *response) String() string {
	return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.body))
}

func (c *client) xsrf() string {
	u, _ := url.Parse(c.e.srv.URL)
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name == c.e.cfg.XSRFCookie {
			return ck.Value
		}
	}
	return ""
}

// token returns the TOKEN cookie the client holds.
func (c *client) token() string {
	u, _ := url.Parse(c.e.srv.URL)
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name == "TOKEN" {
			return ck.Value
		}
	}
	return ""
}

// raw sends a request with a raw body and content type.
func (c *client) raw(method, path, contentType string, body []byte, extra ...string) *response {
	c.e.t.Helper()
	req, err := http.NewRequest(method, c.e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		c.e.t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if method != http.MethodGet && !c.noXSRF {
		if x := c.xsrf(); x != "" {
			req.Header.Set(c.e.cfg.XSRFHeader, x)
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &response{status: resp.StatusCode, header: resp.Header, body: b}
}

// send sends body (nil for none) as JSON.
func (c *client) send(method, path string, body any, extra ...string) *response {
	c.e.t.Helper()
	if body == nil {
		return c.raw(method, path, "", nil, extra...)
	}
	b, err := json.Marshal(body)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return c.raw(method, path, "application/json", b, extra...)
}

func (c *client) get(path string, extra ...string) *response {
	c.e.t.Helper()
	return c.raw(http.MethodGet, path, "", nil, extra...)
}

func (c *client) post(path string, body any, extra ...string) *response {
	c.e.t.Helper()
	return c.send(http.MethodPost, path, body, extra...)
}

// expect fails the test unless r has the status and, for failures, the code.
func expect(t *testing.T, r *response, status int, code string) {
	t.Helper()
	if r.status != status || (code != "" && r.code() != code) {
		t.Fatalf("got %s, want %d %s", r, status, code)
	}
}

// login logs c in by password and fails the test otherwise.
func (c *client) login(email, password string) {
	c.e.t.Helper()
	expect(c.e.t, c.post("/login", map[string]string{"email": email, "password": password}), http.StatusNoContent, "")
}

// q escapes a query value.
func q(s string) string { return url.QueryEscape(s) }

// contains reports whether s contains every part.
func contains(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// syncBuffer collects the service's log lines from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
