// Package config is Gatehouse's one typed configuration: defaults, an optional
// YAML file, and GATEHOUSE_* environment variables on top. Every key is flat:
// the YAML key `sms_code_ttl` is the variable GATEHOUSE_SMS_CODE_TTL.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/structs"
	"github.com/knadh/koanf/v2"

	"github.com/gatehouse/gatehouse/domain"
)

// Modes.
const (
	ModeDebug   = "debug"
	ModeRelease = "release"
)

// Config is every setting of the service. Secrets are tagged `secret:"true"`
// so that GET / can show the rest in debug mode and redact these.
type Config struct {
	Mode     string `koanf:"mode"`
	HTTPAddr string `koanf:"http_addr"`
	Name     string `koanf:"name"`
	LogLevel string `koanf:"log_level"`

	DatabaseURL    string        `koanf:"database_url" secret:"dsn"`
	RedisURL       string        `koanf:"redis_url" secret:"dsn"`
	RedisKeyPrefix string        `koanf:"redis_key_prefix"`
	StoreTimeout   time.Duration `koanf:"store_timeout"`
	MigrateOnStart bool          `koanf:"migrate_on_start"`

	Secret             string `koanf:"secret" secret:"true"`
	JWTKey             string `koanf:"jwt_key" secret:"true"`
	JWTKeyFile         string `koanf:"jwt_key_file"`
	JWTIssuer          string `koanf:"jwt_issuer"`
	JWTAudience        string `koanf:"jwt_audience"`
	TOTPEncryptionKeys string `koanf:"totp_encryption_keys" secret:"true"`

	SMSProvider      string        `koanf:"sms_provider"`
	SMSWebhookURL    string        `koanf:"sms_webhook_url"`
	SMSWebhookSecret string        `koanf:"sms_webhook_secret" secret:"true"`
	SMTPAddr         string        `koanf:"smtp_addr"`
	SMTPTLS          string        `koanf:"smtp_tls"`
	SMTPUsername     string        `koanf:"smtp_username"`
	SMTPPassword     string        `koanf:"smtp_password" secret:"true"`
	SMTPFrom         string        `koanf:"smtp_from"`
	DeliveryTimeout  time.Duration `koanf:"delivery_timeout"`

	TrustedProxies List   `koanf:"trusted_proxies"`
	IPWhitelist    List   `koanf:"ip_whitelist"`
	CORSOrigins    List   `koanf:"cors_origins"`
	BodyLimit      int64  `koanf:"body_limit"`
	XSRFCookie     string `koanf:"xsrf_cookie"`
	XSRFHeader     string `koanf:"xsrf_header"`
	PhoneRegion    string `koanf:"phone_region"`
	DefaultLang    string `koanf:"default_lang"`
	TOTPIssuer     string `koanf:"totp_issuer"`

	UploadType      string `koanf:"upload_type"`
	UploadURL       string `koanf:"upload_url"`
	UploadLimit     int64  `koanf:"upload_limit"`
	LarkAppID       string `koanf:"lark_app_id"`
	LarkAppSecret   string `koanf:"lark_app_secret" secret:"true"`
	LarkRedirectURL string `koanf:"lark_redirect_url"`
	LarkOAuthURL    string `koanf:"lark_oauth_url"`

	BootstrapEmail    string `koanf:"bootstrap_email"`
	BootstrapPassword string `koanf:"bootstrap_password" secret:"true"`
	SeedFile          string `koanf:"seed_file"`

	TokenTTL           time.Duration `koanf:"token_ttl"`
	SessionIdleTTL     time.Duration `koanf:"session_idle_ttl"`
	SessionAbsoluteTTL time.Duration `koanf:"session_absolute_ttl"`
	SMSCodeTTL         time.Duration `koanf:"sms_code_ttl"`
	MailCodeTTL        time.Duration `koanf:"mail_code_ttl"`
	RefreshCodeTTL     time.Duration `koanf:"refresh_code_ttl"`
	CodeMaxAttempts    int           `koanf:"code_max_attempts"`
	CodeResendInterval time.Duration `koanf:"code_resend_interval"`
	CodeHourlyLimit    int           `koanf:"code_hourly_limit"`
	TOTPPendingTTL     time.Duration `koanf:"totp_pending_ttl"`
	TOTPPeriod         time.Duration `koanf:"totp_period"`
	TOTPDigits         int           `koanf:"totp_digits"`
	TOTPSkew           int           `koanf:"totp_skew"`
	TOTPAlgorithm      string        `koanf:"totp_algorithm"`
	LoginFailures      int           `koanf:"login_failures"`
	IPLoginFailures    int           `koanf:"ip_login_failures"`
	LoginLockTTL       time.Duration `koanf:"login_lock_ttl"`
	PasswordStrength   int           `koanf:"password_strength"`
	PasswordMinLength  int           `koanf:"password_min_length"`
	PasswordMaxLength  int           `koanf:"password_max_length"`

	Argon2Memory      uint32 `koanf:"argon2_memory"`
	Argon2Iterations  uint32 `koanf:"argon2_iterations"`
	Argon2Parallelism uint8  `koanf:"argon2_parallelism"`
	HashConcurrency   int    `koanf:"hash_concurrency"`

	HTTPReadTimeout  time.Duration `koanf:"http_read_timeout"`
	HTTPWriteTimeout time.Duration `koanf:"http_write_timeout"`
	HTTPIdleTimeout  time.Duration `koanf:"http_idle_timeout"`
	ShutdownTimeout  time.Duration `koanf:"shutdown_timeout"`
}

// Default returns the configuration with every default of API.md.
func Default() Config {
	return Config{
		Mode:     ModeDebug,
		HTTPAddr: ":8080",
		LogLevel: "info",

		StoreTimeout:   2 * time.Second,
		RedisKeyPrefix: "gh:",

		JWTIssuer:   "gatehouse",
		JWTAudience: "gatehouse",

		SMSProvider:     "log",
		SMTPTLS:         "starttls",
		SMTPFrom:        "Gatehouse <no-reply@localhost>",
		DeliveryTimeout: 10 * time.Second,

		BodyLimit:    64 << 10,
		XSRFCookie:   "XSRF-TOKEN",
		XSRFHeader:   "X-XSRF-TOKEN",
		PhoneRegion:  "CN",
		DefaultLang:  "en",
		TOTPIssuer:   "Gatehouse",
		LarkOAuthURL: "https://open.feishu.cn/open-apis/authen/v1/authorize",

		TokenTTL:           2 * time.Hour,
		SessionIdleTTL:     time.Hour,
		SessionAbsoluteTTL: 7 * 24 * time.Hour,
		SMSCodeTTL:         2 * time.Minute,
		MailCodeTTL:        15 * time.Minute,
		RefreshCodeTTL:     30 * time.Second,
		CodeMaxAttempts:    5,
		CodeResendInterval: time.Minute,
		CodeHourlyLimit:    10,
		TOTPPendingTTL:     5 * time.Minute,
		TOTPPeriod:         domain.DefaultTOTPPolicy.Period,
		TOTPDigits:         domain.DefaultTOTPPolicy.Digits,
		TOTPSkew:           domain.DefaultTOTPPolicy.Skew,
		TOTPAlgorithm:      domain.DefaultTOTPPolicy.Algorithm,
		LoginFailures:      5,
		IPLoginFailures:    10,
		LoginLockTTL:       15 * time.Minute,
		PasswordStrength:   0,
		PasswordMinLength:  8,
		PasswordMaxLength:  128,

		Argon2Memory:      19 * 1024,
		Argon2Iterations:  2,
		Argon2Parallelism: 1,

		HTTPReadTimeout:  10 * time.Second,
		HTTPWriteTimeout: 30 * time.Second,
		HTTPIdleTimeout:  2 * time.Minute,
		ShutdownTimeout:  20 * time.Second,
	}
}

// EnvPrefix starts every environment variable of Gatehouse.
const EnvPrefix = "GATEHOUSE_"

// Load builds the configuration: defaults, then the YAML file at path (if
// path is not empty), then the environment given by environ.
func Load(path string, environ []string) (Config, error) {
	k := koanf.New(".")
	if err := k.Load(structs.Provider(Default(), "koanf"), nil); err != nil {
		return Config{}, fmt.Errorf("load defaults: %w", err)
	}
	if path != "" {
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			return Config{}, fmt.Errorf("read config file %s: %w", path, err)
		}
	}
	known := map[string]bool{}
	for _, key := range k.Keys() {
		known[key] = true
	}
	envProvider := env.Provider(".", env.Opt{
		Prefix: EnvPrefix,
		TransformFunc: func(name, value string) (string, any) {
			key := strings.ToLower(strings.TrimPrefix(name, EnvPrefix))
			if !known[key] {
				return "", nil // GATEHOUSE_CONFIG and the test variables are not settings
			}
			return key, value
		},
		EnvironFunc: func() []string { return environ },
	})
	if err := k.Load(envProvider, nil); err != nil {
		return Config{}, fmt.Errorf("read environment: %w", err)
	}
	var c Config
	if err := k.Unmarshal("", &c); err != nil {
		return Config{}, fmt.Errorf("decode configuration: %w", err)
	}
	return c, c.Validate()
}

// Validate checks values that would otherwise fail later or silently.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Mode != ModeDebug && c.Mode != ModeRelease {
		bad("mode must be debug or release, not %q", c.Mode)
	}
	if c.SMSProvider != "log" && c.SMSProvider != "webhook" {
		bad("sms_provider must be log or webhook, not %q", c.SMSProvider)
	}
	if c.SMSProvider == "webhook" && c.SMSWebhookURL == "" {
		bad("sms_provider webhook needs sms_webhook_url")
	}
	switch c.SMTPTLS {
	case "none", "starttls", "tls":
	default:
		bad("smtp_tls must be none, starttls or tls, not %q", c.SMTPTLS)
	}
	if c.DefaultLang != "en" && c.DefaultLang != "zh" {
		bad("default_lang must be en or zh, not %q", c.DefaultLang)
	}
	if c.PasswordStrength < 0 || c.PasswordStrength > 3 {
		bad("password_strength must be 0 to 3")
	}
	if c.PasswordMinLength < 1 || c.PasswordMaxLength < c.PasswordMinLength {
		bad("password_min_length and password_max_length must satisfy 1 <= min <= max")
	}
	if c.BodyLimit <= 0 {
		bad("body_limit must be positive")
	}
	for name, n := range map[string]int{"login_failures": c.LoginFailures, "ip_login_failures": c.IPLoginFailures, "code_max_attempts": c.CodeMaxAttempts, "code_hourly_limit": c.CodeHourlyLimit} {
		if n < 1 {
			bad("%s must be at least 1", name)
		}
	}
	for name, d := range map[string]time.Duration{
		"token_ttl": c.TokenTTL, "session_idle_ttl": c.SessionIdleTTL, "session_absolute_ttl": c.SessionAbsoluteTTL,
		"sms_code_ttl": c.SMSCodeTTL, "mail_code_ttl": c.MailCodeTTL, "refresh_code_ttl": c.RefreshCodeTTL,
		"login_lock_ttl": c.LoginLockTTL, "totp_pending_ttl": c.TOTPPendingTTL, "store_timeout": c.StoreTimeout,
	} {
		if d <= 0 {
			bad("%s must be a positive duration", name)
		}
	}
	if err := c.TOTP().Validate(); err != nil {
		bad("%v", err)
	}
	if _, err := ParsePrefixes(c.TrustedProxies); err != nil {
		bad("trusted_proxies: %v", err)
	}
	if _, err := ParsePrefixes(c.IPWhitelist); err != nil {
		bad("ip_whitelist: %v", err)
	}
	for _, o := range c.CORSOrigins {
		if o == "*" || o == "null" {
			bad("cors_origins must list exact origins, never %q", o)
		}
	}
	if (c.DatabaseURL == "") != (c.RedisURL == "") {
		bad("set both database_url and redis_url (GATEHOUSE_DATABASE_URL, GATEHOUSE_REDIS_URL), or neither for in-memory stores")
	}
	if c.DatabaseURL != "" && c.Secret == "" && c.TOTPEncryptionKeys == "" {
		bad("persistent stores need GATEHOUSE_SECRET (or GATEHOUSE_TOTP_ENCRYPTION_KEYS): TOTP secrets are encrypted at rest under it")
	}
	if c.Mode == ModeRelease {
		errs = append(errs, c.releaseProblems()...)
	}
	return errors.Join(errs...)
}

// TOTP is the TOTP policy the configuration describes.
func (c Config) TOTP() domain.TOTPPolicy {
	return domain.TOTPPolicy{Period: c.TOTPPeriod, Digits: c.TOTPDigits, Skew: c.TOTPSkew, Algorithm: c.TOTPAlgorithm}
}

// MinSecretLength is the shortest GATEHOUSE_SECRET release mode accepts.
const MinSecretLength = 32

// releaseProblems lists what release mode refuses: missing secrets, and the
// development-only delivery that prints codes.
func (c Config) releaseProblems() []error {
	var errs []error
	if len(c.Secret) < MinSecretLength {
		errs = append(errs, fmt.Errorf("release mode needs GATEHOUSE_SECRET of at least %d bytes", MinSecretLength))
	}
	if c.JWTKey == "" && c.JWTKeyFile == "" {
		errs = append(errs, errors.New("release mode needs a signing key: GATEHOUSE_JWT_KEY or GATEHOUSE_JWT_KEY_FILE (make one with `gatehouse keys generate`)"))
	}
	if c.SMSProvider == "log" {
		errs = append(errs, errors.New("release mode refuses the log SMS sender: set GATEHOUSE_SMS_PROVIDER=webhook"))
	}
	if c.SMSProvider == "webhook" && c.SMSWebhookSecret == "" {
		errs = append(errs, errors.New("release mode needs GATEHOUSE_SMS_WEBHOOK_SECRET: the receiver checks the signature"))
	}
	if c.SMTPAddr == "" {
		errs = append(errs, errors.New("release mode refuses the log mailer: set GATEHOUSE_SMTP_ADDR"))
	}
	return errs
}

// ParsePrefixes reads CIDRs (or bare addresses, taken as single hosts).
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a CIDR nor an address", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// List is a list setting: a YAML list, or a comma-separated string (as
// environment variables give it).
type List []string

// UnmarshalText splits a comma-separated string, dropping empty items.
func (l *List) UnmarshalText(b []byte) error {
	*l = nil
	for _, s := range strings.Split(string(b), ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// Path returns the config file named by --config (args) or GATEHOUSE_CONFIG.
func Path(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	return os.Getenv(EnvPrefix + "CONFIG")
}
