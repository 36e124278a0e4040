package domain

import "time"

// Session is the server-side half of a login: every token names one, and a
// token whose session has ended is refused even before its own expiry.
type Session struct {
	ID        SessionID
	UserID    UserID
	CreatedAt time.Time
	// AbsoluteExpiry bounds the session however often it is renewed.
	AbsoluteExpiry time.Time
	// IdleTimeout is how long the session lives without an authenticated
	// request; such requests renew it, up to AbsoluteExpiry (a store may
	// skip renewals within a short interval; see ports.SessionStore.Touch).
	IdleTimeout time.Duration
	// Origin is how the login that made the session went; it never changes.
	Origin SessionOrigin
	// LastSeen is when an authenticated request last renewed the session,
	// or its creation before the first. It orders sessions for the
	// per-account limit (the least recently seen goes first). Stores fill it
	// in List; Touch may leave it zero, so that the renewal stays one cheap
	// store command.
	LastSeen time.Time
}

// SessionOrigin is what a session remembers of the login that made it, so
// that its owner can tell their devices apart in the session list.
type SessionOrigin struct {
	Method    LoginMethod
	IP        string
	UserAgent string // as domain.Client keeps it: valid UTF-8, bounded
	// Location is where IP was, nil when unknown or without a geo database.
	Location *Location
}

// IdleTTL is how long the session may live from now without activity: the
// idle timeout, cut short by the absolute expiry. Zero or less means ended.
func (s Session) IdleTTL(now time.Time) time.Duration {
	return min(s.IdleTimeout, s.AbsoluteExpiry.Sub(now))
}

// Claims is what an access token says: who, which session, and when.
type Claims struct {
	UserID    UserID
	SessionID SessionID
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// SessionPolicy holds the lifetimes of tokens and sessions.
type SessionPolicy struct {
	TokenTTL       time.Duration // default 2 h
	IdleTimeout    time.Duration // default 1 h
	AbsoluteExpiry time.Duration // default 7 d
	// PerAccount bounds the live sessions of one account (default 50); a
	// login beyond it ends the account's least recently used session.
	PerAccount int
}
