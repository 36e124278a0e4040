package profile

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse/domain"
)

// Remove unbinds the phone, TOTP or Lark from the caller's account. Removing
// something not bound succeeds and changes nothing.
func (s *Service) Remove(ctx context.Context, who domain.Claims, key string, c domain.Client) error {
	var (
		kind   domain.MailKind
		remove func(u *domain.User) bool // clears the field, reports whether it was set
	)
	switch key {
	case "phone":
		kind, remove = domain.MailPhoneRemoved, func(u *domain.User) bool {
			was := u.Phone != ""
			u.Phone = ""
			return was
		}
	case "totp":
		kind, remove = domain.MailTOTPRemoved, func(u *domain.User) bool {
			was := u.TOTPSecret != ""
			u.TOTPSecret = ""
			return was
		}
	case "lark":
		kind, remove = domain.MailLarkRemoved, func(u *domain.User) bool {
			was := u.Lark != nil
			u.Lark = nil
			return was
		}
	default:
		return domain.Invalid("key must be phone, totp or lark")
	}
	u, err := s.Users.Update(ctx, who.UserID, func(u *domain.User) error {
		if !remove(u) {
			return errUnchanged
		}
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.notify(ctx, u, kind, c.Lang)
}

// errUnchanged stops an update that would change nothing, so an account's
// update time and notices only move when something did.
var errUnchanged = errors.New("nothing to change")
