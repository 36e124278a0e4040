package domain

import "time"

// LockoutPolicy limits failed logins. After Limit failures counted over a
// window of Lock from the first one, every attempt is refused for Lock.
type LockoutPolicy struct {
	AccountLimit int           // default 5
	IPLimit      int           // default 10
	Lock         time.Duration // default 15 min; also the counting window
	// QueueTimeout bounds how long an attempt waits while failures plus
	// attempts still being checked fill a limit (default 5 s); past it the
	// attempt is refused with RATE_LIMITED. Zero refuses at once.
	QueueTimeout time.Duration
	// IPv6Prefix is how many leading bits of an IPv6 address name one
	// client (default 64, see IPBucket).
	IPv6Prefix int
}
