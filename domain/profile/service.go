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
	// EmailChangeHourlyLimit caps email changes per account per hour, and
	// BindNumbersHourlyLimit the distinct numbers an account may ask binding
	// codes for per hour (API.md "Abuse limits"); non-positive is off.
	EmailChangeHourlyLimit int
	BindNumbersHourlyLimit int
}

// Deps are what the service drives: its ports, the one-time codes and the
// lockout guard it shares with the auth service, and the logger.
// Every one is required: New refuses deps with one missing.
type Deps struct {
	Users    ports.UserStore
	Sessions ports.SessionStore
	// RecoveryCodes are made here and voided when TOTP is removed.
	RecoveryCodes ports.RecoveryCodeStore
	Hasher        ports.PasswordHasher
	SMS           ports.SMSSender
	Mail          ports.Mailer
	Codes         *onetime.Codes
	Guard         *lockout.Guard
	// Throttle keeps the per-account caps (email changes).
	Throttle ports.Throttle
	Log      *slog.Logger
}

// Service is the user profile service. Its dependencies are private, so
// that an adapter can only go through its methods.
type Service struct {
	users         ports.UserStore
	sessions      ports.SessionStore
	hasher        ports.PasswordHasher
	sms           ports.SMSSender
	mail          ports.Mailer
	codes         *onetime.Codes
	guard         *lockout.Guard
	throttle      ports.Throttle
	log           *slog.Logger
	recoveryCodes ports.RecoveryCodeStore
	policy        Policy
}

// New returns the service. Every dependency is required: a missing one is
// an error at start-up rather than a nil dereference on a rare path.
func New(d Deps, p Policy) (*Service, error) {
	if err := domain.RequireDependencies("profile",
		domain.Dependency{Name: "Users", Missing: d.Users == nil},
		domain.Dependency{Name: "Sessions", Missing: d.Sessions == nil},
		domain.Dependency{Name: "Hasher", Missing: d.Hasher == nil},
		domain.Dependency{Name: "SMS", Missing: d.SMS == nil},
		domain.Dependency{Name: "Mail", Missing: d.Mail == nil},
		domain.Dependency{Name: "RecoveryCodes", Missing: d.RecoveryCodes == nil},
		domain.Dependency{Name: "Codes", Missing: d.Codes == nil},
		domain.Dependency{Name: "Guard", Missing: d.Guard == nil},
		domain.Dependency{Name: "Throttle", Missing: d.Throttle == nil},
		domain.Dependency{Name: "Log", Missing: d.Log == nil},
	); err != nil {
		return nil, err
	}
	return &Service{
		users:         d.Users,
		sessions:      d.Sessions,
		hasher:        d.Hasher,
		sms:           d.SMS,
		mail:          d.Mail,
		codes:         d.Codes,
		guard:         d.Guard,
		throttle:      d.Throttle,
		log:           d.Log,
		recoveryCodes: d.RecoveryCodes,
		policy:        p,
	}, nil
}

// Get returns the caller's account.
func (s *Service) Get(ctx context.Context, who domain.Claims) (*domain.User, error) {
	u, err := s.users.ByID(ctx, who.UserID)
	return u, domain.CallerGone(err)
}

// notify sends a security notice to the account's address.
func (s *Service) notify(ctx context.Context, u *domain.User, kind domain.MailKind, lang domain.Lang) error {
	return s.mail.SendMail(ctx, domain.Mail{To: u.Email, Kind: kind, Lang: lang})
}
