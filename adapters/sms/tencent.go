package sms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	tcsms "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/sms/v20210111"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// Defaults of TencentConfig.
const (
	DefaultTencentRegion   = "ap-guangzhou"
	DefaultTencentEndpoint = "https://sms.tencentcloudapi.com"
)

// ErrRefused marks a send the provider refused under its own limits
// (Tencent's LimitExceeded.* codes): the account's daily caps, a number's
// frequency limit. It is no outage, and no retry helps within the hour.
var ErrRefused = errors.New("sms provider refused the send under its limits")

// TencentConfig configures a TencentSender. The key names of API.md are in
// the comments.
type TencentConfig struct {
	SecretID  string // GATEHOUSE_TENCENT_SECRET_ID
	SecretKey string // GATEHOUSE_TENCENT_SECRET_KEY
	AppID     string // GATEHOUSE_TENCENT_SMS_APP_ID (SmsSdkAppId)
	SignName  string // GATEHOUSE_TENCENT_SMS_SIGN_NAME
	// Templates are the template ids per purpose and language. The
	// template parameters are the code and its lifetime in whole minutes.
	Templates TencentTemplates
	// Region is the API region, ap-guangzhou when empty.
	Region string
	// Endpoint is the API's URL, https://sms.tencentcloudapi.com when
	// empty; http://host:port reaches a private endpoint or a test double.
	Endpoint string
	// Timeout bounds one call, 5 s when zero.
	Timeout time.Duration
	// CodeTTL is how long a code lives, the second template parameter;
	// 2 min when zero.
	CodeTTL time.Duration
	// Transport carries the calls; http.DefaultTransport's clone when nil.
	Transport http.RoundTripper
	// Log receives failed sends with Tencent's code and request id.
	Log *slog.Logger
}

// TencentTemplates are template ids. Login and Bind are used for every
// language whose own id is empty.
type TencentTemplates struct {
	Login, LoginEN, LoginZH string
	Bind, BindEN, BindZH    string
}

// pick returns the template id for purpose in lang.
func (t TencentTemplates) pick(purpose domain.CodePurpose, lang domain.Lang) (string, error) {
	var base, en, zh string
	switch purpose {
	case domain.PurposeSMSLogin:
		base, en, zh = t.Login, t.LoginEN, t.LoginZH
	case domain.PurposePhoneBind:
		base, en, zh = t.Bind, t.BindEN, t.BindZH
	default:
		return "", fmt.Errorf("sms: purpose %q is not sent by SMS", purpose)
	}
	id := base
	switch {
	case lang == domain.LangChinese && zh != "":
		id = zh
	case lang == domain.LangEnglish && en != "":
		id = en
	}
	if id == "" {
		return "", fmt.Errorf("tencent sms: no template for purpose %q", purpose)
	}
	return id, nil
}

// TencentSender sends each code through Tencent Cloud SMS (API 2021-01-11)
// with Tencent's official SDK, which signs the calls (TC3-HMAC-SHA256).
type TencentSender struct {
	cfg    TencentConfig
	client *tcsms.Client
	log    *slog.Logger
}

var _ ports.SMSSender = (*TencentSender)(nil)

// NewTencentSender checks cfg and returns a sender.
func NewTencentSender(cfg TencentConfig) (*TencentSender, error) {
	if cfg.SecretID == "" || cfg.SecretKey == "" || cfg.AppID == "" || cfg.SignName == "" {
		return nil, errors.New("tencent sms: secret id, secret key, app id and sign name are required")
	}
	if cfg.Templates.Login == "" || cfg.Templates.Bind == "" {
		return nil, errors.New("tencent sms: the login and bind template ids are required")
	}
	if cfg.Region == "" {
		cfg.Region = DefaultTencentRegion
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultTencentEndpoint
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.CodeTTL <= 0 {
		cfg.CodeTTL = defaultCodeTTL
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	u, err := ParseTencentEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}

	hp := profile.NewHttpProfile()
	hp.Scheme = strings.ToUpper(u.Scheme)
	hp.Endpoint = u.Host + strings.TrimSuffix(u.Path, "/")
	// The SDK's own timeout is whole seconds; the context of each call
	// bounds it exactly.
	hp.ReqTimeout = int((cfg.Timeout + time.Second - 1) / time.Second)
	cp := profile.NewClientProfile()
	cp.HttpProfile = hp
	// The region breaker would switch to a backup domain of Tencent's own,
	// past the configured endpoint; retries would send a code twice.
	cp.DisableRegionBreaker = true
	cp.NetworkFailureMaxRetries = 0
	cp.RateLimitExceededMaxRetries = 0
	client, err := tcsms.NewClient(common.NewCredential(cfg.SecretID, cfg.SecretKey), cfg.Region, cp)
	if err != nil {
		return nil, fmt.Errorf("tencent sms: %w", err)
	}
	transport := cfg.Transport
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	client.WithHttpTransport(noRedirects{transport})
	return &TencentSender{cfg: cfg, client: client, log: cfg.Log}, nil
}

// ParseTencentEndpoint reads GATEHOUSE_TENCENT_SMS_ENDPOINT: an absolute
// http or https URL without user information, query or fragment.
func ParseTencentEndpoint(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("tencent sms: endpoint must be an http or https URL such as https://sms.tencentcloudapi.com")
	}
	return u, nil
}

// SendSMS sends msg and checks the number's own send status, not only the
// HTTP answer. Errors and logs carry Tencent's code and request id, never
// the code sent, the number, or Tencent's message (which may echo a body).
func (s *TencentSender) SendSMS(ctx context.Context, msg domain.SMS) error {
	template, err := s.cfg.Templates.pick(msg.Purpose, msg.Lang)
	if err != nil {
		return err
	}
	req := tcsms.NewSendSmsRequest()
	req.PhoneNumberSet = common.StringPtrs([]string{msg.Phone.String()})
	req.SmsSdkAppId = common.StringPtr(s.cfg.AppID)
	req.SignName = common.StringPtr(s.cfg.SignName)
	req.TemplateId = common.StringPtr(template)
	req.TemplateParamSet = common.StringPtrs([]string{msg.Code, strconv.Itoa(wholeMinutes(s.cfg.CodeTTL))})

	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	resp, err := s.client.SendSmsWithContext(ctx, req)
	if err != nil {
		var sdkErr *tcerrors.TencentCloudSDKError
		if errors.As(err, &sdkErr) && !strings.HasPrefix(sdkErr.Code, "ClientError.") {
			return s.failed(ctx, msg, sdkErr.Code, sdkErr.RequestId)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("tencent sms: %w", ctx.Err())
		}
		if errors.As(err, &sdkErr) {
			// A client-side error of the SDK: its message may hold the
			// answer's body, so only the code leaves here.
			return fmt.Errorf("tencent sms: %s", sdkErr.Code)
		}
		return fmt.Errorf("tencent sms: %w", err)
	}
	if resp.Response == nil {
		return errors.New("tencent sms: answer without a Response")
	}
	requestID := deref(resp.Response.RequestId)
	for _, st := range resp.Response.SendStatusSet {
		if st != nil && deref(st.PhoneNumber) == msg.Phone.String() {
			if code := deref(st.Code); code != "Ok" {
				return s.failed(ctx, msg, code, requestID)
			}
			return nil
		}
	}
	return s.failed(ctx, msg, "(no send status for the number)", requestID)
}

// failed logs a send Tencent did not make and returns its error: a
// LimitExceeded.* code is a refusal (ErrRefused), anything else a failure.
func (s *TencentSender) failed(ctx context.Context, msg domain.SMS, code, requestID string) error {
	attrs := []any{"tencent_code", code, "request_id", requestID, "purpose", string(msg.Purpose)}
	if strings.HasPrefix(code, "LimitExceeded.") {
		s.log.WarnContext(ctx, "tencent sms refused the send under its limits", attrs...)
		return fmt.Errorf("%w: tencent %s (request id %s)", ErrRefused, code, requestID)
	}
	s.log.ErrorContext(ctx, "tencent sms send failed", attrs...)
	return fmt.Errorf("tencent sms: %s (request id %s)", code, requestID)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// noRedirects answers a redirect with an error instead of following it: a
// redirect would repeat the request, code included, to an address nobody
// configured.
type noRedirects struct{ next http.RoundTripper }

func (t noRedirects) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err == nil && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		resp.Body.Close()
		return nil, fmt.Errorf("endpoint answered %s, a redirect, which is not followed", resp.Status)
	}
	return resp, err
}
