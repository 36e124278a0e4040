package auth

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/lockout"
)

// SendLoginSMS sends a login code to phone when it belongs to an active
// account. Unknown phones get the same answer, after the same work, and no
// SMS, and the resend throttle applies to both, so the route cannot tell
// who is registered.
func (s *Service) SendLoginSMS(ctx context.Context, number string, c domain.Client) error {
	phone, err := domain.ParsePhone(number, s.policy.PhoneRegion)
	if err != nil {
		return err
	}
	if err := s.codes.Throttle(ctx, domain.PurposeSMSLogin, phone.String(), c); err != nil {
		return err
	}
	u, err := lookup(s.users.ByPhone(ctx, phone))
	if err != nil {
		return err
	}
	// The code is stored whoever the phone belongs to, so the answer takes
	// the same store work either way; for a phone of no active account it
	// is sent to nobody, and LoginSMS refuses that phone whatever the code.
	code, err := s.codes.Issue(ctx, smsLoginKey(phone), "", s.policy.SMSCode)
	if err != nil || u == nil || !u.Active {
		return err
	}
	return s.sms.SendSMS(ctx, domain.SMS{Phone: phone, Code: code, Purpose: domain.PurposeSMSLogin, Lang: c.Lang})
}

// SMSLogin is the input of a login by SMS code.
type SMSLogin struct {
	Phone  string
	Code   string
	Client domain.Client
}

// LoginSMS checks an SMS login code and opens a session.
func (s *Service) LoginSMS(ctx context.Context, in SMSLogin) (login Login, err error) {
	defer func() { s.observeLogin(domain.LoginSMS, err) }()
	return s.loginSMS(ctx, in)
}

func (s *Service) loginSMS(ctx context.Context, in SMSLogin) (Login, error) {
	phone, err := domain.ParsePhone(in.Phone, s.policy.PhoneRegion)
	if err != nil {
		return Login{}, err
	}
	if !domain.IsCodeFormat(in.Code) {
		return Login{}, domain.Invalid("code must be 6 digits")
	}
	u, err := lookup(s.users.ByPhone(ctx, phone))
	if err != nil {
		return Login{}, err
	}
	account := lockout.AccountKey(u, "phone:"+phone.String())
	if err := s.admit(ctx, u, account, domain.LoginSMS, in.Client); err != nil {
		return Login{}, err
	}
	err = s.codes.Use(ctx, smsLoginKey(phone), "", in.Code, s.policy.SMSCode)
	if err != nil && !errors.Is(err, domain.ErrCodeInvalid) {
		s.guard.Abandoned(ctx, account, in.Client.IP)
		return Login{}, err
	}
	if err != nil || u == nil || !u.Active {
		return Login{}, s.failLogin(ctx, u, account, domain.LoginSMS, in.Client)
	}
	if err := s.guard.Succeeded(ctx, account, in.Client.IP); err != nil {
		return Login{}, err
	}
	return s.startSession(ctx, u, domain.LoginSMS, in.Client)
}

func smsLoginKey(phone domain.Phone) domain.CodeKey {
	return domain.CodeKey{Purpose: domain.PurposeSMSLogin, Owner: phone.String()}
}
