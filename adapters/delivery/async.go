// Package delivery sends SMS and mail in the background, so that neither how
// long a delivery takes nor whether it fails shows in the answer to the
// request that caused it: a route that mails only known accounts would
// otherwise tell, by its timing or its errors, which accounts exist.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// Defaults of NewAsync.
const (
	defaultTimeout = 10 * time.Second
	// maxInFlight bounds concurrent deliveries, so a flood of requests
	// cannot pile up goroutines and connections behind a slow provider.
	maxInFlight = 64
)

// Async hands SMS and mail to the real senders in background goroutines. It
// implements ports.SMSSender and ports.Mailer.
type Async struct {
	sms     ports.SMSSender
	mail    ports.Mailer
	log     *slog.Logger
	timeout time.Duration
	slots   chan struct{} // one token per delivery in flight

	mu     sync.Mutex // guards closed and the Add side of wg
	closed bool
	wg     sync.WaitGroup
}

var (
	_ ports.SMSSender = (*Async)(nil)
	_ ports.Mailer    = (*Async)(nil)
)

// NewAsync returns an Async that delivers through sms and mail, giving each
// delivery timeout (10 s when zero) and logging failures to logger.
func NewAsync(sms ports.SMSSender, mail ports.Mailer, logger *slog.Logger, timeout time.Duration) *Async {
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	return &Async{
		sms:     sms,
		mail:    mail,
		log:     logger,
		timeout: timeout,
		slots:   make(chan struct{}, maxInFlight),
	}
}

// SendSMS starts delivering msg and returns nil at once.
func (a *Async) SendSMS(ctx context.Context, msg domain.SMS) error {
	a.start(ctx, "sms", []any{"purpose", string(msg.Purpose), "lang", string(msg.Lang)},
		func(ctx context.Context) error { return a.sms.SendSMS(ctx, msg) })
	return nil
}

// SendMail starts delivering msg and returns nil at once.
func (a *Async) SendMail(ctx context.Context, msg domain.Mail) error {
	a.start(ctx, "mail", []any{"kind", string(msg.Kind), "lang", string(msg.Lang)},
		func(ctx context.Context) error { return a.mail.SendMail(ctx, msg) })
	return nil
}

// start runs send in the background. The delivery keeps the request
// context's values (a request id for the log) but not its end: the request
// is usually answered before the delivery is done. attrs describe the
// message for the log and never hold the code or the recipient.
func (a *Async) start(reqCtx context.Context, channel string, attrs []any, send func(context.Context) error) {
	attrs = append([]any{"channel", channel}, attrs...)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		a.log.ErrorContext(reqCtx, "delivery dropped: shutting down", attrs...)
		return
	}
	select {
	case a.slots <- struct{}{}:
	default:
		// Dropping beats blocking: a request that waited for a free slot
		// would again take longer for existing accounts than for others.
		a.log.ErrorContext(reqCtx, "delivery dropped: too many in flight", append(attrs, "limit", cap(a.slots))...)
		return
	}
	ctx := context.WithoutCancel(reqCtx)
	a.wg.Go(func() {
		defer func() { <-a.slots }()
		ctx, cancel := context.WithTimeout(ctx, a.timeout)
		defer cancel()
		if err := deliver(ctx, send); err != nil {
			a.log.ErrorContext(ctx, "delivery failed", append(attrs, "error", err)...)
			return
		}
		a.log.DebugContext(ctx, "delivered", attrs...)
	})
}

// deliver calls send and turns a panic into an error: nothing recovers
// panics in a background goroutine, and one bad message must not stop the
// service.
func deliver(ctx context.Context, send func(context.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return send(ctx)
}

// Close stops accepting deliveries and waits for those in flight, or until
// ctx ends; then it returns an error and the rest run on unwatched. Call it
// after the HTTP server has stopped, so no request can start a delivery.
func (a *Async) Close(ctx context.Context) error {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()

	done := make(chan struct{})
	go func() {
		a.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.Join(errors.New("delivery: deliveries still in flight at shutdown"), ctx.Err())
	}
}
