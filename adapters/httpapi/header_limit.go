package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v5"
)

var errHeaderTooLarge = &httpError{http.StatusRequestHeaderFieldsTooLarge, "HEADER_TOO_LARGE", "the request headers are too large"}

// headerLimit answers 431 when the request line and headers take more than
// Config.HeaderLimit bytes. The server's own MaxHeaderBytes (set to the
// same limit) cannot do it alone: net/http reads up to 4 KiB beyond it
// before refusing, so a request just over the limit would pass. That
// ceiling still stops what is far too large before it is ever parsed.
func (h *handler) headerLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if h.cfg.HeaderLimit > 0 && headerBytes(c.Request()) > h.cfg.HeaderLimit {
			return errHeaderTooLarge
		}
		return next(c)
	}
}

// headerBytes is the size of r's head as HTTP/1.1 writes it: the request
// line, the Host header (which net/http moves out of Header) and every
// other header line, each value on a line of its own.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	if r.Host != "" {
		n += len("Host: ") + len(r.Host) + 2
	}
	for name, values := range r.Header {
		for _, v := range values {
			n += len(name) + 2 + len(v) + 2
		}
	}
	return n + 2
}
