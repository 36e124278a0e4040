package sms

import (
	"context"
	"log/slog"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// LogSender writes each code to the log instead of sending it. It is for
// development only: besides mail.LogMailer it is the one place a code may
// reach a log, and release mode refuses it.
type LogSender struct {
	log *slog.Logger
}

var _ ports.SMSSender = (*LogSender)(nil)

// NewLogSender returns a LogSender that writes to logger.
func NewLogSender(logger *slog.Logger) *LogSender {
	return &LogSender{log: logger}
}

// SendSMS logs the phone, purpose, language and code at info level, so a
// developer can read the code from the default log.
func (s *LogSender) SendSMS(ctx context.Context, msg domain.SMS) error {
	s.log.InfoContext(ctx, "sms code (log sender, development only)",
		"phone", msg.Phone.String(),
		"purpose", string(msg.Purpose),
		"lang", string(msg.Lang),
		"code", msg.Code,
	)
	return nil
}
