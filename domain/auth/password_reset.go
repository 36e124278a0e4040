package auth

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/lockout"
)

// SendResetCode mails a password reset code to an active account. Unknown
// addresses get the same answer and no mail.
func (s *Service) SendResetCode(ctx context.Context, email string, c domain.Client) error {
	email, err := domain.ParseEmail(email)
	if err != nil {
		return err
	}
	key := domain.NewEmailKey(email)
	if err := s.codes.Throttle(ctx, domain.PurposeMailReset, key.String(), c); err != nil {
		return err
	}
	u, err := lookup(s.users.ByEmailKey(ctx, key))
	if err != nil || u == nil || !u.Active {
		return err
	}
	code, err := s.codes.Issue(ctx, resetKey(key), "", s.policy.MailCode)
	if err != nil {
		return err
	}
	// The mail goes to the stored address, never to the variant typed here.
	return s.mail.SendMail(ctx, domain.Mail{To: u.Email, Kind: domain.MailResetCode, Lang: c.Lang, Code: code})
}

// PasswordReset is the input of a password reset.
type PasswordReset struct {
	Email    string
	Code     string
	Password string
	Client   domain.Client
}

// ResetPassword sets a new password with an emailed code, ends every session
// of the account, voids its recovery codes and lifts its lockout. The
// password policy is checked before the code is spent, so a weak choice can
// be corrected.
func (s *Service) ResetPassword(ctx context.Context, in PasswordReset) error {
	email, err := domain.ParseEmail(in.Email)
	if err != nil {
		return err
	}
	if !domain.IsCodeFormat(in.Code) {
		return domain.Invalid("code must be 6 digits")
	}
	if err := s.policy.Password.Check(in.Password, email); err != nil {
		return err
	}
	key := domain.NewEmailKey(email)
	// A wrong code counts against the client IP, so guessing codes across
	// many accounts from one place is bounded like guessing passwords.
	if err := s.guard.CheckFromIP(ctx, in.Client.IP, domain.ErrCodeInvalid, func() error {
		return s.codes.Use(ctx, resetKey(key), "", in.Code, s.policy.MailCode)
	}); err != nil {
		return err
	}
	u, err := s.users.ByEmailKey(ctx, key)
	if errors.Is(err, domain.ErrUserNotFound) {
		return domain.ErrCodeInvalid // the account went away after the code was sent
	}
	if err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return err
	}
	// The new hash bumps the credential epoch before the sweep below, so no
	// login in flight with the old password keeps its session.
	if _, err := s.users.Update(ctx, u.ID, func(u *domain.User) error {
		u.SetPassword(hash)
		return nil
	}); err != nil {
		return err
	}
	if _, err := s.sessions.DeleteAllForUser(ctx, u.ID, ""); err != nil {
		return err
	}
	// Whoever needed the reset may have lost the codes along with the
	// password; they must not keep opening the account.
	if err := s.recoveryCodes.Void(ctx, u.ID); err != nil {
		return err
	}
	if err := s.guard.Clear(ctx, lockout.AccountKey(u, "")); err != nil {
		return err
	}
	return s.mail.SendMail(ctx, domain.Mail{To: u.Email, Kind: domain.MailPasswordChanged, Lang: in.Client.Lang})
}

func resetKey(emailKey domain.EmailKey) domain.CodeKey {
	return domain.CodeKey{Purpose: domain.PurposeMailReset, Owner: emailKey.String()}
}
