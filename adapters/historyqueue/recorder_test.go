package historyqueue

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
)

// store is a Store that keeps what it is given; when gate is set, every
// write first announces itself on started and then waits for gate.
type store struct {
	mu      sync.Mutex
	got     []string
	started chan string
	gate    chan struct{}
}

func (s *store) RecordLogin(ctx context.Context, userID domain.UserID, rec domain.LoginRecord) error {
	if s.gate != nil {
		s.started <- userID.String()
		select {
		case <-s.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, userID.String()+":"+rec.UserAgent)
	return nil
}

func (s *store) written() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

func newLog() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&syncWriter{w: &buf}, nil)), &buf
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func rec(agent string) domain.LoginRecord {
	return domain.LoginRecord{Time: time.Unix(0, 0), IP: "192.0.2.1", UserAgent: agent, Method: domain.LoginEmail}
}

func TestRecordsReachTheStoreAndCloseDrains(t *testing.T) {
	st := &store{}
	log, _ := newLog()
	r := New(st, Config{Capacity: 100, Writers: 3}, log)
	for i := range 50 {
		r.Record("u", rec(strings.Repeat("a", i)))
	}
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := len(st.written()); got != 50 || r.Dropped() != 0 {
		t.Fatalf("written %d, dropped %d; want 50, 0", got, r.Dropped())
	}
}

func TestFullQueueDropsCountsAndLogs(t *testing.T) {
	st := &store{started: make(chan string, 1), gate: make(chan struct{})}
	log, buf := newLog()
	r := New(st, Config{Capacity: 1, Writers: 1}, log)
	r.Record("first", rec("a"))
	<-st.started                 // the writer holds "first"
	r.Record("second", rec("b")) // waits in the queue
	r.Record("third", rec("c"))  // no room
	if r.Dropped() != 1 {
		t.Fatalf("dropped %d, want 1", r.Dropped())
	}
	out := buf.String()
	if !strings.Contains(out, "queue full") || !strings.Contains(out, "user=third") || !strings.Contains(out, "dropped_total=1") {
		t.Fatalf("drop log = %q", out)
	}
	close(st.gate)
	go func() {
		for range st.started {
		}
	}()
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	close(st.started)
	if got := st.written(); len(got) != 2 || got[0] != "first:a" || got[1] != "second:b" {
		t.Fatalf("written %q", got)
	}
	r.Record("late", rec("d"))
	if r.Dropped() != 2 || !strings.Contains(buf.String(), "shutting down") {
		t.Fatalf("a record after Close: dropped %d, log %q", r.Dropped(), buf.String())
	}
}

func TestCloseGivesUpAtTheDeadline(t *testing.T) {
	st := &store{started: make(chan string, 1), gate: make(chan struct{})}
	log, _ := newLog()
	r := New(st, Config{Capacity: 4, Writers: 1}, log)
	r.Record("stuck", rec("a"))
	r.Record("queued", rec("b"))
	<-st.started
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := r.Close(ctx)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "1 attempts still queued") {
		t.Fatalf("Close past its deadline = %v", err)
	}
	close(st.gate)
	go func() {
		for range st.started {
		}
	}()
	if err := r.Close(t.Context()); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}
