// Package auth is the authentication service: logging in by password, SMS
// code, TOTP or Lark (and binding Lark), resetting a forgotten password, and keeping sessions (verify,
// refresh, logout). It reaches storage, hashing, tokens and delivery only
// through ports, and time only through ports.Clock.
package auth

import (
	"context"
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
	// LarkStateTTL is how long a Lark sign-in may take from start to
	// callback (default 10 min).
	LarkStateTTL time.Duration
}

// Deps are what the service drives: its ports, the one-time codes and the
// lockout guard it shares with the profile service, and the logger.
// Every one is required: New refuses deps with one missing.
type Deps struct {
	Users    ports.UserStore
	History  ports.LoginRecorder // failed attempts, off the response path
	Sessions ports.SessionStore
	TOTP     ports.TOTPStore
	// RecoveryCodes are spent by /login/totp and voided by a reset.
	RecoveryCodes ports.RecoveryCodeStore
	Hasher        ports.PasswordHasher
	Tokens        ports.TokenIssuer
	SMS           ports.SMSSender
	Mail          ports.Mailer
	Clock         ports.Clock
	Codes         *onetime.Codes
	Guard         *lockout.Guard
	Log           *slog.Logger
	// Lark is nil when Lark is not configured; LarkStates keeps the
	// sign-ins in progress.
	Lark       ports.LarkIdentity
	LarkStates ports.LarkStateStore
	// Observer is told the verdict of every login (see observeLogin);
	// nil observes nothing.
	Observer ports.Observer
	Geo      ports.GeoLocator // where a login's IP is, for its session
}

// Service is the authentication service. Its dependencies are private, so
// that an adapter can only go through its methods.
type Service struct {
	users         ports.UserStore
	history       ports.LoginRecorder
	sessions      ports.SessionStore
	totp          ports.TOTPStore
	hasher        ports.PasswordHasher
	tokens        ports.TokenIssuer
	sms           ports.SMSSender
	mail          ports.Mailer
	clock         ports.Clock
	codes         *onetime.Codes
	guard         *lockout.Guard
	log           *slog.Logger
	recoveryCodes ports.RecoveryCodeStore
	lark          ports.LarkIdentity // nil when Lark is not configured
	larkStates    ports.LarkStateStore
	observer      ports.Observer
	geo           ports.GeoLocator
	policy        Policy
}

// New returns the service. Every dependency is required but Lark (nil when
// Lark is off) and Observer (nil observes nothing): a missing one is an
// error at start-up rather than a nil dereference on a rare path.
func New(d Deps, p Policy) (*Service, error) {
	if err := domain.RequireDependencies("auth",
		domain.Dependency{Name: "Users", Missing: d.Users == nil},
		domain.Dependency{Name: "History", Missing: d.History == nil},
		domain.Dependency{Name: "Sessions", Missing: d.Sessions == nil},
		domain.Dependency{Name: "TOTP", Missing: d.TOTP == nil},
		domain.Dependency{Name: "Hasher", Missing: d.Hasher == nil},
		domain.Dependency{Name: "Tokens", Missing: d.Tokens == nil},
		domain.Dependency{Name: "SMS", Missing: d.SMS == nil},
		domain.Dependency{Name: "Mail", Missing: d.Mail == nil},
		domain.Dependency{Name: "RecoveryCodes", Missing: d.RecoveryCodes == nil},
		domain.Dependency{Name: "Clock", Missing: d.Clock == nil},
		domain.Dependency{Name: "Codes", Missing: d.Codes == nil},
		domain.Dependency{Name: "Guard", Missing: d.Guard == nil},
		domain.Dependency{Name: "Log", Missing: d.Log == nil},
		domain.Dependency{Name: "LarkStates", Missing: d.LarkStates == nil},
		domain.Dependency{Name: "Geo", Missing: d.Geo == nil},
	); err != nil {
		return nil, err
	}
	if d.Observer == nil {
		d.Observer = ports.NopObserver{}
	}
	return &Service{
		users:         d.Users,
		history:       d.History,
		sessions:      d.Sessions,
		totp:          d.TOTP,
		hasher:        d.Hasher,
		tokens:        d.Tokens,
		sms:           d.SMS,
		mail:          d.Mail,
		clock:         d.Clock,
		codes:         d.Codes,
		guard:         d.Guard,
		log:           d.Log,
		recoveryCodes: d.RecoveryCodes,
		lark:          d.Lark,
		larkStates:    d.LarkStates,
		observer:      d.Observer,
		geo:           d.Geo,
		policy:        p,
	}, nil
}

// Login is a successful login: the access token and when it expires.
type Login struct {
	Token     string
	ExpiresAt time.Time
}

// startSession opens a new session for u, the account as read when its
// credentials were checked, signs its token and records the login. If any
// step fails the session is ended again, so a failed login leaves nothing
// behind.
//
// A revocation (password change or reset, disable) may land while the
// login is in flight, after u was read: its sweep of the account's sessions
// may then run before this session exists and miss it. So once the session
// exists the account is read again, and the login gives up when the
// credential epoch has moved or the account is disabled. Why no session
// survives: a revocation first writes the new epoch (one atomic
// UserStore.Update), then sweeps. If the read below sees the old epoch, it
// happened before that write, hence after Create returned and before the
// sweep began, and the sweep ends this session. If it sees the new epoch,
// the login ends its own session. Either way the token is signed only after
// the check, so a session given up here never had a token.
func (s *Service) startSession(ctx context.Context, u *domain.User, method domain.LoginMethod, c domain.Client) (Login, error) {
	now := s.clock.Now()
	sess := domain.Session{
		ID:             domain.NewSessionID(),
		UserID:         u.ID,
		CreatedAt:      now,
		AbsoluteExpiry: now.Add(s.policy.Session.AbsoluteExpiry),
		IdleTimeout:    s.policy.Session.IdleTimeout,
		Origin:         domain.SessionOrigin{Method: method, IP: c.IP, UserAgent: c.UserAgent, Location: s.geo.Locate(c.IP)},
	}
	if err := s.sessions.Create(ctx, sess, sess.IdleTTL(now), s.policy.Session.PerAccount); err != nil {
		return Login{}, err
	}
	err := s.confirmCredentials(ctx, u)
	var login Login
	if err == nil {
		login, err = s.issue(sess, now)
	}
	if err == nil {
		err = s.users.RecordLogin(ctx, u.ID, domain.LoginRecord{Time: now, IP: c.IP, UserAgent: c.UserAgent, Method: method, Success: true})
	}
	if err != nil {
		if derr := s.sessions.Delete(context.WithoutCancel(ctx), u.ID, sess.ID); derr != nil {
			s.log.Error("end session after failed login", "err", derr)
		}
		return Login{}, err
	}
	return login, nil
}

// confirmCredentials reads the account again and answers LOGIN_INVALID, as
// the login would have had it started now, when it is gone or disabled or
// its credential epoch is no longer the one of checked.
func (s *Service) confirmCredentials(ctx context.Context, checked *domain.User) error {
	u, err := s.users.ByID(ctx, checked.ID)
	if errors.Is(err, domain.ErrUserNotFound) {
		return domain.ErrLoginInvalid
	}
	if err != nil {
		return err
	}
	if !u.Active || u.CredentialEpoch != checked.CredentialEpoch {
		return domain.ErrLoginInvalid
	}
	return nil
}

// issue signs a token for sess that expires after the token TTL, or at the
// session's absolute expiry if that comes first.
func (s *Service) issue(sess domain.Session, now time.Time) (Login, error) {
	exp := now.Add(s.policy.Session.TokenTTL)
	if !sess.AbsoluteExpiry.IsZero() && sess.AbsoluteExpiry.Before(exp) {
		exp = sess.AbsoluteExpiry
	}
	token, err := s.tokens.Issue(domain.Claims{UserID: sess.UserID, SessionID: sess.ID, IssuedAt: now, ExpiresAt: exp})
	if err != nil {
		return Login{}, err
	}
	return Login{Token: token, ExpiresAt: exp}, nil
}

// failLogin settles an admitted login as failed and answers LOGIN_INVALID.
// Known accounts get a failed line in their history, handed to the
// recorder rather than written here: an unknown identifier has no history,
// so a write on the response path would make known (and disabled) accounts
// answer measurably later than unknown ones.
func (s *Service) failLogin(ctx context.Context, u *domain.User, account lockout.Account, method domain.LoginMethod, c domain.Client) error {
	if err := s.guard.Failed(ctx, account, c.IP); err != nil {
		return err
	}
	if u != nil {
		s.history.Record(u.ID, domain.LoginRecord{Time: s.clock.Now(), IP: c.IP, UserAgent: c.UserAgent, Method: method})
	}
	return domain.ErrLoginInvalid
}

// admit admits a login attempt against the lockout (see
// lockout.Guard.Admit). A refusal (429: locked, or waited too long for
// attempts in flight) of a known account's attempt goes into its history
// as locked, through the recorder like a failure and for the same reason:
// an unknown identifier has no history to write.
func (s *Service) admit(ctx context.Context, u *domain.User, account lockout.Account, method domain.LoginMethod, c domain.Client) error {
	err := s.guard.Admit(ctx, account, c.IP)
	var de *domain.Error
	if u != nil && errors.As(err, &de) && (de.Code == domain.CodeLoginLocked || de.Code == domain.CodeRateLimited) {
		s.history.Record(u.ID, domain.LoginRecord{Time: s.clock.Now(), IP: c.IP, UserAgent: c.UserAgent, Method: method, Locked: true})
	}
	return err
}

// observeLogin reports the verdict of one login to the observer: every
// login route returns through here, so each attempt is counted once. Only
// verdicts count: a malformed request, a wait that ran out or a store
// outage judged nothing.
func (s *Service) observeLogin(method domain.LoginMethod, err error) {
	switch {
	case err == nil:
		s.observer.LoginAttempt(method, ports.LoginSuccess)
	case errors.Is(err, domain.ErrLoginInvalid):
		s.observer.LoginAttempt(method, ports.LoginFailure)
	case errors.Is(err, domain.ErrLoginLocked):
		s.observer.LoginAttempt(method, ports.LoginLocked)
	}
}

// lookup turns "not found" into a nil user, keeping every other error.
func lookup(u *domain.User, err error) (*domain.User, error) {
	if errors.Is(err, domain.ErrUserNotFound) {
		return nil, nil
	}
	return u, err
}
