package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v5"

	"github.com/gatehouse/gatehouse/adapters/clock"
)

// A panic in a handler answers 500 INTERNAL and logs the stack; the panic's
// text never reaches the client.
func TestPanicsAnswerInternal(t *testing.T) {
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	e := New(Config{BodyLimit: 1 << 10, XSRFCookie: "XSRF-TOKEN", XSRFHeader: "X-XSRF-TOKEN", DefaultLang: "en"}, Services{}, nil, clock.System{}, log)
	e.GET("/boom", func(*echo.Context) error { panic("secret internals") })

	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	body, _ := io.ReadAll(rec.Body)
	var got errorBody
	if err := json.Unmarshal(body, &got); err != nil || rec.Code != http.StatusInternalServerError || got.Code != "INTERNAL" {
		t.Fatalf("got %d %s", rec.Code, body)
	}
	if strings.Contains(string(body), "secret internals") {
		t.Fatal("the panic reached the client")
	}
	if !strings.Contains(logs.String(), "secret internals") || !strings.Contains(logs.String(), "goroutine") {
		t.Fatalf("the panic and its stack were not logged:\n%s", logs.String())
	}
	if rec.Header().Get("X-Request-Id") == "" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("headers = %v", rec.Header())
	}
}
