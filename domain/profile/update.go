package profile

import (
	"context"
	"errors"
	"strings"

	"github.com/gatehouse/gatehouse/domain"
)

// The fields PATCH /user can change, named as the API names them.
const (
	FieldEmail  = "Email"
	FieldName   = "Name"
	FieldAvatar = "Avatar"
)

// Update is the input of a profile edit: Key names the one field to change,
// in any case (the original server took "email", "name" and "avatar", and
// its dashboard still sends them so), and that field is required.
type Update struct {
	Key    string
	Email  *string
	Name   *string
	Avatar *string
	Client domain.Client
}

// Update changes one field of the caller's profile. A new email must be free
// (EMAIL_TAKEN otherwise) and within the account's hourly changes
// (RATE_LIMITED otherwise), and a notice goes to the old address.
func (s *Service) Update(ctx context.Context, who domain.Claims, in Update) error {
	var (
		set      func(u *domain.User) error
		newEmail string
	)
	switch {
	case strings.EqualFold(in.Key, FieldEmail):
		if in.Email == nil {
			return domain.Invalid("email is required when key is Email")
		}
		email, err := domain.ParseEmail(*in.Email)
		if err != nil {
			return err
		}
		newEmail = email
		set = func(u *domain.User) error {
			if email == u.Email {
				return errUnchanged
			}
			u.Email, u.EmailKey = email, domain.NewEmailKey(email)
			return nil
		}
	case strings.EqualFold(in.Key, FieldName):
		if in.Name == nil || *in.Name == "" {
			return domain.Invalid("name is required when key is Name")
		}
		if err := domain.ValidateName(*in.Name); err != nil {
			return err
		}
		set = func(u *domain.User) error { u.Name = *in.Name; return nil }
	case strings.EqualFold(in.Key, FieldAvatar):
		if in.Avatar == nil {
			return domain.Invalid("avatar is required when key is Avatar")
		}
		if err := domain.ValidateAvatar(*in.Avatar); err != nil {
			return err
		}
		set = func(u *domain.User) error { u.Avatar = *in.Avatar; return nil }
	default:
		return domain.Invalid("key must be Email, Name or Avatar")
	}
	if newEmail != "" {
		if err := s.countEmailChange(ctx, who, newEmail); err != nil {
			return err
		}
	}
	var oldEmail string
	u, err := s.users.Update(ctx, who.UserID, func(u *domain.User) error {
		oldEmail = u.Email
		return set(u)
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	if err != nil {
		return domain.CallerGone(err)
	}
	if u.Email != oldEmail {
		return s.mail.SendMail(ctx, domain.Mail{To: oldEmail, Kind: domain.MailEmailChanged, Lang: in.Client.Lang, NewEmail: u.Email})
	}
	return nil
}

// countEmailChange counts one email change of the account, or returns
// RATE_LIMITED when the hour's changes are spent. As at phone binding, a
// request that another check refuses counts nothing: an address that is
// already the account's, or one taken by another account (EMAIL_TAKEN
// answers first). The change is counted before it is written, in one atomic
// step, so parallel requests cannot slip past the cap; one that then fails
// to write (the address was taken in between) stays counted.
func (s *Service) countEmailChange(ctx context.Context, who domain.Claims, email string) error {
	if s.policy.EmailChangeHourlyLimit <= 0 {
		return nil
	}
	u, err := s.users.ByID(ctx, who.UserID)
	if err != nil {
		return err
	}
	if u.Email == email {
		return nil
	}
	holder, err := s.users.ByEmailKey(ctx, domain.NewEmailKey(email))
	switch {
	case err == nil && holder.ID != u.ID:
		return domain.ErrEmailTaken
	case err != nil && !errors.Is(err, domain.ErrUserNotFound):
		return err
	}
	wait, err := s.throttle.Allow(ctx, domain.EmailChangeLimitKey(u.ID), 0, s.policy.EmailChangeHourlyLimit)
	if err != nil {
		return err
	}
	if wait > 0 {
		return domain.RateLimited(wait)
	}
	return nil
}
