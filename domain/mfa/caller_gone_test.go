package mfa_test

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/clock"
	"github.com/gatehouse/gatehouse/adapters/memory"
	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/mfa"
)

// vanishing is a user store whose accounts can disappear, as a row removed
// by hand would.
type vanishing struct {
	*memory.UserStore
	gone bool
}

func (v *vanishing) ByID(ctx context.Context, id domain.UserID) (*domain.User, error) {
	if v.gone {
		return nil, domain.ErrUserNotFound
	}
	return v.UserStore.ByID(ctx, id)
}

func (v *vanishing) Update(ctx context.Context, id domain.UserID, change func(u *domain.User) error) (*domain.User, error) {
	if v.gone {
		return nil, domain.ErrUserNotFound
	}
	return v.UserStore.Update(ctx, id, change)
}

// A live session whose account no longer exists is a dead session: offering
// and binding answer AUTH_EXPIRED, not "not found".
func TestCallerAccountGone(t *testing.T) {
	clk := clock.NewFake(time.Unix(1_700_000_010, 0))
	users := &vanishing{UserStore: memory.NewUserStore(clk)}
	svc, err := mfa.New(mfa.Deps{Users: users, TOTP: memory.NewTOTPStore(clk), RecoveryCodes: memory.NewRecoveryCodeStore(users), Mail: &memory.Outbox{}, Clock: clk, Random: rand.Reader},
		mfa.Policy{Issuer: "Gatehouse", PendingTTL: 5 * time.Minute, TOTP: domain.DefaultTOTPPolicy})
	if err != nil {
		t.Fatal(err)
	}
	u := &domain.User{Email: "alice@example.com", EmailKey: domain.NewEmailKey("alice@example.com"), PasswordHash: "x", Active: true}
	if err := users.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	who := domain.Claims{UserID: u.ID, SessionID: "s1"}
	url, err := svc.Offer(context.Background(), who)
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := domain.TOTPSecretOfURL(url)
	users.gone = true

	if _, err := svc.Offer(context.Background(), who); !errors.Is(err, domain.ErrAuthExpired) {
		t.Errorf("Offer = %v, want ErrAuthExpired", err)
	}
	step := domain.DefaultTOTPPolicy.Step(clk.Now())
	err = svc.Bind(context.Background(), who, mfa.Binding{URL: url, Codes: codes(t, secret, step-1, step)})
	if !errors.Is(err, domain.ErrAuthExpired) {
		t.Errorf("Bind = %v, want ErrAuthExpired", err)
	}
}
