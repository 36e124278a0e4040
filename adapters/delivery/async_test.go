package delivery_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/delivery"
	"github.com/gatehouse/gatehouse/adapters/sms"
	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/internal/testinbox"
)

// logBuffer is a log sink that background goroutines may write while the
// test reads it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// fakeSender implements both ports and does what its func says.
type fakeSender struct {
	send func(ctx context.Context) error
}

func (f fakeSender) SendSMS(ctx context.Context, _ domain.SMS) error   { return f.send(ctx) }
func (f fakeSender) SendMail(ctx context.Context, _ domain.Mail) error { return f.send(ctx) }

// blocking returns a sender that waits for release, and a channel that
// receives each call's context as it starts.
func blocking(release <-chan struct{}) (fakeSender, <-chan context.Context) {
	started := make(chan context.Context, 100)
	return fakeSender{send: func(ctx context.Context) error {
		started <- ctx
		<-release
		return nil
	}}, started
}

type ctxKey struct{}

func TestAsyncReturnsAtOnceAndOutlivesTheRequest(t *testing.T) {
	release := make(chan struct{})
	f, started := blocking(release)
	log, _ := newLogger()
	a := delivery.NewAsync(f, f, log, delivery.Config{Timeout: time.Minute})

	reqCtx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "req-1"))
	if err := a.SendSMS(reqCtx, domain.SMS{Phone: "+1", Code: "123456", Purpose: domain.PurposeSMSLogin}); err != nil {
		t.Fatal(err)
	}
	cancel() // the request is answered and its context ends

	ctx := <-started
	if ctx.Err() != nil {
		t.Error("the delivery's context ended with the request's")
	}
	if ctx.Value(ctxKey{}) != "req-1" {
		t.Error("the delivery lost the request's values")
	}
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > time.Minute {
		t.Errorf("delivery deadline %v, %v; want one within the timeout", dl, ok)
	}
	close(release)
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestAsyncDeliversToInbox(t *testing.T) {
	in := testinbox.NewSMSInbox(t, "s3cret")
	sender, err := sms.NewWebhookSender(sms.WebhookConfig{URL: in.URL(), Secret: "s3cret"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	log, _ := newLogger()
	a := delivery.NewAsync(sender, nil, log, delivery.Config{Timeout: time.Second})
	defer a.Close(context.Background())
	if err := a.SendSMS(context.Background(), domain.SMS{Phone: "+8613800000000", Code: "654321", Purpose: domain.PurposePhoneBind}); err != nil {
		t.Fatal(err)
	}
	if got := in.WaitFor(t, "+8613800000000", "bind", 5*time.Second); got.Code != "654321" {
		t.Errorf("code %q", got.Code)
	}
}

func TestAsyncLogsFailuresWithoutTheCode(t *testing.T) {
	in := testinbox.NewSMSInbox(t, "s3cret")
	in.SetFailing(true)
	sender, err := sms.NewWebhookSender(sms.WebhookConfig{URL: in.URL(), Secret: "s3cret"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mailer := fakeSender{send: func(context.Context) error { return errors.New("relay said no") }}
	log, out := newLogger()
	a := delivery.NewAsync(sender, mailer, log, delivery.Config{Timeout: time.Second})

	if err := a.SendSMS(context.Background(), domain.SMS{Phone: "+8613800000000", Code: "777888", Purpose: domain.PurposeSMSLogin}); err != nil {
		t.Errorf("SendSMS = %v; a failed delivery must not show in the request", err)
	}
	if err := a.SendMail(context.Background(), domain.Mail{To: "a@example.com", Kind: domain.MailResetCode, Code: "999000"}); err != nil {
		t.Errorf("SendMail = %v; a failed delivery must not show in the request", err)
	}
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	logged := out.String()
	for _, want := range []string{"delivery failed", "channel=sms", "purpose=login", "500", "channel=mail", "kind=reset_code", "relay said no"} {
		if !strings.Contains(logged, want) {
			t.Errorf("log lacks %q:\n%s", want, logged)
		}
	}
	for _, secret := range []string{"777888", "999000", "a@example.com", "+8613800000000"} {
		if strings.Contains(logged, secret) {
			t.Errorf("log reveals %q:\n%s", secret, logged)
		}
	}
}

func TestAsyncCloseWaits(t *testing.T) {
	release := make(chan struct{})
	f, started := blocking(release)
	log, _ := newLogger()
	a := delivery.NewAsync(f, f, log, delivery.Config{Timeout: time.Minute})
	_ = a.SendMail(context.Background(), domain.Mail{To: "a@example.com", Kind: domain.MailPasswordChanged})
	<-started

	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := a.Close(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close with a delivery in flight = %v, want a deadline error", err)
	}

	closed := make(chan error, 1)
	go func() { closed <- a.Close(context.Background()) }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned %v while a delivery was in flight", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	if err := <-closed; err != nil {
		t.Errorf("Close = %v", err)
	}
}

func TestAsyncDropsAfterClose(t *testing.T) {
	calls := make(chan struct{}, 1)
	f := fakeSender{send: func(context.Context) error { calls <- struct{}{}; return nil }}
	log, out := newLogger()
	a := delivery.NewAsync(f, f, log, delivery.Config{Timeout: time.Second})
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.SendMail(context.Background(), domain.Mail{To: "a@example.com", Kind: domain.MailTOTPRemoved}); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 0 {
		t.Error("delivered after Close")
	}
	if !strings.Contains(out.String(), "shutting down") {
		t.Errorf("the drop was not logged:\n%s", out)
	}
	if n := a.Dropped(delivery.ChannelMail); n != 1 {
		t.Errorf("Dropped = %d, want 1", n)
	}
}

// smsRecorder is an SMS sender that reports each code as it starts and
// then waits for release.
type smsRecorder struct {
	started chan string
	release chan struct{}
}

func newSMSRecorder() *smsRecorder {
	return &smsRecorder{started: make(chan string, 100), release: make(chan struct{})}
}

func (r *smsRecorder) SendSMS(ctx context.Context, msg domain.SMS) error {
	r.started <- msg.Code
	select {
	case <-r.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Defect 10: a stuck SMS provider filled the one shared pool, and reset
// mails were dropped while clients got 204.
func TestAsyncSlowSMSDoesNotDelayMail(t *testing.T) {
	slow := newSMSRecorder()
	mailed := make(chan string, 10)
	mailer := mailFunc(func(_ context.Context, m domain.Mail) error { mailed <- m.Code; return nil })
	log, _ := newLogger()
	a := delivery.NewAsync(slow, mailer, log, delivery.Config{Timeout: time.Minute, QueueSize: 4, Workers: 2})

	sendSMS := func() {
		_ = a.SendSMS(context.Background(), domain.SMS{Phone: "+1", Code: "111111", Purpose: domain.PurposeSMSLogin})
	}
	sendSMS()
	sendSMS()
	<-slow.started
	<-slow.started // both SMS workers are stuck
	for range 48 {
		sendSMS() // the SMS queue fills up and then drops
	}
	if err := a.SendMail(context.Background(), domain.Mail{To: "a@example.com", Kind: domain.MailResetCode, Code: "222222"}); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-mailed:
		if code != "222222" {
			t.Fatalf("mailed %q", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the mail waited behind the stuck SMS provider")
	}
	if n := a.Dropped(delivery.ChannelMail); n != 0 {
		t.Errorf("%d mails dropped", n)
	}
	if n := a.Dropped(delivery.ChannelSMS); n != 50-2-4 {
		t.Errorf("%d SMS dropped, want %d (all but the 2 in flight and the 4 queued)", n, 50-2-4)
	}
	close(slow.release)
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

type mailFunc func(context.Context, domain.Mail) error

func (f mailFunc) SendMail(ctx context.Context, m domain.Mail) error { return f(ctx, m) }

func TestAsyncFullQueueDropsOldest(t *testing.T) {
	rec := newSMSRecorder()
	log, out := newLogger()
	a := delivery.NewAsync(rec, nil, log, delivery.Config{Timeout: time.Minute, QueueSize: 2, Workers: 1})
	send := func(code string) {
		t.Helper()
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = a.SendSMS(context.Background(), domain.SMS{Phone: "+8613800138000", Code: code, Purpose: domain.PurposeSMSLogin})
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("SendSMS blocked on a full queue")
		}
	}

	send("100001")
	if got := <-rec.started; got != "100001" { // the one worker is now busy
		t.Fatalf("started %q", got)
	}
	send("100002")
	send("100003")
	if n := a.Queued(delivery.ChannelSMS); n != 2 {
		t.Fatalf("Queued = %d, want 2", n)
	}
	send("100004") // the queue is full: 100002, the oldest, goes
	if n := a.Dropped(delivery.ChannelSMS); n != 1 {
		t.Fatalf("Dropped = %d, want 1", n)
	}
	if n := a.Queued(delivery.ChannelSMS); n != 2 {
		t.Fatalf("Queued = %d, want 2", n)
	}
	close(rec.release)
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(rec.started)
	var rest []string
	for code := range rec.started {
		rest = append(rest, code)
	}
	if strings.Join(rest, ",") != "100003,100004" {
		t.Errorf("delivered after the first: %v, want 100003,100004", rest)
	}
	logged := out.String()
	if !strings.Contains(logged, "queue full") || !strings.Contains(logged, "channel=sms") || !strings.Contains(logged, "purpose=login") {
		t.Errorf("the drop was not logged:\n%s", logged)
	}
	for _, secret := range []string{"100002", "+8613800138000"} {
		if strings.Contains(logged, secret) {
			t.Errorf("log reveals %q:\n%s", secret, logged)
		}
	}
	if n := a.Dropped(delivery.ChannelMail); n != 0 {
		t.Errorf("mail Dropped = %d", n)
	}
}

func TestAsyncSurvivesPanic(t *testing.T) {
	f := fakeSender{send: func(context.Context) error { panic("bad template") }}
	log, out := newLogger()
	a := delivery.NewAsync(f, f, log, delivery.Config{Timeout: time.Second})
	_ = a.SendMail(context.Background(), domain.Mail{To: "a@example.com", Kind: domain.MailLarkRemoved})
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "panic: bad template") {
		t.Errorf("the panic was not logged:\n%s", out)
	}
}

func TestAsyncTimeout(t *testing.T) {
	f := fakeSender{send: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	log, out := newLogger()
	a := delivery.NewAsync(f, f, log, delivery.Config{Timeout: 20 * time.Millisecond})
	_ = a.SendMail(context.Background(), domain.Mail{To: "a@example.com", Kind: domain.MailPhoneRemoved})
	done, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Close(done); err != nil {
		t.Fatalf("a delivery outlived its timeout: %v", err)
	}
	if !strings.Contains(out.String(), "deadline exceeded") {
		t.Errorf("the timeout was not logged:\n%s", out)
	}
}
