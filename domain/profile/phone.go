package profile

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse/domain"
)

// SendBindCode sends a code that binds phone to the caller's account. A phone
// bound to another account is PHONE_TAKEN, and nothing is sent.
func (s *Service) SendBindCode(ctx context.Context, who domain.Claims, phone string, c domain.Client) error {
	phone, err := domain.ParsePhone(phone, s.policy.PhoneRegion)
	if err != nil {
		return err
	}
	owner, err := s.Users.ByPhone(ctx, phone)
	switch {
	case err == nil && owner.ID != who.UserID:
		return domain.ErrPhoneTaken
	case err != nil && !errors.Is(err, domain.ErrUserNotFound):
		return err
	}
	if err := s.Codes.Throttle(ctx, domain.PurposePhoneBind, phone); err != nil {
		return err
	}
	code, err := s.Codes.Issue(ctx, bindKey(who), phone, s.policy.BindCode)
	if err != nil {
		return err
	}
	return s.SMS.SendSMS(ctx, domain.SMS{Phone: phone, Code: code, Purpose: domain.PurposePhoneBind, Lang: c.Lang})
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
	if err := s.Codes.Use(ctx, bindKey(who), phone, in.Code, s.policy.BindCode); err != nil {
		return err
	}
	u, err := s.Users.Update(ctx, who.UserID, func(u *domain.User) error {
		u.Phone = phone
		return nil
	})
	if err != nil {
		return err
	}
	return s.notify(ctx, u, domain.MailPhoneChanged, in.Client.Lang)
}

func bindKey(who domain.Claims) domain.CodeKey {
	return domain.CodeKey{Purpose: domain.PurposePhoneBind, Owner: who.UserID}
}
