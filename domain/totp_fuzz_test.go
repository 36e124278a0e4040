package domain_test

import (
	"bytes"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
)

// FuzzTOTPSecretOfURL checks the otpauth URL read back at TOTP binding. The
// URL offered for any issuer and account (an email may hold &, =, ? and #)
// carries exactly the secret generated, never one smuggled in through the
// names; and an arbitrary string is either refused or read as the non-empty
// secret parameter of an otpauth URL.
func FuzzTOTPSecretOfURL(f *testing.F) {
	f.Add("Gatehouse", "alice@example.com", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP")
	f.Add("Gate&secret=EVIL", "a&secret=EVIL@example.com", "otpauth://totp/x?secret=")
	f.Add("Gatehouse", "a?secret=EVIL#@example.com", "OTPAUTH://totp/x?secret=A&secret=B")
	f.Add("Gate%26house", "a=b@example.com", "otpauth:?secret=%zz")
	f.Add("", "", "https://example.com/?secret=JBSWY3DP")
	f.Add("Ünï", "用户@例子.中国", "otpauth://totp/x#?secret=JBSWY3DP")
	policy := domain.TOTPPolicy{Period: 30 * time.Second, Digits: 6, Skew: 1, Algorithm: "SHA1"}
	f.Fuzz(func(t *testing.T, issuer, account, raw string) {
		if secret, ok := domain.TOTPSecretOfURL(raw); ok {
			u, err := url.Parse(raw)
			if err != nil || u.Scheme != "otpauth" || secret == "" || secret != u.Query().Get("secret") {
				t.Fatalf("TOTPSecretOfURL(%q) = %q, which is not its secret parameter", raw, secret)
			}
		}
		secret, keyURL, err := policy.NewKey(issuer, account, bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
		if err != nil {
			return
		}
		if got, ok := domain.TOTPSecretOfURL(keyURL); !ok || got != secret {
			t.Fatalf("the URL offered for issuer %q account %q reads back as %q, %v; want the secret %q", issuer, account, got, ok, secret)
		}
	})
}
