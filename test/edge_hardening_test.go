package test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/profile"
	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/config"
)

// Black-box tests of the hardening issue: routing of unknown paths, the
// email key, refused characters, the header limit, redaction in GET /, and
// what the original's dashboard needs from PATCH /user and GET /user.

func TestEdgeUnknownPathsUnderKnownPrefixesAre404(t *testing.T) {
	e := newEnv(t, memoryMode, nil)
	c := e.browser()
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		// A path that is no route is 404 whatever the method.
		{http.MethodGet, "/user/unknown/deeper", 404, "NOT_FOUND"},
		{http.MethodDelete, "/user/unknown/deeper", 404, "NOT_FOUND"},
		{http.MethodDelete, "/user/phone/x", 404, "NOT_FOUND"},
		{http.MethodPatch, "/user/x/y", 404, "NOT_FOUND"},
		{http.MethodGet, "/login/sms/x", 404, "NOT_FOUND"},
		{http.MethodPost, "/login/sms/x", 404, "NOT_FOUND"},
		{http.MethodGet, "/options/x", 404, "NOT_FOUND"},
		{http.MethodGet, "/.well-known/x", 404, "NOT_FOUND"},
		{http.MethodGet, "/.well-known/jwks.json/x", 404, "NOT_FOUND"},
		{http.MethodGet, "/verify/x", 404, "NOT_FOUND"},
		{http.MethodGet, "/nowhere", 404, "NOT_FOUND"},
		{http.MethodOptions, "/user/unknown/deeper", 404, "NOT_FOUND"},
		// A route with the wrong method is 405.
		{http.MethodPut, "/user", 405, "METHOD_NOT_ALLOWED"},
		{http.MethodPost, "/user", 405, "METHOD_NOT_ALLOWED"},
		{http.MethodGet, "/user/phone", 405, "METHOD_NOT_ALLOWED"},
		{http.MethodGet, "/user/anything", 405, "METHOD_NOT_ALLOWED"}, // DELETE /user/:key
		{http.MethodGet, "/logout", 405, "METHOD_NOT_ALLOWED"},
		{http.MethodDelete, "/login", 405, "METHOD_NOT_ALLOWED"},
		{http.MethodPatch, "/user/password", 405, "METHOD_NOT_ALLOWED"},
		{http.MethodPost, "/options", 405, "METHOD_NOT_ALLOWED"},
	} {
		r := c.send(tc.method, tc.path, nil)
		if r.status != tc.status || r.code() != tc.code {
			t.Errorf("%s %s = %s, want %d %s", tc.method, tc.path, r, tc.status, tc.code)
		}
		if tc.status == 405 && r.header.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", tc.method, tc.path)
		}
	}
	// HEAD answers without a body, 404 for no route.
	if r := c.send(http.MethodHead, "/user/unknown/deeper", nil); r.status != 404 || len(r.body) != 0 {
		t.Errorf("HEAD /user/unknown/deeper = %s", r)
	}
	// OPTIONS on a route lists its methods.
	if r := c.send(http.MethodOptions, "/user", nil); r.status != http.StatusNoContent || !strings.Contains(r.header.Get("Allow"), http.MethodPatch) {
		t.Errorf("OPTIONS /user = %s Allow %q", r, r.header.Get("Allow"))
	}
	// The real routes under those prefixes still work.
	expect(t, c.get("/.well-known/jwks.json"), http.StatusOK, "")
	expect(t, c.get("/options?type=generate-secret"), http.StatusOK, "")
}

// The three spellings of one Greek word, and the German sharp s, are one
// account each.
const (
	greekUpper = "ΑΣ@Example.com"
	greekFinal = "ας@example.com"
	greekSigma = "ασ@EXAMPLE.com"
	sharpS     = "straße@example.com"
	doubleS    = "STRASSE@example.com"
)

func TestEdgeEmailKeyFoldsEveryScript(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(greekFinal, alicePass, "")
		e.createUser(sharpS, alicePass, "")
		e.createUser(alice, alicePass, "")

		// The admin and seed path refuses the variants.
		ctx := context.Background()
		for _, variant := range []string{greekUpper, greekSigma, doubleS, "Strasse@Example.COM"} {
			_, err := e.app.Profile.CreateAccount(ctx, profile.NewAccount{Email: variant, Password: alicePass})
			if !errors.Is(err, domain.ErrEmailTaken) {
				t.Errorf("CreateAccount(%s) = %v, want EMAIL_TAKEN", variant, err)
			}
			created, err := e.app.Profile.EnsureAccount(ctx, profile.NewAccount{Email: variant, Password: alicePass})
			if err != nil || created {
				t.Errorf("EnsureAccount(%s) = %v, %v; want an existing account", variant, created, err)
			}
		}

		// Another account cannot take a variant by changing its email.
		c := e.browser()
		c.login(alice, alicePass)
		for _, variant := range []string{greekUpper, greekSigma, doubleS} {
			r := c.send(http.MethodPatch, "/user", map[string]string{"key": "Email", "email": variant})
			expect(t, r, http.StatusConflict, "EMAIL_TAKEN")
		}

		// Every variant logs in to the one account.
		for _, variant := range []string{greekUpper, greekSigma, greekFinal, "ΑΣ@EXAMPLE.COM"} {
			e.browser().login(variant, alicePass)
		}
		for _, variant := range []string{doubleS, "strasse@example.com", "STRAẞE@example.com"} {
			e.browser().login(variant, alicePass)
		}

		// Mail goes to the stored address, not the typed variant.
		expect(t, e.bare().get("/forget_code?email="+q(greekUpper)), http.StatusNoContent, "")
		msg := e.mail.WaitFor(t, greekFinal, waitDelivery)
		if len(msg.To) != 1 || msg.To[0] != greekFinal {
			t.Fatalf("reset mail went to %v, want %s", msg.To, greekFinal)
		}
		expect(t, e.bare().get("/forget_code?email="+q(doubleS)), http.StatusNoContent, "")
		msg = e.mail.WaitFor(t, sharpS, waitDelivery)
		if len(msg.To) != 1 || msg.To[0] != sharpS {
			t.Fatalf("reset mail went to %v, want %s", msg.To, sharpS)
		}
	})
}

func TestEdgeEmailKeyDomainIDNA(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser("user@Bücher.example", alicePass, "")
		_, err := e.app.Profile.CreateAccount(context.Background(), profile.NewAccount{Email: "USER@xn--bcher-kva.example", Password: alicePass})
		if !errors.Is(err, domain.ErrEmailTaken) {
			t.Fatalf("the punycode spelling of a taken address = %v, want EMAIL_TAKEN", err)
		}
		e.browser().login("user@BÜCHER.example", alicePass)
		e.browser().login("user@xn--bcher-kva.EXAMPLE", alicePass)
	})
}

func TestEdgeRefusedCharacters(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		c := e.browser()
		c.login(alice, alicePass)
		patch := func(key, value string) *response {
			return c.send(http.MethodPatch, "/user", map[string]string{"key": key, strings.ToLower(key): value})
		}
		refusedEverywhere := map[string]string{
			"control":         "\x07",
			"zero width":      "\u200b",
			"LRE":             "\u202a",
			"RLO":             "\u202e",
			"LRI":             "\u2066",
			"PDI":             "\u2069",
			"soft hyphen":     "\u00ad",
			"byte-order mark": "\ufeff",
		}
		for what, ch := range refusedEverywhere {
			expect(t, patch("Name", "Ali"+ch+"ce"), http.StatusBadRequest, "VALIDATION_FAILED")
			expect(t, patch("Email", "ali"+ch+"ce@example.com"), http.StatusBadRequest, "VALIDATION_FAILED")
			expect(t, patch("Avatar", "https://cdn.example/a"+ch+".png"), http.StatusBadRequest, "VALIDATION_FAILED")
			expect(t, c.get("/user/phone_code?phone="+q("138"+ch+"00138000")), http.StatusBadRequest, "VALIDATION_FAILED")
			expect(t, e.browser().post("/login", map[string]string{"email": "ali" + ch + "ce@example.com", "password": alicePass}), http.StatusBadRequest, "VALIDATION_FAILED")
			r := c.post("/user/password", map[string]string{"old": alicePass, "password": "new-Horse-" + ch + "-43"})
			if r.status != http.StatusBadRequest || r.code() != "VALIDATION_FAILED" {
				t.Fatalf("%s in a new password = %s", what, r)
			}
		}
		// Names keep joiners (emoji sequences, Persian); emails refuse them.
		expect(t, patch("Name", "👩\u200d💻"), http.StatusNoContent, "")
		expect(t, patch("Name", "می\u200cخواهم"), http.StatusNoContent, "")
		expect(t, patch("Email", "ali\u200dce@example.com"), http.StatusBadRequest, "VALIDATION_FAILED")
		expect(t, patch("Email", "ali\u200cce@example.com"), http.StatusBadRequest, "VALIDATION_FAILED")

		// Avatar URLs with user information are refused.
		expect(t, patch("Avatar", "https://user:pass@cdn.example/a.png"), http.StatusBadRequest, "VALIDATION_FAILED")
		expect(t, patch("Avatar", "https://user@cdn.example/a.png"), http.StatusBadRequest, "VALIDATION_FAILED")
		expect(t, patch("Avatar", "https://cdn.example/a.png?user=x@y"), http.StatusNoContent, "")

		// Nothing changed along the way: the password still works.
		e.browser().login(alice, alicePass)
	})
}

func TestEdgeHeaderLimit(t *testing.T) {
	const limit = 4096
	e := newEnv(t, memoryMode, func(c *config.Config) { c.HeaderLimit = limit })
	// Serve through the app's own http.Server settings, as cmd/gatehouse does.
	srv := httptest.NewUnstartedServer(e.app.Handler)
	srv.Config = e.app.Server()
	srv.Start()
	t.Cleanup(srv.Close)
	checked := &http.Client{Transport: newSpecTransport(t)}
	get := func(headerBytes int) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/healthz", nil)
		if headerBytes > 0 {
			req.Header.Set("X-Filler", strings.Repeat("a", headerBytes))
		}
		resp, err := checked.Do(req)
		if err != nil {
			t.Fatalf("GET with %d header bytes: %v", headerBytes, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get(0); s != http.StatusOK {
		t.Fatalf("a normal request = %d", s)
	}
	if s := get(limit - 512); s != http.StatusOK {
		t.Fatalf("headers under the limit = %d", s)
	}
	for _, n := range []int{limit + 1, limit + 100, limit + 3000, 4 * limit} {
		if s := get(n); s != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("a %d-byte header with a %d-byte limit = %d, want 431", n, limit, s)
		}
	}
	// The default of 16 KiB lets an ordinary big cookie through.
	d := newEnv(t, memoryMode, nil)
	r := d.bare().get("/healthz", "Cookie", "big="+strings.Repeat("c", 8000))
	expect(t, r, http.StatusOK, "")
	r = d.bare().get("/healthz", "X-Filler", strings.Repeat("c", 16<<10))
	if r.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("16 KiB header with the default limit = %s", r)
	}
}

func TestEdgeHomeRedactsCredentialsInURLs(t *testing.T) {
	e := newEnv(t, memoryMode, func(c *config.Config) {
		c.SMSProvider = "webhook"
		c.SMSWebhookURL = "https://user:pw@host/hook?token=abc&x=1"
		c.UploadType = "s3"
		c.UploadURL = "https://uploader:upw-77@upload.example/bucket?X-Amz-Signature=sig-99&api_key=k-55&access_token=t-33&region=cn"
		c.LarkOAuthURL = "https://open.feishu.cn/authorize?client_secret=cs-11&app=1"
	})
	r := e.bare().get("/")
	expect(t, r, http.StatusOK, "")
	var body struct {
		Values map[string]any `json:"values"`
	}
	r.json(t, &body)
	hook, _ := body.Values["sms_webhook_url"].(string)
	if strings.Contains(hook, "pw") || strings.Contains(hook, "abc") || !strings.Contains(hook, "host/hook") || !strings.Contains(hook, "x=1") {
		t.Fatalf("sms_webhook_url = %q", hook)
	}
	for _, leak := range []string{":pw@", "abc", "upw-77", "sig-99", "k-55", "t-33", "cs-11"} {
		if strings.Contains(string(r.body), leak) {
			t.Fatalf("GET / shows %q: %s", leak, r.body)
		}
	}
	upload, _ := body.Values["upload_url"].(string)
	if !strings.Contains(upload, "upload.example/bucket") || !strings.Contains(upload, "region=cn") {
		t.Fatalf("upload_url lost its non-secret parts: %q", upload)
	}
}

func TestEdgeDashboardProfileEdits(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		c := e.browser()
		c.login(alice, alicePass)

		for _, key := range []string{"name", "Name", "NAME", "nAmE"} {
			expect(t, c.send(http.MethodPatch, "/user", map[string]string{"key": key, "name": "Alice " + key}), http.StatusNoContent, "")
		}
		for i, key := range []string{"email", "Email", "EMAIL"} {
			addr := []string{"a1@example.com", "a2@example.com", "a3@example.com"}[i]
			expect(t, c.send(http.MethodPatch, "/user", map[string]string{"key": key, "email": addr}), http.StatusNoContent, "")
		}
		expect(t, c.send(http.MethodPatch, "/user", map[string]string{"key": "avatar", "avatar": "https://cdn.example/a.png"}), http.StatusNoContent, "")
		expect(t, c.send(http.MethodPatch, "/user", map[string]string{"key": "AVATAR", "avatar": "https://cdn.example/b.png"}), http.StatusNoContent, "")
		expect(t, c.send(http.MethodPatch, "/user", map[string]string{"key": "nickname", "name": "x"}, malformed...), http.StatusBadRequest, "VALIDATION_FAILED")
		expect(t, c.send(http.MethodPatch, "/user", map[string]string{"key": "", "name": "x"}, malformed...), http.StatusBadRequest, "VALIDATION_FAILED")

		var u struct {
			Email   string         `json:"email"`
			Name    string         `json:"name"`
			Avatar  string         `json:"avatar"`
			History map[string]any `json:"history"`
		}
		r := c.get("/user")
		expect(t, r, http.StatusOK, "")
		r.json(t, &u)
		if u.Email != "a3@example.com" || u.Name != "Alice nAmE" || u.Avatar != "https://cdn.example/b.png" {
			t.Fatalf("profile after edits = %s", r.body)
		}

		// The history carries the original's fields next to Gatehouse's.
		h := u.History
		if h == nil || h["timestamp"] == nil || h["timestamp"] != h["time"] {
			t.Fatalf("history timestamp: %s", r.body)
		}
		meta, _ := h["metadata"].(map[string]any)
		if meta == nil || meta["client_ip"] != "127.0.0.1" || meta["source"] != "email" || meta["source"] != h["method"] || meta["version"] != app.Version {
			t.Fatalf("history metadata: %s", r.body)
		}
		detail, _ := h["detail"].(map[string]any)
		if detail == nil {
			t.Fatalf("history detail is missing: %s", r.body)
		}
		for _, k := range []string{"country", "continent", "prov", "city", "isp", "timezone"} {
			if v, ok := detail[k].(string); !ok || v != "" {
				t.Errorf("detail.%s = %#v, want an empty string", k, detail[k])
			}
		}
		for _, k := range []string{"lng", "lat"} {
			if v, ok := detail[k].(float64); !ok || v != 0 {
				t.Errorf("detail.%s = %#v, want 0", k, detail[k])
			}
		}
	})
}

func TestEdgeUploadOptionMessage(t *testing.T) {
	e := newEnv(t, memoryMode, nil)
	r := e.bare().get("/options?type=upload")
	expect(t, r, http.StatusBadRequest, "OPTION_UNKNOWN")
	if !strings.Contains(strings.ToLower(string(r.body)), "no upload target is configured") {
		t.Fatalf("unconfigured upload = %s", r.body)
	}
}
