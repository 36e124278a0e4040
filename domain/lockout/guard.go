// Package lockout counts failed logins per account and per client IP and
// refuses attempts while either is locked. Every login route, and the
// password change, share one Guard, so the account's count is the same
// whichever route the failures came through.
package lockout

import (
	"context"
	"net/netip"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// Guard applies domain.LockoutPolicy through a ports.AttemptCounter.
type Guard struct {
	counter   ports.AttemptCounter
	policy    domain.LockoutPolicy
	whitelist []netip.Prefix
}

// NewGuard returns a guard. Client IPs inside whitelist are never counted or
// locked (an office NAT, a monitoring probe).
func NewGuard(counter ports.AttemptCounter, policy domain.LockoutPolicy, whitelist []netip.Prefix) *Guard {
	return &Guard{counter: counter, policy: policy, whitelist: whitelist}
}

// AccountKey names the counter of an account: the user id when the account
// exists, otherwise the identifier that was tried, so that a lockout says
// nothing about whether an account exists.
func AccountKey(u *domain.User, identifier string) string {
	if u != nil {
		return "user:" + u.ID
	}
	return "id:" + identifier
}

// Admit lets one attempt through against the account and the client IP, or
// returns LOGIN_LOCKED with the time left. The attempt is counted before the
// credentials are checked, so attempts sent in parallel cannot all slip past
// the limit; every admitted attempt is then settled with Failed, Succeeded
// or Abandoned.
func (g *Guard) Admit(ctx context.Context, account, ip string) error {
	wait, err := g.counter.Admit(ctx, account, g.policy.AccountLimit, g.policy.Lock)
	if err != nil || wait > 0 {
		return lockedOr(wait, err)
	}
	if k, ok := g.ipKey(ip); ok {
		wait, err = g.counter.Admit(ctx, k, g.policy.IPLimit, g.policy.Lock)
		if err != nil || wait > 0 {
			if rerr := g.counter.Release(ctx, account); rerr != nil && err == nil {
				err = rerr
			}
			return lockedOr(wait, err)
		}
	}
	return nil
}

func lockedOr(wait time.Duration, err error) error {
	if err != nil {
		return err
	}
	return domain.Locked(wait)
}

// Failed settles an admitted attempt as a failure of the account and the
// client IP; reaching a limit locks.
func (g *Guard) Failed(ctx context.Context, account, ip string) error {
	if err := g.counter.Fail(ctx, account, g.policy.AccountLimit, g.policy.Lock); err != nil {
		return err
	}
	if k, ok := g.ipKey(ip); ok {
		return g.counter.Fail(ctx, k, g.policy.IPLimit, g.policy.Lock)
	}
	return nil
}

// Succeeded settles an admitted attempt that proved the credentials: the
// account's failures and lock are forgotten, and the IP's count gives back
// this attempt but keeps the others (one good login must not wipe out an
// attacker's failures on other accounts).
func (g *Guard) Succeeded(ctx context.Context, account, ip string) error {
	if err := g.counter.Reset(ctx, account); err != nil {
		return err
	}
	return g.releaseIP(ctx, ip)
}

// Abandoned settles an admitted attempt that could not be judged (a store
// failed on the way): it counts for neither side.
func (g *Guard) Abandoned(ctx context.Context, account, ip string) {
	_ = g.counter.Release(ctx, account) // best effort: the store is likely failing already
	_ = g.releaseIP(ctx, ip)
}

// Clear forgets the account's failures and lock, as a password reset does.
func (g *Guard) Clear(ctx context.Context, account string) error {
	return g.counter.Reset(ctx, account)
}

func (g *Guard) releaseIP(ctx context.Context, ip string) error {
	if k, ok := g.ipKey(ip); ok {
		return g.counter.Release(ctx, k)
	}
	return nil
}

func (g *Guard) ipKey(ip string) (string, bool) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "", false
	}
	addr = addr.Unmap()
	for _, p := range g.whitelist {
		if p.Contains(addr) {
			return "", false
		}
	}
	return "ip:" + addr.String(), true
}
