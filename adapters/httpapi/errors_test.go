package httpapi

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/gatehouse/gatehouse/adapters/clock"
	"github.com/gatehouse/gatehouse/domain"
)

// Every domain code has exactly one status, and the table has no row for a
// code the domain does not declare.
func TestStatusTableCoversEveryCode(t *testing.T) {
	codes := domain.Codes()
	for _, c := range codes {
		status, ok := statusOf[c]
		if !ok {
			t.Errorf("domain code %s has no HTTP status in statusOf", c)
			continue
		}
		if status < 400 || status > 599 {
			t.Errorf("domain code %s maps to %d, not an error status", c, status)
		}
	}
	for c := range statusOf {
		if !slices.Contains(codes, c) {
			t.Errorf("statusOf has a row for %s, which domain.Codes does not list", c)
		}
	}
}

// answer serves one route that fails with err and returns the response and
// what was logged.
func answer(t *testing.T, err error) (*httptest.ResponseRecorder, errorBody, string) {
	t.Helper()
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	e := New(Config{BodyLimit: 1 << 10, XSRFCookie: "XSRF-TOKEN", XSRFHeader: "X-XSRF-TOKEN", DefaultLang: "en"}, Services{}, nil, clock.System{}, log)
	e.GET("/fail", func(*echo.Context) error { return err })
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/fail", nil))
	raw, _ := io.ReadAll(rec.Body)
	var body errorBody
	if jerr := json.Unmarshal(raw, &body); jerr != nil {
		t.Fatalf("body %q: %v", raw, jerr)
	}
	return rec, body, logs.String()
}

func TestErrorAnswers(t *testing.T) {
	t.Run("a code without a row is 500 INTERNAL, logged, not echoed", func(t *testing.T) {
		rec, body, logs := answer(t, &domain.Error{Code: "NOT_IN_THE_TABLE", Message: "internal detail"})
		if rec.Code != http.StatusInternalServerError || body.Code != "INTERNAL" || strings.Contains(body.Message, "internal detail") {
			t.Fatalf("got %d %+v", rec.Code, body)
		}
		if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "NOT_IN_THE_TABLE") {
			t.Fatalf("the unmapped code was not logged as an error:\n%s", logs)
		}
	})
	t.Run("a store outage is 503 UNAVAILABLE", func(t *testing.T) {
		rec, body, _ := answer(t, fmt.Errorf("read user: %w", domain.ErrUnavailable))
		if rec.Code != http.StatusServiceUnavailable || body.Code != string(domain.CodeUnavailable) {
			t.Fatalf("got %d %+v", rec.Code, body)
		}
	})
	t.Run("RATE_LIMITED is 429 with Retry-After in whole seconds", func(t *testing.T) {
		rec, body, _ := answer(t, domain.RateLimited(1500*time.Millisecond))
		if rec.Code != http.StatusTooManyRequests || body.Code != string(domain.CodeRateLimited) || rec.Header().Get("Retry-After") != "2" {
			t.Fatalf("got %d %+v Retry-After=%q", rec.Code, body, rec.Header().Get("Retry-After"))
		}
	})
	t.Run("an account that is gone is no longer the adapter's concern", func(t *testing.T) {
		// The services turn it into AUTH_EXPIRED (domain.CallerGone); a
		// plain ErrUserNotFound reaching the edge is a bug, so 500.
		rec, body, _ := answer(t, domain.ErrUserNotFound)
		if rec.Code != http.StatusInternalServerError || body.Code != "INTERNAL" {
			t.Fatalf("got %d %+v", rec.Code, body)
		}
	})
}
