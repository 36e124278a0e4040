package onetime_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/clock"
	"github.com/gatehouse/gatehouse/adapters/memory"
	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/onetime"
)

func newCodes(caps onetime.Caps) (*onetime.Codes, *clock.Fake) {
	clk := clock.NewFake(time.Unix(1_700_000_000, 0))
	return onetime.New(memory.NewCodeStore(clk), memory.NewThrottle(clk), rand.Reader, []byte("secret"),
		domain.ResendPolicy{Interval: time.Minute, HourlyLimit: 10}, caps), clk
}

func from(ip string) domain.Client { return domain.Client{IP: ip} }

func TestSendCapsPerIP(t *testing.T) {
	ctx := context.Background()
	codes, clk := newCodes(onetime.Caps{MailPerIP: 2, SMSPerIP: 1, IPv6Prefix: 64})
	mail := func(target, ip string) error { return codes.Throttle(ctx, domain.PurposeMailReset, target, from(ip)) }

	for _, target := range []string{"a", "b"} {
		if err := mail(target, "203.0.113.7"); err != nil {
			t.Fatal(err)
		}
	}
	if err := mail("c", "203.0.113.7"); !errors.Is(err, domain.ErrRateLimited) {
		t.Fatalf("third mail = %v, want RATE_LIMITED", err)
	}
	// The resend throttle of a target answers before the cap.
	if err := mail("a", "203.0.113.7"); !errors.Is(err, domain.ErrCodeTooFrequent) {
		t.Fatalf("again to a = %v, want CODE_TOO_FREQUENT", err)
	}
	// The refused request left no throttle on c: another client may mail it.
	if err := mail("c", "203.0.113.8"); err != nil {
		t.Fatalf("c from another IP = %v", err)
	}
	// SMS has its own cap, and the login and binding purposes share it.
	if err := codes.Throttle(ctx, domain.PurposeSMSLogin, "+8613800138000", from("203.0.113.7")); err != nil {
		t.Fatal(err)
	}
	send := codes.NewSend(domain.PurposePhoneBind, "+8613900139000", from("203.0.113.7"))
	if err := send.CheckTarget(ctx); err != nil {
		t.Fatal(err)
	}
	if err := send.Record(ctx); !errors.Is(err, domain.ErrRateLimited) {
		t.Fatalf("bind SMS = %v, want RATE_LIMITED", err)
	}
	// IPv6 clients count per /64; IPv4-mapped addresses as IPv4.
	if err := mail("d", "2001:db8::1"); err != nil {
		t.Fatal(err)
	}
	if err := mail("e", "2001:db8::2"); err != nil {
		t.Fatal(err)
	}
	if err := mail("f", "2001:db8::ffff:3"); !errors.Is(err, domain.ErrRateLimited) {
		t.Fatalf("third mail from the /64 = %v, want RATE_LIMITED", err)
	}
	if err := mail("f", "::ffff:203.0.113.7"); !errors.Is(err, domain.ErrRateLimited) {
		t.Fatalf("mapped address = %v, want RATE_LIMITED", err)
	}
	clk.Advance(time.Hour)
	if err := mail("f", "203.0.113.7"); err != nil {
		t.Fatalf("after the hour = %v", err)
	}
}

func TestSendCapsWhitelist(t *testing.T) {
	ctx := context.Background()
	codes, _ := newCodes(onetime.Caps{MailPerIP: 1, SMSPerIP: 1, Whitelist: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	for _, target := range []string{"a", "b", "c"} {
		if err := codes.Throttle(ctx, domain.PurposeMailReset, target, from("10.1.2.3")); err != nil {
			t.Fatalf("whitelisted mail to %s = %v", target, err)
		}
	}
	// The per-target throttle still applies to whitelisted clients.
	if err := codes.Throttle(ctx, domain.PurposeMailReset, "a", from("10.1.2.3")); !errors.Is(err, domain.ErrCodeTooFrequent) {
		t.Fatalf("again to a = %v, want CODE_TOO_FREQUENT", err)
	}
}
