package app

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/gatehouse/gatehouse/adapters/argon2"
	"github.com/gatehouse/gatehouse/adapters/delivery"
	"github.com/gatehouse/gatehouse/adapters/httpapi"
	"github.com/gatehouse/gatehouse/adapters/jwt"
	"github.com/gatehouse/gatehouse/adapters/mail"
	"github.com/gatehouse/gatehouse/adapters/sms"
	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/auth"
	"github.com/gatehouse/gatehouse/domain/lockout"
	"github.com/gatehouse/gatehouse/domain/mfa"
	"github.com/gatehouse/gatehouse/domain/onetime"
	"github.com/gatehouse/gatehouse/domain/profile"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/ports"
)

// Version is the build's version, set with -ldflags "-X ...app.Version=v1".
var Version = "dev"

// Secrets are the service secret (HMAC of codes and CSRF cookies, fallback
// TOTP encryption key) and the token signing key.
type Secrets struct {
	Service    []byte
	SigningKey ed25519.PrivateKey
}

// provideSecrets reads the secrets from config. Release mode has already
// refused to start without them; debug mode makes throwaway ones for this
// process and says so loudly, because every restart then logs everyone out.
func provideSecrets(cfg config.Config, log *slog.Logger) (Secrets, error) {
	var s Secrets
	if cfg.Secret != "" {
		s.Service = []byte(cfg.Secret)
	} else {
		s.Service = make([]byte, 32)
		_, _ = rand.Read(s.Service)
		log.Warn("GATEHOUSE_SECRET is not set: using a random secret for this process only (debug mode); codes and CSRF cookies will not survive a restart or work across replicas")
	}
	pemBytes := []byte(cfg.JWTKey)
	if cfg.JWTKey == "" && cfg.JWTKeyFile != "" {
		b, err := os.ReadFile(cfg.JWTKeyFile)
		if err != nil {
			return Secrets{}, fmt.Errorf("read GATEHOUSE_JWT_KEY_FILE: %w", err)
		}
		pemBytes = b
	}
	if !bytes.Contains(pemBytes, []byte("\n")) {
		// One-line environments (.env files, CI secrets) often carry the PEM
		// with its newlines written as \n.
		pemBytes = bytes.ReplaceAll(pemBytes, []byte(`\n`), []byte("\n"))
	}
	if len(pemBytes) == 0 {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return Secrets{}, err
		}
		s.SigningKey = key
		log.Warn("no signing key (GATEHOUSE_JWT_KEY / GATEHOUSE_JWT_KEY_FILE): using a random Ed25519 key for this process only (debug mode); tokens will not survive a restart or work across replicas")
		return s, nil
	}
	key, err := jwt.ParsePrivateKeyPEM(pemBytes)
	if err != nil {
		return Secrets{}, fmt.Errorf("signing key: %w", err)
	}
	s.SigningKey = key
	return s, nil
}

func provideRandom() io.Reader { return rand.Reader }

func provideLockoutPolicy(cfg config.Config) domain.LockoutPolicy {
	return domain.LockoutPolicy{AccountLimit: cfg.LoginFailures, IPLimit: cfg.IPLoginFailures, Lock: cfg.LoginLockTTL}
}

func providePasswordPolicy(cfg config.Config) domain.PasswordPolicy {
	return domain.PasswordPolicy{MinLength: cfg.PasswordMinLength, MaxLength: cfg.PasswordMaxLength, Strength: cfg.PasswordStrength}
}

func provideGuard(counter ports.AttemptCounter, cfg config.Config) (*lockout.Guard, error) {
	whitelist, err := config.ParsePrefixes(cfg.IPWhitelist)
	if err != nil {
		return nil, err
	}
	return lockout.NewGuard(counter, provideLockoutPolicy(cfg), whitelist), nil
}

func provideCodes(store ports.CodeStore, throttle ports.Throttle, random io.Reader, s Secrets, cfg config.Config) *onetime.Codes {
	resend := domain.ResendPolicy{Interval: cfg.CodeResendInterval, HourlyLimit: cfg.CodeHourlyLimit}
	return onetime.New(store, throttle, random, s.Service, resend)
}

func provideAuthPolicy(cfg config.Config) auth.Policy {
	return auth.Policy{
		Session: domain.SessionPolicy{
			TokenTTL:       cfg.TokenTTL,
			IdleTimeout:    cfg.SessionIdleTTL,
			AbsoluteExpiry: cfg.SessionAbsoluteTTL,
		},
		SMSCode:     domain.CodePolicy{TTL: cfg.SMSCodeTTL, MaxAttempts: cfg.CodeMaxAttempts},
		MailCode:    domain.CodePolicy{TTL: cfg.MailCodeTTL, MaxAttempts: cfg.CodeMaxAttempts},
		RefreshCode: domain.CodePolicy{TTL: cfg.RefreshCodeTTL, MaxAttempts: cfg.CodeMaxAttempts},
		Password:    providePasswordPolicy(cfg),
		TOTP:        cfg.TOTP(),
		PhoneRegion: cfg.PhoneRegion,
	}
}

func provideProfilePolicy(cfg config.Config) profile.Policy {
	return profile.Policy{
		Password:    providePasswordPolicy(cfg),
		BindCode:    domain.CodePolicy{TTL: cfg.SMSCodeTTL, MaxAttempts: cfg.CodeMaxAttempts},
		PhoneRegion: cfg.PhoneRegion,
	}
}

func provideMFAPolicy(cfg config.Config) mfa.Policy {
	return mfa.Policy{Issuer: cfg.TOTPIssuer, PendingTTL: cfg.TOTPPendingTTL, TOTP: cfg.TOTP()}
}

func provideHasher(cfg config.Config) (*argon2.Hasher, error) {
	p := argon2.DefaultParams
	p.Memory, p.Iterations, p.Parallelism = cfg.Argon2Memory, cfg.Argon2Iterations, cfg.Argon2Parallelism
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("argon2 parameters: %w", err)
	}
	return argon2.NewHasher(p, cfg.HashConcurrency), nil
}

func provideIssuer(cfg config.Config, s Secrets) (*jwt.Issuer, error) {
	return jwt.NewIssuer(jwt.Config{Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience}, s.SigningKey)
}

// provideDelivery picks the SMS sender and mailer and wraps them so that
// delivery runs after the answer: its time and its failures never show
// whether an account exists.
func provideDelivery(cfg config.Config, log *slog.Logger) (*delivery.Async, error) {
	var smsSender ports.SMSSender = sms.NewLogSender(log)
	if cfg.SMSProvider == "webhook" {
		w, err := sms.NewWebhookSender(sms.WebhookConfig{
			URL: cfg.SMSWebhookURL, Secret: cfg.SMSWebhookSecret, Timeout: cfg.DeliveryTimeout, CodeTTL: cfg.SMSCodeTTL,
		}, nil)
		if err != nil {
			return nil, err
		}
		if cfg.SMSWebhookSecret == "" {
			log.Warn("GATEHOUSE_SMS_WEBHOOK_SECRET is not set: SMS webhook requests are signed with an empty key (release mode refuses this)")
		}
		smsSender = w
	}
	var mailer ports.Mailer = mail.NewLogMailer(log)
	if cfg.SMTPAddr != "" {
		if cfg.SMTPTLS == mail.TLSNone && cfg.SMTPUsername != "" {
			log.Warn("GATEHOUSE_SMTP_TLS=none: the SMTP username and password are not sent (no AUTH without TLS)")
		}
		mc := mail.Config{
			Addr: cfg.SMTPAddr, TLS: cfg.SMTPTLS, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword,
			From: cfg.SMTPFrom, Timeout: cfg.DeliveryTimeout, InstanceName: instanceName(cfg), ResetCodeTTL: cfg.MailCodeTTL,
		}
		if cfg.Mode == config.ModeRelease {
			if err := mail.CheckReleaseMode(mc); err != nil {
				return nil, err
			}
		}
		m, err := mail.NewSMTPMailer(mc)
		if err != nil {
			return nil, err
		}
		mailer = m
	}
	return delivery.NewAsync(smsSender, mailer, log, cfg.DeliveryTimeout), nil
}

// instanceName is the name GET / reports: config, else HOSTNAME, else the
// OS host name.
func instanceName(cfg config.Config) string {
	if cfg.Name != "" {
		return cfg.Name
	}
	if h := os.Getenv("HOSTNAME"); h != "" {
		return h
	}
	h, _ := os.Hostname()
	return h
}

func provideHTTPConfig(cfg config.Config, s Secrets, issuer *jwt.Issuer, stores StoreKinds) (httpapi.Config, error) {
	proxies, err := config.ParsePrefixes(cfg.TrustedProxies)
	if err != nil {
		return httpapi.Config{}, err
	}
	hc := httpapi.Config{
		Release:        cfg.Mode == config.ModeRelease,
		Name:           instanceName(cfg),
		BodyLimit:      cfg.BodyLimit,
		XSRFCookie:     cfg.XSRFCookie,
		XSRFHeader:     cfg.XSRFHeader,
		CORSOrigins:    cfg.CORSOrigins,
		TrustedProxies: proxies,
		DefaultLang:    cfg.DefaultLang,
		Secret:         s.Service,
		Upload:         httpapi.Upload{Type: cfg.UploadType, URL: cfg.UploadURL, Limit: cfg.UploadLimit},
		Lark:           httpapi.Lark{URL: cfg.LarkOAuthURL, Redirect: cfg.LarkRedirectURL, AppID: cfg.LarkAppID},
		JWKS:           issuer.JWKS(),
	}
	if !hc.Release {
		values := cfg.Values()
		values["stores"] = stores
		values["mail_provider"] = "log"
		if cfg.SMTPAddr != "" {
			values["mail_provider"] = "smtp"
		}
		values["version"] = Version
		hc.Values = values
	}
	return hc, nil
}

// StoreKinds says which store implementation backs what, for GET / and logs.
type StoreKinds struct {
	Users    string `json:"users"`
	Sessions string `json:"sessions"`
}

func provideHTTP(hc httpapi.Config, s httpapi.Services, ready httpapi.Readiness, clock ports.Clock, log *slog.Logger) *echo.Echo {
	return httpapi.New(hc, s, ready, clock, log)
}

// pinger is anything /readyz can ask whether it is reachable.
type pinger interface {
	Ping(ctx context.Context) error
}

// readiness asks each store, under a short deadline, whether it answers.
func readiness(stores map[string]pinger) httpapi.Readiness {
	return func(ctx context.Context) map[string]error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		out := make(map[string]error, len(stores))
		for name, p := range stores {
			out[name] = p.Ping(ctx)
		}
		return out
	}
}
