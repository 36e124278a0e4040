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
	key := domain.EmailKey(email)
	if err := s.Codes.Throttle(ctx, domain.PurposeMailReset, key); err != nil {
		return err
	}
	u, err := lookup(s.Users.ByEmailKey(ctx, key))
	if err != nil || u == nil || !u.Active {
		return err
	}
	code, err := s.Codes.Issue(ctx, resetKey(key), "", s.policy.MailCode)
	if err != nil {
		return err
	}
	// The mail goes to the stored address, never to the variant typed here.
	return s.Mail.SendMail(ctx, domain.Mail{To: u.Email, Kind: domain.MailResetCode, Lang: c.Lang, Code: code})
}

// PasswordReset is the input of a password reset.
type PasswordReset struct {
	Email    string
	Code     string
	Password string
	Client   domain.Client
}

// ResetPassword sets a new password with an emailed code, ends every session
// of the account and lifts its lockout. The password policy is checked
// before the code is spent, so a weak choice can be corrected.
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
	key := domain.EmailKey(email)
	if err := s.Codes.Use(ctx, resetKey(key), "", in.Code, s.policy.MailCode); err != nil {
		return err
	}
	u, err := s.Users.ByEmailKey(ctx, key)
	if errors.Is(err, domain.ErrUserNotFound) {
		return domain.ErrCodeInvalid // the account went away after the code was sent
	}
	if err != nil {
		return err
	}
	hash, err := s.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return err
	}
	if _, err := s.Users.Update(ctx, u.ID, func(u *domain.User) error {
		u.PasswordHash = hash
		return nil
	}); err != nil {
		return err
	}
	if err := s.Sessions.DeleteAllForUser(ctx, u.ID, ""); err != nil {
		return err
	}
	if err := s.Guard.Clear(ctx, lockout.AccountKey(u, "")); err != nil {
		return err
	}
	return s.Mail.SendMail(ctx, domain.Mail{To: u.Email, Kind: domain.MailPasswordChanged, Lang: in.Client.Lang})
}

func resetKey(emailKey string) domain.CodeKey {
	return domain.CodeKey{Purpose: domain.PurposeMailReset, Owner: emailKey}
}
