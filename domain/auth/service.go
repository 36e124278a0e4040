// Package auth is the authentication service: logging in by password, SMS
// code or TOTP, resetting a forgotten password, and keeping sessions (verify,
// refresh, logout). It reaches storage, hashing, tokens and delivery only
// through ports, and time only through ports.Clock.
package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/lockout"
	"github.com/gatehouse/gatehouse/domain/onetime"
	"github.com/gatehouse/gatehouse/ports"
)

// Policy is every number the service applies.
type Policy struct {
	Session     domain.SessionPolicy
	SMSCode     domain.CodePolicy
	MailCode    domain.CodePolicy
	RefreshCode domain.CodePolicy
	Password    domain.PasswordPolicy
	TOTP        domain.TOTPPolicy
	PhoneRegion string
}

// Deps are the ports the service drives.
type Deps struct {
	Users    ports.UserStore
	Sessions ports.SessionStore
	TOTP     ports.TOTPStore
	Hasher   ports.PasswordHasher
	Tokens   ports.TokenIssuer
	SMS      ports.SMSSender
	Mail     ports.Mailer
	Clock    ports.Clock
	Codes    *onetime.Codes
	Guard    *lockout.Guard
	Log      *slog.Logger
}

// Service is the authentication service.
type Service struct {
	Deps
	policy Policy
}

// New returns the service.
func New(d Deps, p Policy) *Service {
	return &Service{Deps: d, policy: p}
}

// Login is a successful login: the access token and when it expires.
type Login struct {
	Token     string
	ExpiresAt time.Time
}

// startSession opens a new session for u, signs its token and records the
// login. If recording fails the session is ended again, so a failed login
// leaves nothing behind.
func (s *Service) startSession(ctx context.Context, u *domain.User, method domain.LoginMethod, c domain.Client) (Login, error) {
	now := s.Clock.Now()
	sess := domain.Session{
		ID:             newSessionID(),
		UserID:         u.ID,
		CreatedAt:      now,
		AbsoluteExpiry: now.Add(s.policy.Session.AbsoluteExpiry),
		IdleTimeout:    s.policy.Session.IdleTimeout,
	}
	if err := s.Sessions.Create(ctx, sess, sess.IdleTTL(now)); err != nil {
		return Login{}, err
	}
	login, err := s.issue(sess, now)
	if err == nil {
		err = s.Users.RecordLogin(ctx, u.ID, domain.LoginRecord{Time: now, IP: c.IP, UserAgent: c.UserAgent, Method: method, Success: true})
	}
	if err != nil {
		if derr := s.Sessions.Delete(context.WithoutCancel(ctx), u.ID, sess.ID); derr != nil {
			s.Log.Error("end session after failed login", "err", derr)
		}
		return Login{}, err
	}
	return login, nil
}

// issue signs a token for sess that expires after the token TTL, or at the
// session's absolute expiry if that comes first.
func (s *Service) issue(sess domain.Session, now time.Time) (Login, error) {
	exp := now.Add(s.policy.Session.TokenTTL)
	if !sess.AbsoluteExpiry.IsZero() && sess.AbsoluteExpiry.Before(exp) {
		exp = sess.AbsoluteExpiry
	}
	token, err := s.Tokens.Issue(domain.Claims{UserID: sess.UserID, SessionID: sess.ID, IssuedAt: now, ExpiresAt: exp})
	if err != nil {
		return Login{}, err
	}
	return Login{Token: token, ExpiresAt: exp}, nil
}

// failLogin settles an admitted login as failed and answers LOGIN_INVALID. Known accounts
// get a failed line in their history.
func (s *Service) failLogin(ctx context.Context, u *domain.User, account string, method domain.LoginMethod, c domain.Client) error {
	if err := s.Guard.Failed(ctx, account, c.IP); err != nil {
		return err
	}
	if u != nil {
		rec := domain.LoginRecord{Time: s.Clock.Now(), IP: c.IP, UserAgent: c.UserAgent, Method: method}
		if err := s.Users.RecordLogin(ctx, u.ID, rec); err != nil {
			return err
		}
	}
	return domain.ErrLoginInvalid
}

// lookup turns "not found" into a nil user, keeping every other error.
func lookup(u *domain.User, err error) (*domain.User, error) {
	if errors.Is(err, domain.ErrUserNotFound) {
		return nil, nil
	}
	return u, err
}

// newSessionID returns 128 random bits. Session ids are bearer secrets for
// the store, so they come from crypto/rand, not from the injectable source.
func newSessionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b[:])
}
