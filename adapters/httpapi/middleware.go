package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/gatehouse/gatehouse/domain"
)

// The headers every response carries, built once: securityHeaders runs on
// every request, and assigning ready canonical keys skips the allocation and
// canonicalisation of Header.Set. A slice ranges faster than a map. The
// value slices are never modified.
var (
	baseHeaders = []struct {
		key   string
		value []string
	}{
		{"X-Content-Type-Options", []string{"nosniff"}},
		{"Referrer-Policy", []string{"no-referrer"}},
		{"X-Frame-Options", []string{"DENY"}},
		// Auth and user routes must never be cached, and nothing else here
		// is worth caching, so no-store is the default; JWKS relaxes it.
		{"Cache-Control", []string{"no-store"}},
	}
	hstsHeader = []string{"max-age=63072000; includeSubDomains"}
)

// securityHeaders sets the headers every response carries.
func (h *handler) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		hd := c.Response().Header()
		for _, b := range baseHeaders {
			hd[b.key] = b.value
		}
		if h.cfg.Release {
			hd["Strict-Transport-Security"] = hstsHeader
		}
		return next(c)
	}
}

// requestIDHeader is in canonical form: the middleware assigns it to the
// header map directly.
const requestIDHeader = "X-Request-Id"

// requestLog gives every request an id and logs one line when it ends: never
// the query string or body, which can carry emails, phones and codes. With
// an access log configured the line is queued for it, formatted without
// allocation, and the request never waits for the output.
func (h *handler) requestLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		start := time.Now()
		id := c.Request().Header.Get(requestIDHeader)
		if !validRequestID(id) {
			id = h.ids.next()
		}
		c.Response().Header()[requestIDHeader] = []string{id}
		err := callRecovering(c, next)
		if err != nil {
			h.handleError(c, err) // write it now so the logged status is the real one
		}
		status := http.StatusOK
		if r, _ := echo.UnwrapResponse(c.Response()); r != nil {
			status = r.Status
		}
		end := time.Now()
		latency := end.Sub(start)
		h.observe(c, status, latency)
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		ctx := c.Request().Context()
		if !h.log.Enabled(ctx, level) {
			return nil
		}
		if h.cfg.AccessLog != nil {
			h.cfg.AccessLog.LogRequest(end, level, id, c.Request().Method, c.Path(), status, latency, c.RealIP())
			return nil
		}
		h.log.LogAttrs(ctx, level, "request",
			slog.String("request_id", id),
			slog.String("method", c.Request().Method),
			slog.String("route", c.Path()),
			slog.Int("status", status),
			slog.Duration("latency", latency),
			slog.String("ip", c.RealIP()),
		)
		return nil
	}
}

// callRecovering runs next and turns a panic into an error, so that a bug
// in a handler or a library answers 500 INTERNAL (logged with its stack)
// instead of dropping the connection. http.ErrAbortHandler keeps its
// meaning: abort the response.
func callRecovering(c *echo.Context, next echo.HandlerFunc) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return next(c)
}

// requestIDs hands out request ids: a random per-process prefix and a
// counter. Ids only need to be unique, not secret, so the hot path pays
// for an atomic add rather than a read of crypto/rand.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &requestIDs{prefix: hex.EncodeToString(b[:]) + "-"}
}

// next returns a new id, built in one allocation.
func (r *requestIDs) next() string {
	var buf [48]byte
	b := append(buf[:0], r.prefix...)
	return string(strconv.AppendUint(b, r.n.Add(1), 36))
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// bodyLimit refuses bodies over the limit: at once when Content-Length says
// so, and while reading otherwise.
func (h *handler) bodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		r := c.Request()
		if r.ContentLength > h.cfg.BodyLimit {
			return errBodyTooLarge
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(c.Response(), r.Body, h.cfg.BodyLimit)
		}
		return next(c)
	}
}

// cors answers preflights and marks responses for the origins listed in
// config only: never "*", never "null".
func (h *handler) cors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		origin := c.Request().Header.Get("Origin")
		hd := c.Response().Header()
		if origin == "" {
			return next(c)
		}
		hd.Add("Vary", "Origin")
		if !h.listedOrigin(origin) {
			return next(c)
		}
		hd.Set("Access-Control-Allow-Origin", origin)
		hd.Set("Access-Control-Allow-Credentials", "true")
		if c.Request().Method == http.MethodOptions && c.Request().Header.Get("Access-Control-Request-Method") != "" {
			hd.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE")
			hd.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, "+h.cfg.XSRFHeader)
			hd.Set("Access-Control-Max-Age", "600")
			return c.NoContent(http.StatusNoContent)
		}
		return next(c)
	}
}

func (h *handler) listedOrigin(origin string) bool {
	return origin != "null" && slices.Contains(h.cfg.CORSOrigins, origin)
}

// refuseCrossSite refuses browser requests from other sites: a
// Sec-Fetch-Site of cross-site, or an Origin that is neither this host nor
// listed for CORS. It guards every unsafe route and the GET routes that send
// or mint a code, so an image tag on another site cannot send an SMS.
func (h *handler) refuseCrossSite(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if h.crossSite(c.Request()) {
			return errCSRF
		}
		return next(c)
	}
}

// crossSite reports whether r is a browser request from another site that
// is not listed for CORS. /lark/authorize asks it of action=link only.
func (h *handler) crossSite(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	listed := origin != "" && h.listedOrigin(origin)
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" && !listed {
		return true
	}
	return origin != "" && !listed && !sameHost(origin, r.Host)
}

func sameHost(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, host)
}

// checkCSRF requires the X-XSRF-TOKEN header to echo the signed XSRF-TOKEN
// cookie. A request with a Bearer token and no cookies at all cannot have
// been sent by a browser on someone's behalf, so it is exempt.
func (h *handler) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		r := c.Request()
		if bearerToken(r) != "" && r.Header.Get("Cookie") == "" {
			return next(c)
		}
		cookie := ""
		if ck, err := r.Cookie(h.cfg.XSRFCookie); err == nil {
			cookie = ck.Value
		}
		if err := h.csrfFailure(cookie, r.Header.Get(h.cfg.XSRFHeader)); err != nil {
			return err
		}
		return next(c)
	}
}

// csrfFailure says which part of the double-submit check failed, so that a
// frontend team can tell a cookie the page cannot see (a cookie domain
// problem) from a header it forgot; it never echoes either value.
func (h *handler) csrfFailure(cookie, header string) error {
	var msg string
	switch {
	case cookie == "" && header == "":
		msg = "the " + h.cfg.XSRFCookie + " cookie and the " + h.cfg.XSRFHeader + " header are missing: load GET / and echo the cookie in the header"
	case cookie == "":
		msg = "the " + h.cfg.XSRFCookie + " cookie is missing: load GET / first (from another subdomain, set GATEHOUSE_COOKIE_DOMAIN)"
	case header == "":
		msg = "the " + h.cfg.XSRFHeader + " header is missing: echo the " + h.cfg.XSRFCookie + " cookie in it"
	case !constantTimeEqual(header, cookie):
		msg = "the " + h.cfg.XSRFHeader + " header and the " + h.cfg.XSRFCookie + " cookie differ"
	case !h.csrf.valid(cookie):
		msg = "the " + h.cfg.XSRFCookie + " cookie was not issued by this service: load GET / again"
	default:
		return nil
	}
	return &httpError{http.StatusForbidden, errCSRF.code, msg}
}

// claimsKey is where requireAuth leaves the caller's claims.
const claimsKey = "gatehouse.claims"

// requireAuth checks the token (Bearer header first, else the TOKEN cookie)
// and its session, and leaves the claims for the handler.
func (h *handler) requireAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		claims, err := h.Auth.Verify(c.Request().Context(), tokenOf(c))
		if err != nil {
			return err
		}
		c.Set(claimsKey, claims)
		return next(c)
	}
}

// tokenOf returns the access token a request carries: the Bearer header,
// else the TOKEN cookie, else "".
func tokenOf(c *echo.Context) string {
	if token := bearerToken(c.Request()); token != "" {
		return token
	}
	if ck, err := c.Cookie(TokenCookie); err == nil {
		return ck.Value
	}
	return ""
}

func claimsOf(c *echo.Context) domain.Claims {
	claims, _ := c.Get(claimsKey).(domain.Claims)
	return claims
}

func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
