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
}

type historyEntry struct {
	Time      string `json:"time"`
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
	Method    string `json:"method"`
}

type larkProfile struct {
	Name      string `json:"name"`
	EnName    string `json:"en_name"`
	AvatarURL string `json:"avatar_url"`
	OpenID    string `json:"open_id"`
	UnionID   string `json:"union_id,omitempty"`
}

// setMarker is what /user shows for a bound phone or TOTP: that it is set,
// never the number or the secret.
func setMarker(v string) string {
	if v == "" {
		return ""
	}
	return "*"
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (h *handler) getUser(c *echo.Context) error {
	u, err := h.Profile.Get(c.Request().Context(), claimsOf(c))
	if err != nil {
		return err
	}
	resp := userResponse{
		ID: u.ID, Email: u.Email, Name: u.Name, Avatar: u.Avatar,
		Phone: setMarker(u.Phone), Sessions: u.LoginCount, TOTP: setMarker(u.TOTPSecret),
		Status: u.Active, CreateTime: rfc3339(u.CreatedAt), UpdateTime: rfc3339(u.UpdatedAt),
	}
	if l := u.LastLogin; l != nil {
		resp.History = &historyEntry{Time: rfc3339(l.Time), IP: l.IP, UserAgent: l.UserAgent, Method: string(l.Method)}
	}
	if l := u.Lark; l != nil {
		resp.Lark = &larkProfile{Name: l.Name, EnName: l.EnName, AvatarURL: l.AvatarURL, OpenID: l.OpenID, UnionID: l.UnionID}
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
