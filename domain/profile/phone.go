package profile

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse/domain"
)

// SendBindCode sends a code that binds phone to the caller's account. The
// checks answer in the order of API.md: the format, the resend throttle of
// the phone (CODE_TOO_FREQUENT), a phone bound to another account
// (PHONE_TAKEN), then the caps (RATE_LIMITED): per client IP, and the
// distinct numbers the account asked codes for this hour. Nothing is sent
// or counted unless every check passes.
func (s *Service) SendBindCode(ctx context.Context, who domain.Claims, number string, c domain.Client) error {
	phone, err := domain.ParsePhone(number, s.policy.PhoneRegion)
	if err != nil {
		return err
	}
	send := s.codes.NewSend(domain.PurposePhoneBind, phone.String(), c).
		CapDistinct(domain.BindNumbersLimitKey(who.UserID), phone.String(), s.policy.BindNumbersHourlyLimit)
	if err := send.CheckTarget(ctx); err != nil {
		return err
	}
	owner, err := s.users.ByPhone(ctx, phone)
	switch {
	case err == nil && owner.ID != who.UserID:
		return domain.ErrPhoneTaken
	case err != nil && !errors.Is(err, domain.ErrUserNotFound):
		return err
	}
	if err := send.Record(ctx); err != nil {
		return err
	}
	code, err := s.codes.Issue(ctx, bindKey(who), phone.String(), s.policy.BindCode)
	if err != nil {
		return err
	}
	return s.sms.SendSMS(ctx, domain.SMS{Phone: phone, Code: code, Purpose: domain.PurposePhoneBind, Lang: c.Lang})
}

// PhoneBinding is the input of binding a phone.
type PhoneBinding struct {
	Phone  string
	Code   string
	Client domain.Client
}

// BindPhone binds the phone a code was sent to. The code is bound to both
// the account that asked for it and that phone.
func (s *Service) BindPhone(ctx context.Context, who domain.Claims, in PhoneBinding) error {
	phone, err := domain.ParsePhone(in.Phone, s.policy.PhoneRegion)
	if err != nil {
		return err
	}
	if !domain.IsCodeFormat(in.Code) {
		return domain.Invalid("code must be 6 digits")
	}
	// A wrong code counts against the client IP (see lockout.Guard.CheckFromIP).
	if err := s.guard.CheckFromIP(ctx, in.Client.IP, domain.ErrCodeInvalid, func() error {
		return s.codes.Use(ctx, bindKey(who), phone.String(), in.Code, s.policy.BindCode)
	}); err != nil {
		return err
	}
	u, err := s.users.Update(ctx, who.UserID, func(u *domain.User) error {
		u.Phone = phone
		return nil
	})
	if err != nil {
		return domain.CallerGone(err)
	}
	return s.notify(ctx, u, domain.MailPhoneChanged, in.Client.Lang)
}

func bindKey(who domain.Claims) domain.CodeKey {
	return domain.CodeKey{Purpose: domain.PurposePhoneBind, Owner: who.UserID.String()}
}
