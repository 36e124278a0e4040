package ports

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/domain"
)

// UserStore keeps accounts.
type UserStore interface {
	// Create stores a new user. It returns domain.ErrEmailTaken or
	// domain.ErrPhoneTaken when another account holds the email key or phone.
	Create(ctx context.Context, u *domain.User) error
	// ByID, ByEmailKey and ByPhone return domain.ErrUserNotFound when no
	// account matches.
	ByID(ctx context.Context, id string) (*domain.User, error)
	ByEmailKey(ctx context.Context, emailKey string) (*domain.User, error)
	ByPhone(ctx context.Context, phone string) (*domain.User, error)
	// Update reads the account, lets change edit it, and writes back the
	// editable fields (email and its key, name, avatar, phone, password
	// hash, TOTP secret, Lark binding, status) with a new UpdatedAt, all in
	// one atomic step, so that two updates of different fields never undo
	// each other (a disable racing a password change must stay a disable).
	// change must be quick and do no I/O; when it returns an error nothing
	// is written and Update returns that error. The login count and history
	// are never touched. It returns the account as written, or
	// domain.ErrUserNotFound, domain.ErrEmailTaken or domain.ErrPhoneTaken.
	Update(ctx context.Context, id string, change func(u *domain.User) error) (*domain.User, error)
	// RecordLogin appends rec to the user's login history; a successful one
	// also becomes the user's LastLogin and adds one to LoginCount.
	RecordLogin(ctx context.Context, userID string, rec domain.LoginRecord) error
	// List returns every account, oldest first.
	List(ctx context.Context) ([]domain.User, error)
	// Ping reports whether the store can be reached.
	Ping(ctx context.Context) error
}

// SessionStore keeps server-side sessions; each lives until its idle TTL
// passes without a Touch, or until it is deleted.
type SessionStore interface {
	// Create stores s, live for ttl.
	Create(ctx context.Context, s domain.Session, ttl time.Duration) error
	// Touch returns the live session and, in the same atomic step, renews it
	// for idle from now. A session is refused from its absolute expiry on,
	// however recently renewed. It returns domain.ErrSessionNotFound when
	// the session has ended, expired or belongs to another user. Taking idle
	// from the caller lets a store renew without reading first: this is the
	// one store call of every GET /verify.
	Touch(ctx context.Context, userID, sessionID string, now time.Time, idle time.Duration) (domain.Session, error)
	// Delete ends one session; ending an ended session is not an error.
	Delete(ctx context.Context, userID, sessionID string) error
	// DeleteAllForUser ends every session of the user except keep (which may
	// be empty).
	DeleteAllForUser(ctx context.Context, userID, keep string) error
	// Ping reports whether the store can be reached.
	Ping(ctx context.Context) error
}

// CodeStore keeps one-time codes as digests (see domain.CodeDigest).
type CodeStore interface {
	// Put stores digest as the one live code of key for ttl, replacing any
	// previous code and resetting the count of tries.
	Put(ctx context.Context, key domain.CodeKey, digest string, ttl time.Duration) error
	// Consume checks digest against the live code of key in one atomic step.
	// A match deletes the code and returns nil. A mismatch counts a try and
	// deletes the code once maxAttempts tries have failed. A missing,
	// expired, spent or voided code, or a mismatch, is domain.ErrCodeInvalid:
	// of two parallel uses of one code at most one succeeds.
	Consume(ctx context.Context, key domain.CodeKey, digest string, maxAttempts int) error
}

// Throttle limits how often something may happen per key.
type Throttle interface {
	// Allow records one event for key unless it came within interval of the
	// previous one, or hourlyLimit events already happened in the last hour.
	// It returns 0 when allowed, otherwise how long until it would be, and
	// records nothing then. The check and the record are one atomic step.
	Allow(ctx context.Context, key string, interval time.Duration, hourlyLimit int) (retryAfter time.Duration, err error)
}

// FullWait is how long AttemptCounter.Admit asks to wait when a key's window
// is full of attempts still in flight but not locked.
const FullWait = time.Second

// AttemptCounter limits login attempts per key (an account, a client IP).
// An attempt is admitted and counted in one atomic step before the
// credentials are checked, then settled: Fail keeps it, Release takes it
// back. Counting before the slow check is what stops parallel attempts from
// all slipping past the limit while earlier ones are still being checked.
type AttemptCounter interface {
	// Admit counts one attempt under key, unless key is locked or its window
	// already holds limit attempts. The window starts with the first attempt
	// and lasts lock. It returns 0 when admitted, otherwise how long to wait
	// (and counts nothing): what is left of the lock, or, when the window is
	// full of attempts still being checked, FullWait, since those settle
	// within moments.
	Admit(ctx context.Context, key string, limit int, lock time.Duration) (time.Duration, error)
	// Fail settles an admitted attempt as failed: once key's window holds
	// limit attempts, key is locked for lock and its count starts over.
	Fail(ctx context.Context, key string, limit int, lock time.Duration) error
	// Release takes back an admitted attempt that did not fail. It never
	// takes the count below zero.
	Release(ctx context.Context, key string) error
	// Reset forgets the attempts and the lock of key.
	Reset(ctx context.Context, key string) error
}

// TOTPStore keeps TOTP state that is not the bound secret: the pending secret
// of an enrolment in progress, and the time steps already accepted.
type TOTPStore interface {
	// PutPending stores the secret offered to the user, replacing any
	// earlier one, for ttl.
	PutPending(ctx context.Context, userID, secret string, ttl time.Duration) error
	// Pending returns the pending secret, or domain.ErrNotFound.
	Pending(ctx context.Context, userID string) (string, error)
	// DeletePending forgets the pending secret.
	DeletePending(ctx context.Context, userID string) error
	// UseSteps marks the given time steps of the user as used, for ttl, in
	// one atomic step. It returns false, marking nothing, when any of them
	// was already used.
	UseSteps(ctx context.Context, userID string, steps []int64, ttl time.Duration) (bool, error)
}

// PasswordHasher hashes passwords into PHC strings and checks them.
type PasswordHasher interface {
	Hash(ctx context.Context, password string) (string, error)
	// Verify reports whether password matches the encoded hash, and whether
	// the hash should be replaced because its parameters are outdated.
	Verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error)
	// Burn spends the time of one Verify without a real hash, so unknown
	// accounts answer in about the same time as known ones.
	Burn(ctx context.Context, password string)
}

// TokenIssuer signs and checks access tokens.
type TokenIssuer interface {
	Issue(c domain.Claims) (string, error)
	// Verify checks signature, issuer, audience and expiry at now and returns
	// the claims, or domain.ErrAuthExpired.
	Verify(token string, now time.Time) (domain.Claims, error)
}

// SMSSender delivers a code by SMS.
type SMSSender interface {
	SendSMS(ctx context.Context, msg domain.SMS) error
}

// Mailer delivers a mail.
type Mailer interface {
	SendMail(ctx context.Context, msg domain.Mail) error
}

// Clock tells the time. Every TTL, lockout and TOTP window goes through it so
// tests can move time instead of sleeping.
type Clock interface {
	Now() time.Time
}
