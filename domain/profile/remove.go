package profile

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse/domain"
)

// Remove unbinds the phone, TOTP or Lark from the caller's account;
// removing TOTP voids the recovery codes too. Removing something not bound
// succeeds and changes nothing.
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
			was := u.TOTP != nil
			u.TOTP = nil
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
	u, err := s.users.Update(ctx, who.UserID, func(u *domain.User) error {
		if !remove(u) {
			return errUnchanged
		}
		return nil
	})
	changed := !errors.Is(err, errUnchanged)
	if changed && err != nil {
		return domain.CallerGone(err)
	}
	if key == "totp" {
		// Recovery codes stand in for TOTP: without it they are void. Also
		// when nothing was bound, so a set left behind by an earlier
		// failure goes now.
		if err := s.recoveryCodes.Void(ctx, who.UserID); err != nil {
			return err
		}
	}
	if !changed {
		return nil
	}
	return s.notify(ctx, u, kind, c.Lang)
}

// errUnchanged stops an update that would change nothing, so an account's
// update time and notices only move when something did.
var errUnchanged = errors.New("nothing to change")
