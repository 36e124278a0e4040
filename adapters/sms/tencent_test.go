package sms_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/sms"
	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/internal/testtencent"
)

const (
	tcSecretID  = "AKIDtestsecretid"
	tcSecretKey = "test-secret-key"
	tcCode      = "482910"
)

func tencentConfig(endpoint string, logs *bytes.Buffer) sms.TencentConfig {
	return sms.TencentConfig{
		SecretID: tcSecretID, SecretKey: tcSecretKey, AppID: "1400000001", SignName: "Gatehouse",
		Templates: sms.TencentTemplates{Login: "1001", LoginEN: "1002", Bind: "2001", BindZH: "2003"},
		Endpoint:  endpoint, Region: "ap-nanjing", CodeTTL: 5 * time.Minute, Timeout: 2 * time.Second,
		Log: slog.New(slog.NewTextHandler(logs, nil)),
	}
}

func newTencent(t *testing.T, cfg sms.TencentConfig) *sms.TencentSender {
	t.Helper()
	s, err := sms.NewTencentSender(cfg)
	if err != nil {
		t.Fatalf("NewTencentSender: %v", err)
	}
	return s
}

func TestTencentSends(t *testing.T) {
	fake := testtencent.New(t, tcSecretID, tcSecretKey)
	var logs bytes.Buffer
	s := newTencent(t, tencentConfig(fake.URL(), &logs))
	tests := []struct {
		purpose  domain.CodePurpose
		lang     domain.Lang
		template string
	}{
		{domain.PurposeSMSLogin, domain.LangEnglish, "1002"}, // the English override
		{domain.PurposeSMSLogin, domain.LangChinese, "1001"}, // no Chinese override: the default
		{domain.PurposePhoneBind, domain.LangChinese, "2003"},
		{domain.PurposePhoneBind, domain.Lang(""), "2001"},
	}
	for _, tt := range tests {
		msg := domain.SMS{Phone: "+8613800138000", Code: tcCode, Purpose: tt.purpose, Lang: tt.lang}
		if err := s.SendSMS(context.Background(), msg); err != nil {
			t.Fatalf("%s/%s: %v", tt.purpose, tt.lang, err)
		}
		got := fake.WaitFor(t, "+8613800138000", time.Second)
		if got.TemplateID != tt.template || got.SignName != "Gatehouse" || got.AppID != "1400000001" ||
			got.Region != "ap-nanjing" || !slices.Equal(got.Params, []string{tcCode, "5"}) {
			t.Errorf("%s/%s: got %+v, want template %s, params [%s 5]", tt.purpose, tt.lang, got, tt.template, tcCode)
		}
	}
	if logs.Len() != 0 {
		t.Errorf("successful sends logged %q", logs.String())
	}
}

// expectFailure checks the error and the log of a failed send: Tencent's
// code and request id are there, the code sent and the number are not.
func expectFailure(t *testing.T, err error, logs string, tencentCode string) {
	t.Helper()
	if err == nil {
		t.Fatal("the send succeeded")
	}
	for _, text := range []string{err.Error(), logs} {
		if strings.Contains(text, tcCode) || strings.Contains(text, "13800138000") {
			t.Errorf("%q reveals the code or the number", text)
		}
	}
	if tencentCode != "" {
		if !strings.Contains(err.Error(), tencentCode) || !strings.Contains(logs, "tencent_code="+tencentCode) ||
			!strings.Contains(logs, "request_id=fake-request-") {
			t.Errorf("error %q / log %q lacks Tencent's code %s and the request id", err, logs, tencentCode)
		}
	}
}

func TestTencentFailures(t *testing.T) {
	msg := domain.SMS{Phone: "+8613800138000", Code: tcCode, Purpose: domain.PurposeSMSLogin, Lang: domain.LangChinese}

	t.Run("one number failed inside HTTP 200", func(t *testing.T) {
		fake := testtencent.New(t, tcSecretID, tcSecretKey)
		fake.FailNumber(msg.Phone.String(), "FailedOperation.PhoneNumberInBlacklist")
		var logs bytes.Buffer
		err := newTencent(t, tencentConfig(fake.URL(), &logs)).SendSMS(context.Background(), msg)
		expectFailure(t, err, logs.String(), "FailedOperation.PhoneNumberInBlacklist")
		if errors.Is(err, sms.ErrRefused) {
			t.Error("a blacklisted number read as a limit refusal")
		}
	})

	t.Run("limit exceeded is a refusal", func(t *testing.T) {
		fake := testtencent.New(t, tcSecretID, tcSecretKey)
		fake.FailNumber(msg.Phone.String(), "LimitExceeded.PhoneNumberDailyLimit")
		var logs bytes.Buffer
		err := newTencent(t, tencentConfig(fake.URL(), &logs)).SendSMS(context.Background(), msg)
		expectFailure(t, err, logs.String(), "LimitExceeded.PhoneNumberDailyLimit")
		if !errors.Is(err, sms.ErrRefused) || !strings.Contains(logs.String(), "level=WARN") {
			t.Errorf("err %v, log %q: want ErrRefused logged as a warning", err, logs.String())
		}
	})

	t.Run("SDK error", func(t *testing.T) {
		fake := testtencent.New(t, tcSecretID, tcSecretKey)
		fake.FailCalls("LimitExceeded.AppDailyLimit")
		var logs bytes.Buffer
		err := newTencent(t, tencentConfig(fake.URL(), &logs)).SendSMS(context.Background(), msg)
		expectFailure(t, err, logs.String(), "LimitExceeded.AppDailyLimit")
		if !errors.Is(err, sms.ErrRefused) {
			t.Errorf("err %v, want ErrRefused", err)
		}
		fake.FailCalls("InternalError.Timeout")
		logs.Reset()
		err = newTencent(t, tencentConfig(fake.URL(), &logs)).SendSMS(context.Background(), msg)
		expectFailure(t, err, logs.String(), "InternalError.Timeout")
	})

	t.Run("timeout", func(t *testing.T) {
		fake := testtencent.New(t, tcSecretID, tcSecretKey)
		fake.Hang(true)
		var logs bytes.Buffer
		cfg := tencentConfig(fake.URL(), &logs)
		cfg.Timeout = 50 * time.Millisecond
		err := newTencent(t, cfg).SendSMS(context.Background(), msg)
		expectFailure(t, err, logs.String(), "")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err %v, want a deadline", err)
		}
	})

	t.Run("wrong signature key is refused by the fake", func(t *testing.T) {
		fake := testtencent.New(t, tcSecretID, tcSecretKey)
		var logs bytes.Buffer
		cfg := tencentConfig(fake.URL(), &logs)
		cfg.SecretKey = "another-key"
		err := newTencent(t, cfg).SendSMS(context.Background(), msg)
		expectFailure(t, err, logs.String(), "AuthFailure.SignatureFailure")
		if n := len(fake.All()); n != 0 {
			t.Errorf("the fake accepted %d messages", n)
		}
	})

	t.Run("purpose not sent by SMS", func(t *testing.T) {
		fake := testtencent.New(t, tcSecretID, tcSecretKey)
		bad := msg
		bad.Purpose = domain.PurposeMailReset
		if err := newTencent(t, tencentConfig(fake.URL(), &bytes.Buffer{})).SendSMS(context.Background(), bad); err == nil {
			t.Error("a reset code was sent by SMS")
		}
		if fake.Calls() != 0 {
			t.Error("the endpoint was called")
		}
	})
}

func TestNewTencentSenderValidates(t *testing.T) {
	good := tencentConfig("https://sms.tencentcloudapi.com", &bytes.Buffer{})
	if _, err := sms.NewTencentSender(good); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for name, change := range map[string]func(*sms.TencentConfig){
		"no secret key":     func(c *sms.TencentConfig) { c.SecretKey = "" },
		"no sign name":      func(c *sms.TencentConfig) { c.SignName = "" },
		"no bind":           func(c *sms.TencentConfig) { c.Templates.Bind = "" },
		"ftp endpoint":      func(c *sms.TencentConfig) { c.Endpoint = "ftp://example.com" },
		"endpoint query":    func(c *sms.TencentConfig) { c.Endpoint = "https://example.com/?a=b" },
		"endpoint userinfo": func(c *sms.TencentConfig) { c.Endpoint = "https://u:p@example.com" },
	} {
		cfg := good
		change(&cfg)
		if _, err := sms.NewTencentSender(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
