package redis

import (
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/domain"
)

// recentWrites remembers, for one cache TTL, the users whose sessions this
// process has just changed, so that their next checks here skip the
// client-side cache. Redis's invalidation push reaches this process on a
// connection of its own, possibly a moment after the write's reply; a
// logout followed at once by a check on the same replica must never see
// the session in between. An entry cached before the write ends within one
// cache TTL of it, so that is how long a user is remembered. Only
// authenticated writes (logins, logouts, revocations) add entries, and
// they leave within the TTL; past maxRecentWrites at once, every check
// skips the cache until the oldest would have left.
type recentWrites struct {
	ttl time.Duration

	mu    sync.Mutex
	users map[domain.UserID]time.Time // until when to skip the cache
	all   time.Time                   // skip for everyone until then
}

const maxRecentWrites = 4096

func newRecentWrites(ttl time.Duration) *recentWrites {
	return &recentWrites{ttl: ttl, users: make(map[domain.UserID]time.Time)}
}

// wrote records a write to user's sessions that has just returned.
func (r *recentWrites) wrote(user domain.UserID) {
	if r.ttl <= 0 {
		return // no cache to skip
	}
	now := time.Now()
	until := now.Add(r.ttl)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.users) >= maxRecentWrites {
		for u, t := range r.users {
			if !now.Before(t) {
				delete(r.users, u)
			}
		}
	}
	if len(r.users) >= maxRecentWrites {
		r.all = until
		return
	}
	r.users[user] = until
}

// fresh reports whether user's sessions changed here within the TTL.
func (r *recentWrites) fresh(user domain.UserID) bool {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Before(r.all) {
		return true
	}
	until, ok := r.users[user]
	if ok && !now.Before(until) {
		delete(r.users, user)
		return false
	}
	return ok
}
