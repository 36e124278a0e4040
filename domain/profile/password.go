package profile

import (
	"context"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/lockout"
)

// PasswordChange is the input of a password change.
type PasswordChange struct {
	Old      string
	Password string
	Client   domain.Client
}

// ChangePassword replaces the caller's password after checking the old one,
// and ends every other session of the account. A wrong old password counts
// as a failed login, so a stolen session cannot guess it forever.
func (s *Service) ChangePassword(ctx context.Context, who domain.Claims, in PasswordChange) error {
	if in.Old == "" {
		return domain.Invalid("old is required")
	}
	u, err := s.users.ByID(ctx, who.UserID)
	if err != nil {
		return domain.CallerGone(err)
	}
	if err := s.policy.Password.Check(in.Password, u.Email); err != nil {
		return err
	}
	if err := s.checkPassword(ctx, u, in.Old, in.Client.IP); err != nil {
		return err
	}
	return domain.CallerGone(s.setPassword(ctx, u, in.Password, who.SessionID, in.Client.Lang))
}

// checkPassword checks the account's current password as a login attempt
// of the account from ip: while either is locked it answers LOGIN_LOCKED,
// and a wrong password counts as a failed login (PASSWORD_INVALID), so a
// stolen session cannot guess it forever.
func (s *Service) checkPassword(ctx context.Context, u *domain.User, password, ip string) error {
	account := lockout.AccountKey(u, "")
	if err := s.guard.Admit(ctx, account, ip); err != nil {
		return err
	}
	ok, _, err := s.hasher.Verify(ctx, password, u.PasswordHash)
	if err != nil {
		s.guard.Abandoned(ctx, account, ip)
		return err
	}
	if !ok {
		if err := s.guard.Failed(ctx, account, ip); err != nil {
			return err
		}
		return domain.ErrPasswordInvalid
	}
	return s.guard.Succeeded(ctx, account, ip)
}

// setPassword stores a new hash, ends the account's sessions but keep, and
// sends the notice. The new hash bumps the credential epoch before the
// sessions are swept, so a login that checked the old password and is still
// in flight gives its session up (see auth's startSession).
func (s *Service) setPassword(ctx context.Context, u *domain.User, password string, keep domain.SessionID, lang domain.Lang) error {
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	u, err = s.users.Update(ctx, u.ID, func(u *domain.User) error {
		u.SetPassword(hash)
		return nil
	})
	if err != nil {
		return err
	}
	if _, err := s.sessions.DeleteAllForUser(ctx, u.ID, keep); err != nil {
		return err
	}
	return s.notify(ctx, u, domain.MailPasswordChanged, lang)
}
