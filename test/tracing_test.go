package test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse/gatehouse/adapters/clock"
	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/testinbox"
)

// newTracedEnv is newEnv with tracing on, recorded in memory.
func newTracedEnv(t *testing.T, m mode, tweak func(*config.Config)) (*env, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	e := &env{t: t, mode: m, sms: testinbox.NewSMSInbox(t, webhookSecret), mail: testinbox.NewMailInbox(t)}
	e.cfg = testConfig(e.sms, e.mail)
	if tweak != nil {
		tweak(&e.cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tel := app.Telemetry{Tracer: tp}
	var (
		a       *app.App
		cleanup func()
		err     error
	)
	if m == memoryMode {
		e.clock = clock.NewFake(time.Now())
		a, cleanup, err = app.InMemoryWithTelemetry(e.cfg, log, e.clock, tel)
	} else {
		useStoresOf(t, m, &e.cfg)
		a, cleanup, err = app.PersistentWithTelemetry(context.Background(), e.cfg, log, clock.System{}, tel)
	}
	if err != nil {
		t.Fatalf("assemble %s: %v", m, err)
	}
	e.app = a
	e.srv = httptest.NewServer(a.Handler)
	t.Cleanup(func() {
		e.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Drain(ctx)
		cleanup()
	})
	return e, rec
}

// serverSpans returns the ended server spans named name.
func serverSpans(rec *tracetest.SpanRecorder, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.SpanKind() == trace.SpanKindServer && s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// TestTracingLogin: on PostgreSQL and Redis, one password login is one
// server span named after its route, with child spans for the database,
// Redis and the hash, and no span carries a secret or personal data.
func TestTracingLogin(t *testing.T) {
	e, rec := newTracedEnv(t, persistentMode, nil)
	e.createUser(alice, alicePass, alicePhone)
	c := e.browser()
	rec.Reset()

	// A traceparent from a peer that is not a trusted proxy is ignored.
	foreign := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	r := c.post("/login", map[string]string{"email": alice, "password": alicePass}, "traceparent", foreign)
	expect(t, r, http.StatusNoContent, "")
	expect(t, c.get("/login/sms?phone="+q(alicePhone)), http.StatusNoContent, "")
	smsCode := e.sms.WaitFor(t, alicePhone, "login", waitDelivery).Code

	logins := serverSpans(rec, "POST /login")
	if len(logins) != 1 {
		t.Fatalf("%d server spans POST /login, want 1", len(logins))
	}
	login := logins[0]
	if login.Parent().IsValid() || login.SpanContext().TraceID().String() == "0af7651916cd43dd8448eb211c80319c" {
		t.Fatal("the server span joined a trace named by an untrusted peer")
	}
	scopes := map[string]int{}
	var hashes int
	for _, s := range rec.Ended() {
		if s.SpanContext().TraceID() != login.SpanContext().TraceID() || s.SpanContext().SpanID() == login.SpanContext().SpanID() {
			continue
		}
		if !s.Parent().IsValid() {
			t.Errorf("span %q of the login trace has no parent", s.Name())
		}
		if s.SpanKind() == trace.SpanKindServer {
			t.Errorf("a second server span %q in the login trace", s.Name())
		}
		scopes[s.InstrumentationScope().Name]++
		if s.Name() == "argon2.verify" {
			hashes++
		}
	}
	t.Logf("child spans of the login by scope: %v", scopes)
	if hashes != 1 {
		t.Errorf("%d argon2.verify spans under the login, want 1", hashes)
	}
	for _, scope := range []string{"github.com/exaring/otelpgx", "github.com/gatehouse/gatehouse/adapters/redis"} {
		if scopes[scope] == 0 {
			t.Errorf("no child span from %s under the login; have %v", scope, scopes)
		}
	}
	sms := serverSpans(rec, "GET /login/sms")
	if len(sms) != 1 {
		t.Fatalf("%d server spans GET /login/sms, want 1", len(sms))
	}
	// The inbox has the SMS before the provider call returns and its span
	// ends.
	eventually(t, waitDelivery, "a span around the SMS provider call under GET /login/sms", func() bool {
		for _, s := range rec.Ended() {
			if s.Name() == "deliver sms" && s.SpanContext().TraceID() == sms[0].SpanContext().TraceID() {
				return true
			}
		}
		return false
	})

	// No name or attribute carries a secret or personal data.
	forbidden := []string{alicePass, alice, "example.com", "13800138000", c.token(), smsCode, testSecret, webhookSecret, "?"}
	for _, s := range rec.Ended() {
		values := []string{s.Name()}
		for _, kv := range s.Attributes() {
			values = append(values, kv.Value.String())
		}
		for _, ev := range s.Events() {
			for _, kv := range ev.Attributes {
				values = append(values, kv.Value.String())
			}
		}
		for _, v := range values {
			for _, bad := range forbidden {
				if bad != "" && strings.Contains(v, bad) {
					t.Errorf("span %q carries %q in %q", s.Name(), bad, v)
				}
			}
		}
	}
}

// TestTracingTrustedTraceparent: a trusted proxy's traceparent makes the
// server span a child of the caller's span; unmatched paths are named
// "unmatched", never after the raw path.
func TestTracingTrustedTraceparent(t *testing.T) {
	e, rec := newTracedEnv(t, memoryMode, func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1/32", "::1/128"} })
	c := e.bare()
	parent := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	expect(t, c.get("/healthz", "traceparent", parent), http.StatusOK, "")
	spans := serverSpans(rec, "GET /healthz")
	if len(spans) != 1 {
		t.Fatalf("%d server spans GET /healthz, want 1", len(spans))
	}
	if got := spans[0].SpanContext().TraceID().String(); got != "0af7651916cd43dd8448eb211c80319c" {
		t.Fatalf("trace id %s: the trusted traceparent was not honoured", got)
	}
	if got := spans[0].Parent().SpanID().String(); got != "b7ad6b7169203331" {
		t.Fatalf("parent span %s, want the caller's", got)
	}
	expect(t, c.get("/no/such/"+alice), http.StatusNotFound, "NOT_FOUND")
	if len(serverSpans(rec, "GET unmatched")) != 1 {
		t.Fatal("an unmatched path was not named \"unmatched\"")
	}
}
