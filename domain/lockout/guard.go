// Package lockout counts failed logins per account and per client IP and
// refuses attempts while either is locked. Every login route, and the
// password change, share one Guard, so the account's count is the same
// whichever route the failures came through. Wrong codes at the routes that
// check one (password reset, phone binding) count against the client IP
// through the same Guard.
package lockout

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// inFlightHold is how long an admitted attempt counts if it is never
// settled (its process died mid-check). A check is one password hash and a
// few store calls, each bounded by the store timeout, so a minute is far
// beyond any live attempt, and short enough that a crash does not keep a
// key busy for long.
const inFlightHold = time.Minute

// The retry of a waiting attempt, for attempts settled by another replica,
// which cannot wake this process: it starts at retryMin and doubles up to
// retryMax, each wait jittered so that waiters do not retry in step.
const (
	retryMin = 50 * time.Millisecond
	retryMax = 500 * time.Millisecond
)

// rateLimitedRetry is the Retry-After of an attempt that waited its whole
// queue timeout: the attempts ahead of it settle within moments.
const rateLimitedRetry = time.Second

// Guard applies domain.LockoutPolicy through a ports.AttemptCounter.
type Guard struct {
	counter   ports.AttemptCounter
	policy    domain.LockoutPolicy
	whitelist []netip.Prefix
	observer  ports.Observer

	mu sync.Mutex
	// waiters holds, per key, the attempts of this process waiting for an
	// attempt of that key to settle. An entry lives while it has waiters
	// and until the next settle of its key in this process wakes them.
	waiters map[domain.LimitKey]*waitList
}

// waitList is the attempts waiting on one key: ch is closed to wake them.
type waitList struct {
	key domain.LimitKey
	ch  chan struct{}
	n   int
}

// NewGuard returns a guard. Client IPs inside whitelist are never counted or
// locked (an office NAT, a monitoring probe). observer is told when a lock
// starts; nil observes nothing.
func NewGuard(counter ports.AttemptCounter, policy domain.LockoutPolicy, whitelist []netip.Prefix, observer ports.Observer) *Guard {
	if observer == nil {
		observer = ports.NopObserver{}
	}
	return &Guard{counter: counter, policy: policy, whitelist: whitelist, observer: observer, waiters: make(map[domain.LimitKey]*waitList)}
}

// Account names the lockout counter of an account. It is its own type so
// that the account and the client IP cannot be swapped in a call, nor any
// other limiter's key passed for the account; AccountKey makes one.
type Account struct{ key domain.LimitKey }

// AccountKey names the counter of an account: the user id when the account
// exists, otherwise the identifier that was tried, so that a lockout says
// nothing about whether an account exists.
func AccountKey(u *domain.User, identifier string) Account {
	if u != nil {
		return Account{domain.LockoutUserLimitKey(u.ID)}
	}
	return Account{domain.LockoutIdentifierLimitKey(identifier)}
}

// String returns the account's key as text.
func (a Account) String() string { return a.key.String() }

// slot is one key an attempt is counted under, with the key's limit and
// what a lock of it applies to.
type slot struct {
	key   domain.LimitKey
	limit int
	scope ports.LockoutScope
}

// Admit lets one attempt through against the account and the client IP.
// It returns LOGIN_LOCKED with the time left while either is locked. The
// attempt is counted as in flight before the credentials are checked, so
// attempts sent in parallel cannot all slip past the limit: while the
// failures counted plus the attempts in flight reach a limit, it waits for
// one of those to settle, at most the policy's QueueTimeout, and then
// answers RATE_LIMITED. A canceled ctx ends the wait with its error. Every
// admitted attempt is then settled with Failed, Succeeded or Abandoned.
func (g *Guard) Admit(ctx context.Context, account Account, ip string) error {
	return g.admit(ctx, g.slots(account, ip))
}

// Failed settles an admitted attempt as a failure of the account and the
// client IP; reaching a limit locks.
func (g *Guard) Failed(ctx context.Context, account Account, ip string) error {
	var errs []error
	for _, s := range g.slots(account, ip) {
		errs = append(errs, g.fail(ctx, s))
	}
	return errors.Join(errs...)
}

// Succeeded settles an admitted attempt that proved the credentials: the
// account's failures and lock are forgotten, and the IP's count gives back
// this attempt but keeps its failures (one good login must not wipe out an
// attacker's failures on other accounts).
func (g *Guard) Succeeded(ctx context.Context, account Account, ip string) error {
	err := g.counter.Succeed(ctx, account.key)
	g.wake(account.key)
	return errors.Join(err, g.releaseIP(ctx, ip))
}

// Abandoned settles an admitted attempt that could not be judged (a store
// failed on the way): it counts for neither side.
func (g *Guard) Abandoned(ctx context.Context, account Account, ip string) {
	g.release(ctx, g.slots(account, ip)) // best effort: the store is likely failing already
}

// Clear forgets the account's failures and lock, as a password reset does.
func (g *Guard) Clear(ctx context.Context, account Account) error {
	err := g.counter.Reset(ctx, account.key)
	g.wake(account.key)
	return err
}

// CheckFromIP runs check as one attempt of the client IP in the per-IP
// lockout, for routes that check a secret without logging in (a reset
// code, a binding code): guessing those across many accounts from one place
// is bounded like guessing passwords. While the IP is locked it answers
// LOGIN_LOCKED and runs nothing; it waits like Admit when the IP's limit is
// full of attempts in flight. An error of check that matches wrong
// (errors.Is) counts as a failure of the IP; any other outcome gives the
// attempt back. It returns check's error. Whitelisted IPs run check
// uncounted.
func (g *Guard) CheckFromIP(ctx context.Context, ip string, wrong error, check func() error) (err error) {
	slots := g.ipSlots(ip)
	if err := g.admit(ctx, slots); err != nil {
		return err
	}
	settled := false
	defer func() {
		if !settled { // check panicked: give the attempt back
			g.release(context.WithoutCancel(ctx), slots)
		}
	}()
	err = check()
	settled = true
	if errors.Is(err, wrong) {
		for _, s := range slots {
			if ferr := g.fail(ctx, s); ferr != nil {
				return ferr
			}
		}
		return err
	}
	return errors.Join(err, g.release(ctx, slots))
}

// admit admits one attempt under every slot, or under none, waiting while
// a slot is busy (see Admit).
func (g *Guard) admit(ctx context.Context, slots []slot) error {
	var (
		timeout *time.Timer
		backoff = retryMin
	)
	defer func() {
		if timeout != nil {
			timeout.Stop()
		}
	}()
	for {
		w, err := g.tryAdmit(ctx, slots)
		if w == nil {
			return err
		}
		if g.policy.QueueTimeout <= 0 {
			g.unsubscribe(w)
			return domain.RateLimited(rateLimitedRetry)
		}
		if timeout == nil {
			timeout = time.NewTimer(g.policy.QueueTimeout)
		}
		retry := time.NewTimer(backoff/2 + rand.N(backoff/2+1))
		select {
		case <-w.ch: // an attempt of the busy key settled in this process
		case <-retry.C: // or perhaps in another replica
			backoff = min(2*backoff, retryMax)
		case <-timeout.C:
			err = domain.RateLimited(rateLimitedRetry)
		case <-ctx.Done():
			err = ctx.Err()
		}
		retry.Stop()
		g.unsubscribe(w)
		if err != nil {
			return err
		}
	}
}

// tryAdmit admits one attempt under every slot, in order. When a slot is
// busy it gives back the slots it admitted and returns the wait list of the
// busy key, joined before that key was asked so that no settle in between
// is missed; the caller waits on it and then leaves it. Otherwise it
// returns nil and LOGIN_LOCKED, a store error, or nil when all admitted.
func (g *Guard) tryAdmit(ctx context.Context, slots []slot) (*waitList, error) {
	for i, s := range slots {
		w := g.subscribe(s.key)
		a, err := g.counter.Admit(ctx, s.key, s.limit, inFlightHold)
		if err == nil && a.Admitted {
			g.unsubscribe(w)
			continue
		}
		rerr := g.release(ctx, slots[:i])
		switch {
		case err != nil || rerr != nil:
			g.unsubscribe(w)
			return nil, errors.Join(err, rerr)
		case a.Busy():
			return w, nil
		default:
			g.unsubscribe(w)
			return nil, domain.Locked(a.Locked)
		}
	}
	return nil, nil
}

// fail settles one attempt of s as a failure and wakes its waiters. The
// counter says which failure started a lock, so each lock is observed once
// however many replicas and refusals follow.
func (g *Guard) fail(ctx context.Context, s slot) error {
	started, err := g.counter.Fail(ctx, s.key, s.limit, g.policy.Lock)
	g.wake(s.key)
	if started {
		g.observer.Lockout(s.scope)
	}
	return err
}

// release gives back one attempt of every slot and wakes their waiters.
func (g *Guard) release(ctx context.Context, slots []slot) error {
	var errs []error
	for _, s := range slots {
		errs = append(errs, g.counter.Release(ctx, s.key))
		g.wake(s.key)
	}
	return errors.Join(errs...)
}

func (g *Guard) releaseIP(ctx context.Context, ip string) error {
	return g.release(ctx, g.ipSlots(ip))
}

// subscribe joins the wait list of key.
func (g *Guard) subscribe(key domain.LimitKey) *waitList {
	g.mu.Lock()
	defer g.mu.Unlock()
	w := g.waiters[key]
	if w == nil {
		w = &waitList{key: key, ch: make(chan struct{})}
		g.waiters[key] = w
	}
	w.n++
	return w
}

// unsubscribe leaves w; the last one out of a list nobody woke removes it.
func (g *Guard) unsubscribe(w *waitList) {
	g.mu.Lock()
	defer g.mu.Unlock()
	w.n--
	if w.n == 0 && g.waiters[w.key] == w {
		delete(g.waiters, w.key)
	}
}

// wake wakes every attempt of this process waiting on key.
func (g *Guard) wake(key domain.LimitKey) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if w := g.waiters[key]; w != nil {
		close(w.ch)
		delete(g.waiters, key)
	}
}

// slots are the keys an attempt on account from ip counts under.
func (g *Guard) slots(account Account, ip string) []slot {
	return append([]slot{{account.key, g.policy.AccountLimit, ports.LockoutAccount}}, g.ipSlots(ip)...)
}

// ipSlots is the IP's key, or none for a whitelisted or unreadable IP.
func (g *Guard) ipSlots(ip string) []slot {
	if k, ok := g.ipKey(ip); ok {
		return []slot{{k, g.policy.IPLimit, ports.LockoutIP}}
	}
	return nil
}

// ipKey is the per-IP key of ip: IPv6 clients count per network (see
// domain.IPBucket), while the whitelist is matched against the full
// address.
func (g *Guard) ipKey(ip string) (domain.LimitKey, bool) {
	addr, bucket, ok := domain.IPBucket(ip, g.policy.IPv6Prefix)
	if !ok {
		return domain.LimitKey{}, false
	}
	for _, p := range g.whitelist {
		if p.Contains(addr) {
			return domain.LimitKey{}, false
		}
	}
	return domain.LockoutIPLimitKey(bucket), true
}
