package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/auth"
)

// larkStateCookie binds a Lark sign-in to the browser that started it.
const larkStateCookie = "LARK_STATE"

// larkCookieValue is what LARK_STATE carries: the state, the action, the
// PKCE verifier and when it stops being good, signed with the service
// secret. Signing keeps a sibling subdomain from planting a cookie of its
// own making; the expiry is inside the signature because a browser's
// Max-Age is only advice.
type larkCookieValue struct {
	state    string
	action   domain.LarkAction
	verifier string
	expires  time.Time
}

// encode writes v as state.action.verifier.expiry.signature; no part holds
// a dot (base64url, a fixed word, decimal digits).
func (s csrfSigner) encodeLark(v larkCookieValue) string {
	payload := strings.Join([]string{v.state, string(v.action), v.verifier, strconv.FormatInt(v.expires.Unix(), 10)}, ".")
	return payload + "." + s.signLark(payload)
}

// decodeLark checks the signature and the expiry at now.
func (s csrfSigner) decodeLark(value string, now time.Time) (larkCookieValue, bool) {
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return larkCookieValue{}, false
	}
	payload, sig := value[:i], value[i+1:]
	if !constantTimeEqual(sig, s.signLark(payload)) {
		return larkCookieValue{}, false
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 4 || parts[0] == "" || parts[2] == "" {
		return larkCookieValue{}, false
	}
	action, err := domain.ParseLarkAction(parts[1])
	exp, perr := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || perr != nil || !now.Before(time.Unix(exp, 0)) {
		return larkCookieValue{}, false
	}
	return larkCookieValue{state: parts[0], action: action, verifier: parts[2], expires: time.Unix(exp, 0)}, true
}

// signLark is the HMAC of a LARK_STATE payload, under a label of its own so
// that no XSRF value can pass for one.
func (s csrfSigner) signLark(payload string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("lark_state\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// setLarkCookie hands the browser its half of a Lark sign-in: HttpOnly,
// Lax (the callback is a top-level navigation back from Lark's site),
// host-only (no Domain, whatever other cookies use), Secure in release.
func (h *handler) setLarkCookie(c *echo.Context, start auth.LarkStart) {
	ttl := h.cfg.Lark.StateTTL
	expires := h.clock.Now().Add(ttl)
	c.SetCookie(&http.Cookie{
		Name:     larkStateCookie,
		Value:    h.csrf.encodeLark(larkCookieValue{state: start.State, action: start.Action, verifier: start.Verifier, expires: expires}),
		Path:     "/",
		MaxAge:   max(int(ttl.Seconds()), 1),
		HttpOnly: true,
		Secure:   h.cfg.Release,
		SameSite: http.SameSiteLaxMode,
	})
}

func (h *handler) clearLarkCookie(c *echo.Context) { h.clearHostCookie(c, larkStateCookie) }

// larkCookie returns the browser's valid LARK_STATE, if it sent one.
func (h *handler) larkCookie(c *echo.Context) (larkCookieValue, bool) {
	ck, err := c.Cookie(larkStateCookie)
	if err != nil {
		return larkCookieValue{}, false
	}
	return h.csrf.decodeLark(ck.Value, h.clock.Now())
}
