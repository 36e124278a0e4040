package lark

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/internal/testlark"
)

const (
	appID     = "cli_test"
	appSecret = "app-secret-for-tests"
	redirect  = "https://id.example/lark/callback"
)

var ada = testlark.User{OpenID: "ou_ada", UnionID: "on_ada", Name: "艾达", EnName: "Ada", AvatarURL: "https://lark.example/ada.png", TenantKey: "t1", Email: "ada@example.com"}

func newClient(t *testing.T, fake *testlark.Server) *Client {
	t.Helper()
	return newClientTimeout(t, fake, 0)
}

// newClientTimeout is newClient with Config.Timeout set to timeout (zero
// for the default).
func newClientTimeout(t *testing.T, fake *testlark.Server, timeout time.Duration) *Client {
	t.Helper()
	c, err := New(Config{
		Platform: domain.LarkFeishu, AppID: appID, AppSecret: appSecret, RedirectURL: redirect,
		AuthorizeURL: fake.AuthorizeURL(), TokenURL: fake.TokenURL(), UserInfoURL: fake.UserInfoURL(),
		Timeout: timeout,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// codeFor runs the browser's part: the authorize URL for verifier, Lark's
// consent, and the code it sends back.
func codeFor(t *testing.T, c *Client, fake *testlark.Server, verifier string) string {
	t.Helper()
	back := fake.Visit(t, c.AuthorizeURL("state-1", verifier))
	if got := back.Query().Get("state"); got != "state-1" {
		t.Fatalf("state came back as %q", got)
	}
	code := back.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", back)
	}
	return code
}

func TestAuthorizeURL(t *testing.T) {
	fake := testlark.New(t, appID, appSecret, ada)
	c := newClient(t, fake)
	verifier := domain.NewLarkSecret()
	u, err := url.Parse(c.AuthorizeURL("the-state", verifier))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(verifier))
	want := map[string]string{
		"client_id": appID, "redirect_uri": redirect, "response_type": "code", "state": "the-state",
		"code_challenge": base64.RawURLEncoding.EncodeToString(sum[:]), "code_challenge_method": "S256",
	}
	q := u.Query()
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if strings.Contains(u.String(), verifier) {
		t.Error("the authorize URL carries the verifier itself")
	}
	if u.Scheme+"://"+u.Host+u.Path != fake.AuthorizeURL() {
		t.Errorf("URL %s is not at the authorize endpoint", u)
	}
}

func TestProfile(t *testing.T) {
	fake := testlark.New(t, appID, appSecret, ada)
	c := newClient(t, fake)
	verifier := domain.NewLarkSecret()
	p, err := c.Profile(t.Context(), codeFor(t, c, fake, verifier), verifier)
	if err != nil {
		t.Fatal(err)
	}
	want := domain.LarkProfile{Platform: domain.LarkFeishu, AppID: appID, OpenID: "ou_ada", UnionID: "on_ada", Name: "艾达", EnName: "Ada", AvatarURL: "https://lark.example/ada.png", TenantKey: "t1"}
	if p != want {
		t.Errorf("Profile = %+v, want %+v", p, want)
	}
}

func TestProfileRefusals(t *testing.T) {
	cases := []struct {
		name  string
		setup func(fake *testlark.Server)
		// verifier, when set, is sent instead of the right one.
		verifier string
		// twice redeems the code once before the checked attempt.
		twice bool
	}{
		{name: "wrong PKCE verifier", verifier: "a-wrong-verifier-that-is-long-enough-to-be-one-xx"},
		{name: "code used twice", twice: true},
		{name: "token endpoint HTTP 500", setup: func(f *testlark.Server) { f.FailToken(testlark.HTTPError) }},
		{name: "token endpoint non-zero code in HTTP 200", setup: func(f *testlark.Server) { f.FailToken(testlark.ErrorCode) }},
		{name: "token endpoint unreachable", setup: func(f *testlark.Server) { f.FailToken(testlark.Unreachable) }},
		{name: "user info HTTP 500", setup: func(f *testlark.Server) { f.FailUserInfo(testlark.HTTPError) }},
		{name: "user info non-zero code in HTTP 200", setup: func(f *testlark.Server) { f.FailUserInfo(testlark.ErrorCode) }},
		{name: "user info unreachable", setup: func(f *testlark.Server) { f.FailUserInfo(testlark.Unreachable) }},
		{name: "no open_id", setup: func(f *testlark.Server) { f.SignIn(testlark.User{Name: "nobody"}) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := testlark.New(t, appID, appSecret, ada)
			c := newClient(t, fake)
			verifier := domain.NewLarkSecret()
			if tc.setup != nil && tc.name == "no open_id" {
				tc.setup(fake) // before the consent, which fixes the person
			}
			code := codeFor(t, c, fake, verifier)
			if tc.twice {
				if _, err := c.Profile(t.Context(), code, verifier); err != nil {
					t.Fatalf("first redemption: %v", err)
				}
			}
			if tc.setup != nil && tc.name != "no open_id" {
				tc.setup(fake)
			}
			sent := verifier
			if tc.verifier != "" {
				sent = tc.verifier
			}
			_, err := c.Profile(t.Context(), code, sent)
			if !errors.Is(err, domain.ErrLarkFailed) {
				t.Fatalf("Profile = %v, want ErrLarkFailed", err)
			}
			for _, secret := range append(fake.Issued(), appSecret, verifier) {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error %q carries a secret", err)
				}
			}
			t.Logf("refused as it should: %v", err)
		})
	}
}

// TestProfileTimesOut checks that Config.Timeout bounds each call: with Lark
// hanging far longer, Profile gives up with ErrLarkFailed soon after the
// timeout rather than waiting for Lark.
func TestProfileTimesOut(t *testing.T) {
	const (
		timeout = 200 * time.Millisecond
		hang    = 5 * time.Second
		// bound is generous, for a busy machine; what matters is that it
		// is well short of hang.
		bound = 2 * time.Second
	)
	cases := []struct {
		name string
		slow func(*testlark.Server, time.Duration)
		// tokenCalls and userInfoCalls are the requests each endpoint
		// must have had.
		tokenCalls, userInfoCalls int
		// where is how the error must name the call that timed out.
		where string
	}{
		{name: "token endpoint hangs", slow: (*testlark.Server).SlowToken, tokenCalls: 1, userInfoCalls: 0, where: "token: "},
		{name: "user info hangs", slow: (*testlark.Server).SlowUserInfo, tokenCalls: 1, userInfoCalls: 1, where: "user info: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := testlark.New(t, appID, appSecret, ada)
			c := newClientTimeout(t, fake, timeout)
			verifier := domain.NewLarkSecret()
			code := codeFor(t, c, fake, verifier)
			tc.slow(fake, hang)
			start := time.Now()
			_, err := c.Profile(t.Context(), code, verifier)
			took := time.Since(start)
			if !errors.Is(err, domain.ErrLarkFailed) {
				t.Fatalf("Profile = %v, want ErrLarkFailed", err)
			}
			if took >= bound {
				t.Errorf("Profile took %v with a %v timeout: it waited for Lark", took, timeout)
			}
			if took < timeout {
				t.Errorf("Profile failed after %v, before the %v timeout, so not by timing out: %v", took, timeout, err)
			}
			if !strings.Contains(err.Error(), tc.where) {
				t.Errorf("the error %q does not name the call that timed out (%q)", err, tc.where)
			}
			if n := fake.Requests(testlark.TokenPath); n != tc.tokenCalls {
				t.Errorf("the token endpoint had %d requests, want %d", n, tc.tokenCalls)
			}
			if n := fake.Requests(testlark.UserInfoPath); n != tc.userInfoCalls {
				t.Errorf("user info had %d requests, want %d", n, tc.userInfoCalls)
			}
			for _, secret := range append(fake.Issued(), appSecret, verifier) {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error %q carries a secret", err)
				}
			}
			t.Logf("timed out as it should, after %v: %v", took, err)
		})
	}
}

func TestNewChecksConfig(t *testing.T) {
	good := Config{AppID: "a", AppSecret: "s", RedirectURL: redirect, AuthorizeURL: "https://a.example/x", TokenURL: "https://a.example/t", UserInfoURL: "https://a.example/u"}
	if _, err := New(good, nil); err != nil {
		t.Fatalf("New(good) = %v", err)
	}
	for name, edit := range map[string]func(*Config){
		"no secret":             func(c *Config) { c.AppSecret = "" },
		"relative token":        func(c *Config) { c.TokenURL = "/token" },
		"ftp user info":         func(c *Config) { c.UserInfoURL = "ftp://a.example/u" },
		"relative redirect URL": func(c *Config) { c.RedirectURL = "/lark/callback" },
	} {
		c := good
		edit(&c)
		if _, err := New(c, nil); err == nil {
			t.Errorf("%s: New accepted %+v", name, c)
		}
	}
}
