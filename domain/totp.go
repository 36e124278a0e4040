package domain

import (
	"crypto/subtle"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters of API.md: SHA1, 6 digits, 30 s steps, ±1 step of skew.
const (
	TOTPPeriod     = 30 * time.Second
	TOTPSkew       = 1
	totpSecretSize = 20 // 160 bits
)

var totpOpts = totp.ValidateOpts{Period: uint(TOTPPeriod / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// NewTOTPKey makes a fresh 160-bit secret and its otpauth:// URL.
func NewTOTPKey(issuer, account string, random io.Reader) (secret, keyURL string, err error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		SecretSize:  totpSecretSize,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
		Period:      totpOpts.Period,
		Rand:        random,
	})
	if err != nil {
		return "", "", fmt.Errorf("generate totp key: %w", err)
	}
	return key.Secret(), key.URL(), nil
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

// TOTPStep is the number of the 30-second step that t falls in.
func TOTPStep(t time.Time) int64 { return t.Unix() / int64(TOTPPeriod/time.Second) }

// TOTPCodeAt returns the code of secret for the given step.
func TOTPCodeAt(secret string, step int64) (string, error) {
	return totp.GenerateCodeCustom(secret, time.Unix(step*int64(TOTPPeriod/time.Second), 0), totpOpts)
}

// MatchTOTPStep finds the step within ±skew of now whose code is code, and
// reports false when none matches. Every candidate is compared in constant
// time, so how long it takes says nothing about which step was near.
func MatchTOTPStep(secret, code string, now time.Time, skew int64) (int64, bool) {
	current := TOTPStep(now)
	var found int64
	ok := 0
	for step := current - skew; step <= current+skew; step++ {
		want, err := TOTPCodeAt(secret, step)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && ok == 0 {
			found, ok = step, 1
		}
	}
	return found, ok == 1
}

// TOTPUsedStepTTL is how long a used step is remembered: long enough that it
// can no longer fall within ±skew of now when the mark expires.
const TOTPUsedStepTTL = (2*TOTPSkew + 2) * TOTPPeriod
