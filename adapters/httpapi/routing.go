package httpapi

import (
	"strings"

	"github.com/labstack/echo/v5"
)

// wholeSegments answers 404 when the router matched a route only by letting
// its last parameter swallow several path segments. Echo's router treats a
// trailing `:param` like a wildcard, so /user/unknown/deeper matches
// DELETE /user/:key: GET would answer 405 and DELETE would reach the
// handler with key "unknown/deeper". A parameter is one segment, so a path
// with more segments than its route's pattern is no route, whatever the
// method.
//
// It runs after routing (Echo.Use), so it sees the matched pattern for
// handlers, 405 and OPTIONS alike (the router clears the parameter values
// of a 405, hence counting segments rather than reading them). An escaped
// slash (%2F) stays escaped in the raw path the router matches, so it is
// not a separator here either.
func wholeSegments(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		pattern := c.Path()
		if pattern != "" && !strings.Contains(pattern, "*") {
			u := c.Request().URL
			path := u.Path
			if u.RawPath != "" {
				path = u.RawPath
			}
			if strings.Count(path, "/") != strings.Count(pattern, "/") {
				c.Set(unmatchedKey, true) // for the route label of metrics and spans
				return echo.ErrNotFound
			}
		}
		return next(c)
	}
}
