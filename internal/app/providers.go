package app

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v5"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/gatehouse/gatehouse/adapters/accesslog"
	"github.com/gatehouse/gatehouse/adapters/argon2"
	"github.com/gatehouse/gatehouse/adapters/delivery"
	"github.com/gatehouse/gatehouse/adapters/geoip"
	"github.com/gatehouse/gatehouse/adapters/historyqueue"
	"github.com/gatehouse/gatehouse/adapters/httpapi"
	"github.com/gatehouse/gatehouse/adapters/jwt"
	"github.com/gatehouse/gatehouse/adapters/lark"
	"github.com/gatehouse/gatehouse/adapters/mail"
	"github.com/gatehouse/gatehouse/adapters/sms"
	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/auth"
	"github.com/gatehouse/gatehouse/domain/history"
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
	key, err := loadSigningKey(cfg)
	if err != nil {
		return Secrets{}, err
	}
	if key == nil {
		_, key, err = ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return Secrets{}, err
		}
		log.Warn("no signing key (GATEHOUSE_JWT_KEY / GATEHOUSE_JWT_KEY_FILE): using a random Ed25519 key for this process only (debug mode); tokens will not survive a restart or work across replicas")
	}
	s.SigningKey = key
	return s, nil
}

func provideRandom() io.Reader { return rand.Reader }

func provideLockoutPolicy(cfg config.Config) domain.LockoutPolicy {
	return domain.LockoutPolicy{
		AccountLimit: cfg.LoginFailures,
		IPLimit:      cfg.IPLoginFailures,
		Lock:         cfg.LoginLockTTL,
		QueueTimeout: cfg.LoginQueueTimeout,
		IPv6Prefix:   cfg.IPv6Prefix,
	}
}

func providePasswordPolicy(cfg config.Config) domain.PasswordPolicy {
	return domain.PasswordPolicy{MinLength: cfg.PasswordMinLength, MaxLength: cfg.PasswordMaxLength, Strength: cfg.PasswordStrength}
}

func provideGuard(counter ports.AttemptCounter, cfg config.Config, obs ports.Observer) (*lockout.Guard, error) {
	whitelist, err := config.ParsePrefixes(cfg.IPWhitelist)
	if err != nil {
		return nil, err
	}
	return lockout.NewGuard(counter, provideLockoutPolicy(cfg), whitelist, obs), nil
}

func provideCodes(store ports.CodeStore, throttle ports.Throttle, random io.Reader, s Secrets, cfg config.Config, log *slog.Logger, obs ports.Observer) (*onetime.Codes, error) {
	resend := domain.ResendPolicy{Interval: cfg.CodeResendInterval, HourlyLimit: cfg.CodeHourlyLimit}
	whitelist, err := config.ParsePrefixes(cfg.IPWhitelist)
	if err != nil {
		return nil, err
	}
	regions, err := cfg.SMSRegions()
	if err != nil {
		return nil, err
	}
	caps := onetime.Caps{
		MailPerIP:  cfg.MailIPHourlyLimit,
		SMSPerIP:   cfg.SMSIPHourlyLimit,
		IPv6Prefix: cfg.IPv6Prefix,
		Whitelist:  whitelist,
		SMS: onetime.SMSGuard{
			Regions:       regions,
			RangePerHour:  cfg.SMSRangeHourlyLimit,
			RegionPerHour: cfg.SMSRegionHourlyLimit,
			GlobalPerHour: cfg.SMSGlobalHourlyLimit,
			RecordOnly:    cfg.SMSGuard == config.SMSGuardRecord,
			Log:           log,
		},
		Observer: obs,
	}
	return onetime.New(store, throttle, random, s.Service, resend, caps), nil
}

func provideAuthPolicy(cfg config.Config) auth.Policy {
	return auth.Policy{
		Session: domain.SessionPolicy{
			TokenTTL:       cfg.TokenTTL,
			IdleTimeout:    cfg.SessionIdleTTL,
			AbsoluteExpiry: cfg.SessionAbsoluteTTL,
			PerAccount:     cfg.SessionsPerAccount,
		},
		SMSCode:     domain.CodePolicy{TTL: cfg.SMSCodeTTL, MaxAttempts: cfg.CodeMaxAttempts},
		MailCode:    domain.CodePolicy{TTL: cfg.MailCodeTTL, MaxAttempts: cfg.CodeMaxAttempts},
		RefreshCode: domain.CodePolicy{TTL: cfg.RefreshCodeTTL, MaxAttempts: cfg.CodeMaxAttempts},
		Password:    providePasswordPolicy(cfg),
		TOTP:        cfg.TOTP(),
		PhoneRegion: cfg.PhoneRegion,

		LarkStateTTL: cfg.LarkStateTTL,
	}
}

func provideProfilePolicy(cfg config.Config) profile.Policy {
	return profile.Policy{
		Password:    providePasswordPolicy(cfg),
		BindCode:    domain.CodePolicy{TTL: cfg.SMSCodeTTL, MaxAttempts: cfg.CodeMaxAttempts},
		PhoneRegion: cfg.PhoneRegion,

		EmailChangeHourlyLimit: cfg.EmailChangeHourlyLimit,
		BindNumbersHourlyLimit: cfg.BindSMSHourlyLimit,
	}
}

func provideMFAPolicy(cfg config.Config) mfa.Policy {
	return mfa.Policy{Issuer: cfg.TOTPIssuer, PendingTTL: cfg.TOTPPendingTTL, TOTP: cfg.TOTP()}
}

func provideHasher(cfg config.Config, t Telemetry) (*argon2.Hasher, error) {
	p := argon2.DefaultParams
	p.Memory, p.Iterations, p.Parallelism = cfg.Argon2Memory, cfg.Argon2Iterations, cfg.Argon2Parallelism
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("argon2 parameters: %w", err)
	}
	h := argon2.NewHasher(p, cfg.HashConcurrency)
	var observe func(time.Duration)
	if t.Metrics != nil {
		observe = t.Metrics.ObserveHash
	}
	h.Instrument(t.Tracer, observe)
	return h, nil
}

func provideIssuer(cfg config.Config, s Secrets) (*jwt.Issuer, error) {
	verify, err := loadVerifyKeys(cfg)
	if err != nil {
		return nil, err
	}
	return jwt.NewIssuer(jwt.Config{Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience}, s.SigningKey, verify...)
}

// provideDelivery picks the SMS sender and mailer and wraps them so that
// delivery runs after the answer, from a queue per channel: its time and
// its failures never show whether an account exists, and a slow SMS
// provider never holds up mail.
func provideDelivery(cfg config.Config, log *slog.Logger, t Telemetry, obs ports.Observer) (*delivery.Async, error) {
	var smsSender ports.SMSSender = sms.NewLogSender(log)
	switch cfg.SMSProvider {
	case "tencent":
		t, err := sms.NewTencentSender(sms.TencentConfig{
			SecretID: cfg.TencentSecretID, SecretKey: cfg.TencentSecretKey,
			AppID: cfg.TencentSMSAppID, SignName: cfg.TencentSMSSignName,
			Templates: sms.TencentTemplates{
				Login: cfg.TencentSMSTemplateLogin, LoginEN: cfg.TencentSMSTemplateLoginEN, LoginZH: cfg.TencentSMSTemplateLoginZH,
				Bind: cfg.TencentSMSTemplateBind, BindEN: cfg.TencentSMSTemplateBindEN, BindZH: cfg.TencentSMSTemplateBindZH,
			},
			Region: cfg.TencentSMSRegion, Endpoint: cfg.TencentSMSEndpoint,
			Timeout: cfg.DeliveryTimeout, CodeTTL: cfg.SMSCodeTTL, Log: log,
		})
		if err != nil {
			return nil, err
		}
		smsSender = t
	case "webhook":
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
	dc := delivery.Config{Timeout: cfg.DeliveryTimeout, QueueSize: cfg.DeliveryQueueSize, Workers: cfg.DeliveryWorkers,
		Observer: obs, Tracer: t.Tracer}
	d := delivery.NewAsync(smsSender, mailer, log, dc)
	if t.Metrics != nil {
		t.Metrics.WatchDelivery(d)
	}
	return d, nil
}

// provideLark returns the Lark client, or nil when Lark is off (no app id
// or secret). It also logs what the Lark configuration gets wrong without
// being refused (the deprecated key; a half-configured Lark in debug mode).
//
// With tracing on, each call to Lark is a client span (method and URL;
// neither the token request's body nor the Authorization header is
// recorded).
func provideLark(cfg config.Config, log *slog.Logger, t Telemetry) (ports.LarkIdentity, error) {
	for _, w := range cfg.Warnings() {
		log.Warn(w)
	}
	if !cfg.LarkEnabled() {
		return nil, nil
	}
	var hc *http.Client
	if t.Tracer != nil {
		hc = &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport, otelhttp.WithTracerProvider(t.Tracer))}
	}
	authorize, token, userInfo := cfg.LarkEndpoints()
	c, err := lark.New(lark.Config{
		Platform: domain.LarkPlatform(cfg.LarkPlatform), AppID: cfg.LarkAppID, AppSecret: cfg.LarkAppSecret,
		RedirectURL: cfg.LarkRedirectURL, AuthorizeURL: authorize, TokenURL: token, UserInfoURL: userInfo,
		Timeout: cfg.LarkTimeout,
	}, hc)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// provideHistory starts the background writer of failed login attempts.
// App.Drain empties it at shutdown; the cleanup only covers assemblies
// that never drain (it returns at once after a Drain).
func provideHistory(users ports.UserStore, cfg config.Config, log *slog.Logger) (*historyqueue.Recorder, func()) {
	r := historyqueue.New(users, historyqueue.Config{
		Capacity: cfg.LoginHistoryQueue, Writers: cfg.LoginHistoryWriters, Timeout: cfg.StoreTimeout,
	}, log)
	return r, func() {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if err := r.Close(ctx); err != nil {
			log.Warn("login history still being written at exit", "err", err)
		}
	}
}

// provideGeo opens the geo database GATEHOUSE_GEOIP_DB names, once, for
// the life of the process; without one every IP is unknown. A file that is
// missing or not a MaxMind database stops the start, in every mode: a
// typo must not silently turn locations off.
func provideGeo(cfg config.Config, log *slog.Logger) (ports.GeoLocator, func(), error) {
	if cfg.GeoIPDB == "" {
		return geoip.None{}, func() {}, nil
	}
	db, err := geoip.Open(cfg.GeoIPDB)
	if err != nil {
		return nil, nil, fmt.Errorf("GATEHOUSE_GEOIP_DB (geoip_db): %w", err)
	}
	log.Info("geo database opened", "path", cfg.GeoIPDB, "type", db.Type())
	return db, func() { _ = db.Close() }, nil
}

func provideHistoryPolicy(cfg config.Config) history.Policy {
	return history.Policy{
		Retention:     cfg.LoginHistoryRetention,
		PruneInterval: cfg.LoginHistoryPruneInterval,
		PruneBatch:    cfg.LoginHistoryPruneBatch,
		PrunePause:    cfg.LoginHistoryPrunePause,
	}
}

// provideHistoryService returns the login history service and starts its
// background retention, which the cleanup stops.
func provideHistoryService(d history.Deps, p history.Policy) (*history.Service, func(), error) {
	s, err := history.New(d, p)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.RunRetention(ctx)
	}()
	return s, func() {
		cancel()
		<-done
	}, nil
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

func provideHTTPConfig(cfg config.Config, s Secrets, issuer *jwt.Issuer, stores StoreKinds, t Telemetry) (httpapi.Config, error) {
	proxies, err := config.ParsePrefixes(cfg.TrustedProxies)
	if err != nil {
		return httpapi.Config{}, err
	}
	hc := httpapi.Config{
		Release:        cfg.Mode == config.ModeRelease,
		Name:           instanceName(cfg),
		BodyLimit:      cfg.BodyLimit,
		HeaderLimit:    cfg.HeaderLimit,
		Version:        Version,
		XSRFCookie:     cfg.XSRFCookie,
		XSRFHeader:     cfg.XSRFHeader,
		CookieDomain:   cfg.CookieDomain,
		CORSOrigins:    cfg.CORSOrigins,
		TrustedProxies: proxies,
		DefaultLang:    cfg.DefaultLang,
		Secret:         s.Service,
		Upload:         httpapi.Upload{Type: cfg.UploadType, URL: cfg.UploadURL, Limit: cfg.UploadLimit},
		Lark: httpapi.Lark{
			Enabled: cfg.LarkEnabled(), Platform: cfg.LarkPlatform, AppID: cfg.LarkAppID,
			RedirectURL: cfg.LarkRedirectURL, FrontendURL: cfg.LarkFrontendURL, StateTTL: cfg.LarkStateTTL,
		},
		JWKS:   issuer.JWKS,
		Tracer: t.Tracer,
	}
	if t.Metrics != nil {
		hc.Metrics = t.Metrics
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

// provideHTTP builds the HTTP adapter. The access log travels with the
// logger (cmd/gatehouse makes both with accesslog.NewLogger); a logger made
// otherwise, as tests make, gets request lines through the logger itself.
func provideHTTP(hc httpapi.Config, s httpapi.Services, ready httpapi.Readiness, clock ports.Clock, log *slog.Logger) *echo.Echo {
	if al := accesslog.From(log); al != nil {
		hc.AccessLog = al // a nil *Writer in the interface would not be nil
	}
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
