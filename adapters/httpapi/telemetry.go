package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/labstack/echo/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// RequestMetrics records every answered request by route pattern, method
// and status (API.md "Operations"). Implementations must be quick: they run
// on every request.
type RequestMetrics interface {
	ObserveRequest(route, method string, status int, elapsed time.Duration)
}

// unmatchedRoute is the route of a request that matched none.
const unmatchedRoute = "unmatched"

// unmatchedKey marks a request that the router matched but wholeSegments
// refused: it matched no route either.
const unmatchedKey = "gatehouse.unmatched"

// routeOf returns the pattern of the route c matched, never the raw path,
// or unmatchedRoute. A 404 may carry the pattern of a node that has no
// handler (the router's partial match), so 404s are checked by route name.
func routeOf(c *echo.Context, status int) string {
	p := c.Path()
	if p == "" {
		return unmatchedRoute
	}
	if status == http.StatusNotFound {
		if c.Get(unmatchedKey) != nil || c.RouteInfo().Name == echo.NotFoundRouteName {
			return unmatchedRoute
		}
	}
	return p
}

// observe records one answered request in the metrics, if they are on.
func (h *handler) observe(c *echo.Context, status int, elapsed time.Duration) {
	if h.cfg.Metrics != nil {
		h.cfg.Metrics.ObserveRequest(routeOf(c, status), c.Request().Method, status, elapsed)
	}
}

// tracerName names the instrumentation scope of the HTTP server spans.
const tracerName = "github.com/gatehouse/gatehouse/adapters/httpapi"

// traceRequests opens one server span per request, named after the route
// pattern once routing has found it. The W3C traceparent of a request is
// honoured only when its peer is a trusted proxy: anyone else could attach
// our spans to a trace of their own choosing. Attributes never carry the
// query string (where ?email= and ?phone= travel), a header or a body; the
// path is recorded only for routes without parameters, where it is the
// pattern itself.
func (h *handler) traceRequests(tp trace.TracerProvider) echo.MiddlewareFunc {
	tracer := tp.Tracer(tracerName)
	prop := propagation.TraceContext{}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			r := c.Request()
			ctx := r.Context()
			if h.fromTrustedProxy(r) {
				ctx = prop.Extract(ctx, propagation.HeaderCarrier(r.Header))
			}
			ctx, span := tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.String("http.request.method", r.Method)))
			defer span.End()
			c.SetRequest(r.WithContext(ctx))
			err := next(c)
			status := http.StatusOK
			if resp, _ := echo.UnwrapResponse(c.Response()); resp != nil {
				status = resp.Status
			}
			route := routeOf(c, status)
			span.SetName(r.Method + " " + route)
			attrs := []attribute.KeyValue{
				attribute.String("http.route", route),
				attribute.Int("http.response.status_code", status),
			}
			if route == r.URL.Path {
				attrs = append(attrs, attribute.String("url.path", r.URL.Path))
			}
			span.SetAttributes(attrs...)
			if status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
			return err
		}
	}
}

// fromTrustedProxy reports whether the request's peer is inside
// GATEHOUSE_TRUSTED_PROXIES.
func (h *handler) fromTrustedProxy(r *http.Request) bool {
	if len(h.cfg.TrustedProxies) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range h.cfg.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
