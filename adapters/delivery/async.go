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
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// The channels, as Dropped, Queued and the log name them.
const (
	ChannelSMS  = "sms"
	ChannelMail = "mail"
)

// Defaults of Config.
const (
	DefaultTimeout   = 10 * time.Second
	DefaultQueueSize = 1024
	DefaultWorkers   = 16
)

// Config sizes the delivery. Zero fields take the defaults.
type Config struct {
	// Timeout bounds one delivery.
	Timeout time.Duration
	// QueueSize is how many messages of one channel may wait for a worker;
	// when full, the oldest waiting message is dropped.
	QueueSize int
	// Workers is how many messages of one channel are delivered at once.
	// It bounds the goroutines and connections a slow provider can hold.
	Workers int
	// Observer is told of each message as it is handed to the provider
	// (not when queued: a message pushed out of a full queue never
	// reaches one); nil observes nothing.
	Observer ports.Observer
	// Tracer, when set, opens a span around each call of a provider (SMS
	// webhook, SMTP), child of the request that caused the message.
	Tracer trace.TracerProvider
}

// Async hands SMS and mail to the real senders from a bounded queue per
// channel, each with its own workers, so that a slow or failing SMS
// provider never delays or drops mail, and the reverse. It implements
// ports.SMSSender and ports.Mailer, and never blocks the caller.
type Async struct {
	smsSender ports.SMSSender
	mailer    ports.Mailer
	observer  ports.Observer
	tracer    trace.Tracer // nil when tracing is off
	sms, mail *queue
}

var (
	_ ports.SMSSender = (*Async)(nil)
	_ ports.Mailer    = (*Async)(nil)
)

// NewAsync returns an Async that delivers through sms and mail and logs
// failures and drops to logger. It starts the workers of both channels; Close
// stops them.
func NewAsync(sms ports.SMSSender, mail ports.Mailer, logger *slog.Logger, cfg Config) *Async {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Observer == nil {
		cfg.Observer = ports.NopObserver{}
	}
	var tracer trace.Tracer
	if cfg.Tracer != nil {
		tracer = cfg.Tracer.Tracer("github.com/gatehouse/gatehouse/adapters/delivery")
	}
	return &Async{
		smsSender: sms,
		mailer:    mail,
		observer:  cfg.Observer,
		tracer:    tracer,
		sms:       newQueue(ChannelSMS, cfg, logger),
		mail:      newQueue(ChannelMail, cfg, logger),
	}
}

// SendSMS queues msg and returns nil at once.
func (a *Async) SendSMS(ctx context.Context, msg domain.SMS) error {
	a.sms.push(ctx, job{
		attrs: []any{"channel", ChannelSMS, "purpose", string(msg.Purpose), "lang", string(msg.Lang)},
		send: func(ctx context.Context) error {
			purpose := smsPurpose(msg.Purpose)
			a.observer.CodeSent(ports.ChannelSMS, purpose)
			ctx, end := a.span(ctx, ports.ChannelSMS, purpose)
			err := a.smsSender.SendSMS(ctx, msg)
			end(err)
			return err
		},
	})
	return nil
}

// SendMail queues msg and returns nil at once.
func (a *Async) SendMail(ctx context.Context, msg domain.Mail) error {
	a.mail.push(ctx, job{
		attrs: []any{"channel", ChannelMail, "kind", string(msg.Kind), "lang", string(msg.Lang)},
		send: func(ctx context.Context) error {
			purpose := mailPurpose(msg.Kind)
			a.observer.CodeSent(ports.ChannelEmail, purpose)
			ctx, end := a.span(ctx, ports.ChannelEmail, purpose)
			err := a.mailer.SendMail(ctx, msg)
			end(err)
			return err
		},
	})
	return nil
}

// span opens a client span around one call of a provider when tracing is
// on. It names the channel and purpose only: never the recipient or code.
func (a *Async) span(ctx context.Context, channel ports.Channel, purpose ports.SendPurpose) (context.Context, func(error)) {
	if a.tracer == nil {
		return ctx, func(error) {}
	}
	ctx, span := a.tracer.Start(ctx, "deliver "+string(channel), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("gatehouse.channel", string(channel)), attribute.String("gatehouse.purpose", string(purpose))))
	return ctx, func(err error) {
		if err != nil {
			span.SetStatus(codes.Error, "delivery failed")
		}
		span.End()
	}
}

// smsPurpose names what an SMS code is for, from the closed set of
// ports.SendPurpose.
func smsPurpose(p domain.CodePurpose) ports.SendPurpose {
	if p == domain.PurposePhoneBind {
		return ports.SendBind
	}
	return ports.SendLogin
}

// mailPurpose names what a mail is for: a reset code, or a notice of a
// change to the account.
func mailPurpose(k domain.MailKind) ports.SendPurpose {
	if k == domain.MailResetCode {
		return ports.SendReset
	}
	return ports.SendNotice
}

// Dropped returns how many messages of channel (ChannelSMS, ChannelMail)
// were dropped since the start: pushed out of a full queue, or sent after
// Close.
func (a *Async) Dropped(channel string) uint64 {
	if q := a.queue(channel); q != nil {
		return q.dropped.Load()
	}
	return 0
}

// Queued returns how many messages of channel wait for a worker.
func (a *Async) Queued(channel string) int {
	if q := a.queue(channel); q != nil {
		return q.len()
	}
	return 0
}

func (a *Async) queue(channel string) *queue {
	switch channel {
	case ChannelSMS:
		return a.sms
	case ChannelMail:
		return a.mail
	}
	return nil
}

// Close stops accepting messages and waits until the workers have delivered
// what was queued, or until ctx ends; then it returns an error and the rest
// runs on unwatched. Call it after the HTTP server has stopped, so no
// request can queue a message.
func (a *Async) Close(ctx context.Context) error {
	a.sms.close()
	a.mail.close()
	done := make(chan struct{})
	go func() {
		a.sms.workers.Wait()
		a.mail.workers.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.Join(errors.New("delivery: deliveries still in flight at shutdown"), ctx.Err())
	}
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
