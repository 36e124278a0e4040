package profile

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse/domain"
)

// The fields PATCH /user can change, named as the API names them.
const (
	FieldEmail  = "Email"
	FieldName   = "Name"
	FieldAvatar = "Avatar"
)

// Update is the input of a profile edit: Key names the one field to change,
// and that field is required.
type Update struct {
	Key    string
	Email  *string
	Name   *string
	Avatar *string
	Client domain.Client
}

// Update changes one field of the caller's profile. A new email must be free
// (EMAIL_TAKEN otherwise), and a notice goes to the old address.
func (s *Service) Update(ctx context.Context, who domain.Claims, in Update) error {
	var set func(u *domain.User) error
	switch in.Key {
	case FieldEmail:
		if in.Email == nil {
			return domain.Invalid("email is required when key is Email")
		}
		email, err := domain.ParseEmail(*in.Email)
		if err != nil {
			return err
		}
		set = func(u *domain.User) error {
			if email == u.Email {
				return errUnchanged
			}
			u.Email, u.EmailKey = email, domain.EmailKey(email)
			return nil
		}
	case FieldName:
		if in.Name == nil || *in.Name == "" {
			return domain.Invalid("name is required when key is Name")
		}
		if err := domain.ValidateName(*in.Name); err != nil {
			return err
		}
		set = func(u *domain.User) error { u.Name = *in.Name; return nil }
	case FieldAvatar:
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
	var oldEmail string
	u, err := s.Users.Update(ctx, who.UserID, func(u *domain.User) error {
		oldEmail = u.Email
		return set(u)
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	if err != nil {
		return err
	}
	if u.Email != oldEmail {
		return s.Mail.SendMail(ctx, domain.Mail{To: oldEmail, Kind: domain.MailEmailChanged, Lang: in.Client.Lang, NewEmail: u.Email})
	}
	return nil
}
