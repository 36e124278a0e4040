// Package httpapi is the HTTP adapter: Echo v5 routes, middleware, cookies,
// CSRF and the one table that maps domain errors to status codes. It drives
// the domain services and knows nothing about storage.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v5"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse/gatehouse/adapters/httpapi/openapi"
	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/auth"
	"github.com/gatehouse/gatehouse/domain/history"
	"github.com/gatehouse/gatehouse/domain/mfa"
	"github.com/gatehouse/gatehouse/domain/profile"
	"github.com/gatehouse/gatehouse/ports"
)

// Config is what the HTTP layer needs to know.
type Config struct {
	Release    bool
	Name       string
	BodyLimit  int64
	XSRFCookie string
	XSRFHeader string
	// CookieDomain is the Domain of the XSRF cookie, so that a frontend on
	// a sibling subdomain can read it; empty keeps it host-only. TOKEN and
	// LARK_STATE are always host-only.
	CookieDomain   string
	CORSOrigins    []string
	TrustedProxies []netip.Prefix
	DefaultLang    string
	// Secret signs the XSRF cookie.
	Secret []byte
	// Values is the redacted runtime configuration shown by GET / outside
	// release mode; nil hides it.
	Values map[string]any
	Upload Upload
	Lark   Lark
	// JWKS returns the JWK Set document of the keys tokens may be signed
	// with; it changes when the keys are reloaded.
	JWKS func() []byte
	// HeaderLimit bounds the request line and headers, in bytes; larger
	// answers 431.
	HeaderLimit int
	// Version is the service version, which login history reports to the
	// original's dashboard.
	Version string
	// Metrics records every request; nil turns request metrics off.
	Metrics RequestMetrics
	// Tracer opens a server span per request; nil turns tracing off, at
	// no cost on the request path.
	Tracer trace.TracerProvider
	// AccessLog takes the line of every answered request off the request
	// path; nil writes it through the logger instead, synchronously.
	AccessLog AccessLog
}

// AccessLog takes one line per answered request (the fields of the
// "request" log line) and must return at once: it runs on every request.
type AccessLog interface {
	LogRequest(at time.Time, level slog.Level, requestID, method, route string, status int, latency time.Duration, ip string)
}

// Upload is the upload target /options?type=upload reports.
type Upload struct {
	Type  string `json:"type"`
	URL   string `json:"url"`
	Limit int64  `json:"limit"`
}

// Lark is Lark sign-in as the edge sees it. Off (Enabled false), the /lark
// routes do not exist and /options?type=collaboration is OPTION_UNKNOWN.
type Lark struct {
	Enabled  bool
	Platform string
	AppID    string
	// RedirectURL is the callback as the browser reaches it; FrontendURL
	// is where the browser goes after it.
	RedirectURL string
	FrontendURL string
	// StateTTL is the life of the LARK_STATE cookie, the same as the
	// server-side state's.
	StateTTL time.Duration
}

// Readiness reports, per store, nil when reachable or the failure. A
// failure that wraps domain.ErrUnavailable is an outage; any other (the
// database schema behind the binary, under "migrations") is pending work.
type Readiness func(ctx context.Context) map[string]error

// Services are the domain services the routes drive.
type Services struct {
	Auth    *auth.Service
	Profile *profile.Service
	MFA     *mfa.Service
	History *history.Service
}

// handler holds what every route handler needs.
type handler struct {
	Services
	cfg   Config
	ready Readiness
	log   *slog.Logger
	csrf  csrfSigner
	ids   *requestIDs
	clock ports.Clock
	// openapi is the OpenAPI document rendered as JSON, once.
	openapi []byte
}

// TokenCookie is the name of the cookie that carries the access token.
const TokenCookie = "TOKEN"

// New builds the Echo instance with every route and middleware.
func New(cfg Config, s Services, ready Readiness, clock ports.Clock, log *slog.Logger) *echo.Echo {
	doc, err := openapi.JSON()
	if err != nil {
		// The document is embedded at build time and rendered by a test:
		// failing here means a broken build, not a bad deployment.
		panic(err)
	}
	h := &handler{Services: s, cfg: cfg, ready: ready, clock: clock, log: log, csrf: csrfSigner{secret: cfg.Secret}, ids: newRequestIDs(), openapi: doc}
	e := echo.NewWithConfig(echo.Config{
		Logger:           log,
		HTTPErrorHandler: h.handleError,
		IPExtractor:      clientIPExtractor(cfg.TrustedProxies),
	})
	if cfg.Tracer != nil {
		e.Pre(h.traceRequests(cfg.Tracer))
	}
	e.Pre(h.securityHeaders, h.requestLog, h.headerLimit, h.bodyLimit, h.cors)
	e.Use(wholeSegments)

	sends := h.refuseCrossSite // GET routes that send or mint a code
	unsafe := []echo.MiddlewareFunc{h.refuseCrossSite, h.checkCSRF}
	authed := h.requireAuth

	e.GET("/", h.home)
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/.well-known/jwks.json", h.jwks)
	e.GET("/openapi.json", h.openapiDocument)
	e.GET("/options", h.options)

	e.POST("/login", h.login, unsafe...)
	e.GET("/login/sms", h.sendLoginSMS, sends)
	e.POST("/login/sms", h.loginSMS, unsafe...)
	e.POST("/login/totp", h.loginTOTP, unsafe...)
	e.GET("/forget_code", h.sendResetCode, sends)
	e.POST("/forget_reset", h.resetPassword, unsafe...)

	e.GET("/verify", h.verify, authed)
	e.GET("/refresh_code", h.refreshCode, sends, authed)
	e.POST("/refresh_token", h.refreshToken, append(unsafe, authed)...)
	e.POST("/logout", h.logout, append(unsafe, authed)...)

	e.GET("/user", h.getUser, authed)
	e.GET("/user/history", h.getHistory, authed)
	e.PATCH("/user", h.updateUser, append(unsafe, authed)...)
	e.POST("/user/password", h.changePassword, append(unsafe, authed)...)
	e.GET("/user/phone_code", h.sendBindCode, sends, authed)
	e.POST("/user/phone", h.bindPhone, append(unsafe, authed)...)
	e.GET("/user/totp", h.offerTOTP, sends, authed)
	e.POST("/user/totp", h.bindTOTP, append(unsafe, authed)...)
	e.POST("/user/recovery_codes", h.makeRecoveryCodes, append(unsafe, authed)...)
	// The static /user/sessions outranks /user/:key in Echo's router.
	e.GET("/user/sessions", h.listSessions, authed)
	e.DELETE("/user/sessions", h.endOtherSessions, append(unsafe, authed)...)
	e.DELETE("/user/sessions/:id", h.endSession, append(unsafe, authed)...)
	e.DELETE("/user/:key", h.removeBinding, append(unsafe, authed)...)
	e.DELETE("/user/", h.removeBinding, append(unsafe, authed)...) // empty key: 400, not 404

	if cfg.Lark.Enabled {
		// Both are top-level navigations, never fetches: authorize checks
		// the cross-site rule and the session itself, and only for
		// action=link (a login may start from any site); the callback comes
		// from Lark's site and is guarded by the state cookie instead.
		e.GET("/lark/authorize", h.larkAuthorize)
		e.GET("/lark/callback", h.larkCallback)
	}

	return e
}

func (h *handler) healthz(c *echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when every store is reachable and the schema is
// current, else 503 naming the stores that are down and, as "migrations",
// a schema behind the binary.
func (h *handler) readyz(c *echo.Context) error {
	stores := map[string]string{}
	var down, pending []string
	for name, err := range h.ready(c.Request().Context()) {
		switch {
		case err == nil:
			stores[name] = "ok"
		case errors.Is(err, domain.ErrUnavailable):
			stores[name] = "unavailable"
			down = append(down, name)
		default:
			stores[name] = "pending"
			pending = append(pending, name)
		}
	}
	if len(down)+len(pending) > 0 {
		slices.Sort(down)
		slices.Sort(pending)
		var parts []string
		if len(down) > 0 {
			parts = append(parts, "store unreachable: "+strings.Join(down, ", "))
		}
		if len(pending) > 0 {
			parts = append(parts, "not ready: "+strings.Join(pending, ", "))
		}
		return c.JSON(statusOf[domain.CodeUnavailable], map[string]any{
			"code": domain.CodeUnavailable, "message": strings.Join(parts, "; "), "stores": stores,
		})
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ok", "stores": stores})
}

func (h *handler) jwks(c *echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/json", h.cfg.JWKS())
}

// openapiDocument serves the OpenAPI document. It changes only with the
// binary, so caches may keep it for as long as they keep the JWKS.
func (h *handler) openapiDocument(c *echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/json", h.openapi)
}
