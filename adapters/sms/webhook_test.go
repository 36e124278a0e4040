package sms_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/sms"
	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/internal/testinbox"
)

const secret = "webhook-test-secret"

func newSender(t *testing.T, cfg sms.WebhookConfig) *sms.WebhookSender {
	t.Helper()
	if cfg.Secret == "" {
		cfg.Secret = secret
	}
	s, err := sms.NewWebhookSender(cfg, nil)
	if err != nil {
		t.Fatalf("NewWebhookSender: %v", err)
	}
	return s
}

func TestWebhookRequest(t *testing.T) {
	type captured struct {
		method, contentType, signature string
		body                           []byte
	}
	got := make(chan captured, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- captured{r.Method, r.Header.Get("Content-Type"), r.Header.Get(sms.SignatureHeader), body}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()

	s := newSender(t, sms.WebhookConfig{URL: srv.URL, CodeTTL: 2 * time.Minute})
	msg := domain.SMS{Phone: "+8613800000000", Code: "123456", Purpose: domain.PurposeSMSLogin, Lang: domain.LangEnglish}
	if err := s.SendSMS(context.Background(), msg); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	c := <-got
	if c.method != http.MethodPost || c.contentType != "application/json" {
		t.Errorf("method %s, content type %q; want POST application/json", c.method, c.contentType)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(c.body)
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); c.signature != want {
		t.Errorf("signature %q, want %q", c.signature, want)
	}
	var fields map[string]string
	if err := json.Unmarshal(c.body, &fields); err != nil {
		t.Fatalf("body %s: %v", c.body, err)
	}
	want := map[string]string{
		"phone":   "+8613800000000",
		"code":    "123456",
		"purpose": "login",
		"message": "Your Gatehouse login code is 123456. It expires in 2 minutes.",
	}
	if len(fields) != len(want) {
		t.Errorf("body has fields %v, want exactly %v", fields, want)
	}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("%s = %q, want %q", k, fields[k], v)
		}
	}
}

func TestWebhookTexts(t *testing.T) {
	in := testinbox.NewSMSInbox(t, secret)
	s := newSender(t, sms.WebhookConfig{URL: in.URL(), CodeTTL: 5 * time.Minute})
	tests := []struct {
		purpose domain.CodePurpose
		lang    domain.Lang
		want    string
	}{
		{domain.PurposeSMSLogin, domain.LangEnglish, "Your Gatehouse login code is 123456. It expires in 5 minutes."},
		{domain.PurposeSMSLogin, domain.LangChinese, "您的登录验证码是 123456，5 分钟内有效。"},
		{domain.PurposePhoneBind, domain.LangEnglish, "Your code to bind this phone to Gatehouse is 123456. It expires in 5 minutes."},
		{domain.PurposePhoneBind, domain.LangChinese, "您正在绑定此手机号，验证码是 123456，5 分钟内有效。"},
		{domain.PurposeSMSLogin, domain.Lang("fr"), "Your Gatehouse login code is 123456. It expires in 5 minutes."},
	}
	for _, tt := range tests {
		phone := "+8613800000001"
		err := s.SendSMS(context.Background(), domain.SMS{Phone: domain.Phone(phone), Code: "123456", Purpose: tt.purpose, Lang: tt.lang})
		if err != nil {
			t.Fatalf("%s/%s: %v", tt.purpose, tt.lang, err)
		}
		got := in.WaitFor(t, phone, string(tt.purpose), time.Second)
		if got.Message != tt.want || got.Code != "123456" {
			t.Errorf("%s/%s: message %q code %q, want %q", tt.purpose, tt.lang, got.Message, got.Code, tt.want)
		}
	}
}

func TestWebhookOneMinute(t *testing.T) {
	in := testinbox.NewSMSInbox(t, secret)
	s := newSender(t, sms.WebhookConfig{URL: in.URL(), CodeTTL: 90 * time.Second})
	if err := s.SendSMS(context.Background(), domain.SMS{Phone: "+1", Code: "000001", Purpose: domain.PurposeSMSLogin}); err != nil {
		t.Fatal(err)
	}
	// Rounded down: the text must not promise more time than the code has.
	if got := in.WaitFor(t, "+1", "login", time.Second).Message; !strings.HasSuffix(got, "expires in 1 minute.") {
		t.Errorf("message %q, want it to end in %q", got, "expires in 1 minute.")
	}
}

func TestWebhookErrors(t *testing.T) {
	const code = "987654"
	msg := domain.SMS{Phone: "+8613800000000", Code: code, Purpose: domain.PurposePhoneBind, Lang: domain.LangChinese}

	t.Run("non-2xx", func(t *testing.T) {
		in := testinbox.NewSMSInbox(t, secret)
		in.SetFailing(true)
		err := newSender(t, sms.WebhookConfig{URL: in.URL()}).SendSMS(context.Background(), msg)
		if err == nil || !strings.Contains(err.Error(), "500") {
			t.Fatalf("err = %v, want one naming the 500", err)
		}
		if strings.Contains(err.Error(), code) {
			t.Errorf("error %q reveals the code", err)
		}
	})

	t.Run("body echo stays out of the error", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.Copy(w, r.Body)
		}))
		defer srv.Close()
		err := newSender(t, sms.WebhookConfig{URL: srv.URL}).SendSMS(context.Background(), msg)
		if err == nil || strings.Contains(err.Error(), code) {
			t.Fatalf("err = %v, want an error without the code", err)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-release // hang until the test is over
		}))
		defer srv.Close()
		defer close(release)
		start := time.Now()
		err := newSender(t, sms.WebhookConfig{URL: srv.URL, Timeout: 50 * time.Millisecond}).SendSMS(context.Background(), msg)
		if err == nil {
			t.Fatal("SendSMS to a hanging receiver succeeded")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("SendSMS took %s with a 50ms timeout", d)
		}
		if strings.Contains(err.Error(), code) {
			t.Errorf("error %q reveals the code", err)
		}
	})

	t.Run("transport", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		if err := newSender(t, sms.WebhookConfig{URL: url}).SendSMS(context.Background(), msg); err == nil {
			t.Fatal("SendSMS to a closed port succeeded")
		}
	})

	t.Run("redirect is not followed", func(t *testing.T) {
		var hits atomic.Int32
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
		defer other.Close()
		srv := httptest.NewServer(http.RedirectHandler(other.URL, http.StatusTemporaryRedirect))
		defer srv.Close()
		if err := newSender(t, sms.WebhookConfig{URL: srv.URL}).SendSMS(context.Background(), msg); err == nil {
			t.Error("a 307 answer counted as delivered")
		}
		if hits.Load() != 0 {
			t.Error("the redirect was followed: the code went to another address")
		}
	})

	t.Run("purpose not sent by SMS", func(t *testing.T) {
		in := testinbox.NewSMSInbox(t, secret)
		bad := msg
		bad.Purpose = domain.PurposeMailReset
		if err := newSender(t, sms.WebhookConfig{URL: in.URL()}).SendSMS(context.Background(), bad); err == nil {
			t.Error("a reset code was sent by SMS")
		}
		if in.Requests() != 0 {
			t.Error("the receiver was called")
		}
	})
}

func TestNewWebhookSenderValidates(t *testing.T) {
	for _, cfg := range []sms.WebhookConfig{
		{URL: "", Secret: secret},
		{URL: "ftp://example.com/sms", Secret: secret},
		{URL: "/relative", Secret: secret},
	} {
		if _, err := sms.NewWebhookSender(cfg, nil); err == nil {
			t.Errorf("NewWebhookSender(%+v) accepted", cfg)
		}
	}
}

func TestSign(t *testing.T) {
	// RFC 4231 test case 2.
	got := sms.Sign("Jefe", []byte("what do ya want for nothing?"))
	want := "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestLogSender(t *testing.T) {
	var buf bytes.Buffer
	s := sms.NewLogSender(slog.New(slog.NewTextHandler(&buf, nil)))
	msg := domain.SMS{Phone: "+8613800000000", Code: "424242", Purpose: domain.PurposeSMSLogin, Lang: domain.LangChinese}
	if err := s.SendSMS(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"code=424242", "phone=+8613800000000", "purpose=login"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
}

func TestSignStandardVector(t *testing.T) {
	// The example of the Standard Webhooks reference libraries.
	keys, err := sms.ParseWebhookSecrets("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := sms.SignStandard(keys, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("SignStandard = %s, want %s", got, want)
	}
	if _, err := sms.ParseWebhookSecrets("whsec_not*base64"); err == nil {
		t.Error("a whsec_ secret that is not base64 was accepted")
	}
}

func TestWebhookStandardHeaders(t *testing.T) {
	// Two secrets during a rotation: the inbox insists on a valid
	// signature under each, a fresh timestamp and a new id per message.
	const secrets = "first-secret whsec_c2Vjb25kLXNlY3JldA=="
	in := testinbox.NewSMSInbox(t, secrets)
	s := newSender(t, sms.WebhookConfig{URL: in.URL(), Secret: secrets})
	for i := range 2 {
		msg := domain.SMS{Phone: "+8613800000000", Code: "12345" + string(rune('0'+i)), Purpose: domain.PurposeSMSLogin}
		if err := s.SendSMS(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
		in.WaitFor(t, msg.Phone.String(), "login", time.Second)
	}
}
