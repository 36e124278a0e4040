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

// Errors the HTTP layer raises itself, with codes of its own: they are about
// the request's transport, not the domain.
var (
	// errCSRF refuses a request from another site; csrfFailure says which
	// part of the token check failed.
	errCSRF         = &httpError{http.StatusForbidden, "CSRF_INVALID", "the request comes from another site (Origin or Sec-Fetch-Site) that is not allowed"}
	errNoRoute      = &httpError{http.StatusNotFound, "NOT_FOUND", "no such route"}
	errMethod       = &httpError{http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "the route does not allow this method"}
	errBodyTooLarge = &httpError{http.StatusRequestEntityTooLarge, "BODY_TOO_LARGE", "the request body is too large"}
	errMediaType    = &httpError{http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "the body must be application/json"}
	errInternal     = &httpError{http.StatusInternalServerError, "INTERNAL", "internal error"}
)

// Domain errors the HTTP layer raises itself; their status comes from
// statusOf like every other domain error's.
var (
	errOptionUnknown = &domain.Error{Code: domain.CodeOptionUnknown, Message: "type must be upload, collaboration or generate-secret"}
	// errNoUploadTarget says why a known type is refused.
	errNoUploadTarget = &domain.Error{Code: domain.CodeOptionUnknown, Message: "no upload target is configured"}
	errNoLark         = &domain.Error{Code: domain.CodeOptionUnknown, Message: "Lark sign-in is not configured"}
	// errUnavailable is the answer to a store outage (domain.ErrUnavailable,
	// or a deadline passed while waiting for a store).
	errUnavailable = &domain.Error{Code: domain.CodeUnavailable, Message: "a backing store is unavailable, try again shortly"}
)

type httpError struct {
	status  int
	code    string
	message string
}

func (e *httpError) Error() string { return e.code }

// statusOf is the one table from domain error codes to HTTP status. Every
// code of domain.Codes has exactly one row (TestStatusTableCoversEveryCode);
// a domain error whose code has none answers 500 INTERNAL and is logged.
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
	domain.CodePhoneUnsupported: http.StatusBadRequest,
	domain.CodeLoginLocked:      http.StatusTooManyRequests,
	domain.CodeCodeTooFrequent:  http.StatusTooManyRequests,
	domain.CodeRateLimited:      http.StatusTooManyRequests,
	domain.CodeUnavailable:      http.StatusServiceUnavailable,
	// The Lark codes travel in the callback's redirect; these statuses
	// only matter should one ever reach a JSON answer.
	domain.CodeLarkStateInvalid: http.StatusBadRequest,
	domain.CodeLarkTaken:        http.StatusConflict,
	domain.CodeLarkNotBound:     http.StatusBadRequest,
	domain.CodeLarkDenied:       http.StatusBadRequest,
	domain.CodeLarkFailed:       http.StatusBadGateway,
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
		return h.describeDomain(c, de, err)
	case errors.As(err, &he):
		return he.body()
	case errors.As(err, &mbe):
		return errBodyTooLarge.body()
	case errors.Is(err, domain.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		h.log.Warn("store unavailable", "request_id", c.Response().Header().Get(requestIDHeader), "route", c.Path(), "err", err)
		return h.describeDomain(c, errUnavailable, err)
	}
	switch echo.StatusCode(err) {
	case http.StatusNotFound:
		return errNoRoute.body()
	case http.StatusMethodNotAllowed:
		return errMethod.body()
	}
	h.log.Error("unexpected error", "request_id", c.Response().Header().Get(requestIDHeader), "route", c.Path(), "err", err)
	return errInternal.body()
}

// describeDomain answers de through statusOf. A code without a row is a
// programming error, never a client's: 500 INTERNAL, logged.
func (h *handler) describeDomain(c *echo.Context, de *domain.Error, err error) (int, errorBody) {
	status, ok := statusOf[de.Code]
	if !ok {
		h.log.Error("domain error code without an HTTP status", "request_id", c.Response().Header().Get(requestIDHeader), "route", c.Path(), "code", de.Code, "err", err)
		return errInternal.body()
	}
	return status, errorBody{string(de.Code), de.Message}
}

func (e *httpError) body() (int, errorBody) {
	return e.status, errorBody{e.code, e.message}
}
