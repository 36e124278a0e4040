package profile

import (
	"context"

	"github.com/gatehouse/gatehouse/domain"
)

// Remove unbinds the phone, TOTP or Lark from the caller's account. Removing
// something not bound succeeds and changes nothing.
func (s *Service) Remove(ctx context.Context, who domain.Claims, key string, c domain.Client) error {
	u, err := s.Users.ByID(ctx, who.UserID)
	if err != nil {
		return err
	}
	var kind domain.MailKind
	switch key {
	case "phone":
		if u.Phone == "" {
			return nil
		}
		u.Phone, kind = "", domain.MailPhoneRemoved
	case "totp":
		if u.TOTPSecret == "" {
			return nil
		}
		u.TOTPSecret, kind = "", domain.MailTOTPRemoved
	case "lark":
		if u.Lark == nil {
			return nil
		}
		u.Lark, kind = nil, domain.MailLarkRemoved
	default:
		return domain.Invalid("key must be phone, totp or lark")
	}
	if err := s.Users.Update(ctx, u); err != nil {
		return err
	}
	return s.notify(ctx, u, kind, c.Lang)
}
