package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/auth"
)

// sessionItem is one session in GET /user/sessions.
type sessionItem struct {
	ID           string          `json:"id"`
	Current      bool            `json:"current"`
	Method       string          `json:"method"`
	IP           string          `json:"ip"`
	UserAgent    string          `json:"user_agent"`
	Location     *locationOutput `json:"location"`
	CreateTime   string          `json:"create_time"`
	LastSeenTime string          `json:"last_seen_time"`
	ExpireTime   string          `json:"expire_time"`
}

func (h *handler) listSessions(c *echo.Context) error {
	who := claimsOf(c)
	sessions, err := h.Auth.ListSessions(c.Request().Context(), who)
	if err != nil {
		return err
	}
	items := make([]sessionItem, len(sessions))
	for i, s := range sessions {
		items[i] = sessionItem{
			ID: s.ID.String(), Current: s.ID == who.SessionID,
			Method: string(s.Origin.Method), IP: s.Origin.IP, UserAgent: s.Origin.UserAgent,
			Location:   newLocationOutput(s.Origin.Location),
			CreateTime: rfc3339(s.CreatedAt), LastSeenTime: rfc3339(s.LastSeen), ExpireTime: rfc3339(s.AbsoluteExpiry),
		}
	}
	return c.JSON(http.StatusOK, map[string][]sessionItem{"items": items})
}

// endSession answers 204 whether or not id was a live session of the
// caller, so the route says nothing about other accounts' sessions.
func (h *handler) endSession(c *echo.Context) error {
	who := claimsOf(c)
	id, err := domain.ParseSessionID(c.Param("id"))
	if err != nil {
		// Not even the form of a session id: no session of the caller's.
		return c.NoContent(http.StatusNoContent)
	}
	if err := h.Auth.EndSession(c.Request().Context(), who, id); err != nil {
		return err
	}
	if id == who.SessionID {
		h.clearTokenCookie(c)
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handler) endOtherSessions(c *echo.Context) error {
	n, err := h.Auth.EndOtherSessions(c.Request().Context(), claimsOf(c), h.client(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"ended": n})
}

// logout ends the sessions of ?scope= (local by default) and clears TOKEN
// unless the caller's session is kept.
func (h *handler) logout(c *echo.Context) error {
	scope, err := auth.ParseLogoutScope(c.QueryParam("scope"))
	if err != nil {
		return err
	}
	if err := h.Auth.Logout(c.Request().Context(), claimsOf(c), scope, h.client(c)); err != nil {
		return err
	}
	if scope != auth.LogoutOthers {
		h.clearTokenCookie(c)
	}
	return c.NoContent(http.StatusNoContent)
}
