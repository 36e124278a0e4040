package auth

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/lockout"
)

// SendLoginSMS sends a login code to phone when it belongs to an active
// account. Unknown phones get the same answer and no SMS, and the resend
// throttle applies to both, so the route cannot tell who is registered.
func (s *Service) SendLoginSMS(ctx context.Context, phone string, c domain.Client) error {
	phone, err := domain.ParsePhone(phone, s.policy.PhoneRegion)
	if err != nil {
		return err
	}
	if err := s.Codes.Throttle(ctx, domain.PurposeSMSLogin, phone); err != nil {
		return err
	}
	u, err := lookup(s.Users.ByPhone(ctx, phone))
	if err != nil || u == nil || !u.Active {
		return err
	}
	code, err := s.Codes.Issue(ctx, smsLoginKey(phone), "", s.policy.SMSCode)
	if err != nil {
		return err
	}
	return s.SMS.SendSMS(ctx, domain.SMS{Phone: phone, Code: code, Purpose: domain.PurposeSMSLogin, Lang: c.Lang})
}

// SMSLogin is the input of a login by SMS code.
type SMSLogin struct {
	Phone  string
	Code   string
	Client domain.Client
}

// LoginSMS checks an SMS login code and opens a session.
func (s *Service) LoginSMS(ctx context.Context, in SMSLogin) (Login, error) {
	phone, err := domain.ParsePhone(in.Phone, s.policy.PhoneRegion)
	if err != nil {
		return Login{}, err
	}
	if !domain.IsCodeFormat(in.Code) {
		return Login{}, domain.Invalid("code must be 6 digits")
	}
	u, err := lookup(s.Users.ByPhone(ctx, phone))
	if err != nil {
		return Login{}, err
	}
	account := lockout.AccountKey(u, "phone:"+phone)
	if err := s.Guard.Admit(ctx, account, in.Client.IP); err != nil {
		return Login{}, err
	}
	err = s.Codes.Use(ctx, smsLoginKey(phone), "", in.Code, s.policy.SMSCode)
	if err != nil && !errors.Is(err, domain.ErrCodeInvalid) {
		s.Guard.Abandoned(ctx, account, in.Client.IP)
		return Login{}, err
	}
	if err != nil || u == nil || !u.Active {
		return Login{}, s.failLogin(ctx, u, account, domain.LoginSMS, in.Client)
	}
	if err := s.Guard.Succeeded(ctx, account, in.Client.IP); err != nil {
		return Login{}, err
	}
	return s.startSession(ctx, u, domain.LoginSMS, in.Client)
}

func smsLoginKey(phone string) domain.CodeKey {
	return domain.CodeKey{Purpose: domain.PurposeSMSLogin, Owner: phone}
}
