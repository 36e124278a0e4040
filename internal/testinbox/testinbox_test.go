package testinbox_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/smtp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/sms"
	"github.com/gatehouse/gatehouse/internal/testinbox"
)

// recorder is a testing.TB that keeps Errorf calls instead of failing, to
// test that the inbox fails the test it belongs to.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

var messageIDs atomic.Int64

// signedPost posts body signed under secret as the webhook sender does,
// with both the first version's header and the Standard Webhooks ones.
func signedPost(url, secret, body string) (*http.Response, error) {
	id := fmt.Sprintf("msg_%d", messageIDs.Add(1))
	return signedPostAs(url, id, [][]byte{[]byte(secret)}, []byte(secret), body)
}

func signedPostAs(url, id string, keys [][]byte, legacy []byte, body string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, legacy)
	mac.Write([]byte(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Gatehouse-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	ts := time.Now().Unix()
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sms.SignStandard(keys, id, ts, []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return resp, nil
}

func post(t *testing.T, url, secret, body string) *http.Response {
	t.Helper()
	resp, err := signedPost(url, secret, body)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func smsBody(phone, code, purpose string) string {
	return fmt.Sprintf(`{"phone":%q,"code":%q,"purpose":%q,"message":"code %s"}`, phone, code, purpose, code)
}

func TestSMSInboxWaitForReturnsEachOnce(t *testing.T) {
	in := testinbox.NewSMSInbox(t, "k")
	post(t, in.URL(), "k", smsBody("+1", "111111", "login"))
	post(t, in.URL(), "k", smsBody("+1", "222222", "bind"))
	post(t, in.URL(), "k", smsBody("+1", "333333", "login"))

	if got := in.WaitFor(t, "+1", "login", time.Second).Code; got != "111111" {
		t.Errorf("first login code %s", got)
	}
	if got := in.WaitFor(t, "+1", "login", time.Second).Code; got != "333333" {
		t.Errorf("second login code %s", got)
	}
	if got := in.WaitFor(t, "+1", "bind", time.Second).Code; got != "222222" {
		t.Errorf("bind code %s", got)
	}
	if n := len(in.All()); n != 3 {
		t.Errorf("All has %d messages, want 3", n)
	}
}

func TestSMSInboxWaitsForLateMessage(t *testing.T) {
	in := testinbox.NewSMSInbox(t, "k")
	go func() {
		time.Sleep(30 * time.Millisecond)
		if _, err := signedPost(in.URL(), "k", smsBody("+2", "444444", "login")); err != nil {
			t.Error(err)
		}
	}()
	if got := in.WaitFor(t, "+2", "login", 5*time.Second).Code; got != "444444" {
		t.Errorf("code %s", got)
	}
}

func TestSMSInboxRefusesBadRequests(t *testing.T) {
	tests := map[string]struct {
		secret, body string
	}{
		"wrong signature": {"other", smsBody("+1", "111111", "login")},
		"missing field":   {"k", `{"phone":"+1","code":"111111","purpose":"login"}`},
		"extra field":     {"k", `{"phone":"+1","code":"111111","purpose":"login","message":"m","lang":"en"}`},
		"not json":        {"k", `phone=+1`},
	}
	for name, tt := range tests {
		rec := &recorder{TB: t}
		in := testinbox.NewSMSInbox(rec, "k")
		resp := post(t, in.URL(), tt.secret, tt.body)
		if resp.StatusCode < 400 {
			t.Errorf("%s: answered %d", name, resp.StatusCode)
		}
		if len(rec.errors()) == 0 {
			t.Errorf("%s: the test was not failed", name)
		}
		if len(in.All()) != 0 {
			t.Errorf("%s: the message was kept", name)
		}
	}
}

func TestSMSInboxFailing(t *testing.T) {
	in := testinbox.NewSMSInbox(t, "k")
	in.SetFailing(true)
	if resp := post(t, in.URL(), "k", smsBody("+1", "111111", "login")); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("failing inbox answered %d", resp.StatusCode)
	}
	in.SetFailing(false)
	if resp := post(t, in.URL(), "k", smsBody("+1", "222222", "login")); resp.StatusCode/100 != 2 {
		t.Errorf("healthy inbox answered %d", resp.StatusCode)
	}
	if all := in.All(); len(all) != 1 || all[0].Code != "222222" || in.Requests() != 2 {
		t.Errorf("All = %v after %d requests", all, in.Requests())
	}
}

const multipartMail = "From: Gatehouse <no-reply@example.com>\r\n" +
	"To: user@example.com\r\n" +
	"Subject: =?UTF-8?q?=E9=AA=8C=E8=AF=81=E7=A0=81?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=XYZ\r\n" +
	"\r\n" +
	"--XYZ\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"=E9=AA=8C=E8=AF=81=E7=A0=81=EF=BC=9A123456\r\n" +
	"--XYZ\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"PHA+PGI+MTIzNDU2PC9iPjwvcD4=\r\n" +
	"--XYZ--\r\n"

func TestMailInboxReceives(t *testing.T) {
	in := testinbox.NewMailInbox(t)
	if err := smtp.SendMail(in.Addr(), nil, "no-reply@example.com", []string{"User@Example.com"}, []byte(multipartMail)); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	m := in.WaitFor(t, "user@example.com", 5*time.Second)
	if m.Subject != "验证码" {
		t.Errorf("subject %q", m.Subject)
	}
	if m.Text != "验证码：123456" {
		t.Errorf("text %q", m.Text)
	}
	if m.HTML != "<p><b>123456</b></p>" {
		t.Errorf("html %q", m.HTML)
	}
	if m.Code(t) != "123456" {
		t.Errorf("code %q", m.Code(t))
	}
	if m.From != "no-reply@example.com" || len(m.To) != 1 || m.To[0] != "User@Example.com" {
		t.Errorf("envelope %s -> %v", m.From, m.To)
	}
	if !bytes.Contains(m.Raw, []byte("boundary=XYZ")) {
		t.Error("raw message missing")
	}
	if in.AuthAttempts() != 0 {
		t.Error("an AUTH was counted")
	}
}

func TestMailInboxFailing(t *testing.T) {
	in := testinbox.NewMailInbox(t)
	in.SetFailing(true)
	err := smtp.SendMail(in.Addr(), nil, "no-reply@example.com", []string{"a@example.com"}, []byte("Subject: x\r\n\r\nhi\r\n"))
	if err == nil {
		t.Error("a failing inbox accepted mail")
	}
	if len(in.All()) != 0 {
		t.Error("a failing inbox kept mail")
	}
}

func TestSMSInboxStandardWebhooks(t *testing.T) {
	const secrets = "old-secret whsec_bmV3LXNlY3JldA==" // the second is "new-secret"
	keys := [][]byte{[]byte("old-secret"), []byte("new-secret")}
	body := smsBody("+3", "123456", "login")

	rec := &recorder{TB: t}
	in := testinbox.NewSMSInbox(rec, secrets)
	if resp, err := signedPostAs(in.URL(), "msg_a", keys, keys[0], body); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("signed under both secrets: %v %v", resp, err)
	}
	if errs := rec.errors(); len(errs) != 0 {
		t.Fatalf("a good request failed the test: %v", errs)
	}
	// The same message again is a replay.
	if resp, _ := signedPostAs(in.URL(), "msg_a", keys, keys[0], body); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("replayed webhook-id answered %d", resp.StatusCode)
	}
	// A signature under one of the two secrets only is refused.
	if resp, _ := signedPostAs(in.URL(), "msg_b", keys[:1], keys[0], body); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("one signature of two answered %d", resp.StatusCode)
	}
	if errs := rec.errors(); len(errs) != 2 {
		t.Errorf("bad requests reported %d errors, want 2: %v", len(errs), errs)
	}
	if n := len(in.All()); n != 1 {
		t.Errorf("kept %d messages, want 1", n)
	}
}
