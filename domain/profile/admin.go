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
	u := &domain.User{Email: email, EmailKey: domain.NewEmailKey(email), Name: in.Name, Active: true}
	if in.Phone != "" {
		if u.Phone, err = domain.ParsePhone(in.Phone, s.policy.PhoneRegion); err != nil {
			return nil, err
		}
	}
	if u.PasswordHash, err = s.hasher.Hash(ctx, in.Password); err != nil {
		return nil, err
	}
	if err := s.users.Create(ctx, u); err != nil {
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
	_, err = s.users.ByEmailKey(ctx, domain.NewEmailKey(email))
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
	return s.users.List(ctx)
}

// TOTPState is how an account's TOTP stands, for operators.
type TOTPState string

// The TOTP states.
const (
	TOTPUnbound TOTPState = "unbound"
	TOTPBound   TOTPState = "bound"
	// TOTPUnreadable is a bound secret that does not open with the
	// configured keys: the account cannot log in by TOTP until the old key
	// is configured again or the secret is bound anew.
	TOTPUnreadable TOTPState = "unreadable"
)

// TOTPState tells whether u has TOTP bound and whether its secret opens. It
// opens the secret in memory and forgets it.
func (s *Service) TOTPState(u *domain.User) TOTPState {
	if u.TOTP == nil {
		return TOTPUnbound
	}
	if _, err := s.users.OpenTOTP(u.ID, *u.TOTP); err != nil {
		return TOTPUnreadable
	}
	return TOTPBound
}

// SetActive enables or disables an account. Disabling ends all its sessions:
// the update bumps the credential epoch first, so a login that read the
// account as active and is still in flight gives its session up (see auth's
// startSession), and the sweep that follows ends the rest.
func (s *Service) SetActive(ctx context.Context, email string, active bool) error {
	u, err := s.byEmail(ctx, email)
	if err != nil {
		return err
	}
	if _, err := s.users.Update(ctx, u.ID, func(u *domain.User) error {
		u.SetActive(active)
		return nil
	}); err != nil {
		return err
	}
	if active {
		return nil
	}
	_, err = s.sessions.DeleteAllForUser(ctx, u.ID, "")
	return err
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
	return s.users.ByEmailKey(ctx, domain.NewEmailKey(email))
}
