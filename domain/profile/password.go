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
	u, err := s.Users.ByID(ctx, who.UserID)
	if err != nil {
		return err
	}
	if err := s.policy.Password.Check(in.Password, u.Email); err != nil {
		return err
	}
	account := lockout.AccountKey(u, "")
	if err := s.Guard.Admit(ctx, account, in.Client.IP); err != nil {
		return err
	}
	ok, _, err := s.Hasher.Verify(ctx, in.Old, u.PasswordHash)
	if err != nil {
		s.Guard.Abandoned(ctx, account, in.Client.IP)
		return err
	}
	if !ok {
		if err := s.Guard.Failed(ctx, account, in.Client.IP); err != nil {
			return err
		}
		return domain.ErrPasswordInvalid
	}
	if err := s.Guard.Succeeded(ctx, account, in.Client.IP); err != nil {
		return err
	}
	return s.setPassword(ctx, u, in.Password, who.SessionID, in.Client.Lang)
}

// setPassword stores a new hash, ends the account's sessions but keep, and
// sends the notice.
func (s *Service) setPassword(ctx context.Context, u *domain.User, password, keep string, lang domain.Lang) error {
	hash, err := s.Hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	u, err = s.Users.Update(ctx, u.ID, func(u *domain.User) error {
		u.PasswordHash = hash
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.Sessions.DeleteAllForUser(ctx, u.ID, keep); err != nil {
		return err
	}
	return s.notify(ctx, u, domain.MailPasswordChanged, lang)
}
