package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// The TLS modes of Config.TLS.
const (
	// TLSNone sends in clear text and never authenticates, so a password
	// cannot cross the network unencrypted. Release mode allows it only
	// towards a relay on the loopback interface (see CheckReleaseMode).
	TLSNone = "none"
	// TLSStartTLS upgrades the connection with STARTTLS and fails when the
	// server does not offer it (usually port 587). It is the default.
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (usually port 465).
	TLSImplicit = "tls"
)

// Defaults for the zero values of Config.
const (
	defaultTimeout      = 10 * time.Second
	defaultInstanceName = "Gatehouse"
	defaultResetCodeTTL = 15 * time.Minute
)

// Config configures an SMTPMailer.
type Config struct {
	// Addr is the server's host:port.
	Addr string
	// TLS is TLSNone, TLSStartTLS or TLSImplicit; empty means TLSStartTLS.
	TLS string
	// Username and Password log in with SMTP AUTH when Username is set;
	// the mechanism is the strongest the server offers. With TLSNone they
	// are never sent: no AUTH without TLS.
	Username string
	Password string
	// From is the sender, "Name <address>" or a bare address.
	From string
	// Timeout bounds the whole conversation with the server, 10 s when zero.
	Timeout time.Duration
	// InstanceName names the service in subjects and texts, "Gatehouse"
	// when empty.
	InstanceName string
	// ResetCodeTTL is how long a reset code lives (the email code policy),
	// so the mail tells the truth; 15 min when zero.
	ResetCodeTTL time.Duration
}

// SMTPMailer sends multipart/alternative mails (plain text and HTML) over
// SMTP, one connection per mail: Gatehouse sends few mails, and a fresh
// connection cannot be left broken by an earlier failure.
type SMTPMailer struct {
	cfg       Config
	host      string
	port      int
	from      *netmail.Address
	templates *renderer
}

var _ ports.Mailer = (*SMTPMailer)(nil)

// NewSMTPMailer checks cfg, fills in its defaults and returns the mailer.
// It does not connect: a relay that is down at start-up should not keep the
// service from starting.
func NewSMTPMailer(cfg Config) (*SMTPMailer, error) {
	host, port, err := splitAddr(cfg.Addr)
	if err != nil {
		return nil, err
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	switch cfg.TLS {
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return nil, fmt.Errorf("smtp: tls must be %s, %s or %s, not %q", TLSNone, TLSStartTLS, TLSImplicit, cfg.TLS)
	}
	if cfg.Username == "" && cfg.Password != "" {
		return nil, errors.New("smtp: a password needs a username")
	}
	if cfg.From == "" {
		return nil, errors.New("smtp: from is required")
	}
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: from %q: %w", cfg.From, err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.InstanceName == "" {
		cfg.InstanceName = defaultInstanceName
	}
	if cfg.ResetCodeTTL <= 0 {
		cfg.ResetCodeTTL = defaultResetCodeTTL
	}
	templates, err := newRenderer()
	if err != nil {
		return nil, err
	}
	return &SMTPMailer{cfg: cfg, host: host, port: port, from: from, templates: templates}, nil
}

// CheckReleaseMode refuses a configuration that would send mail in clear
// text across a network: TLSNone is accepted only when the server is on the
// loopback interface (localhost, 127.0.0.0/8, ::1), as with a local relay
// that does the encrypted delivery itself.
func CheckReleaseMode(cfg Config) error {
	if cfg.TLS != TLSNone {
		return nil
	}
	host, _, err := splitAddr(cfg.Addr)
	if err != nil {
		return err
	}
	if isLoopback(host) {
		return nil
	}
	return fmt.Errorf("smtp: release mode refuses tls none towards %s; use starttls or tls, or a relay on the loopback interface", host)
}

// SendMail renders msg in its language and delivers it within the
// configured timeout, or sooner when ctx ends first.
func (m *SMTPMailer) SendMail(ctx context.Context, msg domain.Mail) error {
	subject, text, html, err := m.templates.render(msg, m.cfg.InstanceName, m.cfg.ResetCodeTTL)
	if err != nil {
		return err
	}
	out := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	out.FromMailAddress(m.from)
	if err := out.To(msg.To); err != nil {
		return fmt.Errorf("smtp: recipient: %w", err)
	}
	out.Subject(subject)
	out.SetDate()
	out.SetMessageID()
	// RFC 3834: tells auto-responders not to answer a machine.
	out.SetGenHeader("Auto-Submitted", "auto-generated")
	out.SetBodyString(gomail.TypeTextPlain, text)
	out.AddAlternativeString(gomail.TypeTextHTML, html)

	// go-mail applies ctx only to dialling and its own timeout to the rest
	// of the conversation, so the timeout is cut to what ctx has left.
	timeout := m.cfg.Timeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(deadline))
	}
	if timeout <= 0 {
		return fmt.Errorf("smtp: %w", context.DeadlineExceeded)
	}
	client, err := m.client(timeout)
	if err != nil {
		return err
	}
	if err := client.DialAndSendWithContext(ctx, out); err != nil {
		return fmt.Errorf("smtp: send %s mail: %w", msg.Kind, err)
	}
	return nil
}

// client builds a go-mail client for one mail.
func (m *SMTPMailer) client(timeout time.Duration) (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(m.port), gomail.WithTimeout(timeout)}
	switch m.cfg.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	}
	// NewSMTPMailer refuses a username with TLSNone; the check is repeated
	// here so that no path sends credentials in clear text.
	if m.cfg.Username != "" && m.cfg.TLS != TLSNone {
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(m.cfg.Username),
			gomail.WithPassword(m.cfg.Password),
		)
	}
	client, err := gomail.NewClient(m.host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp: client: %w", err)
	}
	return client, nil
}

func splitAddr(addr string) (host string, port int, err error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil || h == "" {
		return "", 0, fmt.Errorf("smtp: addr %q must be host:port", addr)
	}
	port, err = strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("smtp: addr %q has no valid port", addr)
	}
	return h, port, nil
}

// isLoopback reports whether host names this machine without any network
// in between.
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
