package mfa_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
)

// Recovery codes stand in for one secret: binding a new one voids them,
// and a refused binding keeps them.
func TestBindVoidsRecoveryCodes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	url, secret := e.offer(t)
	now := domain.DefaultTOTPPolicy.Step(e.clk.Now())
	if err := e.bind(url, codes(t, secret, now-1, now)); err != nil {
		t.Fatal(err)
	}
	code := domain.NewRecoveryCode()
	digest, _ := domain.RecoveryCodeDigest(code)
	if err := e.recovery.Replace(ctx, e.who.UserID, []string{digest}); err != nil {
		t.Fatal(err)
	}

	e.clk.Advance(2 * time.Minute)
	url2, secret2 := e.offer(t)
	now = domain.DefaultTOTPPolicy.Step(e.clk.Now())
	if err := e.bind(url2, codes(t, secret2, now-5, now-4)); err == nil {
		t.Fatal("a binding with stale codes succeeded")
	}
	if n, _ := e.recovery.Count(ctx, e.who.UserID); n != 1 {
		t.Fatalf("a refused binding left %d codes, want 1", n)
	}
	if err := e.bind(url2, codes(t, secret2, now-1, now)); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.recovery.Count(ctx, e.who.UserID); n != 0 {
		t.Fatalf("%d codes left after binding a new secret, want 0", n)
	}
	if _, ok, _ := e.recovery.Spend(ctx, e.who.UserID, digest, e.clk.Now()); ok {
		t.Fatal("a code of the old secret still works")
	}
}
