// Package lark is the adapter of ports.LarkIdentity for Lark's OAuth 2.0
// service, on either platform (Feishu, Lark Suite): the authorize URL with
// a PKCE S256 challenge (built with golang.org/x/oauth2), the v2 token
// endpoint, and user info. Lark answers many refusals with HTTP 200 and a
// non-zero code, so every answer is read for its code, not just its status.
// Every call is bounded by Config.Timeout. The access token lives only for
// the one user info call; neither it nor the code ever reaches an error or
// a log.
package lark

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// DefaultTimeout bounds each call to Lark when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// maxAnswer bounds how much of an answer is read: Lark's are a few hundred
// bytes, and a misbehaving endpoint must not fill memory.
const maxAnswer = 1 << 20

// Config is one Lark app on one platform and its endpoints.
type Config struct {
	Platform     domain.LarkPlatform
	AppID        string
	AppSecret    string
	RedirectURL  string // the callback, as registered with Lark; empty sends none
	AuthorizeURL string
	TokenURL     string
	UserInfoURL  string
	Timeout      time.Duration
}

// Client speaks to Lark for one app.
type Client struct {
	cfg   Config
	oauth oauth2.Config
	http  *http.Client
}

var _ ports.LarkIdentity = (*Client)(nil)

// New returns a client for cfg. hc may be nil for a client of its own; its
// timeout is set to cfg.Timeout either way, on a copy.
func New(cfg Config, hc *http.Client) (*Client, error) {
	if cfg.AppID == "" || cfg.AppSecret == "" {
		return nil, errors.New("lark: app id and secret are required")
	}
	for name, u := range map[string]string{"redirect": cfg.RedirectURL, "authorize": cfg.AuthorizeURL, "token": cfg.TokenURL, "user info": cfg.UserInfoURL} {
		if name == "redirect" && u == "" {
			continue // Lark then uses the one registered with the app
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return nil, fmt.Errorf("lark: the %s URL must be an absolute http(s) URL", name)
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	c := &http.Client{}
	if hc != nil {
		*c = *hc
	}
	c.Timeout = cfg.Timeout
	return &Client{
		cfg:  cfg,
		http: c,
		oauth: oauth2.Config{
			ClientID:    cfg.AppID,
			RedirectURL: cfg.RedirectURL,
			Endpoint:    oauth2.Endpoint{AuthURL: cfg.AuthorizeURL, TokenURL: cfg.TokenURL},
		},
	}, nil
}

// AuthorizeURL returns the authorize URL with client_id, redirect_uri,
// response_type=code, state, and the S256 challenge of verifier.
func (c *Client) AuthorizeURL(state, verifier string) string {
	return c.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
}

// Profile redeems code and reads the Lark user it belongs to.
func (c *Client) Profile(ctx context.Context, code, verifier string) (domain.LarkProfile, error) {
	token, err := c.redeem(ctx, code, verifier)
	if err != nil {
		return domain.LarkProfile{}, fmt.Errorf("%w: token: %s", domain.ErrLarkFailed, scrub(err.Error(), code, verifier, c.cfg.AppSecret))
	}
	info, err := c.userInfo(ctx, token)
	if err != nil {
		return domain.LarkProfile{}, fmt.Errorf("%w: user info: %s", domain.ErrLarkFailed, scrub(err.Error(), token, c.cfg.AppSecret))
	}
	u := info.Data
	if u.OpenID == "" {
		return domain.LarkProfile{}, fmt.Errorf("%w: user info has no open_id", domain.ErrLarkFailed)
	}
	return domain.LarkProfile{
		Platform: c.cfg.Platform, AppID: c.cfg.AppID, OpenID: u.OpenID,
		Name: u.Name, EnName: u.EnName, AvatarURL: u.AvatarURL, UnionID: u.UnionID, TenantKey: u.TenantKey,
	}, nil
}

// tokenRequest is the v2 token endpoint's body, which Lark documents as
// JSON (application/json; charset=utf-8).
type tokenRequest struct {
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Code         string `json:"code"`
	RedirectURI  string `json:"redirect_uri"`
	CodeVerifier string `json:"code_verifier"`
}

// tokenAnswer is the token endpoint's flat answer: code 0 and the token, or
// a non-zero code with an OAuth error and Lark's message.
type tokenAnswer struct {
	Code        *int   `json:"code"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Msg         string `json:"msg"`
}

func (c *Client) redeem(ctx context.Context, code, verifier string) (string, error) {
	body, err := json.Marshal(tokenRequest{
		GrantType: "authorization_code", ClientID: c.cfg.AppID, ClientSecret: c.cfg.AppSecret,
		Code: code, RedirectURI: c.cfg.RedirectURL, CodeVerifier: verifier,
	})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.TokenURL, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	var a tokenAnswer
	status, err := c.do(req, &a)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK || a.Code == nil || *a.Code != 0 || a.AccessToken == "" {
		return "", answerError(status, a.Code, a.Error, firstOf(a.Description, a.Msg))
	}
	return a.AccessToken, nil
}

// userInfoAnswer is user info's answer: {code, msg, data}.
type userInfoAnswer struct {
	Code *int   `json:"code"`
	Msg  string `json:"msg"`
	Data struct {
		OpenID    string `json:"open_id"`
		UnionID   string `json:"union_id"`
		Name      string `json:"name"`
		EnName    string `json:"en_name"`
		AvatarURL string `json:"avatar_url"`
		TenantKey string `json:"tenant_key"`
	} `json:"data"`
}

func (c *Client) userInfo(ctx context.Context, token string) (*userInfoAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.UserInfoURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	var a userInfoAnswer
	status, err := c.do(req, &a)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK || a.Code == nil || *a.Code != 0 {
		return nil, answerError(status, a.Code, "", a.Msg)
	}
	return &a, nil
}

// do sends req and decodes a JSON answer of any status into v. An answer
// that is not JSON is an error that names the status only.
func (c *Client) do(req *http.Request, v any) (int, error) {
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err // a *url.Error: names the endpoint, never the body or header
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, fmt.Errorf("read answer (HTTP %d): %w", resp.StatusCode, err)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err := json.Unmarshal(b, v); err != nil {
		return 0, fmt.Errorf("HTTP %d answer of type %q is not JSON", resp.StatusCode, mt)
	}
	return resp.StatusCode, nil
}

func answerError(status int, code *int, oauthError, msg string) error {
	c := "none"
	if code != nil {
		c = fmt.Sprint(*code)
	}
	s := fmt.Sprintf("HTTP %d, code %s", status, c)
	if oauthError != "" {
		s += ", " + oauthError
	}
	if msg != "" {
		s += ": " + truncate(msg, 200)
	}
	return errors.New(s)
}

// scrub removes secrets from an error text before it leaves the adapter,
// in case Lark's message ever echoes what it was sent.
func scrub(s string, secrets ...string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
