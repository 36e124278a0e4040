package domain

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestIPBucket(t *testing.T) {
	cases := []struct {
		ip, want string
		ok       bool
	}{
		{"203.0.113.7", "203.0.113.7", true},
		{"::ffff:203.0.113.7", "203.0.113.7", true},
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64", true},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64", true},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64", true},
		{"fe80::1%eth0", "fe80::/64", true},
		{"not-an-ip", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		_, got, ok := IPBucket(c.ip, 64)
		if got != c.want || ok != c.ok {
			t.Errorf("IPBucket(%q) = %q, %v; want %q, %v", c.ip, got, ok, c.want, c.ok)
		}
	}
	if _, got, _ := IPBucket("2001:db8:1:2:aaaa::1", 48); got != "2001:db8:1::/48" {
		t.Errorf("a /48 bucket is %q", got)
	}
}

func TestNewClientKeepsAStorableUserAgent(t *testing.T) {
	long := strings.Repeat("é", MaxUserAgentBytes) // 2 bytes each
	cases := []struct{ in, want string }{
		{"curl/8.0", "curl/8.0"},
		{"bad\xff\xfeagent", "bad\uFFFDagent"},
		{"nul\x00byte", "nulbyte"},
		{long, long[:MaxUserAgentBytes]},
		{"x" + long, "x" + long[:MaxUserAgentBytes-2]},
		{strings.Repeat("\xff", 600), "\uFFFD"},
		{strings.Repeat("a\xff", 600), strings.Repeat("a\uFFFD", MaxUserAgentBytes/4)},
		{strings.Repeat("\xffa", 600), strings.Repeat("\uFFFDa", MaxUserAgentBytes/4)},
	}
	for _, c := range cases {
		got := NewClient("192.0.2.1", c.in, LangEnglish).UserAgent
		if got != c.want || !utf8.ValidString(got) || len(got) > MaxUserAgentBytes {
			t.Errorf("NewClient(%.20q).UserAgent = %.30q (%d bytes), want %.30q", c.in, got, len(got), c.want)
		}
	}
}
