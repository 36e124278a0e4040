package mail

import (
	"context"
	"log/slog"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// LogMailer writes each mail's recipient, kind and code to the log instead
// of sending it. It is for development only: besides sms.LogSender it is the
// one place a code may reach a log, and release mode refuses it.
type LogMailer struct {
	log *slog.Logger
}

var _ ports.Mailer = (*LogMailer)(nil)

// NewLogMailer returns a LogMailer that writes to logger.
func NewLogMailer(logger *slog.Logger) *LogMailer {
	return &LogMailer{log: logger}
}

// SendMail logs msg at info level, so a developer can read the code from
// the default log.
func (m *LogMailer) SendMail(ctx context.Context, msg domain.Mail) error {
	attrs := []any{"to", msg.To, "kind", string(msg.Kind), "lang", string(msg.Lang)}
	if msg.Code != "" {
		attrs = append(attrs, "code", msg.Code)
	}
	if msg.NewEmail != "" {
		attrs = append(attrs, "new_email", msg.NewEmail)
	}
	if msg.Kind == domain.MailRecoveryCodeUsed {
		attrs = append(attrs, "recovery_codes_left", msg.Remaining)
	}
	m.log.InfoContext(ctx, "mail (log mailer, development only)", attrs...)
	return nil
}
