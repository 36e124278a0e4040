package profile

import (
	"context"
	"errors"

	"github.com/gatehouse/gatehouse/domain"
)

// NewAccount is the input of creating an account from the command line, the
// bootstrap pair or the seed file.
type NewAccount struct {
	Email    string
	Password string
	Name     string
	Phone    string
}

// CreateAccount creates an active account. The password policy applies.
func (s *Service) CreateAccount(ctx context.Context, in NewAccount) (*domain.User, error) {
	email, err := domain.ParseEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if err := s.policy.Password.Check(in.Password, email); err != nil {
		return nil, err
	}
	if err := domain.ValidateName(in.Name); err != nil {
		return nil, err
	}
	u := &domain.User{Email: email, EmailKey: domain.EmailKey(email), Name: in.Name, Active: true}
	if in.Phone != "" {
		if u.Phone, err = domain.ParsePhone(in.Phone, s.policy.PhoneRegion); err != nil {
			return nil, err
		}
	}
	if u.PasswordHash, err = s.Hasher.Hash(ctx, in.Password); err != nil {
		return nil, err
	}
	if err := s.Users.Create(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// EnsureAccount creates the account unless one with its email exists, and
// reports whether it did. Start-up seeding uses it, so restarts are harmless.
func (s *Service) EnsureAccount(ctx context.Context, in NewAccount) (bool, error) {
	email, err := domain.ParseEmail(in.Email)
	if err != nil {
		return false, err
	}
	_, err = s.Users.ByEmailKey(ctx, domain.EmailKey(email))
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, domain.ErrUserNotFound) {
		return false, err
	}
	_, err = s.CreateAccount(ctx, in)
	if errors.Is(err, domain.ErrEmailTaken) {
		return false, nil // another replica seeded it first
	}
	return err == nil, err
}

// ListAccounts returns every account, oldest first.
func (s *Service) ListAccounts(ctx context.Context) ([]domain.User, error) {
	return s.Users.List(ctx)
}

// SetActive enables or disables an account. Disabling ends all its sessions.
func (s *Service) SetActive(ctx context.Context, email string, active bool) error {
	u, err := s.byEmail(ctx, email)
	if err != nil {
		return err
	}
	if _, err := s.Users.Update(ctx, u.ID, func(u *domain.User) error {
		u.Active = active
		return nil
	}); err != nil {
		return err
	}
	if active {
		return nil
	}
	return s.Sessions.DeleteAllForUser(ctx, u.ID, "")
}

// SetPassword replaces an account's password (policy applies) and ends all
// its sessions.
func (s *Service) SetPassword(ctx context.Context, email, password string) error {
	u, err := s.byEmail(ctx, email)
	if err != nil {
		return err
	}
	if err := s.policy.Password.Check(password, u.Email); err != nil {
		return err
	}
	return s.setPassword(ctx, u, password, "", domain.LangEnglish)
}

func (s *Service) byEmail(ctx context.Context, email string) (*domain.User, error) {
	email, err := domain.ParseEmail(email)
	if err != nil {
		return nil, err
	}
	return s.Users.ByEmailKey(ctx, domain.EmailKey(email))
}
