package auth

import (
	"context"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/lockout"
)

// PasswordLogin is the input of a login by email and password.
type PasswordLogin struct {
	Email    string
	Password string
	Client   domain.Client
}

// Login checks an email and password and opens a session. Unknown accounts,
// disabled accounts and wrong passwords all answer LOGIN_INVALID after one
// password hash's worth of time.
func (s *Service) Login(ctx context.Context, in PasswordLogin) (login Login, err error) {
	defer func() { s.observeLogin(domain.LoginEmail, err) }()
	return s.login(ctx, in)
}

func (s *Service) login(ctx context.Context, in PasswordLogin) (Login, error) {
	email, err := domain.ParseEmail(in.Email)
	if err != nil {
		return Login{}, err
	}
	if in.Password == "" {
		return Login{}, domain.Invalid("password is required")
	}
	u, account, err := s.admitByEmail(ctx, email, domain.LoginEmail, in.Client)
	if err != nil {
		return Login{}, err
	}
	if u == nil {
		s.hasher.Burn(ctx, in.Password)
		return Login{}, s.failLogin(ctx, nil, account, domain.LoginEmail, in.Client)
	}
	ok, rehash, err := s.hasher.Verify(ctx, in.Password, u.PasswordHash)
	if err != nil {
		s.guard.Abandoned(ctx, account, in.Client.IP)
		return Login{}, err
	}
	if !ok || !u.Active {
		return Login{}, s.failLogin(ctx, u, account, domain.LoginEmail, in.Client)
	}
	if err := s.guard.Succeeded(ctx, account, in.Client.IP); err != nil {
		return Login{}, err
	}
	if rehash {
		s.rehash(ctx, u, in.Password)
	}
	return s.startSession(ctx, u, domain.LoginEmail, in.Client)
}

// admitByEmail finds the account a login names (nil when there is none) and
// its lockout key, and admits the attempt (see admit).
func (s *Service) admitByEmail(ctx context.Context, email string, method domain.LoginMethod, c domain.Client) (*domain.User, lockout.Account, error) {
	key := domain.NewEmailKey(email)
	u, err := lookup(s.users.ByEmailKey(ctx, key))
	if err != nil {
		return nil, lockout.Account{}, err
	}
	account := lockout.AccountKey(u, "email:"+key.String())
	return u, account, s.admit(ctx, u, account, method, c)
}

// rehash upgrades a hash made with outdated parameters. It is best effort:
// the login succeeds whether or not the new hash could be stored. The new
// hash replaces only the one it was checked against, never a password set
// meanwhile.
func (s *Service) rehash(ctx context.Context, u *domain.User, password string) {
	checked := u.PasswordHash
	hash, err := s.hasher.Hash(ctx, password)
	if err == nil {
		_, err = s.users.Update(ctx, u.ID, func(u *domain.User) error {
			if u.PasswordHash == checked {
				// Same password, new parameters: not a revocation, so the
				// credential epoch stays.
				u.PasswordHash = hash
			}
			return nil
		})
	}
	if err != nil {
		s.log.Warn("rehash password", "user", u.ID, "err", err)
	}
}
