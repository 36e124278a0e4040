package auth

import (
	"context"
	"fmt"

	"github.com/gatehouse/gatehouse/domain"
)

// TOTPLogin is the input of a login by TOTP code.
type TOTPLogin struct {
	Email  string
	Code   string
	Client domain.Client
}

// LoginTOTP checks a TOTP code for an account with TOTP bound and opens a
// session. Each time step is accepted once per account.
func (s *Service) LoginTOTP(ctx context.Context, in TOTPLogin) (Login, error) {
	email, err := domain.ParseEmail(in.Email)
	if err != nil {
		return Login{}, err
	}
	if !s.policy.TOTP.IsCodeFormat(in.Code) {
		return Login{}, domain.Invalid(fmt.Sprintf("code must be %d digits", s.policy.TOTP.Digits))
	}
	u, account, err := s.admitByEmail(ctx, email, in.Client.IP)
	if err != nil {
		return Login{}, err
	}
	if u == nil || !u.Active || u.TOTPSecret == "" {
		return Login{}, s.failLogin(ctx, u, account, domain.LoginTOTP, in.Client)
	}
	step, ok := s.policy.TOTP.MatchStep(u.TOTPSecret, in.Code, s.Clock.Now())
	if ok {
		ok, err = s.TOTP.UseSteps(ctx, u.ID, []int64{step}, s.policy.TOTP.UsedStepTTL())
		if err != nil {
			s.Guard.Abandoned(ctx, account, in.Client.IP)
			return Login{}, err
		}
	}
	if !ok {
		return Login{}, s.failLogin(ctx, u, account, domain.LoginTOTP, in.Client)
	}
	if err := s.Guard.Succeeded(ctx, account, in.Client.IP); err != nil {
		return Login{}, err
	}
	return s.startSession(ctx, u, domain.LoginTOTP, in.Client)
}
