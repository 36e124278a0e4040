package domain

import "time"

// LockoutPolicy limits failed logins. After Limit failures counted over a
// window of Lock from the first one, every attempt is refused for Lock.
type LockoutPolicy struct {
	AccountLimit int           // default 5
	IPLimit      int           // default 10
	Lock         time.Duration // default 15 min; also the counting window
}
