package auth

import (
	"context"

	"github.com/gatehouse/gatehouse/domain"
)

// decoyRecoveryOwner is the account a recovery code is spent against when
// the login's account cannot use one (unknown, disabled, no TOTP bound).
// No account has the nil UUID, so nothing is ever spent; the store is
// asked all the same, so those logins take as long as real ones.
const decoyRecoveryOwner domain.UserID = "00000000-0000-0000-0000-000000000000"

// loginRecoveryCode logs in by a recovery code (digest is its
// domain.RecoveryCodeDigest) in place of a TOTP code. A wrong code is a
// failed login like a wrong TOTP code: LOGIN_INVALID, counted against the
// account and the client IP. Every attempt hashes the input (the caller
// did) and makes one store call, for a known account with TOTP or not, so
// the answer's timing says nothing about the account.
func (s *Service) loginRecoveryCode(ctx context.Context, email, digest string, c domain.Client) (Login, error) {
	u, account, err := s.admitByEmail(ctx, email, domain.LoginRecovery, c)
	if err != nil {
		return Login{}, err
	}
	// The account must have TOTP bound, as for a TOTP code; whether its
	// secret opens does not matter: a secret lost with a rotated key is one
	// of the reasons recovery codes exist.
	owner := decoyRecoveryOwner
	if u != nil && u.Active && u.TOTP != nil {
		owner = u.ID
	}
	left, ok, err := s.recoveryCodes.Spend(ctx, owner, digest, s.clock.Now())
	if err != nil {
		s.guard.Abandoned(ctx, account, c.IP)
		return Login{}, err
	}
	if !ok {
		return Login{}, s.failLogin(ctx, u, account, domain.LoginRecovery, c)
	}
	// The code is gone from here on, whatever happens to the login, so its
	// owner hears of it now. A notice that cannot be queued does not undo
	// the login: the code could not be given back.
	notice := domain.Mail{To: u.Email, Kind: domain.MailRecoveryCodeUsed, Lang: c.Lang, Remaining: left}
	if err := s.mail.SendMail(ctx, notice); err != nil {
		s.log.ErrorContext(ctx, "recovery code used: notice not sent", "user", u.ID, "err", err)
	}
	if err := s.guard.Succeeded(ctx, account, c.IP); err != nil {
		return Login{}, err
	}
	return s.startSession(ctx, u, domain.LoginRecovery, c)
}
