// Package historyqueue writes login attempts to the account history in the
// background. A failed login on a known account has a history line to
// write and one on an unknown identifier has none; written on the response
// path, that store round trip made known accounts answer measurably later.
// The queue takes the write off the path: both answer after the same work.
package historyqueue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// Store is what the recorder writes to: the history half of
// ports.UserStore.
type Store interface {
	RecordLogin(ctx context.Context, userID domain.UserID, rec domain.LoginRecord) error
}

// Config sizes the recorder.
type Config struct {
	// Capacity is how many attempts may wait for a writer. When the queue
	// is full, new attempts are dropped (logged and counted) rather than
	// waited for: waiting would put the store's time back on the response
	// path of known accounts only.
	Capacity int
	// Writers is how many attempts are written at once. Each write is
	// taken from the queue as soon as a writer is free, never held back to
	// batch, so an attempt reaches the store within moments of its answer.
	Writers int
	// Timeout bounds one write.
	Timeout time.Duration
}

// Recorder is a bounded queue of login attempts and the writers that drain
// it into a Store. It implements ports.LoginRecorder.
type Recorder struct {
	store   Store
	log     *slog.Logger
	timeout time.Duration
	queue   chan entry
	dropped atomic.Uint64

	mu     sync.RWMutex // guards closed and sending on queue
	closed bool
	done   chan struct{} // closed when every writer has returned
}

var _ ports.LoginRecorder = (*Recorder)(nil)

type entry struct {
	userID domain.UserID
	rec    domain.LoginRecord
}

// New starts a recorder writing to store. Call Close to drain it.
func New(store Store, cfg Config, log *slog.Logger) *Recorder {
	if cfg.Capacity < 1 {
		cfg.Capacity = 1
	}
	if cfg.Writers < 1 {
		cfg.Writers = 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	r := &Recorder{
		store:   store,
		log:     log,
		timeout: cfg.Timeout,
		queue:   make(chan entry, cfg.Capacity),
		done:    make(chan struct{}),
	}
	var wg sync.WaitGroup
	for range cfg.Writers {
		wg.Go(r.write)
	}
	go func() {
		wg.Wait()
		close(r.done)
	}()
	return r
}

// Record queues rec for userID's history and returns at once. A full queue
// or a closed recorder drops it, with an error log that names the account
// and the method (never a credential) and the running count of drops.
func (r *Recorder) Record(userID domain.UserID, rec domain.LoginRecord) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	reason := "shutting down"
	if !r.closed {
		select {
		case r.queue <- entry{userID: userID, rec: rec}:
			return
		default:
			reason = "queue full"
		}
	}
	n := r.dropped.Add(1)
	r.log.Error("login history: attempt dropped", "reason", reason, "user", userID.String(),
		"method", string(rec.Method), "result", string(rec.Result()), "dropped_total", n, "capacity", cap(r.queue))
}

// Dropped is how many attempts were dropped since the recorder started.
func (r *Recorder) Dropped() uint64 { return r.dropped.Load() }

// write is one writer: it stores queued attempts until the queue is closed
// and empty.
func (r *Recorder) write() {
	for e := range r.queue {
		if err := r.store1(e); err != nil {
			r.log.Error("login history: attempt not written", "user", e.userID.String(), "method", string(e.rec.Method), "err", err)
		}
	}
}

// store1 writes one attempt under the write timeout, turning a panic of the
// store into an error: nothing recovers a background goroutine, and one bad
// write must not stop the service.
func (r *Recorder) store1(e entry) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	return r.store.RecordLogin(ctx, e.userID, e.rec)
}

// Close stops taking attempts and waits until the queued ones are written,
// or until ctx ends; then it returns an error saying how many were still
// queued, and the writers carry on unwatched. Call it after the HTTP server
// has stopped, so no request is still recording. Calling it again waits
// again.
func (r *Recorder) Close(ctx context.Context) error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.queue)
	}
	r.mu.Unlock()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return errors.Join(fmt.Errorf("login history: %d attempts still queued at shutdown", len(r.queue)), ctx.Err())
	}
}
