package test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/internal/config"
)

// The browser test runs a frontend as a frontend team would: a page on
// app.example.test calls Gatehouse on api.example.test with fetch and
// credentials, reading XSRF-TOKEN and echoing it in X-XSRF-TOKEN as axios
// and Angular do. Both names resolve to loopback inside Chromium
// (--host-resolver-rules). example.test is not on the public suffix list,
// so Chromium takes it as the registrable domain: the two hosts are one
// site, the SameSite cookies travel between them, and Domain=example.test
// is a domain a cookie may name.
const (
	browserCookieDomain = "example.test"
	browserPageHost     = "app.example.test"
	browserAPIHost      = "api.example.test"
)

// browserPage is the frontend: one function per step, each returning what
// the test checks. It keeps nothing of its own: the cookies are the
// browser's.
const browserPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>frontend</title></head><body>
<script>
const API = new URL(location.href).searchParams.get("api");
function xsrf() {
  const m = document.cookie.match(/(?:^|; )XSRF-TOKEN=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}
async function call(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") { const x = xsrf(); if (x) headers["X-XSRF-TOKEN"] = x; }
  const r = await fetch(API + path, {method, headers, credentials: "include",
    body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) {}
  return {status: r.status, json};
}
window.frontend = {
  async start() { const r = await call("GET", "/"); return {status: r.status, xsrf: xsrf() !== ""}; },
  login(email, password) { return call("POST", "/login", {email, password}); },
  rename(name) { return call("PATCH", "/user", {key: "name", name}); },
  user() { return call("GET", "/user"); },
  logout() { return call("POST", "/logout"); },
  verify() { return call("GET", "/verify"); },
};
</script></body></html>`

// browserResult is what a frontend step returns.
type browserResult struct {
	Status int             `json:"status"`
	XSRF   bool            `json:"xsrf"`
	JSON   json.RawMessage `json:"json"`
}

func (r browserResult) String() string { return fmt.Sprintf("%d %s", r.Status, r.JSON) }

func (r browserResult) code() string {
	var b struct{ Code, Message string }
	_ = json.Unmarshal(r.JSON, &b)
	return b.Code
}

func (r browserResult) message() string {
	var b struct{ Code, Message string }
	_ = json.Unmarshal(r.JSON, &b)
	return b.Message
}

// chromiumPath finds Debian's chromium. CI installs it (.ci/run), so there
// a missing browser fails the test; elsewhere the test skips and says how
// to install it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; .ci/run installs it (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); CI installs it and never skips this test")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile, mapping every
// *.example.test name to loopback.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("host-resolver-rules", "MAP *.example.test 127.0.0.1"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser, which lives as long as the context
	// of that run: no timeout here (the test's own deadline bounds it).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func port(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	_, p, err := net.SplitHostPort(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// step runs one frontend function in the page and decodes its result.
func step(t *testing.T, ctx context.Context, call string) browserResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := chromedp.Run(ctx, chromedp.Evaluate[browserResult]("frontend."+call, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("frontend.%s: %v", call, err)
	}
	return res
}

// openFrontend serves the page on app.example.test, starts Gatehouse on
// api.example.test with the page's origin listed for CORS (and tweak
// applied), and opens the page in a new tab.
func openFrontend(t *testing.T, ctx context.Context, tweak func(*config.Config)) (*env, context.Context) {
	t.Helper()
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(browserPage))
	}))
	t.Cleanup(page.Close)
	origin := "http://" + browserPageHost + ":" + port(t, page.URL)
	e := newEnv(t, memoryMode, func(c *config.Config) {
		c.CORSOrigins = []string{origin}
		if tweak != nil {
			tweak(c)
		}
	})
	api := "http://" + browserAPIHost + ":" + port(t, e.srv.URL)
	pageURL := origin + "/?api=" + url.QueryEscape(api)

	// Each frontend gets a browser context of its own: no cookie of an
	// earlier scenario is left in its jar.
	tab, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// The first run opens the tab, which lives as long as that run's
	// context; only the navigation gets a deadline.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	nav, cancelNav := context.WithTimeout(tab, 30*time.Second)
	defer cancelNav()
	if err := chromedp.Do(nav, chromedp.Navigate(pageURL), chromedp.WaitReady("body")); err != nil {
		t.Fatalf("open %s: %v", pageURL, err)
	}
	return e, tab
}

func TestBrowserFrontendOnSiblingSubdomain(t *testing.T) {
	browser := newBrowser(t)

	t.Run("with cookie domain", func(t *testing.T) {
		e, tab := openFrontend(t, browser, func(c *config.Config) { c.CookieDomain = browserCookieDomain })
		e.createUser(alice, alicePass, "")
		if r := step(t, tab, "start()"); r.Status != http.StatusOK || !r.XSRF {
			t.Fatalf("GET / from the page: %d, XSRF-TOKEN readable by the page: %v", r.Status, r.XSRF)
		}
		if r := step(t, tab, fmt.Sprintf("login(%q, %q)", alice, alicePass)); r.Status != http.StatusNoContent {
			t.Fatalf("login: %s", r)
		}
		if r := step(t, tab, `rename("Alice From The Browser")`); r.Status != http.StatusNoContent {
			t.Fatalf("edit profile: %s", r)
		}
		r := step(t, tab, "user()")
		if r.Status != http.StatusOK || !strings.Contains(string(r.JSON), `"name":"Alice From The Browser"`) {
			t.Fatalf("GET /user after the edit: %s", r)
		}
		if r := step(t, tab, "logout()"); r.Status != http.StatusNoContent {
			t.Fatalf("logout: %s", r)
		}
		if r := step(t, tab, "verify()"); r.Status != http.StatusUnauthorized {
			t.Fatalf("verify after logout: %s", r)
		}
	})

	// Without the setting the page cannot see the host-only XSRF-TOKEN, so
	// every unsafe request is refused, and the message says why.
	t.Run("without cookie domain", func(t *testing.T) {
		e, tab := openFrontend(t, browser, nil)
		e.createUser(alice, alicePass, "")
		if r := step(t, tab, "start()"); r.Status != http.StatusOK || r.XSRF {
			t.Fatalf("GET / from the page: %d, XSRF-TOKEN readable by the page: %v (want hidden)", r.Status, r.XSRF)
		}
		r := step(t, tab, fmt.Sprintf("login(%q, %q)", alice, alicePass))
		if r.Status != http.StatusForbidden || r.code() != "CSRF_INVALID" || !strings.Contains(r.message(), "header is missing") {
			t.Fatalf("login without a readable XSRF-TOKEN: %s", r)
		}
	})
}
