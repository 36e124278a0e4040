// Package httpapi is the HTTP adapter: Echo v5 routes, middleware, cookies,
// CSRF and the one table that maps domain errors to status codes. It drives
// the domain services and knows nothing about storage.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/gatehouse/gatehouse/domain/auth"
	"github.com/gatehouse/gatehouse/domain/mfa"
	"github.com/gatehouse/gatehouse/domain/profile"
	"github.com/gatehouse/gatehouse/ports"
)

// Config is what the HTTP layer needs to know.
type Config struct {
	Release        bool
	Name           string
	BodyLimit      int64
	XSRFCookie     string
	XSRFHeader     string
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
	JWKS   []byte
}

// Upload is the upload target /options?type=upload reports.
type Upload struct {
	Type  string `json:"type"`
	URL   string `json:"url"`
	Limit int64  `json:"limit"`
}

// Lark is the Lark OAuth setting /options?type=collaboration reports.
type Lark struct {
	URL      string `json:"url"`
	Redirect string `json:"redirect"`
	AppID    string `json:"app_id"`
}

// Readiness reports, per store, nil when reachable or the failure.
type Readiness func(ctx context.Context) map[string]error

// Services are the domain services the routes drive.
type Services struct {
	Auth    *auth.Service
	Profile *profile.Service
	MFA     *mfa.Service
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
}

// TokenCookie is the name of the cookie that carries the access token.
const TokenCookie = "TOKEN"

// New builds the Echo instance with every route and middleware.
func New(cfg Config, s Services, ready Readiness, clock ports.Clock, log *slog.Logger) *echo.Echo {
	h := &handler{Services: s, cfg: cfg, ready: ready, clock: clock, log: log, csrf: csrfSigner{secret: cfg.Secret}, ids: newRequestIDs()}
	e := echo.NewWithConfig(echo.Config{
		Logger:           log,
		HTTPErrorHandler: h.handleError,
		IPExtractor:      clientIPExtractor(cfg.TrustedProxies),
	})
	e.Pre(h.securityHeaders, h.requestLog, h.bodyLimit, h.cors)

	sends := h.refuseCrossSite // GET routes that send or mint a code
	unsafe := []echo.MiddlewareFunc{h.refuseCrossSite, h.checkCSRF}
	authed := h.requireAuth

	e.GET("/", h.home)
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/.well-known/jwks.json", h.jwks)
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
	e.PATCH("/user", h.updateUser, append(unsafe, authed)...)
	e.POST("/user/password", h.changePassword, append(unsafe, authed)...)
	e.GET("/user/phone_code", h.sendBindCode, sends, authed)
	e.POST("/user/phone", h.bindPhone, append(unsafe, authed)...)
	e.GET("/user/totp", h.offerTOTP, sends, authed)
	e.POST("/user/totp", h.bindTOTP, append(unsafe, authed)...)
	e.DELETE("/user/:key", h.removeBinding, append(unsafe, authed)...)
	e.DELETE("/user/", h.removeBinding, append(unsafe, authed)...) // empty key: 400, not 404

	return e
}

func (h *handler) healthz(c *echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when every store is reachable, else 503 naming the
// stores that are down.
func (h *handler) readyz(c *echo.Context) error {
	stores := map[string]string{}
	var down []string
	for name, err := range h.ready(c.Request().Context()) {
		stores[name] = "ok"
		if err != nil {
			stores[name] = "unavailable"
			down = append(down, name)
		}
	}
	if len(down) > 0 {
		slices.Sort(down)
		return c.JSON(http.StatusServiceUnavailable, map[string]any{
			"code": "UNAVAILABLE", "message": "store unreachable: " + strings.Join(down, ", "), "stores": stores,
		})
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ok", "stores": stores})
}

func (h *handler) jwks(c *echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/json", h.cfg.JWKS)
}
