package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/auth"
)

// collaborationOptions is /options?type=collaboration: where the original's
// dashboard starts a Lark sign-in.
type collaborationOptions struct {
	URL      string `json:"url"`
	Redirect string `json:"redirect"`
	AppID    string `json:"app_id"`
	Platform string `json:"platform"`
}

// larkAuthorizeURL is Gatehouse's own /lark/authorize as the browser
// reaches it: the callback URL with its last path segment replaced, so a
// path prefix in front of Gatehouse is kept.
func larkAuthorizeURL(redirect string) string {
	u, err := url.Parse(redirect)
	if err != nil || redirect == "" {
		return ""
	}
	u.Path = path.Join(path.Dir(u.Path), "authorize")
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return u.String()
}

// larkAuthorize starts a Lark sign-in: a 302 to Lark, and the LARK_STATE
// cookie that binds the state and verifier to this browser. A link needs a
// live session and a same-site request, so no other site can start a
// binding; a login may start anywhere.
func (h *handler) larkAuthorize(c *echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	action, err := larkActionOf(c.QueryParams())
	if err != nil {
		return err
	}
	var who *domain.Claims
	if action == domain.LarkLink {
		if h.crossSite(c.Request()) {
			return errCSRF
		}
		claims, err := h.Auth.Verify(c.Request().Context(), tokenOf(c))
		if err != nil {
			return err
		}
		who = &claims
	}
	start, err := h.Auth.StartLark(c.Request().Context(), action, who)
	if err != nil {
		return err
	}
	h.setLarkCookie(c, start)
	return c.Redirect(http.StatusFound, start.URL)
}

// larkActionOf reads the action: the action parameter, else the JSON object
// the original's dashboard sends as state (`{"action":"link",...}`), whose
// action is a link when it says link and a login otherwise.
func larkActionOf(q url.Values) (domain.LarkAction, error) {
	if q.Has("action") {
		return domain.ParseLarkAction(q.Get("action"))
	}
	var dashboard struct {
		Action string `json:"action"`
	}
	if json.Unmarshal([]byte(q.Get("state")), &dashboard) == nil && dashboard.Action == string(domain.LarkLink) {
		return domain.LarkLink, nil
	}
	return domain.LarkLogin, nil
}

// larkCallback finishes a Lark sign-in and sends the browser to the
// frontend. The LARK_STATE cookie is cleared whatever happens; a state that
// is not this browser's own fails before anything else is looked at. Every
// failure the person can cause or meet (Lark's included) is a redirect with
// its code; only a store outage or a bug is an error page.
func (h *handler) larkCallback(c *echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	ck, ok := h.larkCookie(c)
	h.clearLarkCookie(c)
	q := c.QueryParams()
	if !ok || !constantTimeEqual(q.Get("state"), ck.state) {
		return h.larkFailed(c, domain.CodeLarkStateInvalid)
	}
	in := auth.LarkCallback{
		State: ck.state, Action: ck.action, Verifier: ck.verifier,
		Code: q.Get("code"), Denied: q.Get("error") != "", Client: h.client(c),
	}
	if ck.action == domain.LarkLink {
		claims, err := h.Auth.Verify(c.Request().Context(), tokenOf(c))
		switch {
		case err == nil:
			in.Caller = &claims
		case errors.Is(err, domain.ErrAuthExpired), errors.Is(err, domain.ErrAuthRequired):
			// No live session: the domain answers AUTH_EXPIRED.
		default:
			return err
		}
	}
	res, err := h.Auth.FinishLark(c.Request().Context(), in)
	var de *domain.Error
	if errors.As(err, &de) {
		return h.larkFailed(c, de.Code)
	}
	if err != nil {
		return err
	}
	if res.Login != nil {
		h.setTokenCookie(c, res.Login.Token, res.Login.ExpiresAt)
		return c.Redirect(http.StatusFound, h.frontend(""))
	}
	return c.Redirect(http.StatusFound, h.frontend("#/authorized"))
}

// larkFailed sends the browser to the frontend's failure page with code.
func (h *handler) larkFailed(c *echo.Context, code domain.Code) error {
	return c.Redirect(http.StatusFound, h.frontend("#/unauthorized?code="+url.QueryEscape(string(code))))
}

// frontend returns the frontend URL with fragment in place of its own.
func (h *handler) frontend(fragment string) string {
	base, _, _ := strings.Cut(h.cfg.Lark.FrontendURL, "#")
	if base == "" && fragment == "" {
		return "/"
	}
	return base + fragment
}
