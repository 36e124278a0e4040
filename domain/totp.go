package domain

import (
	"crypto/subtle"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// totpSecretSize is the size of a TOTP secret: 160 bits, as API.md asks.
const totpSecretSize = 20

// TOTPPolicy is how TOTP codes are made and checked.
type TOTPPolicy struct {
	Period    time.Duration // length of one time step
	Digits    int           // 6 or 8
	Skew      int           // steps accepted either side of now
	Algorithm string        // SHA1, SHA256 or SHA512
}

// DefaultTOTPPolicy is API.md's: SHA1, 6 digits, 30 s steps, ±1 step.
var DefaultTOTPPolicy = TOTPPolicy{Period: 30 * time.Second, Digits: 6, Skew: 1, Algorithm: "SHA1"}

// Validate reports a policy authenticator apps could not follow.
func (p TOTPPolicy) Validate() error {
	if p.Period < time.Second || p.Period%time.Second != 0 {
		return fmt.Errorf("totp period must be a whole number of seconds, not %s", p.Period)
	}
	if p.Digits != 6 && p.Digits != 8 {
		return fmt.Errorf("totp digits must be 6 or 8, not %d", p.Digits)
	}
	if p.Skew < 0 || p.Skew > 10 {
		return fmt.Errorf("totp skew must be 0 to 10 steps, not %d", p.Skew)
	}
	if _, ok := totpAlgorithms[strings.ToUpper(p.Algorithm)]; !ok {
		return fmt.Errorf("totp algorithm must be SHA1, SHA256 or SHA512, not %q", p.Algorithm)
	}
	return nil
}

var totpAlgorithms = map[string]otp.Algorithm{"SHA1": otp.AlgorithmSHA1, "SHA256": otp.AlgorithmSHA256, "SHA512": otp.AlgorithmSHA512}

func (p TOTPPolicy) opts() totp.ValidateOpts {
	return totp.ValidateOpts{
		Period:    uint(p.Period / time.Second),
		Digits:    otp.Digits(p.Digits),
		Algorithm: totpAlgorithms[strings.ToUpper(p.Algorithm)],
	}
}

// NewKey makes a fresh 160-bit secret and its otpauth:// URL.
func (p TOTPPolicy) NewKey(issuer, account string, random io.Reader) (secret, keyURL string, err error) {
	o := p.opts()
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		SecretSize:  totpSecretSize,
		Digits:      o.Digits,
		Algorithm:   o.Algorithm,
		Period:      o.Period,
		Rand:        random,
	})
	if err != nil {
		return "", "", fmt.Errorf("generate totp key: %w", err)
	}
	// pquerna/otp writes the issuer into the URL's query unescaped, so an
	// issuer holding '&' (say "&secret") would make the URL carry another
	// secret than the one generated (found by FuzzTOTPSecretOfURL). Offer
	// only a URL that reads back as its own secret.
	if got, ok := TOTPSecretOfURL(key.URL()); !ok || got != key.Secret() {
		return "", "", fmt.Errorf("generate totp key: the issuer %q cannot be written into an otpauth URL", issuer)
	}
	return key.Secret(), key.URL(), nil
}

// ValidTOTPIssuer reports whether issuer can be written into an otpauth URL
// as pquerna/otp writes it (its query is not escaped).
func ValidTOTPIssuer(issuer string) bool {
	return !strings.ContainsAny(issuer, "&#=%+;")
}

// IsCodeFormat reports whether s has exactly the policy's number of ASCII
// digits.
func (p TOTPPolicy) IsCodeFormat(s string) bool {
	if len(s) != p.Digits {
		return false
	}
	return strings.Trim(s, "0123456789") == ""
}

// Step is the number of the time step that t falls in.
func (p TOTPPolicy) Step(t time.Time) int64 { return t.Unix() / int64(p.Period/time.Second) }

// CodeAt returns the code of secret for the given step.
func (p TOTPPolicy) CodeAt(secret string, step int64) (string, error) {
	return totp.GenerateCodeCustom(secret, time.Unix(step*int64(p.Period/time.Second), 0), p.opts())
}

// MatchStep finds the step within ±Skew of now whose code is code, and
// reports false when none matches. Every candidate is compared in constant
// time, so how long it takes says nothing about which step was near.
func (p TOTPPolicy) MatchStep(secret, code string, now time.Time) (int64, bool) {
	current := p.Step(now)
	var found int64
	ok := 0
	for step := current - int64(p.Skew); step <= current+int64(p.Skew); step++ {
		want, err := p.CodeAt(secret, step)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && ok == 0 {
			found, ok = step, 1
		}
	}
	return found, ok == 1
}

// UsedStepTTL is how long a used step is remembered: long enough that it can
// no longer fall within ±Skew of now when the mark expires.
func (p TOTPPolicy) UsedStepTTL() time.Duration {
	return time.Duration(2*p.Skew+2) * p.Period
}

// TOTPSecretOfURL returns the secret carried by an otpauth:// URL.
func TOTPSecretOfURL(keyURL string) (string, bool) {
	u, err := url.Parse(keyURL)
	if err != nil || u.Scheme != "otpauth" {
		return "", false
	}
	s := u.Query().Get("secret")
	return s, s != ""
}
