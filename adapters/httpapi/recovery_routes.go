package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/gatehouse/gatehouse/domain/profile"
)

type recoveryCodesRequest struct {
	Password string `json:"password"`
}

// makeRecoveryCodes answers the new codes once; the response is not cached
// (Cache-Control: no-store, as on every /user route).
func (h *handler) makeRecoveryCodes(c *echo.Context) error {
	var req recoveryCodesRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	in := profile.RecoveryCodesRequest{Password: req.Password, Client: h.client(c)}
	codes, err := h.Profile.MakeRecoveryCodes(c.Request().Context(), claimsOf(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string][]string{"codes": codes})
}
