package httpapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/gatehouse/gatehouse/domain/mfa"
	"github.com/gatehouse/gatehouse/domain/profile"
)

type userResponse struct {
	ID         string        `json:"_id"`
	Email      string        `json:"email"`
	Name       string        `json:"name"`
	Avatar     string        `json:"avatar"`
	Phone      string        `json:"phone"`
	Sessions   int64         `json:"sessions"`
	History    *historyEntry `json:"history"`
	TOTP       string        `json:"totp"`
	Lark       *larkProfile  `json:"lark"`
	Status     bool          `json:"status"`
	CreateTime string        `json:"create_time"`
	UpdateTime string        `json:"update_time"`
	// RecoveryCodes is how many unused TOTP recovery codes remain.
	RecoveryCodes int `json:"recovery_codes"`
}

type historyEntry struct {
	Time      string `json:"time"`
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
	Method    string `json:"method"`
	// The original's fields, which its dashboard's History tab reads (and
	// throws without): timestamp is time, metadata.source is method.
	Timestamp string          `json:"timestamp"`
	Metadata  historyMetadata `json:"metadata"`
	Detail    historyDetail   `json:"detail"`
	// Location is the place of API.md "Login history", null when unknown.
	Location *locationOutput `json:"location"`
}

type historyMetadata struct {
	ClientIP string `json:"client_ip"`
	Source   string `json:"source"`
	Version  string `json:"version"`
}

// historyDetail is the original's place of a login. Without a geo database
// it is empty strings and zeros, never null: the dashboard reads its fields
// unguarded.
type historyDetail struct {
	Country   string  `json:"country"`
	Continent string  `json:"continent"`
	Prov      string  `json:"prov"`
	City      string  `json:"city"`
	Lng       float64 `json:"lng"`
	Lat       float64 `json:"lat"`
	ISP       string  `json:"isp"`
	Timezone  string  `json:"timezone"`
}

type larkProfile struct {
	Platform  string `json:"platform"`
	Name      string `json:"name"`
	EnName    string `json:"en_name"`
	AvatarURL string `json:"avatar_url"`
	OpenID    string `json:"open_id"`
	UnionID   string `json:"union_id"`
	TenantKey string `json:"tenant_key"`
}

// setMarker is what /user shows for a bound phone or TOTP: that it is set,
// never the number or the secret.
func setMarker(v string) string {
	if v == "" {
		return ""
	}
	return "*"
}

// boundMarker is setMarker for a binding that has no plain value to test.
func boundMarker(bound bool) string {
	if bound {
		return "*"
	}
	return ""
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (h *handler) getUser(c *echo.Context) error {
	u, err := h.Profile.Get(c.Request().Context(), claimsOf(c))
	if err != nil {
		return err
	}
	recoveryCodes, err := h.Profile.RecoveryCodesLeft(c.Request().Context(), u)
	if err != nil {
		return err
	}
	resp := userResponse{
		ID: u.ID.String(), Email: u.Email, Name: u.Name, Avatar: u.Avatar,
		Phone: setMarker(u.Phone.String()), Sessions: u.LoginCount, TOTP: boundMarker(u.TOTP != nil),
		Status: u.Active, CreateTime: rfc3339(u.CreatedAt), UpdateTime: rfc3339(u.UpdatedAt),
		RecoveryCodes: recoveryCodes,
	}
	if l := u.LastLogin; l != nil {
		at := rfc3339(l.Time)
		resp.History = &historyEntry{
			Time: at, IP: l.IP, UserAgent: l.UserAgent, Method: string(l.Method),
			Timestamp: at,
			Metadata:  historyMetadata{ClientIP: l.IP, Source: string(l.Method), Version: h.cfg.Version},
		}
		if loc := h.History.Locate(l.IP); loc != nil {
			resp.History.Detail = historyDetail{
				Country: loc.Country, Continent: loc.Continent, Prov: loc.Region, City: loc.City,
				Lng: loc.Longitude, Lat: loc.Latitude, ISP: loc.ISP, Timezone: loc.TimeZone,
			}
			resp.History.Location = newLocationOutput(loc)
		}
	}
	if l := u.Lark; l != nil {
		resp.Lark = &larkProfile{
			Platform: string(l.Platform), Name: l.Name, EnName: l.EnName, AvatarURL: l.AvatarURL,
			OpenID: l.OpenID, UnionID: l.UnionID, TenantKey: l.TenantKey,
		}
	}
	return c.JSON(http.StatusOK, resp)
}

type updateUserRequest struct {
	Key    string  `json:"key"`
	Email  *string `json:"email"`
	Name   *string `json:"name"`
	Avatar *string `json:"avatar"`
}

func (h *handler) updateUser(c *echo.Context) error {
	var req updateUserRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	in := profile.Update{Key: req.Key, Email: req.Email, Name: req.Name, Avatar: req.Avatar, Client: h.client(c)}
	if err := h.Profile.Update(c.Request().Context(), claimsOf(c), in); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type passwordRequest struct {
	Old      string `json:"old"`
	Password string `json:"password"`
}

func (h *handler) changePassword(c *echo.Context) error {
	var req passwordRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	in := profile.PasswordChange{Old: req.Old, Password: req.Password, Client: h.client(c)}
	if err := h.Profile.ChangePassword(c.Request().Context(), claimsOf(c), in); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handler) sendBindCode(c *echo.Context) error {
	if err := h.Profile.SendBindCode(c.Request().Context(), claimsOf(c), c.QueryParam("phone"), h.client(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type phoneRequest struct {
	Phone string `json:"phone"`
	Code  string `json:"code"`
}

func (h *handler) bindPhone(c *echo.Context) error {
	var req phoneRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	in := profile.PhoneBinding{Phone: req.Phone, Code: req.Code, Client: h.client(c)}
	if err := h.Profile.BindPhone(c.Request().Context(), claimsOf(c), in); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handler) offerTOTP(c *echo.Context) error {
	keyURL, err := h.MFA.Offer(c.Request().Context(), claimsOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"totp": keyURL})
}

type totpRequest struct {
	TOTP string   `json:"totp"`
	TSS  []string `json:"tss"`
}

func (h *handler) bindTOTP(c *echo.Context) error {
	var req totpRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	in := mfa.Binding{URL: req.TOTP, Codes: req.TSS, Client: h.client(c)}
	if err := h.MFA.Bind(c.Request().Context(), claimsOf(c), in); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handler) removeBinding(c *echo.Context) error {
	if err := h.Profile.Remove(c.Request().Context(), claimsOf(c), c.Param("key"), h.client(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
