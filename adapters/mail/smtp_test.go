package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/mail"
	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/internal/testinbox"
)

func newMailer(t *testing.T, cfg mail.Config) *mail.SMTPMailer {
	t.Helper()
	if cfg.From == "" {
		cfg.From = "Gatehouse <no-reply@example.com>"
	}
	m, err := mail.NewSMTPMailer(cfg)
	if err != nil {
		t.Fatalf("NewSMTPMailer: %v", err)
	}
	return m
}

func TestSMTPMailerSendsBothParts(t *testing.T) {
	in := testinbox.NewMailInbox(t)
	// Credentials are configured, but TLS none never sends them: no AUTH
	// without TLS, so a password cannot cross the network in clear text.
	m := newMailer(t, mail.Config{Addr: in.Addr(), TLS: mail.TLSNone, Username: "u", Password: "p", InstanceName: "Acme", ResetCodeTTL: 15 * time.Minute})

	tests := []struct {
		lang    domain.Lang
		subject string
		text    string
	}{
		{domain.LangEnglish, "Your Acme password reset code", "It expires in 15 minutes"},
		{domain.LangChinese, "Acme 密码重置验证码", "15 分钟内有效"},
	}
	for _, tt := range tests {
		to := "User." + string(tt.lang) + "@Example.com"
		msg := domain.Mail{To: to, Kind: domain.MailResetCode, Lang: tt.lang, Code: "246810"}
		if err := m.SendMail(context.Background(), msg); err != nil {
			t.Fatalf("%s: SendMail: %v", tt.lang, err)
		}
		got := in.WaitFor(t, to, 5*time.Second)
		if got.Subject != tt.subject {
			t.Errorf("%s: subject %q, want %q", tt.lang, got.Subject, tt.subject)
		}
		if ct := got.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
			t.Errorf("%s: Content-Type %q, want multipart/alternative", tt.lang, ct)
		}
		if !strings.Contains(got.Text, "246810") || !strings.Contains(got.Text, tt.text) {
			t.Errorf("%s: text part:\n%s", tt.lang, got.Text)
		}
		if !strings.Contains(got.HTML, "246810") || !strings.Contains(got.HTML, "<html") {
			t.Errorf("%s: html part:\n%s", tt.lang, got.HTML)
		}
		if code := got.Code(t); code != "246810" {
			t.Errorf("%s: code %q", tt.lang, code)
		}
		if from := got.Header.Get("From"); !strings.Contains(from, "no-reply@example.com") {
			t.Errorf("%s: From %q", tt.lang, from)
		}
		if got.Header.Get("Auto-Submitted") != "auto-generated" {
			t.Errorf("%s: Auto-Submitted header missing", tt.lang)
		}
		if len(got.To) != 1 || got.To[0] != to {
			t.Errorf("%s: envelope recipients %v, want [%s] as stored", tt.lang, got.To, to)
		}
	}
	if in.AuthAttempts() != 0 {
		t.Error("the mailer tried SMTP AUTH without TLS")
	}
}

func TestSMTPMailerNotice(t *testing.T) {
	in := testinbox.NewMailInbox(t)
	m := newMailer(t, mail.Config{Addr: in.Addr(), TLS: mail.TLSNone})
	msg := domain.Mail{To: "old@example.com", Kind: domain.MailEmailChanged, NewEmail: "new@example.com", Lang: domain.LangChinese}
	if err := m.SendMail(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	got := in.WaitFor(t, "old@example.com", 5*time.Second)
	if got.Subject != "您的 Gatehouse 邮箱已更改" || !strings.Contains(got.Text, "new@example.com") {
		t.Errorf("subject %q, text:\n%s", got.Subject, got.Text)
	}
}

func TestSMTPMailerRefusedRecipient(t *testing.T) {
	in := testinbox.NewMailInbox(t)
	in.SetFailing(true)
	m := newMailer(t, mail.Config{Addr: in.Addr(), TLS: mail.TLSNone})
	err := m.SendMail(context.Background(), domain.Mail{To: "a@example.com", Kind: domain.MailResetCode, Code: "112233"})
	if err == nil {
		t.Fatal("a refused recipient counted as delivered")
	}
	if strings.Contains(err.Error(), "112233") {
		t.Errorf("error %q reveals the code", err)
	}
}

func TestSMTPMailerTLSModesNeedTLS(t *testing.T) {
	// The inbox offers neither STARTTLS nor TLS: both modes must refuse to
	// fall back to clear text.
	for _, mode := range []string{mail.TLSStartTLS, mail.TLSImplicit} {
		in := testinbox.NewMailInbox(t)
		m := newMailer(t, mail.Config{Addr: in.Addr(), TLS: mode, Username: "u", Password: "p", Timeout: 2 * time.Second})
		err := m.SendMail(context.Background(), domain.Mail{To: "a@example.com", Kind: domain.MailPasswordChanged})
		if err == nil {
			t.Errorf("%s: sent without TLS", mode)
		}
		if n := len(in.All()); n != 0 {
			t.Errorf("%s: %d mails arrived in clear text", mode, n)
		}
		if in.AuthAttempts() != 0 {
			t.Errorf("%s: credentials were offered without TLS", mode)
		}
	}
}

func TestSMTPMailerHonoursContextDeadline(t *testing.T) {
	in := testinbox.NewMailInbox(t)
	m := newMailer(t, mail.Config{Addr: in.Addr(), TLS: mail.TLSNone})
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if err := m.SendMail(ctx, domain.Mail{To: "a@example.com", Kind: domain.MailPasswordChanged}); err == nil {
		t.Error("sent after the context's deadline")
	}
}

func TestNewSMTPMailerValidates(t *testing.T) {
	ok := mail.Config{Addr: "smtp.example.com:587", From: "no-reply@example.com"}
	tests := map[string]func(*mail.Config){
		"no from":               func(c *mail.Config) { c.From = "" },
		"bad from":              func(c *mail.Config) { c.From = "not an address" },
		"unknown tls":           func(c *mail.Config) { c.TLS = "ssl" },
		"no port":               func(c *mail.Config) { c.Addr = "smtp.example.com" },
		"bad port":              func(c *mail.Config) { c.Addr = "smtp.example.com:0" },
		"no host":               func(c *mail.Config) { c.Addr = ":25" },
		"password, no username": func(c *mail.Config) { c.Password = "p" },
	}
	for name, breakIt := range tests {
		cfg := ok
		breakIt(&cfg)
		if _, err := mail.NewSMTPMailer(cfg); err == nil {
			t.Errorf("%s: accepted %+v", name, cfg)
		}
	}
	if _, err := mail.NewSMTPMailer(ok); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
	withName := ok
	withName.From = "Gatehouse <no-reply@localhost>"
	if _, err := mail.NewSMTPMailer(withName); err != nil {
		t.Errorf("the default sender refused: %v", err)
	}
}

func TestCheckReleaseMode(t *testing.T) {
	tests := []struct {
		tls, addr string
		ok        bool
	}{
		{mail.TLSNone, "127.0.0.1:25", true},
		{mail.TLSNone, "127.3.4.5:25", true},
		{mail.TLSNone, "[::1]:25", true},
		{mail.TLSNone, "localhost:1025", true},
		{mail.TLSNone, "LOCALHOST.:1025", true},
		{mail.TLSNone, "10.0.0.5:25", false},
		{mail.TLSNone, "[::2]:25", false},
		{mail.TLSNone, "smtp.example.com:25", false},
		{mail.TLSNone, "localhost.example.com:25", false},
		{mail.TLSNone, "garbage", false},
		{mail.TLSStartTLS, "smtp.example.com:587", true},
		{mail.TLSImplicit, "smtp.example.com:465", true},
		{"", "smtp.example.com:587", true},
	}
	for _, tt := range tests {
		err := mail.CheckReleaseMode(mail.Config{TLS: tt.tls, Addr: tt.addr})
		if (err == nil) != tt.ok {
			t.Errorf("CheckReleaseMode(%s, %s) = %v, want ok=%v", tt.tls, tt.addr, err, tt.ok)
		}
	}
}

func TestLogMailer(t *testing.T) {
	var buf bytes.Buffer
	m := mail.NewLogMailer(slog.New(slog.NewTextHandler(&buf, nil)))
	err := m.SendMail(context.Background(), domain.Mail{To: "a@example.com", Kind: domain.MailResetCode, Code: "864209", Lang: domain.LangEnglish})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"to=a@example.com", "kind=reset_code", "code=864209"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
}
