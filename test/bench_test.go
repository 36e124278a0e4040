package test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/clock"
	"github.com/gatehouse/gatehouse/domain/profile"
	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/config"
)

// benchEnv is one Gatehouse served over loopback HTTP for a benchmark, with
// the default argon2 parameters and the log SMS sender and mailer.
type benchEnv struct {
	url    string
	cfg    config.Config
	client *http.Client
}

// newBenchEnv assembles the service in mode m; it uses testing.TB only, so it
// works for benchmarks, and cleans up with tb.Cleanup.
func newBenchEnv(tb testing.TB, m mode) *benchEnv { return newBenchEnvWith(tb, m, nil) }

// newBenchEnvWith is newBenchEnv with tweak applied to the configuration.
func newBenchEnvWith(tb testing.TB, m mode, tweak func(*config.Config)) *benchEnv {
	tb.Helper()
	cfg := config.Default()
	cfg.Secret = testSecret
	cfg.Name = "gatehouse-bench"
	if tweak != nil {
		tweak(&cfg)
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var (
		a       *app.App
		cleanup func()
		err     error
	)
	if m == memoryMode {
		a, cleanup, err = app.InMemory(cfg, log, clock.System{})
	} else {
		useRealStores(tb, &cfg)
		a, cleanup, err = app.Persistent(ctx, cfg, log, clock.System{})
	}
	if err != nil {
		tb.Fatalf("assemble %s: %v", m, err)
	}
	srv := httptest.NewServer(a.Handler)
	tb.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Drain(ctx)
		cleanup()
	})
	acc := profile.NewAccount{Email: alice, Password: alicePass, Name: "Bench User"}
	if _, err := a.Profile.CreateAccount(ctx, acc); err != nil {
		tb.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 256
	return &benchEnv{url: srv.URL, cfg: cfg, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// browserClient loads GET / so its jar holds the XSRF cookie, and returns
// the client and the cookie value to echo in the header.
func (e *benchEnv) browserClient(tb testing.TB) (*http.Client, string) {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Transport: e.client.Transport, Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.Get(e.url + "/")
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	u, _ := url.Parse(e.url)
	for _, ck := range jar.Cookies(u) {
		if ck.Name == e.cfg.XSRFCookie {
			return c, ck.Value
		}
	}
	tb.Fatal("GET / set no XSRF cookie")
	return nil, ""
}

var loginBody = []byte(`{"email":"` + alice + `","password":"` + alicePass + `"}`)

// login posts the password login and returns the token.
func (e *benchEnv) login(tb testing.TB, c *http.Client, xsrf string) string {
	req, _ := http.NewRequest(http.MethodPost, e.url+"/login", bytes.NewReader(loginBody))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(e.cfg.XSRFHeader, xsrf)
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		tb.Fatalf("POST /login = %d", resp.StatusCode)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "TOKEN" {
			return ck.Value
		}
	}
	tb.Fatal("no TOKEN")
	return ""
}

func (e *benchEnv) token(tb testing.TB) string {
	c, x := e.browserClient(tb)
	return e.login(tb, c, x)
}

func eachBenchMode(b *testing.B, fn func(b *testing.B, m mode)) {
	for _, m := range []mode{memoryMode, persistentMode} {
		b.Run(string(m), func(b *testing.B) { fn(b, m) })
	}
}

// benchGet runs GET path with a Bearer token in parallel and wants status.
func benchGet(b *testing.B, path string, status int) {
	eachBenchMode(b, func(b *testing.B, m mode) {
		e := newBenchEnv(b, m)
		tok := e.token(b)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := e.client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != status {
					b.Errorf("GET %s = %d", path, resp.StatusCode)
					return
				}
			}
		})
	})
}

func BenchmarkVerify(b *testing.B) { benchGet(b, "/verify", http.StatusNoContent) }

func BenchmarkGetUser(b *testing.B) { benchGet(b, "/user", http.StatusOK) }

// BenchmarkLogin is one password login at a time with the default argon2id
// parameters (m=19 MiB, t=2, p=1): the figure is dominated by the hash.
func BenchmarkLogin(b *testing.B) {
	eachBenchMode(b, func(b *testing.B, m mode) {
		e := newBenchEnv(b, m)
		c, x := e.browserClient(b)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			e.login(b, c, x)
		}
	})
}
