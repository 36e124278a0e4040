package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/gatehouse/gatehouse/domain/auth"
)

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (h *handler) login(c *echo.Context) error {
	var req loginRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	l, err := h.Auth.Login(c.Request().Context(), auth.PasswordLogin{Email: req.Email, Password: req.Password, Client: h.client(c)})
	return h.loggedIn(c, l, err)
}

func (h *handler) sendLoginSMS(c *echo.Context) error {
	if err := h.Auth.SendLoginSMS(c.Request().Context(), c.QueryParam("phone"), h.client(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type smsLoginRequest struct {
	Phone string `json:"phone"`
	Code  string `json:"code"`
}

func (h *handler) loginSMS(c *echo.Context) error {
	var req smsLoginRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	l, err := h.Auth.LoginSMS(c.Request().Context(), auth.SMSLogin{Phone: req.Phone, Code: req.Code, Client: h.client(c)})
	return h.loggedIn(c, l, err)
}

type totpLoginRequest struct {
	Email string `json:"email"`
	Code  string `json:"code"`
}

func (h *handler) loginTOTP(c *echo.Context) error {
	var req totpLoginRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	l, err := h.Auth.LoginTOTP(c.Request().Context(), auth.TOTPLogin{Email: req.Email, Code: req.Code, Client: h.client(c)})
	return h.loggedIn(c, l, err)
}

// loggedIn finishes every route that hands out a token: 204 and the cookie.
func (h *handler) loggedIn(c *echo.Context, l auth.Login, err error) error {
	if err != nil {
		return err
	}
	h.setTokenCookie(c, l.Token, l.ExpiresAt)
	return c.NoContent(http.StatusNoContent)
}

func (h *handler) sendResetCode(c *echo.Context) error {
	if err := h.Auth.SendResetCode(c.Request().Context(), c.QueryParam("email"), h.client(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type resetRequest struct {
	Email    string `json:"email"`
	Code     string `json:"code"`
	Password string `json:"password"`
}

func (h *handler) resetPassword(c *echo.Context) error {
	var req resetRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	in := auth.PasswordReset{Email: req.Email, Code: req.Code, Password: req.Password, Client: h.client(c)}
	if err := h.Auth.ResetPassword(c.Request().Context(), in); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// verify answers 204 for a live token; requireAuth already did the work.
func (h *handler) verify(c *echo.Context) error {
	return c.NoContent(http.StatusNoContent)
}

func (h *handler) refreshCode(c *echo.Context) error {
	code, err := h.Auth.RefreshCode(c.Request().Context(), claimsOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"code": code})
}

type refreshRequest struct {
	Code string `json:"code"`
}

func (h *handler) refreshToken(c *echo.Context) error {
	var req refreshRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	l, err := h.Auth.RefreshToken(c.Request().Context(), claimsOf(c), req.Code)
	return h.loggedIn(c, l, err)
}
