package httpapi

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"

	"github.com/gatehouse/gatehouse/domain"
)

// errorBody is the body of every failure.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Errors the HTTP layer raises itself.
var (
	errCSRF          = &httpError{http.StatusForbidden, "CSRF_INVALID", "the request failed the CSRF or cross-site check"}
	errBodyTooLarge  = &httpError{http.StatusRequestEntityTooLarge, "BODY_TOO_LARGE", "the request body is too large"}
	errMediaType     = &httpError{http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "the body must be application/json"}
	errOptionUnknown = &domain.Error{Code: domain.CodeOptionUnknown, Message: "type must be upload, collaboration or generate-secret"}
)

type httpError struct {
	status  int
	code    string
	message string
}

func (e *httpError) Error() string { return e.code }

// statusOf is the one table from domain error codes to HTTP status.
var statusOf = map[domain.Code]int{
	domain.CodeValidationFailed: http.StatusBadRequest,
	domain.CodeLoginInvalid:     http.StatusBadRequest,
	domain.CodeCodeInvalid:      http.StatusBadRequest,
	domain.CodeTOTPInvalid:      http.StatusBadRequest,
	domain.CodePasswordInvalid:  http.StatusBadRequest,
	domain.CodePasswordWeak:     http.StatusBadRequest,
	domain.CodeOptionUnknown:    http.StatusBadRequest,
	domain.CodeAuthRequired:     http.StatusUnauthorized,
	domain.CodeAuthExpired:      http.StatusUnauthorized,
	domain.CodeEmailTaken:       http.StatusConflict,
	domain.CodePhoneTaken:       http.StatusConflict,
	domain.CodeLoginLocked:      http.StatusTooManyRequests,
	domain.CodeCodeTooFrequent:  http.StatusTooManyRequests,
	domain.CodeUnavailable:      http.StatusServiceUnavailable,
}

// handleError writes the failure body for err. Unknown errors are 500
// INTERNAL: logged with the request id, never echoed.
func (h *handler) handleError(c *echo.Context, err error) {
	if r, _ := echo.UnwrapResponse(c.Response()); r != nil && r.Committed {
		return
	}
	status, body := h.describe(c, err)
	if status == http.StatusUnauthorized {
		h.clearTokenCookie(c) // the browser should stop sending a dead or empty token
	}
	var de *domain.Error
	if errors.As(err, &de) && de.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(de.RetryAfter.Seconds()))))
	}
	if werr := c.JSON(status, body); werr != nil {
		h.log.Debug("write error response", "err", werr)
	}
}

func (h *handler) describe(c *echo.Context, err error) (int, errorBody) {
	var (
		de  *domain.Error
		he  *httpError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &de):
		status, ok := statusOf[de.Code]
		if !ok {
			status = http.StatusBadRequest
		}
		return status, errorBody{string(de.Code), de.Message}
	case errors.As(err, &he):
		return he.status, errorBody{he.code, he.message}
	case errors.As(err, &mbe):
		return errBodyTooLarge.status, errorBody{errBodyTooLarge.code, errBodyTooLarge.message}
	case errors.Is(err, domain.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		h.log.Warn("store unavailable", "request_id", c.Response().Header().Get(requestIDHeader), "route", c.Path(), "err", err)
		return http.StatusServiceUnavailable, errorBody{"UNAVAILABLE", "a backing store is unavailable, try again shortly"}
	case errors.Is(err, domain.ErrUserNotFound):
		// The account behind a valid session is gone: the session is dead.
		return http.StatusUnauthorized, errorBody{string(domain.CodeAuthExpired), domain.ErrAuthExpired.Message}
	}
	switch echo.StatusCode(err) {
	case http.StatusNotFound:
		return http.StatusNotFound, errorBody{"NOT_FOUND", "no such route"}
	case http.StatusMethodNotAllowed:
		return http.StatusMethodNotAllowed, errorBody{"METHOD_NOT_ALLOWED", "the route does not allow this method"}
	}
	h.log.Error("unexpected error", "request_id", c.Response().Header().Get(requestIDHeader), "route", c.Path(), "err", err)
	return http.StatusInternalServerError, errorBody{"INTERNAL", "internal error"}
}
