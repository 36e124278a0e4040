package httpapi

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
)

func TestLarkCookieRoundTrip(t *testing.T) {
	s := csrfSigner{secret: []byte("secret")}
	now := time.Unix(1_900_000_000, 0)
	v := larkCookieValue{state: domain.NewLarkSecret(), action: domain.LarkLink, verifier: domain.NewLarkSecret(), expires: now.Add(10 * time.Minute)}
	enc := s.encodeLark(v)
	got, ok := s.decodeLark(enc, now)
	if !ok || got != v {
		t.Fatalf("decode = %+v, %v; want %+v", got, ok, v)
	}
	if _, ok := s.decodeLark(enc, v.expires); ok {
		t.Error("an expired cookie decoded")
	}
	if _, ok := (csrfSigner{secret: []byte("other")}).decodeLark(enc, now); ok {
		t.Error("a cookie signed under another secret decoded")
	}
	// Any edit of the payload breaks the signature: a planted cookie
	// cannot turn a login into a link or swap the state.
	for _, edit := range []string{
		strings.Replace(enc, ".link.", ".login.", 1),
		"x" + enc,
		enc[:len(enc)-1],
		strings.Replace(enc, v.state, domain.NewLarkSecret(), 1),
	} {
		if _, ok := s.decodeLark(edit, now); ok {
			t.Errorf("an edited cookie decoded: %s", edit)
		}
	}
	// An XSRF value never passes for a Lark cookie.
	if _, ok := s.decodeLark(s.mint(), now); ok {
		t.Error("an XSRF value decoded as LARK_STATE")
	}
}

func TestLarkActionOf(t *testing.T) {
	cases := map[string]domain.LarkAction{
		"":             domain.LarkLogin,
		"action=login": domain.LarkLogin,
		"action=link":  domain.LarkLink,
		"action=&state=%7B%22action%22%3A%22link%22%7D": domain.LarkLogin, // action present wins
		`state={"action":"link","locale":"zh-CN"}`:      domain.LarkLink,
		`state={"action":"login"}`:                      domain.LarkLogin,
		`state={"action":"whatever"}`:                   domain.LarkLogin,
		"state=not-json":                                domain.LarkLogin,
	}
	for query, want := range cases {
		q, err := parseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		got, err := larkActionOf(q)
		if err != nil || got != want {
			t.Errorf("%s: %s, %v; want %s", query, got, err, want)
		}
	}
	q, _ := parseQuery("action=bind")
	if _, err := larkActionOf(q); err == nil {
		t.Error("action=bind was taken")
	}
}

func TestLarkAuthorizeURL(t *testing.T) {
	for redirect, want := range map[string]string{
		"https://id.example/lark/callback":          "https://id.example/lark/authorize",
		"https://id.example/auth/lark/callback?x=1": "https://id.example/auth/lark/authorize",
		"": "",
	} {
		if got := larkAuthorizeURL(redirect); got != want {
			t.Errorf("larkAuthorizeURL(%q) = %q, want %q", redirect, got, want)
		}
	}
}

func parseQuery(s string) (url.Values, error) {
	return url.ParseQuery(strings.ReplaceAll(s, `"`, "%22"))
}
