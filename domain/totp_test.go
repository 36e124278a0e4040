package domain

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"
)

func TestTOTPPolicyIsConfigurable(t *testing.T) {
	p := TOTPPolicy{Period: time.Minute, Digits: 8, Skew: 2, Algorithm: "SHA256"}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	secret, keyURL, err := p.NewKey("Gatehouse", "a@example.com", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"digits=8", "period=60", "algorithm=SHA256", "issuer=Gatehouse"} {
		if !strings.Contains(keyURL, want) {
			t.Errorf("URL %q lacks %s", keyURL, want)
		}
	}
	now := time.Unix(1_800_000_000, 0)
	step := p.Step(now)
	if step != now.Unix()/60 {
		t.Fatalf("step = %d", step)
	}
	for offset := int64(-3); offset <= 3; offset++ {
		code, err := p.CodeAt(secret, step+offset)
		if err != nil || !p.IsCodeFormat(code) || DefaultTOTPPolicy.IsCodeFormat(code) {
			t.Fatalf("code %q, err %v", code, err)
		}
		got, ok := p.MatchStep(secret, code, now)
		inSkew := offset >= -2 && offset <= 2
		if ok != inSkew || (ok && got != step+offset) {
			t.Errorf("offset %d: MatchStep = %d, %t", offset, got, ok)
		}
	}
	if p.UsedStepTTL() != 6*time.Minute {
		t.Errorf("UsedStepTTL = %s", p.UsedStepTTL())
	}
}

func TestTOTPPolicyValidate(t *testing.T) {
	if err := DefaultTOTPPolicy.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []TOTPPolicy{
		{Period: 1500 * time.Millisecond, Digits: 6, Skew: 1, Algorithm: "SHA1"},
		{Period: 30 * time.Second, Digits: 7, Skew: 1, Algorithm: "SHA1"},
		{Period: 30 * time.Second, Digits: 6, Skew: -1, Algorithm: "SHA1"},
		{Period: 30 * time.Second, Digits: 6, Skew: 1, Algorithm: "MD5"},
	} {
		if p.Validate() == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}
