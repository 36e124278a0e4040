package test

// api_conventions_test.go checks the conventions of API.md that every route shares:
// body parsing, media types, limits, routing errors, CSRF and cross-site
// refusal, CORS, security headers, cookies, GET /, /options, JWKS, auth
// errors, code lifetimes and throttles, and mail language.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/gatehouse/gatehouse/adapters/jwt"
	"github.com/gatehouse/gatehouse/internal/config"
)

const (
	ctAllowedOrigin = "https://app.example"
	ctEvilOrigin    = "https://evil.example"
)

// ctFail checks status and code and that the failure body has exactly the
// keys code and message.
func ctFail(t *testing.T, r *response, status int, code string) {
	t.Helper()
	expect(t, r, status, code)
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("failure body is not a JSON object: %s", r)
	}
	if len(body) != 2 || body["code"] == nil || body["message"] == nil {
		t.Fatalf("failure body must have exactly code and message: %s", r)
	}
	if s, _ := body["message"].(string); s == "" {
		t.Fatalf("empty message: %s", r)
	}
}

// ctLoginBody is a well-formed login body.
func ctLoginBody() map[string]string {
	return map[string]string{"email": alice, "password": alicePass}
}

// ctChunked sends body without a Content-Length (chunked encoding).
func ctChunked(c *client, method, path, contentType string, body []byte) *response {
	c.e.t.Helper()
	req, err := http.NewRequest(method, c.e.srv.URL+path, io.MultiReader(bytes.NewReader(body)))
	if err != nil {
		c.e.t.Fatal(err)
	}
	req.ContentLength = -1
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(c.e.cfg.XSRFHeader, c.xsrf())
	resp, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &response{status: resp.StatusCode, header: resp.Header, body: b}
}

// ctJWTPart decodes part i (0 header, 1 payload) of a JWT.
func ctJWTPart(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWS compact serialization", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("decode JWT part %d: %v", i, err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("JWT part %d: %v", i, err)
	}
	return out
}

func ctReleaseTweak(t *testing.T) func(*config.Config) {
	key, err := jwt.GenerateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	return func(c *config.Config) {
		c.Mode = config.ModeRelease
		c.JWTKey = string(key)
	}
}

func TestContractBodyConventions(t *testing.T) {
	e := newEnv(t, memoryMode, nil)
	e.createUser(alice, alicePass, "")
	c := e.browser()
	for name, body := range map[string]string{
		"empty":         "",
		"spaces":        "   ",
		"null":          "null",
		"array":         "[]",
		"string":        `"x"`,
		"trailing":      `{"email":"alice@example.com","password":"correct-Horse-42"} {}`,
		"trailing junk": `{"email":"alice@example.com","password":"correct-Horse-42"}x`,
		"unknown field": `{"email":"alice@example.com","password":"correct-Horse-42","admin":true}`,
		"wrong type":    `{"email":"alice@example.com","password":42}`,
		"malformed":     `{"email":`,
	} {
		t.Run(name, func(t *testing.T) {
			ctFail(t, c.raw(http.MethodPost, "/login", "application/json", []byte(body), malformed...), http.StatusBadRequest, "VALIDATION_FAILED")
		})
	}
	good, _ := json.Marshal(ctLoginBody())
	ctFail(t, c.raw(http.MethodPost, "/login", "text/plain", good), http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE")
	ctFail(t, c.raw(http.MethodPost, "/login", "application/x-www-form-urlencoded", []byte("email=a&password=b")), http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE")
	ctFail(t, c.raw(http.MethodPost, "/login", "", good), http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE")
	expect(t, c.raw(http.MethodPost, "/login", "application/json; charset=utf-8", good), http.StatusNoContent, "")

	// Over the default 64 KiB limit, with and without Content-Length.
	big := []byte(`{"email":"alice@example.com","password":"` + strings.Repeat("a", 70<<10) + `"}`)
	ctFail(t, c.raw(http.MethodPost, "/login", "application/json", big), http.StatusRequestEntityTooLarge, "BODY_TOO_LARGE")
	ctFail(t, ctChunked(c, http.MethodPost, "/login", "application/json", big), http.StatusRequestEntityTooLarge, "BODY_TOO_LARGE")

	// Routing errors.
	ctFail(t, c.get("/no/such/route"), http.StatusNotFound, "NOT_FOUND")
	ctFail(t, c.post("/nope", ctLoginBody()), http.StatusNotFound, "NOT_FOUND")
	ctFail(t, c.send(http.MethodPut, "/login", ctLoginBody()), http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
	ctFail(t, c.post("/verify", nil), http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
	ctFail(t, c.send(http.MethodDelete, "/login", nil), http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
}

func TestContractSmallBodyLimit(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, func(c *config.Config) { c.BodyLimit = 128 })
		e.createUser(alice, alicePass, "")
		c := e.browser()
		big := []byte(`{"email":"alice@example.com","password":"` + strings.Repeat("a", 200) + `"}`)
		ctFail(t, c.raw(http.MethodPost, "/login", "application/json", big), http.StatusRequestEntityTooLarge, "BODY_TOO_LARGE")
		ctFail(t, ctChunked(c, http.MethodPost, "/login", "application/json", big), http.StatusRequestEntityTooLarge, "BODY_TOO_LARGE")
		c.login(alice, alicePass) // a small body still passes
	})
}

func TestContractCSRFOnEveryUnsafeRoute(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, alicePhone)
		routes := []struct {
			method, path string
			body         any
		}{
			{http.MethodPost, "/login", ctLoginBody()},
			{http.MethodPost, "/login/sms", map[string]string{"phone": alicePhone, "code": "123456"}},
			{http.MethodPost, "/login/totp", map[string]string{"email": alice, "code": "123456"}},
			{http.MethodPost, "/forget_reset", map[string]string{"email": alice, "code": "123456", "password": "new-Password-77"}},
			{http.MethodPost, "/refresh_token", map[string]string{"code": "123456"}},
			{http.MethodPost, "/logout", nil},
			{http.MethodPatch, "/user", map[string]string{"key": "Name", "name": "Mallory"}},
			{http.MethodPost, "/user/password", map[string]string{"old": alicePass, "password": "new-Password-77"}},
			{http.MethodPost, "/user/phone", map[string]string{"phone": "+8613900139000", "code": "123456"}},
			{http.MethodPost, "/user/totp", map[string]any{"totp": "otpauth://totp/x", "tss": []string{"123456", "654321"}}},
			{http.MethodDelete, "/user/phone", nil},
		}
		c := e.browser()
		c.login(alice, alicePass)
		tok := c.token()
		for _, rt := range routes {
			name := rt.method + " " + rt.path
			// Cookies but no header.
			c.noXSRF = true
			r := c.send(rt.method, rt.path, rt.body)
			c.noXSRF = false
			if r.status != http.StatusForbidden || r.code() != "CSRF_INVALID" {
				t.Errorf("%s without X-XSRF-TOKEN: got %s, want 403 CSRF_INVALID", name, r)
			}
			// A header that does not match the cookie.
			r = c.send(rt.method, rt.path, rt.body, e.cfg.XSRFHeader, c.xsrf()+"x")
			if r.status != http.StatusForbidden || r.code() != "CSRF_INVALID" {
				t.Errorf("%s with a mismatched X-XSRF-TOKEN: got %s, want 403 CSRF_INVALID", name, r)
			}
			// A matching pair the server never signed, with a valid TOKEN.
			f := e.bare()
			f.noXSRF = true
			r = f.send(rt.method, rt.path, rt.body, "Cookie", e.cfg.XSRFCookie+"=abc.def; TOKEN="+tok, e.cfg.XSRFHeader, "abc.def")
			if r.status != http.StatusForbidden || r.code() != "CSRF_INVALID" {
				t.Errorf("%s with a forged cookie+header pair: got %s, want 403 CSRF_INVALID", name, r)
			}
			// A Bearer token together with cookies is not exempt.
			r = f.send(rt.method, rt.path, rt.body, "Cookie", e.cfg.XSRFCookie+"=abc.def", "Authorization", "Bearer "+tok)
			if r.status != http.StatusForbidden || r.code() != "CSRF_INVALID" {
				t.Errorf("%s with Bearer and a cookie but no header: got %s, want 403 CSRF_INVALID", name, r)
			}
		}
		// Nothing changed: the session lives, the name and phone are as before.
		expect(t, c.get("/verify"), http.StatusNoContent, "")
		var u struct {
			Name  string `json:"name"`
			Phone string `json:"phone"`
		}
		r := c.get("/user")
		expect(t, r, http.StatusOK, "")
		r.json(t, &u)
		if u.Name != "Test User" || u.Phone != "*" {
			t.Fatalf("refused requests changed the account: %s", r.body)
		}
		c.noXSRF = true
		expect(t, c.post("/user/password", map[string]string{"old": alicePass, "password": "new-Password-77"}), http.StatusForbidden, "CSRF_INVALID")
		c.noXSRF = false
		e.browser().login(alice, alicePass) // password unchanged

		// Bearer without any cookie and without the header is exempt.
		b := e.bare()
		b.noXSRF = true
		expect(t, b.post("/logout", nil, "Authorization", "Bearer "+tok), http.StatusNoContent, "")
		expect(t, c.get("/verify"), http.StatusUnauthorized, "AUTH_EXPIRED")
	})
}

func TestContractCrossSite(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, func(c *config.Config) { c.CORSOrigins = []string{ctAllowedOrigin} })
		e.createUser(alice, alicePass, alicePhone)
		c := e.browser()
		ctFail(t, c.post("/login", ctLoginBody(), "Sec-Fetch-Site", "cross-site"), http.StatusForbidden, "CSRF_INVALID")
		ctFail(t, c.post("/login", ctLoginBody(), "Origin", ctEvilOrigin), http.StatusForbidden, "CSRF_INVALID")
		ctFail(t, c.post("/login", ctLoginBody(), "Origin", "null"), http.StatusForbidden, "CSRF_INVALID")
		ctFail(t, c.get("/login/sms?phone="+q(alicePhone), "Sec-Fetch-Site", "cross-site"), http.StatusForbidden, "CSRF_INVALID")
		ctFail(t, c.get("/forget_code?email="+q(alice), "Sec-Fetch-Site", "cross-site"), http.StatusForbidden, "CSRF_INVALID")
		ctFail(t, c.get("/login/sms?phone="+q(alicePhone), "Origin", ctEvilOrigin), http.StatusForbidden, "CSRF_INVALID")
		time.Sleep(300 * time.Millisecond)
		if n := e.sms.Requests(); n != 0 {
			t.Fatalf("cross-site GET /login/sms sent %d SMS", n)
		}
		if n := len(e.mail.All()); n != 0 {
			t.Fatalf("cross-site GET /forget_code sent %d mails", n)
		}
		// The authenticated GET routes that send or mint a code refuse too.
		a := e.browser()
		a.login(alice, alicePass)
		for _, path := range []string{"/user/phone_code?phone=" + q("+8613900139000"), "/user/totp", "/refresh_code"} {
			ctFail(t, a.get(path, "Sec-Fetch-Site", "cross-site"), http.StatusForbidden, "CSRF_INVALID")
			ctFail(t, a.get(path, "Origin", ctEvilOrigin), http.StatusForbidden, "CSRF_INVALID")
		}
		time.Sleep(300 * time.Millisecond)
		if n := e.sms.Requests(); n != 0 {
			t.Fatalf("cross-site GET /user/phone_code sent %d SMS", n)
		}
		// Same-site and same-origin requests pass.
		expect(t, c.get("/login/sms?phone="+q(alicePhone), "Sec-Fetch-Site", "same-origin"), http.StatusNoContent, "")
		e.sms.WaitFor(t, alicePhone, "login", waitDelivery)
		expect(t, c.post("/login", ctLoginBody(), "Origin", e.srv.URL, "Sec-Fetch-Site", "same-origin"), http.StatusNoContent, "")
		// A listed origin passes although cross-site.
		expect(t, c.post("/login", ctLoginBody(), "Origin", ctAllowedOrigin, "Sec-Fetch-Site", "cross-site"), http.StatusNoContent, "")
		expect(t, c.get("/forget_code?email="+q(alice), "Origin", ctAllowedOrigin, "Sec-Fetch-Site", "cross-site"), http.StatusNoContent, "")
		e.mail.WaitFor(t, alice, waitDelivery)
	})
}

func TestContractCORS(t *testing.T) {
	e := newEnv(t, memoryMode, func(c *config.Config) { c.CORSOrigins = []string{ctAllowedOrigin} })
	c := e.browser()
	for _, path := range []string{"/", "/healthz", "/no/such/route"} {
		r := c.get(path, "Origin", ctAllowedOrigin)
		if got := r.header.Get("Access-Control-Allow-Origin"); got != ctAllowedOrigin {
			t.Fatalf("GET %s from listed origin: Access-Control-Allow-Origin = %q", path, got)
		}
		if got := r.header.Get("Access-Control-Allow-Credentials"); got != "true" {
			t.Fatalf("GET %s: Access-Control-Allow-Credentials = %q", path, got)
		}
		if !strings.Contains(strings.Join(r.header.Values("Vary"), ","), "Origin") {
			t.Fatalf("GET %s: Vary = %q", path, r.header.Values("Vary"))
		}
	}
	for _, o := range []string{ctEvilOrigin, "null", ctAllowedOrigin + ".evil.example", "http://app.example"} {
		r := c.get("/", "Origin", o)
		if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Fatalf("unlisted origin %q got Access-Control-Allow-Origin %q", o, got)
		}
		if r.header.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("unlisted origin %q got Access-Control-Allow-Credentials", o)
		}
	}
	// Preflight from the listed origin.
	r := c.raw(http.MethodOptions, "/login", "", nil, "Origin", ctAllowedOrigin,
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type, x-xsrf-token")
	if r.status < 200 || r.status > 299 {
		t.Fatalf("preflight: %s", r)
	}
	if r.header.Get("Access-Control-Allow-Origin") != ctAllowedOrigin || r.header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("preflight headers: %v", r.header)
	}
	if !strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight Access-Control-Allow-Methods = %q", r.header.Get("Access-Control-Allow-Methods"))
	}
	allowH := strings.ToLower(r.header.Get("Access-Control-Allow-Headers"))
	if !strings.Contains(allowH, "content-type") || !strings.Contains(allowH, strings.ToLower(e.cfg.XSRFHeader)) {
		t.Fatalf("preflight Access-Control-Allow-Headers = %q", allowH)
	}
	// Preflight from an unlisted origin gets no allow headers.
	r = c.raw(http.MethodOptions, "/login", "", nil, "Origin", ctEvilOrigin, "Access-Control-Request-Method", "POST")
	if r.header.Get("Access-Control-Allow-Origin") != "" || r.header.Get("Access-Control-Allow-Methods") != "" {
		t.Fatalf("preflight from unlisted origin: %d %v", r.status, r.header)
	}
	// Never "*".
	for _, o := range []string{"", ctAllowedOrigin, ctEvilOrigin} {
		r := c.get("/", "Origin", o)
		if r.header.Get("Access-Control-Allow-Origin") == "*" {
			t.Fatal("Access-Control-Allow-Origin is *")
		}
	}
}

func ctCheckSecurityHeaders(t *testing.T, what string, r *response) {
	t.Helper()
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s: %s = %q, want %q", what, k, got, want)
		}
	}
	if s := r.header.Get("Server"); s != "" {
		t.Errorf("%s: Server header %q", what, s)
	}
	if s := r.header.Get("X-Powered-By"); s != "" {
		t.Errorf("%s: X-Powered-By header %q", what, s)
	}
}

func TestContractSecurityHeadersAndCookies(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		c := e.bare()
		home := c.get("/")
		expect(t, home, http.StatusOK, "")
		ctCheckSecurityHeaders(t, "GET / (200)", home)
		x := home.cookie(e.cfg.XSRFCookie)
		if x == nil || x.HttpOnly || x.SameSite != http.SameSiteStrictMode || x.Path != "/" || x.Secure || x.Value == "" {
			t.Fatalf("XSRF-TOKEN cookie in debug mode: %+v", x)
		}
		login := c.post("/login", ctLoginBody())
		expect(t, login, http.StatusNoContent, "")
		ctCheckSecurityHeaders(t, "POST /login (204)", login)
		if tk := login.cookie("TOKEN"); tk == nil || tk.Secure || !tk.HttpOnly {
			t.Fatalf("TOKEN in debug mode: %+v", tk)
		}
		if cc := login.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("POST /login Cache-Control = %q", cc)
		}
		failed := c.post("/login", map[string]string{"email": alice, "password": "wrong-Password-1"})
		if cc := failed.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("failed POST /login Cache-Control = %q", cc)
		}
		user := c.get("/user")
		expect(t, user, http.StatusOK, "")
		ctCheckSecurityHeaders(t, "GET /user (200)", user)
		if cc := user.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("GET /user Cache-Control = %q", cc)
		}
		nf := c.get("/no/such/route")
		ctFail(t, nf, http.StatusNotFound, "NOT_FOUND")
		ctCheckSecurityHeaders(t, "404", nf)
		unauth := e.bare().get("/user")
		ctFail(t, unauth, http.StatusUnauthorized, "AUTH_REQUIRED")
		ctCheckSecurityHeaders(t, "401", unauth)
		if cc := unauth.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("401 GET /user Cache-Control = %q", cc)
		}
		m405 := c.send(http.MethodPut, "/login", ctLoginBody())
		ctCheckSecurityHeaders(t, "405", m405)
		if home.header.Get("Strict-Transport-Security") != "" {
			t.Error("debug mode sent HSTS")
		}
	})
}

func TestContractReleaseMode(t *testing.T) {
	e := newEnv(t, memoryMode, ctReleaseTweak(t))
	e.createUser(alice, alicePass, "")
	c := e.bare()
	home := c.get("/")
	expect(t, home, http.StatusOK, "")
	ctCheckSecurityHeaders(t, "release GET /", home)
	if h := home.header.Get("Strict-Transport-Security"); !strings.Contains(h, "max-age=") {
		t.Fatalf("release mode HSTS = %q", h)
	}
	var body map[string]any
	home.json(t, &body)
	if _, ok := body["values"]; ok {
		t.Fatalf("release mode GET / shows values: %s", home.body)
	}
	x := home.cookie(e.cfg.XSRFCookie)
	if x == nil || !x.Secure || x.HttpOnly || x.SameSite != http.SameSiteStrictMode || x.Path != "/" {
		t.Fatalf("release XSRF-TOKEN: %+v", x)
	}
	// The jar keeps Secure cookies off plain HTTP, so send the pair by hand.
	c.noXSRF = true
	r := c.post("/login", ctLoginBody(), "Cookie", e.cfg.XSRFCookie+"="+x.Value, e.cfg.XSRFHeader, x.Value)
	expect(t, r, http.StatusNoContent, "")
	if h := r.header.Get("Strict-Transport-Security"); h == "" {
		t.Fatal("release 204 without HSTS")
	}
	tk := r.cookie("TOKEN")
	if tk == nil || !tk.Secure || !tk.HttpOnly || tk.SameSite != http.SameSiteLaxMode || tk.Path != "/" {
		t.Fatalf("release TOKEN: %+v", tk)
	}
	nf := c.get("/no/such/route")
	if nf.header.Get("Strict-Transport-Security") == "" {
		t.Fatal("release 404 without HSTS")
	}
	// A 401 that clears TOKEN keeps it Secure.
	r = c.get("/verify", "Authorization", "Bearer garbage")
	ctFail(t, r, http.StatusUnauthorized, "AUTH_EXPIRED")
	if ck := r.cookie("TOKEN"); ck != nil && !ck.Secure {
		t.Fatalf("release cleared TOKEN not Secure: %+v", ck)
	}
}

func TestContractHome(t *testing.T) {
	e := newEnv(t, memoryMode, nil)
	r := e.bare().get("/")
	expect(t, r, http.StatusOK, "")
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("GET / Content-Type = %q", ct)
	}
	var body struct {
		Name   string         `json:"name"`
		IP     string         `json:"ip"`
		Now    string         `json:"now"`
		Values map[string]any `json:"values"`
	}
	r.json(t, &body)
	if body.Name != e.cfg.Name {
		t.Fatalf("name = %q, want %q", body.Name, e.cfg.Name)
	}
	now, err := time.Parse(time.RFC3339, body.Now)
	if err != nil {
		t.Fatalf("now %q: %v", body.Now, err)
	}
	if d := time.Since(now); d < -time.Minute || d > time.Minute {
		t.Fatalf("now %q is far from the real time", body.Now)
	}
	if !strings.HasSuffix(body.Now, "Z") {
		t.Fatalf("now %q is not UTC", body.Now)
	}
	if body.IP != "127.0.0.1" {
		t.Fatalf("ip = %q", body.IP)
	}
	if body.Values == nil || body.Values["token_ttl"] == nil {
		t.Fatalf("debug values lack token_ttl: %s", r.body)
	}
	for _, secret := range []string{testSecret, webhookSecret} {
		if bytes.Contains(r.body, []byte(secret)) {
			t.Fatalf("GET / leaks a secret %q: %s", secret, r.body)
		}
	}
	if !bytes.Contains(r.body, []byte(config.Redacted)) {
		t.Fatalf("GET / values redact nothing: %s", r.body)
	}
}

func TestContractHomeSecretsRedactedPersistent(t *testing.T) {
	e := newEnv(t, persistentMode, nil) // skips only when a test URL is "skip"
	r := e.bare().get("/")
	expect(t, r, http.StatusOK, "")
	for _, secret := range []string{testSecret, webhookSecret} {
		if bytes.Contains(r.body, []byte(secret)) {
			t.Fatalf("GET / leaks a secret: %s", r.body)
		}
	}
}

func TestContractClientIP(t *testing.T) {
	ip := func(e *env, extra ...string) string {
		t.Helper()
		var b struct {
			IP string `json:"ip"`
		}
		r := e.bare().get("/", extra...)
		expect(t, r, http.StatusOK, "")
		r.json(t, &b)
		return b.IP
	}
	trusted := newEnv(t, memoryMode, func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1/32"} })
	for _, tc := range []struct {
		want  string
		extra []string
	}{
		{"198.51.100.2", []string{"X-Forwarded-For", "203.0.113.7, 198.51.100.2"}},
		{"203.0.113.7", []string{"X-Forwarded-For", "203.0.113.7, 127.0.0.1"}},
		{"203.0.113.9", []string{"X-Real-IP", "203.0.113.9"}},
		{"198.51.100.2", []string{"X-Forwarded-For", "198.51.100.2", "X-Real-IP", "203.0.113.9"}},
		{"127.0.0.1", nil},
	} {
		if got := ip(trusted, tc.extra...); got != tc.want {
			t.Errorf("trusted proxy, headers %v: ip = %q, want %q", tc.extra, got, tc.want)
		}
	}
	plain := newEnv(t, memoryMode, nil)
	for _, extra := range [][]string{
		{"X-Forwarded-For", "203.0.113.7, 198.51.100.2"},
		{"X-Real-IP", "203.0.113.9"},
		{"X-Forwarded-For", "203.0.113.7", "X-Real-IP", "203.0.113.9"},
	} {
		if got := ip(plain, extra...); got != "127.0.0.1" {
			t.Errorf("no trusted proxy, headers %v: ip = %q, want 127.0.0.1", extra, got)
		}
	}
}

func TestContractOptions(t *testing.T) {
	e := newEnv(t, memoryMode, nil)
	c := e.bare()
	ctFail(t, c.get("/options?type=upload"), http.StatusBadRequest, "OPTION_UNKNOWN")
	ctFail(t, c.get("/options", malformed...), http.StatusBadRequest, "OPTION_UNKNOWN")
	ctFail(t, c.get("/options?type=nope", malformed...), http.StatusBadRequest, "OPTION_UNKNOWN")
	ctFail(t, c.get("/options?type=", malformed...), http.StatusBadRequest, "OPTION_UNKNOWN")

	var s1, s2 map[string]any
	r := c.get("/options?type=generate-secret")
	expect(t, r, http.StatusOK, "")
	r.json(t, &s1)
	r = c.get("/options?type=generate-secret")
	expect(t, r, http.StatusOK, "")
	r.json(t, &s2)
	id1, _ := s1["id"].(string)
	key1, _ := s1["key"].(string)
	if len(s1) != 2 || len(id1) != 8 || len(key1) != 32 {
		t.Fatalf("generate-secret = %v", s1)
	}
	if s1["id"] == s2["id"] || s1["key"] == s2["key"] {
		t.Fatalf("generate-secret repeats: %v %v", s1, s2)
	}

	o := newEnv(t, memoryMode, func(c *config.Config) {
		c.UploadType = "s3"
		c.UploadURL = "https://upload.example/bucket"
		c.UploadLimit = 1048576
		c.LarkAppID = "cli_test_app"
		c.LarkAppSecret = "lark-app-s3cr3t"
		c.LarkRedirectURL = "https://gatehouse.example/lark/callback"
	})
	oc := o.bare()
	var up struct {
		Type  string `json:"type"`
		URL   string `json:"url"`
		Limit int64  `json:"limit"`
	}
	r = oc.get("/options?type=upload")
	expect(t, r, http.StatusOK, "")
	r.json(t, &up)
	if up.Type != "s3" || up.URL != "https://upload.example/bucket" || up.Limit != 1048576 {
		t.Fatalf("upload = %s", r.body)
	}
	var lark map[string]any
	r = oc.get("/options?type=collaboration")
	expect(t, r, http.StatusOK, "")
	r.json(t, &lark)
	// url is Gatehouse's own /lark/authorize (API.md "Lark"), next to the callback.
	if lark["app_id"] != "cli_test_app" || lark["redirect"] != "https://gatehouse.example/lark/callback" ||
		lark["url"] != "https://gatehouse.example/lark/authorize" || lark["platform"] != "feishu" {
		t.Fatalf("collaboration = %s", r.body)
	}
	if bytes.Contains(r.body, []byte("secret")) || bytes.Contains(r.body, []byte("s3cr3t")) {
		t.Fatalf("collaboration mentions a secret: %s", r.body)
	}
}

func TestContractJWKSAndHealth(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		c := e.browser()
		c.login(alice, alicePass)
		tok := c.token()

		r := c.get("/.well-known/jwks.json")
		expect(t, r, http.StatusOK, "")
		var set struct {
			Keys []map[string]any `json:"keys"`
		}
		r.json(t, &set)
		if len(set.Keys) == 0 || set.Keys[0]["kty"] != "OKP" || set.Keys[0]["crv"] != "Ed25519" {
			t.Fatalf("jwks = %s", r.body)
		}
		if _, ok := set.Keys[0]["d"]; ok {
			t.Fatalf("jwks publishes the private key: %s", r.body)
		}
		hdr := ctJWTPart(t, tok, 0)
		kid, _ := hdr["kid"].(string)
		if kid == "" {
			t.Fatalf("token header has no kid: %v", hdr)
		}
		found := false
		for _, k := range set.Keys {
			if k["kid"] == kid {
				found = true
			}
		}
		if !found || set.Keys[0]["kid"] != kid {
			t.Fatalf("token kid %q not first in jwks %s", kid, r.body)
		}
		if hdr["alg"] != "EdDSA" {
			t.Fatalf("token alg = %v", hdr["alg"])
		}
		claims := ctJWTPart(t, tok, 1)
		for _, k := range []string{"iss", "aud", "sub", "sid", "iat", "exp"} {
			if claims[k] == nil || claims[k] == "" {
				t.Fatalf("token payload lacks %s: %v", k, claims)
			}
		}
		iat, _ := claims["iat"].(float64)
		exp, _ := claims["exp"].(float64)
		if exp <= iat {
			t.Fatalf("exp %v <= iat %v", exp, iat)
		}

		expect(t, c.get("/healthz"), http.StatusOK, "")
		r = c.get("/readyz")
		expect(t, r, http.StatusOK, "")
		var ready struct {
			Stores map[string]string `json:"stores"`
		}
		r.json(t, &ready)
		if len(ready.Stores) == 0 {
			t.Fatalf("readyz names no stores: %s", r.body)
		}
		for name, st := range ready.Stores {
			if st != "ok" {
				t.Fatalf("readyz store %s = %q", name, st)
			}
		}
	})
}

func TestContractAuthErrors(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		ctFail(t, e.bare().get("/user"), http.StatusUnauthorized, "AUTH_REQUIRED")
		ctFail(t, e.bare().get("/verify"), http.StatusUnauthorized, "AUTH_REQUIRED")
		ctFail(t, e.bare().get("/user", "Authorization", "Bearer garbage"), http.StatusUnauthorized, "AUTH_EXPIRED")
		ctFail(t, e.bare().get("/user", "Authorization", "Bearer a.b.c"), http.StatusUnauthorized, "AUTH_EXPIRED")
		ctFail(t, e.bare().get("/user", "Cookie", "TOKEN=garbage"), http.StatusUnauthorized, "AUTH_EXPIRED")

		// A token signed by another instance's key.
		other := newEnv(t, memoryMode, nil)
		other.createUser(alice, alicePass, "")
		oc := other.browser()
		oc.login(alice, alicePass)
		ctFail(t, e.bare().get("/user", "Authorization", "Bearer "+oc.token()), http.StatusUnauthorized, "AUTH_EXPIRED")

		// A TOKEN sent to /login is ignored: a new session is made.
		c := e.browser()
		c.login(alice, alicePass)
		t1 := c.token()
		c.login(alice, alicePass)
		t2 := c.token()
		if t1 == t2 || t2 == "" {
			t.Fatal("second login did not issue a new token")
		}
		if ctJWTPart(t, t1, 1)["sid"] == ctJWTPart(t, t2, 1)["sid"] {
			t.Fatal("second login reused the session")
		}
		for _, tok := range []string{t1, t2} {
			expect(t, e.bare().get("/verify", "Authorization", "Bearer "+tok), http.StatusNoContent, "")
		}
		// A failed login does not end the session the TOKEN belongs to.
		expect(t, c.post("/login", map[string]string{"email": alice, "password": "wrong-Password-1"}), http.StatusBadRequest, "LOGIN_INVALID")
		expect(t, c.get("/verify"), http.StatusNoContent, "")
	})
}

func TestContractSMSCodeLifetime(t *testing.T) {
	e := newEnv(t, memoryMode, func(c *config.Config) {
		c.LoginFailures = 100 // keep lockout out of the way of the code's own tries
		c.IPLoginFailures = 100
	})
	e.createUser(alice, alicePass, alicePhone)
	c := e.browser()
	ask := func() string {
		t.Helper()
		expect(t, c.get("/login/sms?phone="+q(alicePhone)), http.StatusNoContent, "")
		return e.sms.WaitFor(t, alicePhone, "login", waitDelivery).Code
	}
	login := func(code string) *response {
		t.Helper()
		return e.browser().post("/login/sms", map[string]string{"phone": alicePhone, "code": code})
	}

	// Five wrong tries void the code.
	code := ask()
	for i := 0; i < 5; i++ {
		ctFail(t, login(wrongCode(code)), http.StatusBadRequest, "LOGIN_INVALID")
	}
	ctFail(t, login(code), http.StatusBadRequest, "LOGIN_INVALID")

	// Four wrong tries do not.
	e.advance(61 * time.Second)
	code = ask()
	for i := 0; i < 4; i++ {
		ctFail(t, login(wrongCode(code)), http.StatusBadRequest, "LOGIN_INVALID")
	}
	expect(t, login(code), http.StatusNoContent, "")

	// Expired after 2 minutes.
	e.advance(61 * time.Second)
	code = ask()
	e.advance(2*time.Minute + time.Second)
	ctFail(t, login(code), http.StatusBadRequest, "LOGIN_INVALID")

	// Asking again replaces the previous code.
	e.advance(61 * time.Second)
	old := ask()
	e.advance(61 * time.Second)
	fresh := ask()
	if old != fresh {
		ctFail(t, login(old), http.StatusBadRequest, "LOGIN_INVALID")
	}
	expect(t, login(fresh), http.StatusNoContent, "")
}

func TestContractSendThrottle(t *testing.T) {
	for _, phone := range []string{alicePhone, "+8613900139000"} {
		t.Run(phone, func(t *testing.T) {
			e := newEnv(t, memoryMode, nil)
			e.createUser(alice, alicePass, alicePhone)
			c := e.browser()
			path := "/login/sms?phone=" + q(phone)
			for i := 1; i <= 10; i++ {
				expect(t, c.get(path), http.StatusNoContent, "")
				r := c.get(path)
				ctFail(t, r, http.StatusTooManyRequests, "CODE_TOO_FREQUENT")
				if r.header.Get("Retry-After") == "" {
					t.Fatal("resend throttle without Retry-After")
				}
				e.advance(61 * time.Second)
			}
			r := c.get(path)
			ctFail(t, r, http.StatusTooManyRequests, "CODE_TOO_FREQUENT")
			if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
				t.Fatalf("hourly limit Retry-After = %q", ra)
			}
			// An hour after the first send, sending works again.
			e.advance(time.Hour)
			expect(t, c.get(path), http.StatusNoContent, "")
		})
	}
}

func TestContractSendThrottlePersistent(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, alicePhone)
		c := e.browser()
		for _, phone := range []string{alicePhone, "+8613900139000"} {
			expect(t, c.get("/login/sms?phone="+q(phone)), http.StatusNoContent, "")
			ctFail(t, c.get("/login/sms?phone="+q(phone)), http.StatusTooManyRequests, "CODE_TOO_FREQUENT")
		}
		for _, email := range []string{alice, "nobody@example.com"} {
			expect(t, c.get("/forget_code?email="+q(email)), http.StatusNoContent, "")
			ctFail(t, c.get("/forget_code?email="+q(email)), http.StatusTooManyRequests, "CODE_TOO_FREQUENT")
		}
	})
}

func ctHasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func TestContractMailLanguage(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser("zh@example.com", alicePass, "")
		e.createUser("en@example.com", alicePass, "")
		zh := e.browser()
		zh.header.Set("Accept-Language", "zh-CN")
		expect(t, zh.get("/forget_code?email="+q("zh@example.com")), http.StatusNoContent, "")
		msg := e.mail.WaitFor(t, "zh@example.com", waitDelivery)
		if !ctHasHan(msg.Subject) && !ctHasHan(msg.Text) {
			t.Fatalf("zh-CN mail has no Chinese: %q / %q", msg.Subject, msg.Text)
		}
		msg.Code(t)

		en := e.browser()
		en.header.Set("Accept-Language", "en")
		expect(t, en.get("/forget_code?email="+q("en@example.com")), http.StatusNoContent, "")
		msg = e.mail.WaitFor(t, "en@example.com", waitDelivery)
		if ctHasHan(msg.Subject) || ctHasHan(msg.Text) {
			t.Fatalf("en mail has Chinese: %q / %q", msg.Subject, msg.Text)
		}
		if !strings.ContainsAny(msg.Subject+msg.Text, "abcdefghijklmnopqrstuvwxyz") {
			t.Fatalf("en mail has no English: %q", msg.Subject)
		}
		msg.Code(t)

		// SMS follows the same rule.
		e.createUser("p@example.com", alicePass, alicePhone)
		expect(t, zh.get("/login/sms?phone="+q(alicePhone)), http.StatusNoContent, "")
		if sms := e.sms.WaitFor(t, alicePhone, "login", waitDelivery); !ctHasHan(sms.Message) {
			t.Fatalf("zh-CN SMS has no Chinese: %q", sms.Message)
		}
	})
}
