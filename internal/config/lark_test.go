package config

import (
	"strings"
	"testing"
)

// releaseEnv is a release configuration that passes every check but Lark's.
var releaseEnv = []string{
	"GATEHOUSE_MODE=release", "GATEHOUSE_SECRET=" + strings.Repeat("s", MinSecretLength), "GATEHOUSE_JWT_KEY=x",
	"GATEHOUSE_SMS_PROVIDER=webhook", "GATEHOUSE_SMS_WEBHOOK_URL=https://sms.example/", "GATEHOUSE_SMS_WEBHOOK_SECRET=w",
	"GATEHOUSE_SMTP_ADDR=127.0.0.1:25",
}

var larkEnv = []string{
	"GATEHOUSE_LARK_APP_ID=cli_a", "GATEHOUSE_LARK_APP_SECRET=lark-secret",
	"GATEHOUSE_LARK_REDIRECT_URL=https://id.example/lark/callback", "GATEHOUSE_LARK_FRONTEND_URL=https://app.example/",
}

func TestReleaseModeTakesAWholeLark(t *testing.T) {
	if _, err := Load("", releaseEnv); err != nil {
		t.Fatalf("release without Lark: %v", err)
	}
	c, err := Load("", append(releaseEnv, larkEnv...))
	if err != nil {
		t.Fatalf("release with the whole of Lark: %v", err)
	}
	if !c.LarkEnabled() {
		t.Error("Lark is off with an app id and secret")
	}
}

func TestReleaseModeNamesWhatLarkMisses(t *testing.T) {
	for drop, name := range map[int]string{0: "GATEHOUSE_LARK_APP_ID", 1: "GATEHOUSE_LARK_APP_SECRET", 2: "GATEHOUSE_LARK_REDIRECT_URL", 3: "GATEHOUSE_LARK_FRONTEND_URL"} {
		env := append([]string(nil), releaseEnv...)
		for i, kv := range larkEnv {
			if i != drop {
				env = append(env, kv)
			}
		}
		_, err := Load("", env)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("without %s: %v", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "lark-secret") {
			t.Errorf("the error shows the app secret: %v", err)
		}
		// Debug mode starts, and warns.
		var debugEnv []string
		for i, kv := range larkEnv {
			if i != drop {
				debugEnv = append(debugEnv, kv)
			}
		}
		c, err := Load("", debugEnv)
		if err != nil {
			t.Errorf("debug mode without %s: %v", name, err)
			continue
		}
		if w := strings.Join(c.Warnings(), "\n"); !strings.Contains(w, name) {
			t.Errorf("debug mode without %s warns %q", name, w)
		}
	}
}

func TestReleaseModeRefusesPlainHTTPLarkURLs(t *testing.T) {
	for _, key := range []string{"GATEHOUSE_LARK_TOKEN_URL", "GATEHOUSE_LARK_USERINFO_URL", "GATEHOUSE_LARK_AUTHORIZE_URL", "GATEHOUSE_LARK_OAUTH_URL", "GATEHOUSE_LARK_REDIRECT_URL"} {
		env := append(append(append([]string(nil), releaseEnv...), larkEnv...), key+"=http://lark.example/x")
		if _, err := Load("", env); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("release took %s over plain http: %v", key, err)
		}
		for _, host := range []string{"127.0.0.1:8080", "localhost", "[::1]:9"} {
			env := append(append(append([]string(nil), releaseEnv...), larkEnv...), key+"=http://"+host+"/x")
			if _, err := Load("", env); err != nil {
				t.Errorf("release refused %s on loopback %s: %v", key, host, err)
			}
		}
	}
}

func TestLarkEndpointsFollowThePlatform(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	a, tk, u := c.LarkEndpoints()
	if a != "https://accounts.feishu.cn/open-apis/authen/v1/authorize" || tk != "https://open.feishu.cn/open-apis/authen/v2/oauth/token" || u != "https://open.feishu.cn/open-apis/authen/v1/user_info" {
		t.Errorf("feishu endpoints: %s %s %s", a, tk, u)
	}
	c, err = Load("", []string{"GATEHOUSE_LARK_PLATFORM=lark"})
	if err != nil {
		t.Fatal(err)
	}
	a, tk, u = c.LarkEndpoints()
	if a != "https://accounts.larksuite.com/open-apis/authen/v1/authorize" || tk != "https://open.larksuite.com/open-apis/authen/v2/oauth/token" || u != "https://open.larksuite.com/open-apis/authen/v1/user_info" {
		t.Errorf("lark endpoints: %s %s %s", a, tk, u)
	}
	if _, err := Load("", []string{"GATEHOUSE_LARK_PLATFORM=wechat"}); err == nil || !strings.Contains(err.Error(), "lark_platform") {
		t.Errorf("an unknown platform was taken: %v", err)
	}
}

func TestDeprecatedLarkOAuthURL(t *testing.T) {
	c, err := Load("", []string{"GATEHOUSE_LARK_OAUTH_URL=https://sso.example/authorize"})
	if err != nil {
		t.Fatal(err)
	}
	if a, _, _ := c.LarkEndpoints(); a != "https://sso.example/authorize" {
		t.Errorf("authorize = %s, want the deprecated key's", a)
	}
	if w := strings.Join(c.Warnings(), "\n"); !strings.Contains(w, "GATEHOUSE_LARK_OAUTH_URL is deprecated") {
		t.Errorf("no deprecation warning: %q", w)
	}
	c, err = Load("", []string{"GATEHOUSE_LARK_OAUTH_URL=https://old.example/a", "GATEHOUSE_LARK_AUTHORIZE_URL=https://new.example/a"})
	if err != nil {
		t.Fatal(err)
	}
	if a, _, _ := c.LarkEndpoints(); a != "https://new.example/a" {
		t.Errorf("authorize = %s, want the new key's", a)
	}
	if c, _ := Load("", nil); len(c.Warnings()) != 0 {
		t.Errorf("defaults warn: %q", c.Warnings())
	}
}
