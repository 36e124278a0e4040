package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v5"
)

// setTokenCookie hands the browser its access token: HttpOnly so scripts
// cannot read it, Lax so top-level navigation keeps the login, Secure in
// release mode.
func (h *handler) setTokenCookie(c *echo.Context, token string, expires time.Time) {
	c.SetCookie(&http.Cookie{
		Name:     TokenCookie,
		Value:    token,
		Path:     "/",
		Expires:  expires.UTC(),
		MaxAge:   max(int(time.Until(expires).Seconds()), 1),
		HttpOnly: true,
		Secure:   h.cfg.Release,
		SameSite: http.SameSiteLaxMode,
	})
}

func (h *handler) clearTokenCookie(c *echo.Context) { h.clearHostCookie(c, TokenCookie) }

// clearHostCookie ends one of the host-only HttpOnly cookies (TOKEN,
// LARK_STATE) with the attributes it was set with, so the browser drops it.
func (h *handler) clearHostCookie(c *echo.Context, name string) {
	c.SetCookie(&http.Cookie{
		Name:     name,
		Value:    "",
		Path:     "/",
		Expires:  time.Unix(0, 0),
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   h.cfg.Release,
		SameSite: http.SameSiteLaxMode,
	})
}

// setXSRFCookie gives the browser the CSRF token scripts echo in the header:
// readable by scripts on purpose, and Strict so no other site sends it. Its
// Domain is the configured cookie domain, if any, so that a frontend on a
// sibling subdomain can read it too; it proves nothing by itself (it is
// signed, and only a page that can read it can echo it).
func (h *handler) setXSRFCookie(c *echo.Context, value string) {
	c.SetCookie(&http.Cookie{
		Name:     h.cfg.XSRFCookie,
		Value:    value,
		Path:     "/",
		Domain:   h.cfg.CookieDomain,
		Secure:   h.cfg.Release,
		SameSite: http.SameSiteStrictMode,
	})
}
