package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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

type recordedLine struct {
	level                 slog.Level
	id, method, route, ip string
	status                int
}

type fakeAccessLog struct{ lines []recordedLine }

func (f *fakeAccessLog) LogRequest(_ time.Time, level slog.Level, id, method, route string, status int, _ time.Duration, ip string) {
	f.lines = append(f.lines, recordedLine{level, id, method, route, ip, status})
}

// With an access log configured, each request's line goes to it (the route
// pattern, never the path or query string), and none through the logger;
// below its level nothing is logged at all.
func TestAccessLogTakesRequestLines(t *testing.T) {
	var logs strings.Builder
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelWarn} {
		logs.Reset()
		access := &fakeAccessLog{}
		log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level}))
		e := New(Config{BodyLimit: 1 << 10, XSRFCookie: "XSRF-TOKEN", XSRFHeader: "X-XSRF-TOKEN", DefaultLang: "en", AccessLog: access}, Services{}, nil, clock.System{}, log)
		e.GET("/items/:id", func(c *echo.Context) error { return c.NoContent(http.StatusNoContent) })
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/items/alice@example.com?phone=123", nil))
		if strings.Contains(logs.String(), "request") {
			t.Errorf("level %s: a request line went through the logger: %s", level, logs.String())
		}
		if level == slog.LevelWarn {
			if len(access.lines) != 0 {
				t.Errorf("level warn: %d access lines, want none", len(access.lines))
			}
			continue
		}
		want := recordedLine{slog.LevelInfo, rec.Header().Get("X-Request-Id"), "GET", "/items/:id", "192.0.2.1", http.StatusNoContent}
		if len(access.lines) != 1 || access.lines[0] != want {
			t.Errorf("access lines = %+v, want [%+v]", access.lines, want)
		}
	}
}
