package accesslog

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// A line is byte for byte what slog's JSONHandler writes for the same
// request, so log pipelines see no change.
func TestLineMatchesSlog(t *testing.T) {
	at := time.Date(2026, 11, 30, 21, 4, 5, 123456789, time.FixedZone("CST", 8*3600))
	for _, e := range []Entry{
		{Time: at, Level: slog.LevelInfo, RequestID: "abc-1", Method: "GET", Route: "/verify", Status: 204, Latency: 1234567 * time.Nanosecond, IP: "127.0.0.1"},
		{Time: at.UTC(), Level: slog.LevelError, RequestID: "x", Method: "POST", Route: "/user/sessions/:id", Status: 503, Latency: time.Second, IP: "2001:db8::1"},
		{Time: at, Level: slog.LevelInfo, RequestID: "q\"\\\n\t\x01\u2028é\xff", Method: "", Route: "", Status: 0, Latency: 0, IP: ""},
	} {
		var want bytes.Buffer
		h := slog.NewJSONHandler(&want, nil)
		r := slog.NewRecord(e.Time, e.Level, "request", 0)
		r.AddAttrs(slog.String("request_id", e.RequestID), slog.String("method", e.Method), slog.String("route", e.Route),
			slog.Int("status", e.Status), slog.Duration("latency", e.Latency), slog.String("ip", e.IP))
		if err := h.Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		got := appendEntry(nil, e)
		if string(got) != want.String() {
			t.Errorf("line differs from slog's\n got %s\nwant %s", got, want.String())
		}
	}
}

// Long fields are cut, so a line never exceeds maxLine, and stays JSON.
func TestLongFieldsAreCut(t *testing.T) {
	long := strings.Repeat("\x01", 10*maxLine)
	line := appendEntry(nil, Entry{Time: time.Now(), RequestID: long, Method: long, Route: long, IP: long, Status: 200})
	if len(line) > maxLine {
		t.Fatalf("line of %d bytes, more than %d", len(line), maxLine)
	}
	var v map[string]any
	if err := json.Unmarshal(line, &v); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
}

func TestAppendEntryDoesNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 4096)
	e := Entry{Time: time.Now(), Level: slog.LevelInfo, RequestID: "6f1c2a1e7b1d-4c5", Method: "GET", Route: "/verify", Status: 204, Latency: 250 * time.Microsecond, IP: "203.0.113.9"}
	if n := testing.AllocsPerRun(100, func() { buf = appendEntry(buf[:0], e) }); n != 0 {
		t.Fatalf("%v allocations per line", n)
	}
}

// blockingWriter takes nothing until released, like a log pipe whose
// reader stalled.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
	writes  int
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	<-b.release
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.buf.Write(p)
}

func (b *blockingWriter) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A stalled output never blocks Log: lines beyond the buffer are dropped
// and counted, a warning reports them once the output takes lines again,
// and Close writes out what waited.
func TestStalledOutputDropsAndCounts(t *testing.T) {
	out := &blockingWriter{release: make(chan struct{})}
	w := New(out, Options{Buffer: MinBuffer, FlushInterval: time.Millisecond})
	e := Entry{Time: time.Now(), Method: "GET", Route: "/verify", Status: 204, RequestID: "r", IP: "127.0.0.1"}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 2000 { // far more than MinBuffer holds
			w.Log(e)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Log blocked on a stalled output")
	}
	if w.Dropped() == 0 {
		t.Fatal("no line dropped with the output stalled and the buffer full")
	}
	close(out.release)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	lines := strings.Count(got, `"msg":"request"`)
	if uint64(lines)+w.Dropped() != 2000 {
		t.Errorf("%d lines written + %d dropped != 2000 logged", lines, w.Dropped())
	}
	if !strings.Contains(got, `"msg":"access log lines dropped`) {
		t.Errorf("no warning about the drops in the output")
	}
	for _, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		if !json.Valid([]byte(l)) {
			t.Fatalf("invalid line %q", l)
		}
	}
}

// Lines gather and go out in few writes, not one per line; Close flushes
// and later lines are dropped, not written after the output is gone.
func TestBatchesAndClose(t *testing.T) {
	out := &blockingWriter{release: make(chan struct{})}
	close(out.release)
	w := New(out, Options{Buffer: 1 << 20, FlushInterval: time.Hour})
	e := Entry{Time: time.Now(), Method: "GET", Route: "/verify", Status: 204, RequestID: "r", IP: "127.0.0.1"}
	for range 500 {
		w.Log(e)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 500 || out.writes != 1 {
		t.Errorf("%d lines in %d writes; want 500 in 1", n, out.writes)
	}
	w.Log(e)
	if w.Dropped() != 1 || strings.Count(out.String(), "\n") != 500 {
		t.Errorf("a line logged after Close was written or not counted")
	}
}

// NewLogger's logger and access log share the output without interleaving,
// and From finds the access log only on such a logger.
func TestNewLoggerSharesOutput(t *testing.T) {
	var buf bytes.Buffer
	log, access := NewLogger(&buf, slog.LevelInfo, Options{FlushInterval: time.Millisecond})
	if From(log) != access || From(slog.New(slog.DiscardHandler)) != nil {
		t.Fatal("From does not find the access log of NewLogger's logger, or finds one elsewhere")
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if i%2 == 0 {
					log.Info("something happened", "n", i)
				} else {
					access.Log(Entry{Time: time.Now(), Method: "GET", Route: "/", Status: 200})
				}
			}
		}()
	}
	wg.Wait()
	if err := access.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines, want 800", len(lines))
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("interleaved or broken line %q", l)
		}
	}
}

func BenchmarkLog(b *testing.B) {
	w := New(discard{}, Options{Buffer: 8 << 20, FlushInterval: 10 * time.Millisecond})
	defer w.Close(context.Background())
	e := Entry{Time: time.Now(), Level: slog.LevelInfo, RequestID: "6f1c2a1e7b1d-4c5", Method: "GET", Route: "/verify", Status: 204, Latency: 250 * time.Microsecond, IP: "203.0.113.9"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.Log(e)
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
