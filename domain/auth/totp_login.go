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

// LoginTOTP checks a TOTP code, or a recovery code in its place, for an
// account with TOTP bound and opens a session. Each time step is accepted
// once per account, and each recovery code once.
func (s *Service) LoginTOTP(ctx context.Context, in TOTPLogin) (login Login, err error) {
	method := domain.LoginTOTP
	if !s.policy.TOTP.IsCodeFormat(in.Code) {
		method = domain.LoginRecovery
	}
	defer func() { s.observeLogin(method, err) }()
	return s.loginTOTP(ctx, in)
}

func (s *Service) loginTOTP(ctx context.Context, in TOTPLogin) (Login, error) {
	email, err := domain.ParseEmail(in.Email)
	if err != nil {
		return Login{}, err
	}
	if !s.policy.TOTP.IsCodeFormat(in.Code) {
		digest, ok := domain.RecoveryCodeDigest(in.Code)
		if !ok {
			return Login{}, domain.Invalid(fmt.Sprintf("code must be %d digits or a recovery code", s.policy.TOTP.Digits))
		}
		return s.loginRecoveryCode(ctx, email, digest, in.Client)
	}
	u, account, err := s.admitByEmail(ctx, email, domain.LoginTOTP, in.Client)
	if err != nil {
		return Login{}, err
	}
	secret, bound := s.totpSecret(ctx, u)
	// Every attempt checks the code against some secret, so an account
	// without TOTP (or none at all) takes as long as one with it.
	step, ok := s.policy.TOTP.MatchStep(secret, in.Code, s.clock.Now())
	if ok && bound {
		ok, err = s.totp.UseSteps(ctx, u.ID, []int64{step}, s.policy.TOTP.UsedStepTTL())
		if err != nil {
			s.guard.Abandoned(ctx, account, in.Client.IP)
			return Login{}, err
		}
	}
	if !ok || !bound {
		return Login{}, s.failLogin(ctx, u, account, domain.LoginTOTP, in.Client)
	}
	if err := s.guard.Succeeded(ctx, account, in.Client.IP); err != nil {
		return Login{}, err
	}
	return s.startSession(ctx, u, domain.LoginTOTP, in.Client)
}

// decoyTOTPSecret stands in for the secret of an account that cannot log in
// by TOTP (unknown, disabled, none bound, or a secret that does not open);
// a code that happens to match it is refused all the same.
const decoyTOTPSecret = "GATEHOUSEDECOYTOTPSECRETNOTBOUND"

// totpSecret opens the TOTP secret u logs in with, and reports false (with
// the decoy) when u cannot log in by TOTP. A secret that does not open with
// the configured keys is answered like a wrong code, so the attempt counts
// against the lockout as any failure does; the log names the account for
// the operator (see `gatehouse keys check`), never the secret.
func (s *Service) totpSecret(ctx context.Context, u *domain.User) (string, bool) {
	if u == nil || !u.Active || u.TOTP == nil {
		return decoyTOTPSecret, false
	}
	secret, err := s.users.OpenTOTP(u.ID, *u.TOTP)
	if err != nil {
		s.log.ErrorContext(ctx, "TOTP login refused: the bound secret does not open with the configured keys", "user", u.ID, "key_id", u.TOTP.KeyID, "err", err)
		return decoyTOTPSecret, false
	}
	return secret, true
}
