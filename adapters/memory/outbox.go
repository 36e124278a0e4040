package memory

import (
	"context"
	"sync"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// Outbox is an SMS sender and mailer that only records what it is given:
// tests read the codes and notices a service sent from it.
type Outbox struct {
	mu    sync.Mutex
	sms   []domain.SMS
	mails []domain.Mail
}

var (
	_ ports.SMSSender = (*Outbox)(nil)
	_ ports.Mailer    = (*Outbox)(nil)
)

// SendSMS records msg.
func (o *Outbox) SendSMS(_ context.Context, msg domain.SMS) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sms = append(o.sms, msg)
	return nil
}

// SendMail records msg.
func (o *Outbox) SendMail(_ context.Context, msg domain.Mail) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.mails = append(o.mails, msg)
	return nil
}

// SMS returns every SMS recorded so far, oldest first.
func (o *Outbox) SMS() []domain.SMS {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]domain.SMS(nil), o.sms...)
}

// Mails returns every mail recorded so far, oldest first.
func (o *Outbox) Mails() []domain.Mail {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]domain.Mail(nil), o.mails...)
}
