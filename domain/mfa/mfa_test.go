package mfa_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/clock"
	"github.com/gatehouse/gatehouse/adapters/memory"
	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/mfa"
)

type env struct {
	clk      *clock.Fake
	users    *memory.UserStore
	totp     *memory.TOTPStore
	mail     *memory.Outbox
	recovery *memory.RecoveryCodeStore
	deps     mfa.Deps // what svc was built from
	svc      *mfa.Service
	who      domain.Claims
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clk := clock.NewFake(time.Unix(1_700_000_010, 0)) // 10 s into a step
	e := &env{clk: clk, users: memory.NewUserStore(clk), totp: memory.NewTOTPStore(clk), mail: &memory.Outbox{}}
	e.recovery = memory.NewRecoveryCodeStore(e.users)
	e.deps = mfa.Deps{Users: e.users, TOTP: e.totp, RecoveryCodes: e.recovery, Mail: e.mail, Clock: clk, Random: rand.Reader}
	svc, err := mfa.New(e.deps, mfa.Policy{Issuer: "Gatehouse", PendingTTL: 5 * time.Minute, TOTP: domain.DefaultTOTPPolicy})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	u := &domain.User{Email: "alice@example.com", EmailKey: domain.NewEmailKey("alice@example.com"), PasswordHash: "x", Active: true}
	if err := e.users.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	e.who = domain.Claims{UserID: u.ID, SessionID: "s1"}
	return e
}

func (e *env) offer(t *testing.T) (url, secret string) {
	t.Helper()
	url, err := e.svc.Offer(context.Background(), e.who)
	if err != nil {
		t.Fatal(err)
	}
	secret, ok := domain.TOTPSecretOfURL(url)
	if !ok {
		t.Fatalf("no secret in %q", url)
	}
	return url, secret
}

func codes(t *testing.T, secret string, steps ...int64) []string {
	t.Helper()
	var out []string
	for _, s := range steps {
		c, err := domain.DefaultTOTPPolicy.CodeAt(secret, s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func (e *env) bind(url string, cs []string) error {
	return e.svc.Bind(context.Background(), e.who, mfa.Binding{URL: url, Codes: cs})
}

func TestOfferIsPending(t *testing.T) {
	e := newEnv(t)
	url, secret := e.offer(t)
	if !strings.HasPrefix(url, "otpauth://totp/") || !strings.Contains(url, "issuer=Gatehouse") {
		t.Fatalf("url = %q", url)
	}
	pending, err := e.totp.Pending(context.Background(), e.who.UserID)
	if err != nil || pending != secret {
		t.Fatalf("pending = %q, %v; want %q", pending, err, secret)
	}
	u, _ := e.users.ByID(context.Background(), e.who.UserID)
	if u.TOTP != nil {
		t.Fatal("offer bound the secret")
	}
	// A second offer replaces the first.
	url2, secret2 := e.offer(t)
	if secret2 == secret {
		t.Fatal("second offer has the same secret")
	}
	now := domain.DefaultTOTPPolicy.Step(e.clk.Now())
	if err := e.bind(url, codes(t, secret, now-1, now)); !errors.Is(err, domain.ErrTOTPInvalid) {
		t.Fatalf("bind with the replaced offer: %v", err)
	}
	if err := e.bind(url2, codes(t, secret2, now-1, now)); err != nil {
		t.Fatalf("bind with the latest offer: %v", err)
	}
}

func TestBindAcceptsWindow(t *testing.T) {
	for _, next := range []int64{-1, 0, 1} { // s+1 relative to now
		e := newEnv(t)
		url, secret := e.offer(t)
		now := domain.DefaultTOTPPolicy.Step(e.clk.Now())
		s := now + next - 1
		if err := e.bind(url, codes(t, secret, s, s+1)); err != nil {
			t.Fatalf("s+1 = now%+d: %v", next, err)
		}
		u, _ := e.users.ByID(context.Background(), e.who.UserID)
		if got := e.bound(t, u); got != secret {
			t.Fatalf("bound secret = %q, want %q", got, secret)
		}
		if _, err := e.totp.Pending(context.Background(), e.who.UserID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("pending after bind: %v", err)
		}
		if len(e.mail.Mails()) != 1 || e.mail.Mails()[0].Kind != domain.MailTOTPChanged || e.mail.Mails()[0].To != u.Email {
			t.Fatalf("mails = %+v", e.mail.Mails())
		}
		// Both steps are used: neither can be used again.
		for _, step := range []int64{s, s + 1} {
			ok, err := e.totp.UseSteps(context.Background(), e.who.UserID, []int64{step}, domain.DefaultTOTPPolicy.UsedStepTTL())
			if err != nil || ok {
				t.Fatalf("UseSteps(%d) after bind = %v, %v; want false", step, ok, err)
			}
		}
	}
}

func TestBindRefuses(t *testing.T) {
	cases := []struct {
		name  string
		steps func(now int64) []int64
	}{
		{"not consecutive", func(n int64) []int64 { return []int64{n - 1, n + 1} }},
		{"wrong order", func(n int64) []int64 { return []int64{n, n - 1} }},
		{"same step twice", func(n int64) []int64 { return []int64{n, n} }},
		{"too old", func(n int64) []int64 { return []int64{n - 3, n - 2} }},
		{"too new", func(n int64) []int64 { return []int64{n + 1, n + 2} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			url, secret := e.offer(t)
			err := e.bind(url, codes(t, secret, tc.steps(domain.DefaultTOTPPolicy.Step(e.clk.Now()))...))
			if !errors.Is(err, domain.ErrTOTPInvalid) {
				t.Fatalf("err = %v, want TOTP_INVALID", err)
			}
			u, _ := e.users.ByID(context.Background(), e.who.UserID)
			if u.TOTP != nil {
				t.Fatal("secret bound after a refused bind")
			}
		})
	}
}

func TestBindPendingExpires(t *testing.T) {
	e := newEnv(t)
	url, secret := e.offer(t)
	e.clk.Advance(5 * time.Minute)
	now := domain.DefaultTOTPPolicy.Step(e.clk.Now())
	if err := e.bind(url, codes(t, secret, now-1, now)); !errors.Is(err, domain.ErrTOTPInvalid) {
		t.Fatalf("err = %v, want TOTP_INVALID", err)
	}
}

func TestBindPendingJustBeforeExpiry(t *testing.T) {
	e := newEnv(t)
	url, secret := e.offer(t)
	e.clk.Advance(5*time.Minute - time.Second)
	now := domain.DefaultTOTPPolicy.Step(e.clk.Now())
	if err := e.bind(url, codes(t, secret, now-1, now)); err != nil {
		t.Fatalf("bind before expiry: %v", err)
	}
}

func TestBindOtherSecret(t *testing.T) {
	e := newEnv(t)
	e.offer(t)
	_, pending := e.offer(t)
	otherSecret, otherURL, err := domain.DefaultTOTPPolicy.NewKey("Gatehouse", "alice@example.com", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := domain.DefaultTOTPPolicy.Step(e.clk.Now())
	// Codes of the other secret, and codes of the pending one, under a URL
	// that does not carry the pending secret.
	for _, cs := range [][]string{codes(t, otherSecret, now-1, now), codes(t, pending, now-1, now)} {
		if err := e.bind(otherURL, cs); !errors.Is(err, domain.ErrTOTPInvalid) {
			t.Fatalf("err = %v, want TOTP_INVALID", err)
		}
	}
}

func TestBindWithoutOffer(t *testing.T) {
	e := newEnv(t)
	secret, url, err := domain.DefaultTOTPPolicy.NewKey("Gatehouse", "alice@example.com", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := domain.DefaultTOTPPolicy.Step(e.clk.Now())
	if err := e.bind(url, codes(t, secret, now-1, now)); !errors.Is(err, domain.ErrTOTPInvalid) {
		t.Fatalf("err = %v, want TOTP_INVALID", err)
	}
}

func TestBindValidation(t *testing.T) {
	e := newEnv(t)
	url, _ := e.offer(t)
	for _, tc := range []struct {
		url   string
		codes []string
	}{
		{url, []string{"123456"}},
		{url, []string{"123456", "12345"}},
		{url, []string{"123456", "abcdef"}},
		{"https://example.com/?secret=ABC", []string{"123456", "654321"}},
		{"", []string{"123456", "654321"}},
	} {
		if err := e.bind(tc.url, tc.codes); !errors.Is(err, domain.ErrValidation) {
			t.Errorf("bind(%q, %q) = %v, want VALIDATION_FAILED", tc.url, tc.codes, err)
		}
	}
}

func TestBindReplacesBoundSecret(t *testing.T) {
	e := newEnv(t)
	url, secret := e.offer(t)
	now := domain.DefaultTOTPPolicy.Step(e.clk.Now())
	if err := e.bind(url, codes(t, secret, now-1, now)); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(2 * time.Minute)
	url2, secret2 := e.offer(t)
	now = domain.DefaultTOTPPolicy.Step(e.clk.Now())
	if err := e.bind(url2, codes(t, secret2, now-1, now)); err != nil {
		t.Fatal(err)
	}
	u, _ := e.users.ByID(context.Background(), e.who.UserID)
	if e.bound(t, u) != secret2 {
		t.Fatal("second bind did not replace the secret")
	}
}

// bound opens the TOTP secret bound to u.
func (e *env) bound(t *testing.T, u *domain.User) string {
	t.Helper()
	if u.TOTP == nil {
		t.Fatal("no TOTP secret bound")
	}
	secret, err := e.users.OpenTOTP(u.ID, *u.TOTP)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}
