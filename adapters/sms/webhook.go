package sms

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// SignatureHeader carries "sha256=" and the lowercase hex HMAC-SHA256 of the
// request body under the shared secret, so the receiver can tell Gatehouse's
// requests from forged ones before it spends money on an SMS.
const SignatureHeader = "X-Gatehouse-Signature"

// defaultTimeout bounds one webhook call when the config leaves Timeout unset.
const defaultTimeout = 5 * time.Second

// WebhookConfig configures a WebhookSender.
type WebhookConfig struct {
	// URL receives the POST requests; it must be an absolute http(s) URL.
	URL string
	// Secret keys the signature. Release mode requires it (see
	// internal/config); an empty one still signs, with an empty key.
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
	cfg    WebhookConfig
	client *http.Client
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
	return &WebhookSender{cfg: cfg, client: client}, nil
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
		Phone:   msg.Phone,
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
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(s.cfg.Secret, body))

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
