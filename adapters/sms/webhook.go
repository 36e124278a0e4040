package sms

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// SignatureHeader carries "sha256=" and the lowercase hex HMAC-SHA256 of the
// request body under the shared secret (the first one as written, when
// several are configured), so the receiver can tell Gatehouse's
// requests from forged ones before it spends money on an SMS. It is kept
// for receivers written against the first version; it does not stop a
// replay, which the Standard Webhooks headers below do.
const SignatureHeader = "X-Gatehouse-Signature"

// The Standard Webhooks headers (standardwebhooks.com): a unique message id
// and the time of sending, both covered by the signature, let a receiver
// refuse a request it saw before or one that is too old.
const (
	WebhookIDHeader        = "webhook-id"
	WebhookTimestampHeader = "webhook-timestamp"
	WebhookSignatureHeader = "webhook-signature"
)

// defaultTimeout bounds one webhook call when the config leaves Timeout unset.
const defaultTimeout = 5 * time.Second

// WebhookConfig configures a WebhookSender.
type WebhookConfig struct {
	// URL receives the POST requests; it must be an absolute http(s) URL.
	URL string
	// Secret keys the signatures: one secret, or several separated by
	// spaces while a new one is rolled out (each signs; see
	// ParseWebhookSecrets). Release mode requires it (see internal/config);
	// an empty one still signs, with an empty key.
	Secret string
	// Timeout bounds one call, 5 s when zero.
	Timeout time.Duration
	// CodeTTL is how long a code lives (the SMS code policy, config
	// SMSCodeTTL), so the text tells the truth; 2 min when zero.
	CodeTTL time.Duration
}

// WebhookSender posts each code as JSON to an HTTP endpoint that forwards it
// to an SMS provider; keeping the provider behind a webhook keeps its SDK and
// credentials out of Gatehouse.
type WebhookSender struct {
	cfg     WebhookConfig
	keys    [][]byte
	client  *http.Client
	now     func() time.Time
	newID   func() (string, error)
	primary string // the first secret as written, the key of SignatureHeader
}

var _ ports.SMSSender = (*WebhookSender)(nil)

// webhookBody is the JSON contract with the receiver; its fields are exactly
// these four.
type webhookBody struct {
	Phone   string `json:"phone"`
	Code    string `json:"code"`
	Purpose string `json:"purpose"`
	Message string `json:"message"`
}

// NewWebhookSender checks cfg and returns a sender that uses client, or,
// when client is nil, a client that does not follow redirects: a redirect
// would repeat the body, code included, to an address nobody configured.
func NewWebhookSender(cfg WebhookConfig, client *http.Client) (*WebhookSender, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("sms webhook: url must be an absolute http or https url")
	}
	keys, err := ParseWebhookSecrets(cfg.Secret)
	if err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.CodeTTL <= 0 {
		cfg.CodeTTL = defaultCodeTTL
	}
	if client == nil {
		client = &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	var primary string
	if f := strings.Fields(cfg.Secret); len(f) > 0 {
		primary = f[0]
	}
	return &WebhookSender{cfg: cfg, keys: keys, client: client, now: time.Now, newID: newMessageID, primary: primary}, nil
}

// ParseWebhookSecrets reads GATEHOUSE_SMS_WEBHOOK_SECRET: secrets separated
// by spaces, each the bytes of its text, or, written whsec_<base64>, the
// bytes it encodes (the form Standard Webhooks libraries print). No secret
// at all is one empty key.
func ParseWebhookSecrets(s string) ([][]byte, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return [][]byte{{}}, nil
	}
	keys := make([][]byte, 0, len(fields))
	for i, f := range fields {
		if enc, ok := strings.CutPrefix(f, "whsec_"); ok {
			key, err := base64.StdEncoding.DecodeString(enc)
			if err != nil || len(key) == 0 {
				return nil, fmt.Errorf("sms webhook: secret %d starts with whsec_ but is not base64", i+1)
			}
			keys = append(keys, key)
			continue
		}
		keys = append(keys, []byte(f))
	}
	return keys, nil
}

// SignStandard returns the webhook-signature value: one "v1,<base64>"
// HMAC-SHA256 of "{id}.{timestamp}.{body}" per key, space-separated.
func SignStandard(keys [][]byte, id string, timestamp int64, body []byte) string {
	sigs := make([]string, 0, len(keys))
	for _, key := range keys {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
		mac.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(sigs, " ")
}

// newMessageID returns a random webhook-id, unique per message.
func newMessageID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "msg_" + hex.EncodeToString(b), nil
}

// SendSMS posts msg and waits for a 2xx answer. Errors never contain the
// code, and never the answer's body, which a receiver might fill with an
// echo of the request.
func (s *WebhookSender) SendSMS(ctx context.Context, msg domain.SMS) error {
	text, err := messageText(msg, s.cfg.CodeTTL)
	if err != nil {
		return err
	}
	body, err := json.Marshal(webhookBody{
		Phone:   msg.Phone.String(),
		Code:    msg.Code,
		Purpose: string(msg.Purpose),
		Message: text,
	})
	if err != nil {
		return fmt.Errorf("sms webhook: encode body: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sms webhook: build request: %w", err)
	}
	id, err := s.newID()
	if err != nil {
		return fmt.Errorf("sms webhook: message id: %w", err)
	}
	ts := s.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(WebhookIDHeader, id)
	req.Header.Set(WebhookTimestampHeader, strconv.FormatInt(ts, 10))
	req.Header.Set(WebhookSignatureHeader, SignStandard(s.keys, id, ts, body))
	req.Header.Set(SignatureHeader, Sign(s.primary, body))

	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("sms webhook: %w", err)
	}
	defer resp.Body.Close()
	// Reading a little of the body lets the connection be reused; a
	// receiver that sends more is not waited for.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("sms webhook: receiver answered %s", resp.Status)
	}
	return nil
}

// Sign returns the SignatureHeader value for body under secret. Receivers
// (and tests) compare it with hmac.Equal.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
