// Package config is Gatehouse's one typed configuration: defaults, an optional
// YAML file, and GATEHOUSE_* environment variables on top. Every key is flat:
// the YAML key `sms_code_ttl` is the variable GATEHOUSE_SMS_CODE_TTL.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
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

	// Access log (one line per request at log level info, written off the
	// request path): bytes of lines that may wait for the log output before
	// further lines are dropped and counted, and how long a line may wait.
	AccessLogBuffer        int           `koanf:"access_log_buffer"`
	AccessLogFlushInterval time.Duration `koanf:"access_log_flush_interval"`

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

	// Signing-key rotation (API.md "Operations"): PEM files of keys that
	// are published and accepted but never sign; SIGHUP reloads them and
	// the signing key file.
	JWTVerifyKeyFiles List `koanf:"jwt_verify_key_files"`

	SMSProvider      string        `koanf:"sms_provider"`
	SMSWebhookURL    string        `koanf:"sms_webhook_url"`
	SMSWebhookSecret string        `koanf:"sms_webhook_secret" secret:"true"`
	SMTPAddr         string        `koanf:"smtp_addr"`
	SMTPTLS          string        `koanf:"smtp_tls"`
	SMTPUsername     string        `koanf:"smtp_username"`
	SMTPPassword     string        `koanf:"smtp_password" secret:"true"`
	SMTPFrom         string        `koanf:"smtp_from"`
	DeliveryTimeout  time.Duration `koanf:"delivery_timeout"`

	// Tencent Cloud SMS (API.md "SMS delivery for production"), for
	// sms_provider tencent. The templates take the code and its lifetime
	// in whole minutes; the _en and _zh ids override them per language.
	TencentSecretID           string `koanf:"tencent_secret_id"`
	TencentSecretKey          string `koanf:"tencent_secret_key" secret:"true"`
	TencentSMSAppID           string `koanf:"tencent_sms_app_id"`
	TencentSMSSignName        string `koanf:"tencent_sms_sign_name"`
	TencentSMSTemplateLogin   string `koanf:"tencent_sms_template_login"`
	TencentSMSTemplateBind    string `koanf:"tencent_sms_template_bind"`
	TencentSMSTemplateLoginEN string `koanf:"tencent_sms_template_login_en"`
	TencentSMSTemplateLoginZH string `koanf:"tencent_sms_template_login_zh"`
	TencentSMSTemplateBindEN  string `koanf:"tencent_sms_template_bind_en"`
	TencentSMSTemplateBindZH  string `koanf:"tencent_sms_template_bind_zh"`
	TencentSMSRegion          string `koanf:"tencent_sms_region"`
	TencentSMSEndpoint        string `koanf:"tencent_sms_endpoint"`

	// SMS toll-fraud guard (API.md "SMS delivery for production"): the
	// regions codes go to ("*" for all), the hourly caps per number range,
	// per region and for the service (0: off; the per-IP cap is
	// sms_ip_hourly_limit), and enforce or record.
	SMSCountries         List   `koanf:"sms_countries"`
	SMSRangeHourlyLimit  int    `koanf:"sms_range_hourly_limit"`
	SMSRegionHourlyLimit int    `koanf:"sms_region_hourly_limit"`
	SMSGlobalHourlyLimit int    `koanf:"sms_global_hourly_limit"`
	SMSGuard             string `koanf:"sms_guard"`

	// Delivery queues (API.md "Abuse limits", Delivery): mail and SMS each
	// have a queue of this many messages, dropping the oldest when full, and
	// this many workers.
	DeliveryQueueSize int `koanf:"delivery_queue_size"`
	DeliveryWorkers   int `koanf:"delivery_workers"`

	TrustedProxies List   `koanf:"trusted_proxies"`
	IPWhitelist    List   `koanf:"ip_whitelist"`
	CORSOrigins    List   `koanf:"cors_origins"`
	BodyLimit      int64  `koanf:"body_limit"`
	XSRFCookie     string `koanf:"xsrf_cookie"`
	XSRFHeader     string `koanf:"xsrf_header"`
	// Cookies across subdomains (API.md "Operations"): the Domain of the
	// XSRF cookie only, so a frontend on a sibling subdomain can read it;
	// empty keeps it host-only. TOKEN and LARK_STATE stay host-only.
	CookieDomain string `koanf:"cookie_domain"`
	PhoneRegion  string `koanf:"phone_region"`
	DefaultLang  string `koanf:"default_lang"`
	TOTPIssuer   string `koanf:"totp_issuer"`

	UploadType  string `koanf:"upload_type"`
	UploadURL   string `koanf:"upload_url"`
	UploadLimit int64  `koanf:"upload_limit"`

	// Lark (Feishu, Lark Suite) sign-in and binding (API.md "Lark"). Lark is
	// on when both the app id and secret are set. The three endpoints
	// follow the platform when empty (see LarkEndpoints); lark_oauth_url is
	// the deprecated name of lark_authorize_url.
	LarkPlatform     string        `koanf:"lark_platform"`
	LarkAppID        string        `koanf:"lark_app_id"`
	LarkAppSecret    string        `koanf:"lark_app_secret" secret:"true"`
	LarkRedirectURL  string        `koanf:"lark_redirect_url"`
	LarkFrontendURL  string        `koanf:"lark_frontend_url"`
	LarkAuthorizeURL string        `koanf:"lark_authorize_url"`
	LarkTokenURL     string        `koanf:"lark_token_url"`
	LarkUserInfoURL  string        `koanf:"lark_userinfo_url"`
	LarkOAuthURL     string        `koanf:"lark_oauth_url"`
	LarkStateTTL     time.Duration `koanf:"lark_state_ttl"` // start to callback, default 10 min
	LarkTimeout      time.Duration `koanf:"lark_timeout"`   // each call to Lark

	BootstrapEmail    string `koanf:"bootstrap_email"`
	BootstrapPassword string `koanf:"bootstrap_password" secret:"true"`
	SeedFile          string `koanf:"seed_file"`

	TokenTTL           time.Duration `koanf:"token_ttl"`
	SessionIdleTTL     time.Duration `koanf:"session_idle_ttl"`
	SessionAbsoluteTTL time.Duration `koanf:"session_absolute_ttl"`
	// On Redis, how long a replica may answer a session read from its
	// client-side cache (0: never), and how often the idle timeout is
	// renewed at most (see redis.Config). API.md bounds both: revocation
	// within 100 ms, last_seen_time late by at most 60 s.
	SessionCacheTTL      time.Duration `koanf:"session_cache_ttl"`
	SessionRenewInterval time.Duration `koanf:"session_renew_interval"`
	SMSCodeTTL           time.Duration `koanf:"sms_code_ttl"`
	MailCodeTTL          time.Duration `koanf:"mail_code_ttl"`
	RefreshCodeTTL       time.Duration `koanf:"refresh_code_ttl"`
	CodeMaxAttempts      int           `koanf:"code_max_attempts"`
	CodeResendInterval   time.Duration `koanf:"code_resend_interval"`
	CodeHourlyLimit      int           `koanf:"code_hourly_limit"`
	TOTPPendingTTL       time.Duration `koanf:"totp_pending_ttl"`
	TOTPPeriod           time.Duration `koanf:"totp_period"`
	TOTPDigits           int           `koanf:"totp_digits"`
	TOTPSkew             int           `koanf:"totp_skew"`
	TOTPAlgorithm        string        `koanf:"totp_algorithm"`
	LoginFailures        int           `koanf:"login_failures"`
	IPLoginFailures      int           `koanf:"ip_login_failures"`
	LoginLockTTL         time.Duration `koanf:"login_lock_ttl"`
	// LoginQueueTimeout bounds how long a login waits for attempts still
	// being checked to settle before it answers 429 RATE_LIMITED.
	LoginQueueTimeout time.Duration `koanf:"login_queue_timeout"`
	PasswordStrength  int           `koanf:"password_strength"`
	PasswordMinLength int           `koanf:"password_min_length"`
	PasswordMaxLength int           `koanf:"password_max_length"`

	Argon2Memory      uint32 `koanf:"argon2_memory"`
	Argon2Iterations  uint32 `koanf:"argon2_iterations"`
	Argon2Parallelism uint8  `koanf:"argon2_parallelism"`
	HashConcurrency   int    `koanf:"hash_concurrency"`

	// Abuse limits (API.md "Abuse limits"): per client IP, per account.
	IPv6Prefix             int `koanf:"ipv6_prefix"`
	MailIPHourlyLimit      int `koanf:"mail_ip_hourly_limit"`
	SMSIPHourlyLimit       int `koanf:"sms_ip_hourly_limit"`
	EmailChangeHourlyLimit int `koanf:"email_change_hourly_limit"`
	BindSMSHourlyLimit     int `koanf:"bind_sms_hourly_limit"`
	SessionsPerAccount     int `koanf:"sessions_per_account"`
	HeaderLimit            int `koanf:"header_limit"`

	// Login history of failed attempts, written off the response path:
	// how many attempts may wait (more are dropped and logged), and how
	// many are written at once.
	LoginHistoryQueue   int `koanf:"login_history_queue"`
	LoginHistoryWriters int `koanf:"login_history_writers"`

	// Login history retention and geo (API.md "Login history"): attempts
	// older than the retention are deleted in the background every prune
	// interval, at most prune_batch rows per statement with prune_pause
	// between; geoip_db names a MaxMind-format database that places IPs.
	LoginHistoryRetention     time.Duration `koanf:"login_history_retention"`
	LoginHistoryPruneInterval time.Duration `koanf:"login_history_prune_interval"`
	LoginHistoryPruneBatch    int           `koanf:"login_history_prune_batch"`
	LoginHistoryPrunePause    time.Duration `koanf:"login_history_prune_pause"`
	GeoIPDB                   string        `koanf:"geoip_db"`

	// Metrics (API.md "Operations"): Prometheus /metrics on a listener of
	// its own (empty: off), and that listener's read and write timeout.
	MetricsAddr    string        `koanf:"metrics_addr"`
	MetricsTimeout time.Duration `koanf:"metrics_timeout"`

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

		AccessLogBuffer:        1 << 20,
		AccessLogFlushInterval: 100 * time.Millisecond,

		StoreTimeout:   2 * time.Second,
		RedisKeyPrefix: "gh:",

		JWTIssuer:   "gatehouse",
		JWTAudience: "gatehouse",

		SMSProvider:     "log",
		SMTPTLS:         "starttls",
		SMTPFrom:        "Gatehouse <no-reply@localhost>",
		DeliveryTimeout: 10 * time.Second,

		DeliveryQueueSize: 1024,
		DeliveryWorkers:   16,

		BodyLimit:   64 << 10,
		XSRFCookie:  "XSRF-TOKEN",
		XSRFHeader:  "X-XSRF-TOKEN",
		PhoneRegion: "CN",
		DefaultLang: "en",
		TOTPIssuer:  "Gatehouse",

		LarkPlatform: string(domain.LarkFeishu),
		LarkStateTTL: 10 * time.Minute,
		LarkTimeout:  10 * time.Second,

		TokenTTL:             2 * time.Hour,
		SessionIdleTTL:       time.Hour,
		SessionAbsoluteTTL:   7 * 24 * time.Hour,
		SessionCacheTTL:      100 * time.Millisecond,
		SessionRenewInterval: time.Minute,
		SMSCodeTTL:           2 * time.Minute,
		MailCodeTTL:          15 * time.Minute,
		RefreshCodeTTL:       30 * time.Second,
		CodeMaxAttempts:      5,
		CodeResendInterval:   time.Minute,
		CodeHourlyLimit:      10,
		TOTPPendingTTL:       5 * time.Minute,
		TOTPPeriod:           domain.DefaultTOTPPolicy.Period,
		TOTPDigits:           domain.DefaultTOTPPolicy.Digits,
		TOTPSkew:             domain.DefaultTOTPPolicy.Skew,
		TOTPAlgorithm:        domain.DefaultTOTPPolicy.Algorithm,
		LoginFailures:        5,
		IPLoginFailures:      10,
		LoginLockTTL:         15 * time.Minute,
		LoginQueueTimeout:    5 * time.Second,
		PasswordStrength:     0,
		PasswordMinLength:    8,
		PasswordMaxLength:    128,

		Argon2Memory:      19 * 1024,
		Argon2Iterations:  2,
		Argon2Parallelism: 1,

		IPv6Prefix:        domain.DefaultIPv6Prefix,
		MailIPHourlyLimit: 30,
		SMSIPHourlyLimit:  20,

		TencentSMSRegion:       "ap-guangzhou",
		TencentSMSEndpoint:     "https://sms.tencentcloudapi.com",
		SMSCountries:           List{"CN"},
		SMSRangeHourlyLimit:    30,
		SMSGuard:               SMSGuardEnforce,
		EmailChangeHourlyLimit: 5,
		BindSMSHourlyLimit:     10,
		SessionsPerAccount:     50,
		HeaderLimit:            16 << 10,

		LoginHistoryQueue:   1024,
		LoginHistoryWriters: 4,

		LoginHistoryRetention:     2160 * time.Hour,
		LoginHistoryPruneInterval: time.Hour,
		LoginHistoryPruneBatch:    1000,
		LoginHistoryPrunePause:    100 * time.Millisecond,
		MetricsTimeout:            10 * time.Second,

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
	if c.SMSProvider != "log" && c.SMSProvider != "webhook" && c.SMSProvider != "tencent" {
		bad("sms_provider must be log, webhook or tencent, not %q", c.SMSProvider)
	}
	if c.SMSProvider == "tencent" {
		if u, err := url.Parse(c.TencentSMSEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			bad("tencent_sms_endpoint must be an http or https URL such as https://sms.tencentcloudapi.com")
		}
		if c.TencentSMSRegion == "" {
			bad("tencent_sms_region must not be empty")
		}
	}
	if _, err := c.SMSRegions(); err != nil {
		bad("%v", err)
	}
	if c.SMSGuard != SMSGuardEnforce && c.SMSGuard != SMSGuardRecord {
		bad("sms_guard must be enforce or record, not %q", c.SMSGuard)
	}
	for name, n := range map[string]int{"sms_range_hourly_limit": c.SMSRangeHourlyLimit, "sms_region_hourly_limit": c.SMSRegionHourlyLimit, "sms_global_hourly_limit": c.SMSGlobalHourlyLimit} {
		if n < 0 {
			bad("%s must be 0 (off) or more", name)
		}
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
	// The access log keeps room for its longest line (4 KiB) a few times.
	if c.AccessLogBuffer < minAccessLogBuffer {
		bad("access_log_buffer must be at least %d bytes", minAccessLogBuffer)
	}
	if c.AccessLogFlushInterval <= 0 || c.AccessLogFlushInterval > 10*time.Second {
		bad("access_log_flush_interval must be a positive duration of at most 10s")
	}
	if c.BodyLimit <= 0 {
		bad("body_limit must be positive")
	}
	if c.DeliveryQueueSize < 1 || c.DeliveryWorkers < 1 {
		bad("delivery_queue_size and delivery_workers must be at least 1")
	}
	if c.HeaderLimit < 1024 {
		bad("header_limit must be at least 1024 bytes")
	}
	// Every login walks the account's live sessions in one Redis script, so
	// the limit bounds how long that script may hold Redis.
	if c.SessionsPerAccount > maxSessionsPerAccount {
		bad("sessions_per_account must be at most %d", maxSessionsPerAccount)
	}
	if c.IPv6Prefix < 1 || c.IPv6Prefix > 128 {
		bad("ipv6_prefix must be 1 to 128")
	}
	if c.LoginHistoryQueue < 1 {
		bad("login_history_queue must be at least 1")
	}
	if c.LoginHistoryWriters < 1 || c.LoginHistoryWriters > 64 {
		bad("login_history_writers must be 1 to 64")
	}
	if c.LoginHistoryRetention <= 0 || c.LoginHistoryPruneInterval <= 0 {
		bad("login_history_retention and login_history_prune_interval must be positive durations")
	}
	// A batch is one DELETE statement: it must finish within store_timeout.
	if c.LoginHistoryPruneBatch < 1 || c.LoginHistoryPruneBatch > 100_000 {
		bad("login_history_prune_batch must be 1 to 100000")
	}
	if c.SessionCacheTTL < 0 || c.SessionCacheTTL > 100*time.Millisecond {
		bad("session_cache_ttl must be between 0 and 100ms: a revoked session is refused everywhere within 100 ms")
	}
	if c.SessionRenewInterval < 0 || c.SessionRenewInterval > time.Minute {
		bad("session_renew_interval must be between 0 and 1m: last_seen_time may lag use by 60 s at most")
	}
	if c.LoginHistoryPrunePause < 0 {
		bad("login_history_prune_pause must not be negative")
	}
	for name, n := range map[string]int{"login_failures": c.LoginFailures, "ip_login_failures": c.IPLoginFailures, "code_max_attempts": c.CodeMaxAttempts, "code_hourly_limit": c.CodeHourlyLimit,
		"mail_ip_hourly_limit": c.MailIPHourlyLimit, "sms_ip_hourly_limit": c.SMSIPHourlyLimit,
		"email_change_hourly_limit": c.EmailChangeHourlyLimit, "bind_sms_hourly_limit": c.BindSMSHourlyLimit,
		"sessions_per_account": c.SessionsPerAccount} {
		if n < 1 {
			bad("%s must be at least 1", name)
		}
	}
	for name, d := range map[string]time.Duration{
		"token_ttl": c.TokenTTL, "session_idle_ttl": c.SessionIdleTTL, "session_absolute_ttl": c.SessionAbsoluteTTL,
		"sms_code_ttl": c.SMSCodeTTL, "mail_code_ttl": c.MailCodeTTL, "refresh_code_ttl": c.RefreshCodeTTL,
		"login_lock_ttl": c.LoginLockTTL, "login_queue_timeout": c.LoginQueueTimeout, "totp_pending_ttl": c.TOTPPendingTTL, "store_timeout": c.StoreTimeout,
		"lark_state_ttl": c.LarkStateTTL, "lark_timeout": c.LarkTimeout,
		"metrics_timeout": c.MetricsTimeout,
	} {
		if d <= 0 {
			bad("%s must be a positive duration", name)
		}
	}
	if !domain.ValidTOTPIssuer(c.TOTPIssuer) {
		bad("totp_issuer must not hold any of & # = %% + ;: it is written unescaped into otpauth URLs")
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
	if c.MetricsAddr != "" && c.MetricsAddr == c.HTTPAddr {
		bad("metrics_addr must differ from http_addr: metrics are never served on the public listener")
	}
	for _, o := range c.CORSOrigins {
		if o == "*" || o == "null" {
			bad("cors_origins must list exact origins, never %q", o)
		}
	}
	if c.CookieDomain != "" && !validCookieDomain(c.CookieDomain) {
		bad("cookie_domain must be a bare domain name such as example.com (no scheme, port, path or leading dot), got %q", c.CookieDomain)
	}
	if (c.DatabaseURL == "") != (c.RedisURL == "") {
		bad("set both database_url and redis_url (GATEHOUSE_DATABASE_URL, GATEHOUSE_REDIS_URL), or neither for in-memory stores")
	}
	if c.DatabaseURL != "" && c.Secret == "" && c.TOTPEncryptionKeys == "" {
		bad("persistent stores need GATEHOUSE_SECRET (or GATEHOUSE_TOTP_ENCRYPTION_KEYS): TOTP secrets are encrypted at rest under it")
	}
	errs = append(errs, c.larkProblems()...)
	if c.Mode == ModeRelease {
		errs = append(errs, c.releaseProblems()...)
	}
	return errors.Join(errs...)
}

// TOTP is the TOTP policy the configuration describes.
func (c Config) TOTP() domain.TOTPPolicy {
	return domain.TOTPPolicy{Period: c.TOTPPeriod, Digits: c.TOTPDigits, Skew: c.TOTPSkew, Algorithm: c.TOTPAlgorithm}
}

// minAccessLogBuffer is accesslog.MinBuffer.
const minAccessLogBuffer = 16 << 10

// MinSecretLength is the shortest GATEHOUSE_SECRET release mode accepts.
const MinSecretLength = 32

// maxSessionsPerAccount bounds GATEHOUSE_SESSIONS_PER_ACCOUNT: a login's
// Redis script walks that many sessions (a few milliseconds per thousand).
const maxSessionsPerAccount = 1000

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
		errs = append(errs, errors.New("release mode refuses the log SMS sender: set GATEHOUSE_SMS_PROVIDER=webhook or tencent"))
	}
	if c.SMSProvider == "tencent" {
		for _, k := range []struct{ name, value string }{
			{"GATEHOUSE_TENCENT_SECRET_ID", c.TencentSecretID},
			{"GATEHOUSE_TENCENT_SECRET_KEY", c.TencentSecretKey},
			{"GATEHOUSE_TENCENT_SMS_APP_ID", c.TencentSMSAppID},
			{"GATEHOUSE_TENCENT_SMS_SIGN_NAME", c.TencentSMSSignName},
			{"GATEHOUSE_TENCENT_SMS_TEMPLATE_LOGIN", c.TencentSMSTemplateLogin},
			{"GATEHOUSE_TENCENT_SMS_TEMPLATE_BIND", c.TencentSMSTemplateBind},
		} {
			if k.value == "" {
				errs = append(errs, fmt.Errorf("release mode needs %s for the tencent SMS provider", k.name))
			}
		}
		// Plain http carries the signed request, code included, in the
		// clear; it may only stay on the machine.
		if u, err := url.Parse(c.TencentSMSEndpoint); err == nil && u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
			errs = append(errs, errors.New("release mode refuses an http:// GATEHOUSE_TENCENT_SMS_ENDPOINT that is not loopback: use https"))
		}
	}
	if c.SMSProvider == "webhook" && c.SMSWebhookSecret == "" {
		errs = append(errs, errors.New("release mode needs GATEHOUSE_SMS_WEBHOOK_SECRET: the receiver checks the signature"))
	}
	if c.SMTPAddr == "" {
		errs = append(errs, errors.New("release mode refuses the log mailer: set GATEHOUSE_SMTP_ADDR"))
	}
	if missing := c.larkMissing(); len(missing) > 0 {
		errs = append(errs, fmt.Errorf("release mode refuses a half-configured Lark: set %s too, or none of the Lark keys", strings.Join(missing, ", ")))
	}
	for _, u := range c.larkURLs() {
		if p, err := url.Parse(u.value); err == nil && p.Scheme == "http" && !loopback(p.Hostname()) {
			errs = append(errs, fmt.Errorf("release mode refuses the http:// URL of %s: use https (plain http is only for a loopback host)", u.env))
		}
	}
	return errs
}

// The values of sms_guard.
const (
	SMSGuardEnforce = "enforce"
	SMSGuardRecord  = "record"
)

// SMSRegions is the allow-list of the SMS guard: upper-case ISO 3166
// alpha-2 regions, or nil for every region ("*").
func (c Config) SMSRegions() ([]string, error) {
	if len(c.SMSCountries) == 0 {
		return nil, errors.New(`sms_countries must list regions (ISO 3166 alpha-2) or be "*" for all`)
	}
	var out []string
	for _, r := range c.SMSCountries {
		if r == "*" {
			if len(c.SMSCountries) > 1 {
				return nil, errors.New(`sms_countries: "*" stands alone`)
			}
			return nil, nil
		}
		r = strings.ToUpper(r)
		if len(r) != 2 || r[0] < 'A' || r[0] > 'Z' || r[1] < 'A' || r[1] > 'Z' {
			return nil, fmt.Errorf("sms_countries: %q is not an ISO 3166 alpha-2 region", r)
		}
		out = append(out, r)
	}
	return out, nil
}

// isLoopbackHost reports whether host is localhost or a loopback address.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
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

// validCookieDomain reports whether d can be a cookie's Domain: a host name
// of at least two labels (a single label would be refused by browsers or
// mean a public suffix), letters, digits and hyphens, no leading dot. An
// IP address is refused too: it cannot be shared by subdomains.
func validCookieDomain(d string) bool {
	if _, err := netip.ParseAddr(d); err == nil || len(d) > 253 {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}
