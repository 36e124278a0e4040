package httpapi

import (
	"crypto/rand"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"
)

type homeResponse struct {
	Name   string         `json:"name"`
	IP     string         `json:"ip"`
	Now    string         `json:"now"`
	Values map[string]any `json:"values,omitempty"`
}

// home reports the instance and the caller's IP, and hands out the XSRF
// cookie (keeping a still-valid one, so open tabs do not fall out of step).
func (h *handler) home(c *echo.Context) error {
	value := ""
	if ck, err := c.Cookie(h.cfg.XSRFCookie); err == nil && h.csrf.valid(ck.Value) {
		value = ck.Value
	} else {
		value = h.csrf.mint()
	}
	h.setXSRFCookie(c, value)
	resp := homeResponse{Name: h.cfg.Name, IP: c.RealIP(), Now: h.clock.Now().UTC().Format(time.RFC3339)}
	if !h.cfg.Release {
		resp.Values = h.cfg.Values
	}
	return c.JSON(http.StatusOK, resp)
}

// options reports client-side settings by type.
func (h *handler) options(c *echo.Context) error {
	switch c.QueryParam("type") {
	case "upload":
		if h.cfg.Upload.Type == "" {
			return errNoUploadTarget
		}
		return c.JSON(http.StatusOK, h.cfg.Upload)
	case "collaboration":
		if !h.cfg.Lark.Enabled {
			return errNoLark
		}
		return c.JSON(http.StatusOK, collaborationOptions{
			URL: larkAuthorizeURL(h.cfg.Lark.RedirectURL), Redirect: h.cfg.Lark.RedirectURL,
			AppID: h.cfg.Lark.AppID, Platform: h.cfg.Lark.Platform,
		})
	case "generate-secret":
		return c.JSON(http.StatusOK, map[string]string{"id": randomText(8), "key": randomText(32)})
	}
	return errOptionUnknown
}

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomText returns n characters drawn uniformly from secretAlphabet with
// crypto/rand.
func randomText(n int) string {
	out := make([]byte, 0, n)
	var b [1]byte
	for len(out) < n {
		_, _ = rand.Read(b[:])
		// 62*4 = 248: reject the top values so every character is equally likely.
		if b[0] < 248 {
			out = append(out, secretAlphabet[b[0]%62])
		}
	}
	return string(out)
}
