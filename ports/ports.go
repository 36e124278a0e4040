package ports

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/domain"
)

// UserStore keeps accounts.
type UserStore interface {
	// Create stores a new user. It returns domain.ErrEmailTaken,
	// domain.ErrPhoneTaken or domain.ErrLarkTaken when another account holds
	// the email key, the phone or the Lark binding key.
	Create(ctx context.Context, u *domain.User) error
	// ByID, ByEmailKey and ByPhone return domain.ErrUserNotFound when no
	// account matches.
	ByID(ctx context.Context, id domain.UserID) (*domain.User, error)
	ByEmailKey(ctx context.Context, emailKey domain.EmailKey) (*domain.User, error)
	ByPhone(ctx context.Context, phone domain.Phone) (*domain.User, error)
	// ByLark returns the account whose Lark binding has key (platform, app
	// id and open_id all equal), or domain.ErrUserNotFound; a key with a
	// blank part names no account.
	ByLark(ctx context.Context, key domain.LarkKey) (*domain.User, error)
	// Update reads the account, lets change edit it, and writes back the
	// editable fields (email and its key, name, avatar, phone, password
	// hash, TOTP secret, Lark binding, status, credential epoch) with a new
	// UpdatedAt, all in one atomic step, so that two updates of different fields never undo
	// each other (a disable racing a password change must stay a disable).
	// change must be quick and do no I/O; when it returns an error nothing
	// is written and Update returns that error. The login count and history
	// are never touched. It returns the account as written, or
	// domain.ErrUserNotFound, domain.ErrEmailTaken, domain.ErrPhoneTaken or
	// domain.ErrLarkTaken (the Lark binding key is another account's).
	Update(ctx context.Context, id domain.UserID, change func(u *domain.User) error) (*domain.User, error)
	// RecordLogin appends rec to the user's login history; a successful one
	// also becomes the user's LastLogin and adds one to LoginCount.
	RecordLogin(ctx context.Context, userID domain.UserID, rec domain.LoginRecord) error
	// List returns every account, oldest first.
	List(ctx context.Context) ([]domain.User, error)
	// Ping reports whether the store can be reached.
	Ping(ctx context.Context) error
	// SealTOTP encrypts a TOTP secret for the account userID, to be stored
	// as its domain.User.TOTP through Create or Update. A sealed secret
	// opens only for the account it was sealed for. It does no I/O.
	SealTOTP(userID domain.UserID, secret string) (*domain.SealedTOTP, error)
	// OpenTOTP returns the secret that SealTOTP sealed for userID. It
	// returns domain.ErrTOTPUnreadable (wrapped, naming the account and
	// the key id, never the secret) when sealed does not open with the
	// store's keys: the key was rotated away, another service secret
	// sealed it, or it belongs to another account. It does no I/O, so
	// reading accounts never depends on the keys: only checking a code does.
	OpenTOTP(userID domain.UserID, sealed domain.SealedTOTP) (string, error)
}

// LoginRecorder appends login attempts to account histories off the
// response path, so that how long a history write takes never shows in the
// answer: only known accounts have a history, and a failed login must take
// as long for them as for an unknown identifier.
type LoginRecorder interface {
	// Record hands rec over for userID's history and returns at once; it
	// reaches the store within a second unless the store is failing.
	// Nothing is reported to the caller: a record that cannot be queued or
	// written is logged (without secrets) and counted by the implementation.
	Record(userID domain.UserID, rec domain.LoginRecord)
}

// LoginHistory reads and prunes the login attempts that
// UserStore.RecordLogin writes. The store that keeps accounts implements it.
type LoginHistory interface {
	// LoginHistory returns at most limit attempts of userID, newest first
	// (by Time, then Seq), strictly older than before; the zero position
	// starts at the newest. An unknown account has an empty history.
	LoginHistory(ctx context.Context, userID domain.UserID, before domain.HistoryPosition, limit int) ([]domain.LoginAttempt, error)
	// PruneLoginHistory deletes the attempts older than cutoff, at most
	// batch of them per step with pause between steps, so that pruning a
	// large backlog never holds the store for long; it goes on until none
	// is left or ctx ends, and returns how many it deleted. Only one
	// process prunes a store at a time: when another one is pruning it,
	// it deletes nothing and returns skipped true.
	PruneLoginHistory(ctx context.Context, cutoff time.Time, batch int, pause time.Duration) (deleted int64, skipped bool, err error)
}

// SessionStore keeps server-side sessions; each lives until its idle TTL
// passes without a Touch, or until it is deleted.
//
// A store keeps an index of each user's sessions for Create, List, Delete
// and DeleteAllForUser. Every call that touches it drops the sessions that
// have ended (idle-expired, past their absolute expiry, deleted), and Create
// keeps at most maxLive live ones, so no call on one user's sessions takes
// time that grows with sessions that have already ended: the index never
// holds more than about maxLive entries. Touch never touches it.
type SessionStore interface {
	// Create stores s with its Origin, live for ttl and last seen at its
	// CreatedAt. When the user already holds maxLive live sessions (at
	// least 1 is assumed), it first ends the least recently seen ones, so
	// that at most maxLive remain with s. The eviction and the creation are
	// one atomic step: parallel logins never leave more than maxLive.
	Create(ctx context.Context, s domain.Session, ttl time.Duration, maxLive int) error
	// Touch returns the live session and renews it for idle from now; the
	// session is last seen now from then on. A store may skip renewals
	// that come within a short interval of the previous one (the Redis
	// store with its session cache does, for up to a minute, as API.md
	// allows for last_seen_time); it then renews on a later Touch. A
	// session is refused from its absolute expiry on, however recently
	// renewed. It returns domain.ErrSessionNotFound when the session has
	// ended, expired or belongs to another user. Taking idle from the
	// caller lets a store renew without reading first: this is the one
	// store call of every GET /verify. The session returned may lack its
	// Origin and LastSeen.
	Touch(ctx context.Context, userID domain.UserID, sessionID domain.SessionID, now time.Time, idle time.Duration) (domain.Session, error)
	// List returns the user's live sessions at now, newest (by CreatedAt)
	// first, with their Origin and LastSeen, and drops the ended ones from
	// the index as it reads it. It takes time in the user's live sessions
	// only; a user without any gets an empty list.
	List(ctx context.Context, userID domain.UserID, now time.Time) ([]domain.Session, error)
	// Delete ends one session; ending an ended session is not an error.
	Delete(ctx context.Context, userID domain.UserID, sessionID domain.SessionID) error
	// DeleteAllForUser ends every session of the user except keep (which may
	// be empty), in one atomic step: a session created before it began is
	// gone when it returns. It returns how many live sessions it ended.
	DeleteAllForUser(ctx context.Context, userID domain.UserID, keep domain.SessionID) (int, error)
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

// Throttle limits how often something may happen per key (see
// domain.LimitKey for the kinds of key). A non-positive interval or limit
// does not apply.
//
// Wait and WaitDistinct check without recording, so that a caller with
// several limits can check them all first and record only when every one
// passes: a request refused by one limit then leaves no trace in the others.
// They create no state, so checks alone never grow the store.
type Throttle interface {
	// Allow records one event for key unless it came within interval of the
	// previous one, or hourlyLimit events already happened in the last hour.
	// It returns 0 when allowed, otherwise how long until it would be, and
	// records nothing then. The check and the record are one atomic step.
	Allow(ctx context.Context, key domain.LimitKey, interval time.Duration, hourlyLimit int) (retryAfter time.Duration, err error)
	// Wait returns what Allow would return now, and records nothing.
	Wait(ctx context.Context, key domain.LimitKey, interval time.Duration, hourlyLimit int) (retryAfter time.Duration, err error)
	// AllowDistinct records member under key unless it is new to key's last
	// hour and hourlyLimit distinct members were already recorded in that
	// hour. A member already there is always allowed and its time renewed,
	// so it stays counted until an hour after it was last recorded. It
	// returns 0 when allowed, otherwise how long until a new member would
	// be, and records nothing then. The check and the record are one atomic
	// step. Its keys are apart from Allow's. member is any text, compared
	// as is (a phone number): a value counted under key, not the name of a
	// counter, so it stays a string; key's own type already keeps the two
	// from being swapped.
	AllowDistinct(ctx context.Context, key domain.LimitKey, member string, hourlyLimit int) (retryAfter time.Duration, err error)
	// WaitDistinct returns what AllowDistinct would return now, and records
	// nothing.
	WaitDistinct(ctx context.Context, key domain.LimitKey, member string, hourlyLimit int) (retryAfter time.Duration, err error)
}

// Admission is AttemptCounter.Admit's verdict on one attempt.
type Admission struct {
	// Admitted is true when the attempt was counted as in flight and may be
	// checked now.
	Admitted bool
	// Locked is what is left of the key's lock when its failures reached the
	// limit; zero otherwise. Not admitted and not locked means busy: the
	// failures counted plus the attempts still in flight fill the limit, and
	// the attempt may be admitted once one of those settles.
	Locked time.Duration
}

// Busy reports whether the attempt was refused only because attempts still
// in flight fill the key's limit.
func (a Admission) Busy() bool { return !a.Admitted && a.Locked <= 0 }

// AttemptCounter limits login attempts per key (an account, a client IP;
// see domain.LimitKey). It keeps two counts per key: failures, over a
// window that opens with the first failure and lasts lock, and attempts in
// flight (admitted, still being checked). Only failures lock. An attempt
// is admitted in one atomic step before the credentials are checked and
// then settled by Fail, Release or Succeed; counting it before the slow
// check is what stops parallel guesses from all slipping past the limit.
type AttemptCounter interface {
	// Admit counts one attempt in flight under key, unless key is locked or
	// its failures plus its attempts in flight already reach limit; then it
	// counts nothing and says which (see Admission). An attempt in flight
	// stops counting after hold even if never settled, so that a process
	// that died mid-check cannot fill a key for good.
	Admit(ctx context.Context, key domain.LimitKey, limit int, hold time.Duration) (Admission, error)
	// Fail settles an attempt in flight as a failure: once key's window
	// holds limit failures, key is locked for lock and its failures start
	// over. A failure that settles while key is already locked adds nothing.
	// started reports whether this failure is the one that locked key, so
	// that a lockout is observed once, when it starts.
	Fail(ctx context.Context, key domain.LimitKey, limit int, lock time.Duration) (started bool, err error)
	// Release settles an attempt in flight that neither failed nor proved
	// anything: it stops counting. It never takes the count below zero.
	Release(ctx context.Context, key domain.LimitKey) error
	// Succeed settles an attempt in flight that proved the credentials: it
	// stops counting, and key's failures and lock are forgotten; other
	// attempts still in flight keep counting.
	Succeed(ctx context.Context, key domain.LimitKey) error
	// Reset forgets the failures and the lock of key; attempts in flight
	// keep counting until they settle.
	Reset(ctx context.Context, key domain.LimitKey) error
}

// TOTPStore keeps TOTP state that is not the bound secret: the pending secret
// of an enrolment in progress, and the time steps already accepted.
type TOTPStore interface {
	// PutPending stores the secret offered to the user, replacing any
	// earlier one, for ttl.
	PutPending(ctx context.Context, userID domain.UserID, secret string, ttl time.Duration) error
	// Pending returns the pending secret, or domain.ErrNotFound.
	Pending(ctx context.Context, userID domain.UserID) (string, error)
	// DeletePending forgets the pending secret.
	DeletePending(ctx context.Context, userID domain.UserID) error
	// UseSteps marks the given time steps of the user as used, for ttl, in
	// one atomic step. It returns false, marking nothing, when any of them
	// was already used.
	UseSteps(ctx context.Context, userID domain.UserID, steps []int64, ttl time.Duration) (bool, error)
}

// RecoveryCodeStore keeps the TOTP recovery codes of accounts as digests
// (see domain.RecoveryCodeDigest), never the codes. A used code stays used
// until the set is replaced or voided.
type RecoveryCodeStore interface {
	// Replace makes digests the account's only codes, all unused, voiding
	// every earlier one, in one atomic step: of parallel replaces exactly
	// one set remains, whole. It returns domain.ErrUserNotFound when no
	// such account exists.
	Replace(ctx context.Context, userID domain.UserID, digests []string) error
	// Spend marks the account's unused code digest as used at at, in one
	// atomic step, and returns true with how many unused codes the account
	// has left. A digest that is not an unused code of the account (wrong,
	// spent, voided, another account's, or no such account) returns false
	// and changes nothing; that is not an error. Of parallel spends of one
	// code at most one returns true. Every call costs about the same
	// whether or not the account has codes, so callers can spend against a
	// decoy account and take as long.
	Spend(ctx context.Context, userID domain.UserID, digest string, at time.Time) (remaining int, ok bool, err error)
	// Count returns how many unused codes the account has; 0 for an
	// account with none or no such account.
	Count(ctx context.Context, userID domain.UserID) (int, error)
	// Void forgets every code of the account; voiding none is not an error.
	Void(ctx context.Context, userID domain.UserID) error
}

// LarkStateStore keeps the server-side half of Lark sign-ins in progress,
// by their random state, until their first use.
type LarkStateStore interface {
	// Put stores st under state for ttl.
	Put(ctx context.Context, state string, st domain.LarkState, ttl time.Duration) error
	// Take returns what Put stored under state and deletes it in the same
	// atomic step: of two parallel takes of one state at most one gets it.
	// A state never put, expired or already taken is domain.ErrNotFound.
	Take(ctx context.Context, state string) (domain.LarkState, error)
}

// LarkIdentity is Lark's OAuth 2.0 service (authorization code with PKCE
// S256) for one app on one platform.
type LarkIdentity interface {
	// AuthorizeURL is where the browser goes to sign in to Lark and
	// consent: it carries the app, the redirect URL, state and the S256
	// challenge of verifier (never the verifier itself). It does no I/O.
	AuthorizeURL(state, verifier string) string
	// Profile redeems code with verifier and reads the Lark user it was
	// issued for, with Platform and AppID set to this app's. Any refusal
	// by Lark (an HTTP error, a non-zero code in an HTTP 200 answer, a
	// missing token or open_id) or failure to reach it returns an error
	// that wraps domain.ErrLarkFailed and carries neither the code nor the
	// access token; the token is used once and dropped.
	Profile(ctx context.Context, code, verifier string) (domain.LarkProfile, error)
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

// GeoLocator finds where a client IP is. Lookups are local (a database file
// read at start), never a network call.
type GeoLocator interface {
	// Locate returns the location of ip, or nil when it is unknown (not in
	// the database, not an address, or no database configured).
	Locate(ip string) *domain.Location
}
