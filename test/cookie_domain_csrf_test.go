package test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/config"
)

// A CSRF_INVALID answer says which part of the check failed, so a frontend
// team can tell a cookie the page cannot see from a header it forgot, and
// never repeats the values it was sent.
func TestCSRFMessageNamesThePartThatFailed(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		login := map[string]string{"email": alice, "password": alicePass}
		const sentValue = "value-the-client-sent.zz"

		// setXSRF puts value in c's jar as the XSRF cookie.
		setXSRF := func(c *client, value string) {
			u, _ := url.Parse(e.srv.URL)
			c.jar.SetCookies(u, []*http.Cookie{{Name: e.cfg.XSRFCookie, Value: value, Path: "/"}})
		}
		noHeader := e.browser()
		noHeader.noXSRF = true
		differs := e.browser()
		forged := e.bare()
		setXSRF(forged, sentValue)

		for _, tc := range []struct {
			name string
			r    *response
			want string
		}{
			{"no cookie, no header", e.bare().post("/login", login), "cookie and the X-XSRF-TOKEN header are missing"},
			{"no cookie", e.bare().post("/login", login, e.cfg.XSRFHeader, sentValue), "XSRF-TOKEN cookie is missing"},
			{"no header", noHeader.post("/login", login), "X-XSRF-TOKEN header is missing"},
			{"header and cookie differ", differs.post("/login", login, e.cfg.XSRFHeader, sentValue), "header and the XSRF-TOKEN cookie differ"},
			{"cookie not issued here", forged.post("/login", login, e.cfg.XSRFHeader, sentValue), "cookie was not issued by this service"},
			{"cross-site origin", e.browser().post("/login", login, "Origin", "https://evil.example"), "from another site"},
			{"cross-site fetch", e.browser().post("/login", login, "Sec-Fetch-Site", "cross-site"), "from another site"},
		} {
			msg := ""
			var body struct{ Message string }
			expect(t, tc.r, http.StatusForbidden, "CSRF_INVALID")
			tc.r.json(t, &body)
			msg = body.Message
			if !strings.Contains(msg, tc.want) {
				t.Errorf("%s: message %q, want it to say %q", tc.name, msg, tc.want)
			}
			if strings.Contains(msg, sentValue) || strings.Contains(msg, differs.xsrf()) {
				t.Errorf("%s: message %q repeats a value", tc.name, msg)
			}
		}
		// Nothing was logged in by any of them.
		expect(t, e.bare().get("/verify"), http.StatusUnauthorized, "AUTH_REQUIRED")
	})
}

// GATEHOUSE_COOKIE_DOMAIN gives XSRF-TOKEN a Domain, and only XSRF-TOKEN:
// TOKEN stays host-only. Unset, every cookie is host-only.
func TestCookieDomainOnXSRFCookieOnly(t *testing.T) {
	for _, tc := range []struct {
		name, domain string
	}{{"unset", ""}, {"set", "example.test"}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, memoryMode, func(c *config.Config) { c.CookieDomain = tc.domain })
			e.createUser(alice, alicePass, "")
			c := e.bare()
			home := c.get("/")
			xsrf := home.cookie(e.cfg.XSRFCookie)
			if xsrf == nil {
				t.Fatalf("GET / set no %s: %v", e.cfg.XSRFCookie, home.header)
			}
			if xsrf.Domain != tc.domain {
				t.Fatalf("%s Domain %q, want %q", e.cfg.XSRFCookie, xsrf.Domain, tc.domain)
			}
			if xsrf.SameSite != http.SameSiteStrictMode || xsrf.HttpOnly {
				t.Fatalf("%s lost its attributes: %+v", e.cfg.XSRFCookie, xsrf)
			}
			// The jar took a cookie for another domain only if its Domain
			// matches the test server (127.0.0.1), so send the header by hand.
			r := c.post("/login", map[string]string{"email": alice, "password": alicePass},
				"Cookie", e.cfg.XSRFCookie+"="+xsrf.Value, e.cfg.XSRFHeader, xsrf.Value)
			expect(t, r, http.StatusNoContent, "")
			tok := r.cookie("TOKEN")
			if tok == nil || tok.Domain != "" {
				t.Fatalf("TOKEN must be host-only: %+v", tok)
			}
			if raw := strings.Join(r.header.Values("Set-Cookie"), "\n"); strings.Contains(strings.ToLower(raw), "domain=") {
				t.Fatalf("a login response names a Domain: %s", raw)
			}
		})
	}
}
