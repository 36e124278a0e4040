// Package profile is the user profile service: reading the account, editing
// email, name and avatar, changing the password, binding and removing the
// phone, TOTP and Lark, and the administrative operations of the command
// line (create, list, disable, enable, set password).
package profile

import (
	"context"
	"log/slog"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/lockout"
	"github.com/gatehouse/gatehouse/domain/onetime"
	"github.com/gatehouse/gatehouse/ports"
)

// Policy is every number and rule the service applies.
type Policy struct {
	Password    domain.PasswordPolicy
	BindCode    domain.CodePolicy
	PhoneRegion string
}

// Deps are the ports the service drives.
type Deps struct {
	Users    ports.UserStore
	Sessions ports.SessionStore
	Hasher   ports.PasswordHasher
	SMS      ports.SMSSender
	Mail     ports.Mailer
	Codes    *onetime.Codes
	Guard    *lockout.Guard
	Log      *slog.Logger
}

// Service is the user profile service.
type Service struct {
	Deps
	policy Policy
}

// New returns the service.
func New(d Deps, p Policy) *Service {
	return &Service{Deps: d, policy: p}
}

// Get returns the caller's account.
func (s *Service) Get(ctx context.Context, who domain.Claims) (*domain.User, error) {
	return s.Users.ByID(ctx, who.UserID)
}

// notify sends a security notice to the account's address.
func (s *Service) notify(ctx context.Context, u *domain.User, kind domain.MailKind, lang domain.Lang) error {
	return s.Mail.SendMail(ctx, domain.Mail{To: u.Email, Kind: kind, Lang: lang})
}
