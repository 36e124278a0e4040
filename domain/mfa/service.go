// Package mfa is the TOTP enrolment service: it offers a fresh secret, keeps
// it pending until the person proves their authenticator shows two
// consecutive codes, and then binds it to the account.
package mfa

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// Policy is what the service needs to know.
type Policy struct {
	Issuer     string        // the issuer shown in authenticator apps
	PendingTTL time.Duration // how long an offered secret waits, default 5 min
	TOTP       domain.TOTPPolicy
}

// Deps are what the service drives: its ports and the source of random
// bytes for new secrets.
// Every one is required: New refuses deps with one missing.
type Deps struct {
	Users ports.UserStore
	TOTP  ports.TOTPStore
	// RecoveryCodes are voided when a new secret is bound.
	RecoveryCodes ports.RecoveryCodeStore
	Mail          ports.Mailer
	Clock         ports.Clock
	Random        io.Reader
}

// Service is the TOTP enrolment service. Its dependencies are private, so
// that an adapter can only go through its methods.
type Service struct {
	users         ports.UserStore
	totp          ports.TOTPStore
	mail          ports.Mailer
	clock         ports.Clock
	random        io.Reader
	recoveryCodes ports.RecoveryCodeStore
	policy        Policy
}

// New returns the service. Every dependency is required: a missing one is
// an error at start-up rather than a nil dereference on a rare path.
func New(d Deps, p Policy) (*Service, error) {
	if err := domain.RequireDependencies("mfa",
		domain.Dependency{Name: "Users", Missing: d.Users == nil},
		domain.Dependency{Name: "TOTP", Missing: d.TOTP == nil},
		domain.Dependency{Name: "Mail", Missing: d.Mail == nil},
		domain.Dependency{Name: "RecoveryCodes", Missing: d.RecoveryCodes == nil},
		domain.Dependency{Name: "Clock", Missing: d.Clock == nil},
		domain.Dependency{Name: "Random", Missing: d.Random == nil},
	); err != nil {
		return nil, err
	}
	return &Service{
		users:         d.Users,
		totp:          d.TOTP,
		mail:          d.Mail,
		clock:         d.Clock,
		random:        d.Random,
		recoveryCodes: d.RecoveryCodes,
		policy:        p,
	}, nil
}

// Offer makes a fresh secret for the caller, keeps it pending, and returns its
// otpauth:// URL. Nothing is bound yet; a later offer replaces this one.
func (s *Service) Offer(ctx context.Context, who domain.Claims) (string, error) {
	u, err := s.users.ByID(ctx, who.UserID)
	if err != nil {
		return "", domain.CallerGone(err)
	}
	secret, keyURL, err := s.policy.TOTP.NewKey(s.policy.Issuer, u.Email, s.random)
	if err != nil {
		return "", err
	}
	if err := s.totp.PutPending(ctx, u.ID, secret, s.policy.PendingTTL); err != nil {
		return "", err
	}
	return keyURL, nil
}

// Binding is the input of binding the pending secret: its URL and the codes
// of two consecutive steps.
type Binding struct {
	URL    string
	Codes  []string
	Client domain.Client
}

// Bind binds the pending secret when Codes[0] is the code of some step s and
// Codes[1] the code of s+1, with s+1 within ±1 step of now. Both steps count
// as used, so neither logs in later. Binding replaces a bound secret and
// voids the account's recovery codes.
func (s *Service) Bind(ctx context.Context, who domain.Claims, in Binding) error {
	if t := s.policy.TOTP; len(in.Codes) != 2 || !t.IsCodeFormat(in.Codes[0]) || !t.IsCodeFormat(in.Codes[1]) {
		return domain.Invalid(fmt.Sprintf("tss must hold two %d-digit codes", t.Digits))
	}
	offered, ok := domain.TOTPSecretOfURL(in.URL)
	if !ok {
		return domain.Invalid("totp must be the otpauth:// URL that was offered")
	}
	pending, err := s.totp.Pending(ctx, who.UserID)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.ErrTOTPInvalid
	}
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(offered), []byte(pending)) != 1 {
		return domain.ErrTOTPInvalid
	}
	step, ok := consecutiveStep(s.policy.TOTP, pending, in.Codes, s.clock.Now())
	if !ok {
		return domain.ErrTOTPInvalid
	}
	fresh, err := s.totp.UseSteps(ctx, who.UserID, []int64{step, step + 1}, s.policy.TOTP.UsedStepTTL())
	if err != nil {
		return err
	}
	if !fresh {
		return domain.ErrTOTPInvalid
	}
	u, err := s.users.Update(ctx, who.UserID, func(u *domain.User) error {
		sealed, err := s.users.SealTOTP(u.ID, pending)
		if err != nil {
			return err
		}
		u.TOTP = sealed
		return nil
	})
	if err != nil {
		return domain.CallerGone(err)
	}
	// Codes made for the previous secret do not stand in for this one.
	if err := s.recoveryCodes.Void(ctx, u.ID); err != nil {
		return err
	}
	if err := s.totp.DeletePending(ctx, u.ID); err != nil {
		return err
	}
	return s.mail.SendMail(ctx, domain.Mail{To: u.Email, Kind: domain.MailTOTPChanged, Lang: in.Client.Lang})
}

// consecutiveStep finds s with codes[0] the code of s and codes[1] that of
// s+1, where s+1 lies within ±skew steps of now.
func consecutiveStep(p domain.TOTPPolicy, secret string, codes []string, now time.Time) (int64, bool) {
	current := p.Step(now)
	var found int64
	matched := 0
	for next := current - int64(p.Skew); next <= current+int64(p.Skew); next++ {
		first, err1 := p.CodeAt(secret, next-1)
		second, err2 := p.CodeAt(secret, next)
		if err1 != nil || err2 != nil {
			return 0, false
		}
		ok := subtle.ConstantTimeCompare([]byte(first), []byte(codes[0])) &
			subtle.ConstantTimeCompare([]byte(second), []byte(codes[1]))
		if ok == 1 && matched == 0 {
			found, matched = next-1, 1
		}
	}
	return found, matched == 1
}
