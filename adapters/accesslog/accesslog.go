// Package accesslog writes the per-request access log off the request path.
//
// A request appends its line, formatted by hand (no allocation, no
// reflection), to a bounded in-memory buffer and goes on; one goroutine
// writes the buffer out in a single write per flush interval. The request
// never waits for the output: when the buffer is full (the output is slower
// than the traffic, or stalled), lines are dropped and counted, and a
// warning line with the count is written once room is back. At 20k req/s a
// line per request costs one syscall per interval instead of 20k.
//
// Lines are the same JSON as log/slog's JSONHandler writes for
// slog.LogAttrs(ctx, level, "request", request_id, method, route, status,
// latency, ip), so a log pipeline sees no difference from the synchronous
// path it replaces. NewLogger returns the service's logger and the access
// log on one output, so the two never interleave inside a line.
package accesslog

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Entry is one answered request.
type Entry struct {
	// Time is when the answer was written.
	Time time.Time
	// Level is slog.LevelInfo, or slog.LevelError for a 5xx.
	Level     slog.Level
	RequestID string
	Method    string
	// Route is the route pattern, never the raw path (no query string, no
	// path parameter values).
	Route   string
	Status  int
	Latency time.Duration
	IP      string
}

// Options bound the access log.
type Options struct {
	// Buffer is how many bytes of lines may wait for the output; beyond
	// it, lines are dropped. At least MinBuffer; 0 means 1 MiB.
	Buffer int
	// FlushInterval is how long a line may wait before it is written; 0
	// means 100 ms.
	FlushInterval time.Duration
}

// MinBuffer is the smallest buffer: room for a few lines of any size.
const MinBuffer = 16 << 10

// maxLine bounds one line: each string field is cut to maxField bytes
// (they are ids, patterns, methods and IPs, far shorter in practice), and
// escaping at most sextuples it.
const (
	maxField = 128
	maxLine  = 4 << 10
)

// Writer is the asynchronous access log. It is safe for concurrent use.
type Writer struct {
	out      io.Writer
	interval time.Duration
	limit    int

	mu      sync.Mutex
	buf     []byte // lines waiting; guarded by mu
	spare   []byte // the flusher's buffer; touched only by run (and New)
	pending uint64 // drops not yet reported in the log; guarded by mu
	closed  bool   // guarded by mu

	dropped atomic.Uint64
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

// New starts an access log writing to out, which must take whole lines in
// one Write each (as *os.File does; see NewLogger for sharing out with a
// logger).
func New(out io.Writer, o Options) *Writer {
	limit := 1 << 20
	if o.Buffer != 0 {
		limit = max(o.Buffer, MinBuffer)
	}
	interval := o.FlushInterval
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	w := &Writer{
		out: out, interval: interval, limit: limit,
		// Both buffers hold the limit from the start, so appending never
		// reallocates (pages the traffic never reaches stay unmapped).
		buf: make([]byte, 0, limit), spare: make([]byte, 0, limit),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go w.run()
	return w
}

// Log queues e's line and returns at once. When the buffer is full the
// line is dropped and counted.
func (w *Writer) Log(e Entry) {
	w.mu.Lock()
	if w.closed || len(w.buf)+maxLine > w.limit {
		w.pending++
		w.mu.Unlock()
		w.dropped.Add(1)
		return
	}
	first := len(w.buf) == 0
	w.buf = appendEntry(w.buf, e)
	w.mu.Unlock()
	if first {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// LogRequest is Log with the entry's fields as arguments, the form the
// HTTP adapter's AccessLog port takes.
func (w *Writer) LogRequest(at time.Time, level slog.Level, requestID, method, route string, status int, latency time.Duration, ip string) {
	w.Log(Entry{Time: at, Level: level, RequestID: requestID, Method: method, Route: route, Status: status, Latency: latency, IP: ip})
}

// Dropped counts the lines dropped since the start.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// Close writes the lines still waiting and stops the writer; lines logged
// afterwards are dropped. It returns ctx's error if the output does not
// take them in time.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	already := w.closed
	w.closed = true
	w.mu.Unlock()
	if !already {
		close(w.stop)
	}
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run writes the buffer out: it sleeps until a line arrives, then lets
// lines gather for one interval and writes them in one call.
func (w *Writer) run() {
	defer close(w.done)
	timer := time.NewTimer(w.interval)
	timer.Stop()
	for {
		select {
		case <-w.wake:
		case <-w.stop:
			w.flush()
			return
		}
		timer.Reset(w.interval)
		select {
		case <-timer.C:
		case <-w.stop:
			timer.Stop()
			w.flush()
			return
		}
		w.flush()
	}
}

// flush swaps the buffers and writes out what was waiting, with a warning
// line for the drops since the last flush.
func (w *Writer) flush() {
	w.mu.Lock()
	w.buf, w.spare = w.spare[:0], w.buf
	drops := w.pending
	w.pending = 0
	w.mu.Unlock()
	if drops > 0 {
		w.spare = appendDropped(w.spare, time.Now(), drops)
	}
	if len(w.spare) > 0 {
		// A failed write has nowhere to be reported but the output that
		// failed; the lines are lost, as a full buffer's would be.
		_, _ = w.out.Write(w.spare)
	}
	w.spare = w.spare[:0]
}

// appendEntry appends e's line in the JSON of slog's JSONHandler.
func appendEntry(b []byte, e Entry) []byte {
	b = append(b, `{"time":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"`...)
	b = append(b, e.Level.String()...)
	b = append(b, `","msg":"request","request_id":`...)
	b = appendString(b, e.RequestID)
	b = append(b, `,"method":`...)
	b = appendString(b, e.Method)
	b = append(b, `,"route":`...)
	b = appendString(b, e.Route)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, `,"latency":`...)
	b = strconv.AppendInt(b, int64(e.Latency), 10)
	b = append(b, `,"ip":`...)
	b = appendString(b, e.IP)
	return append(b, "}\n"...)
}

func appendDropped(b []byte, now time.Time, n uint64) []byte {
	b = append(b, `{"time":"`...)
	b = now.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"WARN","msg":"access log lines dropped: the log output is slower than the requests","dropped":`...)
	b = strconv.AppendUint(b, n, 10)
	return append(b, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json does
// (control characters, quotes, backslashes, invalid UTF-8, U+2028 and
// U+2029), cut to maxField bytes so that a line stays within maxLine.
func appendString(b []byte, s string) []byte {
	if len(s) > maxField {
		s = s[:maxField]
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
