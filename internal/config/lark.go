package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/domain"
)

// The endpoints of each Lark platform (API.md "Lark").
var larkDefaults = map[domain.LarkPlatform][3]string{
	domain.LarkFeishu: {
		"https://accounts.feishu.cn/open-apis/authen/v1/authorize",
		"https://open.feishu.cn/open-apis/authen/v2/oauth/token",
		"https://open.feishu.cn/open-apis/authen/v1/user_info",
	},
	domain.LarkSuite: {
		"https://accounts.larksuite.com/open-apis/authen/v1/authorize",
		"https://open.larksuite.com/open-apis/authen/v2/oauth/token",
		"https://open.larksuite.com/open-apis/authen/v1/user_info",
	},
}

// LarkEnabled reports whether Lark sign-in is on: both an app id and a
// secret are set.
func (c Config) LarkEnabled() bool {
	return c.LarkAppID != "" && c.LarkAppSecret != ""
}

// LarkEndpoints returns the authorize, token and user info URLs: those
// configured, else the platform's. The deprecated lark_oauth_url stands in
// for lark_authorize_url when only it is set.
func (c Config) LarkEndpoints() (authorize, token, userInfo string) {
	d := larkDefaults[domain.LarkPlatform(c.LarkPlatform)]
	authorize = first(c.LarkAuthorizeURL, c.LarkOAuthURL, d[0])
	return authorize, first(c.LarkTokenURL, d[1]), first(c.LarkUserInfoURL, d[2])
}

// Warnings are what the configuration gets wrong without being refused:
// the deprecated key, and outside release mode a half-configured Lark.
func (c Config) Warnings() []string {
	var w []string
	if c.LarkOAuthURL != "" {
		msg := "GATEHOUSE_LARK_OAUTH_URL is deprecated: it is read as GATEHOUSE_LARK_AUTHORIZE_URL; rename it"
		if c.LarkAuthorizeURL != "" {
			msg = "GATEHOUSE_LARK_OAUTH_URL is deprecated and ignored: GATEHOUSE_LARK_AUTHORIZE_URL is set"
		}
		w = append(w, msg)
	}
	if missing := c.larkMissing(); len(missing) > 0 && c.Mode != ModeRelease {
		w = append(w, fmt.Sprintf("Lark is half-configured: %s not set (release mode refuses this)", strings.Join(missing, ", ")))
	}
	return w
}

// larkMissing names the Lark keys missing when some but not all of app id,
// secret, redirect URL and frontend URL are set.
func (c Config) larkMissing() []string {
	keys := []struct{ env, value string }{
		{"GATEHOUSE_LARK_APP_ID", c.LarkAppID},
		{"GATEHOUSE_LARK_APP_SECRET", c.LarkAppSecret},
		{"GATEHOUSE_LARK_REDIRECT_URL", c.LarkRedirectURL},
		{"GATEHOUSE_LARK_FRONTEND_URL", c.LarkFrontendURL},
	}
	var missing []string
	for _, k := range keys {
		if k.value == "" {
			missing = append(missing, k.env)
		}
	}
	if len(missing) == len(keys) {
		return nil // Lark is off, which is fine
	}
	return missing
}

type larkURL struct{ env, value string }

// larkURLs are the Lark URLs in use, with the names of their keys.
func (c Config) larkURLs() []larkURL {
	authorize, token, userInfo := c.LarkEndpoints()
	authorizeEnv := "GATEHOUSE_LARK_AUTHORIZE_URL"
	if c.LarkAuthorizeURL == "" && c.LarkOAuthURL != "" {
		authorizeEnv = "GATEHOUSE_LARK_OAUTH_URL"
	}
	all := []larkURL{
		{authorizeEnv, authorize},
		{"GATEHOUSE_LARK_TOKEN_URL", token},
		{"GATEHOUSE_LARK_USERINFO_URL", userInfo},
		{"GATEHOUSE_LARK_REDIRECT_URL", c.LarkRedirectURL},
		{"GATEHOUSE_LARK_FRONTEND_URL", c.LarkFrontendURL},
	}
	var set []larkURL
	for _, u := range all {
		if u.value != "" {
			set = append(set, u)
		}
	}
	return set
}

// larkProblems checks the Lark keys in every mode.
func (c Config) larkProblems() []error {
	var errs []error
	if _, err := domain.ParseLarkPlatform(c.LarkPlatform); err != nil {
		errs = append(errs, fmt.Errorf("lark_platform must be feishu or lark, not %q", c.LarkPlatform))
	}
	for _, u := range c.larkURLs() {
		p, err := url.Parse(u.value)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			// The value is not quoted: a URL may carry credentials.
			errs = append(errs, fmt.Errorf("%s must be an absolute http(s) URL", u.env))
		}
	}
	return errs
}

// loopback reports whether host is this machine: localhost or a loopback
// address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func first(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
