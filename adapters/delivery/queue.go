package delivery

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// job is one message waiting for delivery.
type job struct {
	// ctx keeps the request's values (a request id for the log) but not its
	// end: the request is usually answered before the delivery is done.
	ctx context.Context
	// attrs describe the message for the log and never hold the code or
	// the recipient.
	attrs []any
	send  func(context.Context) error
}

// queue is one channel's bounded queue and its workers. The queue is a ring
// of fixed size: a full queue drops its oldest message to take a new one,
// since a newer code replaces an older one anyway, and dropping beats
// blocking (a request that waited would again take longer for existing
// accounts than for others).
type queue struct {
	channel string
	timeout time.Duration
	log     *slog.Logger
	dropped atomic.Uint64
	workers sync.WaitGroup

	mu     sync.Mutex
	ready  *sync.Cond // signalled when a job is queued or the queue closes
	ring   []job
	head   int // index of the oldest job
	n      int // jobs in the ring
	closed bool
}

func newQueue(channel string, cfg Config, logger *slog.Logger) *queue {
	q := &queue{channel: channel, timeout: cfg.Timeout, log: logger, ring: make([]job, cfg.QueueSize)}
	q.ready = sync.NewCond(&q.mu)
	for range cfg.Workers {
		q.workers.Go(q.work)
	}
	return q
}

// push queues j, dropping the oldest waiting job when the queue is full.
func (q *queue) push(reqCtx context.Context, j job) {
	j.ctx = context.WithoutCancel(reqCtx)
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		q.dropped.Add(1)
		q.log.ErrorContext(reqCtx, "delivery dropped: shutting down", j.attrs...)
		return
	}
	var old job
	full := q.n == len(q.ring)
	if full {
		old = q.ring[q.head]
		q.ring[q.head] = job{}
		q.head = (q.head + 1) % len(q.ring)
		q.n--
	}
	q.ring[(q.head+q.n)%len(q.ring)] = j
	q.n++
	q.mu.Unlock()
	q.ready.Signal()
	if full {
		q.dropped.Add(1)
		q.log.ErrorContext(old.ctx, "delivery dropped: queue full, oldest message dropped", append(old.attrs, "queue_size", len(q.ring))...)
	}
}

// pop waits for the oldest job; it returns false once the queue is closed
// and empty.
func (q *queue) pop() (job, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.n == 0 && !q.closed {
		q.ready.Wait()
	}
	if q.n == 0 {
		return job{}, false
	}
	j := q.ring[q.head]
	q.ring[q.head] = job{}
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	return j, true
}

func (q *queue) work() {
	for {
		j, ok := q.pop()
		if !ok {
			return
		}
		ctx, cancel := context.WithTimeout(j.ctx, q.timeout)
		if err := deliver(ctx, j.send); err != nil {
			q.log.ErrorContext(ctx, "delivery failed", append(j.attrs, "error", err)...)
		} else {
			q.log.DebugContext(ctx, "delivered", j.attrs...)
		}
		cancel()
	}
}

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// close stops taking jobs; the workers deliver what is queued, then end.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.ready.Broadcast()
}
