package accesslog

import (
	"io"
	"log/slog"
	"sync"
)

// NewLogger returns the service's logger, JSON at level, and the access
// log, both writing to out. Every write to out goes through one lock, so a
// log line and a batch of access lines never interleave, whatever out is.
// The logger's handler carries the access log: From finds it again.
func NewLogger(out io.Writer, level slog.Leveler, o Options) (*slog.Logger, *Writer) {
	lw := &lockedWriter{w: out}
	access := New(lw, o)
	h := &handler{Handler: slog.NewJSONHandler(lw, &slog.HandlerOptions{Level: level}), access: access}
	return slog.New(h), access
}

// From returns the access log that travels with log (see NewLogger), or nil
// when log was made otherwise; callers then log requests through log.
func From(log *slog.Logger) *Writer {
	if h, ok := log.Handler().(*handler); ok {
		return h.access
	}
	return nil
}

// handler is slog's JSON handler with the access log attached. Loggers
// derived with With or WithGroup drop the attachment, which only the root
// logger needs.
type handler struct {
	slog.Handler
	access *Writer
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
