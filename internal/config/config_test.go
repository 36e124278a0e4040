package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsWithoutFileOrEnvironment(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" || c.Mode != ModeDebug || c.TokenTTL != 2*time.Hour || c.LoginFailures != 5 || c.BodyLimit != 65536 {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestEnvironmentOverridesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	yaml := "http_addr: \":9000\"\nsms_code_ttl: 90s\ncors_origins: [\"https://a.example\", \"https://b.example\"]\nlogin_failures: 3\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, []string{
		"GATEHOUSE_LOGIN_FAILURES=7",
		"GATEHOUSE_TRUSTED_PROXIES=10.0.0.0/8, 192.168.1.1",
		"GATEHOUSE_SESSION_IDLE_TTL=15m",
		"GATEHOUSE_CONFIG=/ignored",
		"OTHER=1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":9000" || c.SMSCodeTTL != 90*time.Second || c.LoginFailures != 7 || c.SessionIdleTTL != 15*time.Minute {
		t.Fatalf("overrides not applied: %+v", c)
	}
	if strings.Join(c.CORSOrigins, "|") != "https://a.example|https://b.example" {
		t.Fatalf("cors origins = %q", c.CORSOrigins)
	}
	if strings.Join(c.TrustedProxies, "|") != "10.0.0.0/8|192.168.1.1" {
		t.Fatalf("trusted proxies = %q", c.TrustedProxies)
	}
}

func TestReleaseModeSaysWhatIsMissing(t *testing.T) {
	_, err := Load("", []string{"GATEHOUSE_MODE=release"})
	if err == nil {
		t.Fatal("release mode started without secret and key")
	}
	for _, want := range []string{"GATEHOUSE_SECRET", "GATEHOUSE_JWT_KEY", "log SMS sender", "log mailer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	_, err = Load("", []string{"GATEHOUSE_MODE=release", "GATEHOUSE_SECRET=short", "GATEHOUSE_JWT_KEY=x",
		"GATEHOUSE_SMS_PROVIDER=webhook", "GATEHOUSE_SMS_WEBHOOK_URL=http://127.0.0.1:1/", "GATEHOUSE_SMTP_ADDR=127.0.0.1:25"})
	if err == nil || !strings.Contains(err.Error(), "at least 32 bytes") {
		t.Fatalf("short secret accepted: %v", err)
	}
	if !strings.Contains(err.Error(), "GATEHOUSE_SMS_WEBHOOK_SECRET") {
		t.Fatalf("release mode accepted an unsigned SMS webhook: %v", err)
	}
	// Debug mode lets a webhook run unsigned (with a warning at start).
	if _, err := Load("", []string{"GATEHOUSE_SMS_PROVIDER=webhook", "GATEHOUSE_SMS_WEBHOOK_URL=http://127.0.0.1:1/"}); err != nil {
		t.Fatalf("debug mode refused an unsigned webhook: %v", err)
	}
}

func TestInvalidValuesAreRefused(t *testing.T) {
	for _, env := range []string{
		"GATEHOUSE_MODE=prod",
		"GATEHOUSE_SMTP_TLS=ssl",
		"GATEHOUSE_TRUSTED_PROXIES=not-a-cidr",
		"GATEHOUSE_CORS_ORIGINS=*",
		"GATEHOUSE_TOKEN_TTL=0s",
		"GATEHOUSE_PASSWORD_STRENGTH=4",
		"GATEHOUSE_SMS_PROVIDER=webhook",
		"GATEHOUSE_SESSIONS_PER_ACCOUNT=0",
		"GATEHOUSE_SESSIONS_PER_ACCOUNT=1001",
		"GATEHOUSE_SESSION_CACHE_TTL=101ms", // API.md: revocation within 100 ms
		"GATEHOUSE_SESSION_CACHE_TTL=-1ms",
		"GATEHOUSE_SESSION_RENEW_INTERVAL=61s", // API.md: last_seen_time late by 60 s at most
	} {
		if _, err := Load("", []string{env}); err == nil {
			t.Errorf("%s accepted", env)
		}
	}
	for _, env := range []string{"GATEHOUSE_SESSION_CACHE_TTL=0", "GATEHOUSE_SESSION_CACHE_TTL=100ms", "GATEHOUSE_SESSION_RENEW_INTERVAL=0", "GATEHOUSE_SESSION_RENEW_INTERVAL=1m"} {
		if _, err := Load("", []string{env}); err != nil {
			t.Errorf("%s refused: %v", env, err)
		}
	}
	if _, err := Load("", []string{"GATEHOUSE_TOKEN_TTL=soon"}); err == nil {
		t.Error("unparseable duration accepted")
	}
}

func TestValuesRedactSecrets(t *testing.T) {
	c := Default()
	c.Secret = "super-secret-value-that-is-long-enough"
	c.SMTPPassword = "mail-pass"
	c.DatabaseURL = "postgres://app:dbpass@db:5432/gatehouse?sslmode=disable"
	c.RedisURL = "redis://:redispass@cache:6379/0"
	c.SMSWebhookURL = "https://sms.example/hook"
	v := c.Values()
	for key, val := range v {
		s, _ := val.(string)
		for _, secret := range []string{"super-secret", "mail-pass", "dbpass", "redispass"} {
			if strings.Contains(s, secret) {
				t.Errorf("%s leaks a secret: %q", key, s)
			}
		}
	}
	if v["secret"] != Redacted || v["sms_webhook_url"] != "https://sms.example/hook" || v["token_ttl"] != "2h0m0s" {
		t.Fatalf("values = %v", v)
	}
	if !strings.Contains(v["database_url"].(string), "db:5432") {
		t.Fatalf("database url lost its host: %v", v["database_url"])
	}
	c.DatabaseURL = "host=db user=app password='s3 cret' sslpassword=k3y dbname=gh"
	if got := c.Values()["database_url"].(string); strings.Contains(got, "s3 cret") || strings.Contains(got, "k3y") || !strings.Contains(got, "host=db") {
		t.Fatalf("key=value DSN not redacted: %q", got)
	}
	if v["jwt_key"] != "" {
		t.Fatalf("an unset secret should stay empty, got %v", v["jwt_key"])
	}
}

// The example file documents every key; this keeps it loadable and complete.
func TestExampleConfigCoversEveryKey(t *testing.T) {
	path := filepath.Join("..", "..", "configs", "gatehouse.example.yaml")
	c, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.TokenTTL != Default().TokenTTL || c.SMTPTLS != "starttls" {
		t.Fatalf("example file changes defaults: %+v", c)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for key := range Default().Values() {
		if !strings.Contains(string(raw), "\n"+key+":") {
			t.Errorf("configs/gatehouse.example.yaml does not document %s", key)
		}
	}
}

// The README's configuration table lists every variable.
func TestReadmeListsEveryVariable(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	for key := range Default().Values() {
		name := EnvPrefix + strings.ToUpper(key)
		if strings.Contains(readme, name) {
			continue
		}
		// Grouped rows such as GATEHOUSE_UPLOAD_TYPE / _URL / _LIMIT.
		i := strings.LastIndex(key, "_")
		if i < 0 || !strings.Contains(readme, EnvPrefix+strings.ToUpper(key[:i])) || !strings.Contains(readme, "_"+strings.ToUpper(key[i+1:])) {
			t.Errorf("README does not list %s", name)
		}
	}
}
