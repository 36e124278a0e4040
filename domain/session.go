package domain

import "time"

// Session is the server-side half of a login: every token names one, and a
// token whose session has ended is refused even before its own expiry.
type Session struct {
	ID        string
	UserID    string
	CreatedAt time.Time
	// AbsoluteExpiry bounds the session however often it is renewed.
	AbsoluteExpiry time.Time
	// IdleTimeout is how long the session lives without an authenticated
	// request; every such request renews it, up to AbsoluteExpiry.
	IdleTimeout time.Duration
}

// IdleTTL is how long the session may live from now without activity: the
// idle timeout, cut short by the absolute expiry. Zero or less means ended.
func (s Session) IdleTTL(now time.Time) time.Duration {
	return min(s.IdleTimeout, s.AbsoluteExpiry.Sub(now))
}

// Claims is what an access token says: who, which session, and when.
type Claims struct {
	UserID    string
	SessionID string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// SessionPolicy holds the lifetimes of tokens and sessions.
type SessionPolicy struct {
	TokenTTL       time.Duration // default 2 h
	IdleTimeout    time.Duration // default 1 h
	AbsoluteExpiry time.Duration // default 7 d
}
