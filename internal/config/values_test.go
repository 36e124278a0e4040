package config

import (
	"strings"
	"testing"
)

func TestValuesRedactCredentialsInURLs(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@host/hook?token=abc&x=1":                         "https://user:xxxxx@host/hook?token=xxxxx&x=1",
		"https://TOKEN@host/hook":                                         "https://xxxxx@host/hook",
		"https://host/b?X-Amz-Signature=s1&X-Amz-Credential=c1&region=cn": "https://host/b?X-Amz-Signature=xxxxx&X-Amz-Credential=xxxxx&region=cn",
		"https://host/a?api_key=k&client_secret=s&sig=z&flag&q=%20":       "https://host/a?api_key=xxxxx&client_secret=xxxxx&sig=xxxxx&flag&q=%20",
		"https://host/cb#access_token=t1&state=s":                         "https://host/cb#access_token=xxxxx&state=s",
		"https://open.feishu.cn/open-apis/authen/v1/authorize":            "https://open.feishu.cn/open-apis/authen/v1/authorize",
		"https://host/a%20b?pass%77ord=p":                                 "https://host/a%20b?pass%77ord=xxxxx",
		"not a url":                                                       "not a url",
		"":                                                                "",
		"https://bad host/:x@y":                                           Redacted,
	} {
		if got := redactURL(in, false); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
	// A store URL keeps its role name, even without a password.
	for in, want := range map[string]string{
		"postgres://app@db/gh":                             "postgres://app@db/gh",
		"postgres://app:pw@db/gh?sslmode=disable":          "postgres://app:xxxxx@db/gh?sslmode=disable",
		"redis://:pw@cache:6379/0?addr=cache2:6379":        "redis://:xxxxx@cache:6379/0?addr=cache2:6379",
		"host=db user=app password='s e c' sslpassword=k3": "host=db user=app password=xxxxx sslpassword=xxxxx",
	} {
		if got := redactURL(in, true); got != want {
			t.Errorf("redactURL(%q, dsn) = %q, want %q", in, got, want)
		}
	}

	c := Default()
	c.SMSWebhookURL = "https://user:pw@host/hook?token=abc&x=1"
	c.UploadURL = "https://u:upw@upload.example/b?access_token=t0k-v"
	c.LarkRedirectURL = "https://id.example/lark/callback?secret=s3"
	for key, val := range c.Values() {
		s, _ := val.(string)
		for _, leak := range []string{"pw@", "abc", "upw", "t0k-v", "s3"} {
			if strings.Contains(s, leak) {
				t.Errorf("%s = %q shows %q", key, s, leak)
			}
		}
	}
}
