// Package lockout counts failed logins per account and per client IP and
// refuses attempts while either is locked. Every login route, and the
// password change, share one Guard, so the account's count is the same
// whichever route the failures came through.
package lockout

import (
	"context"
	"net/netip"

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

// Check returns a LOGIN_LOCKED error, with the time left, when the account or
// the client IP is locked.
func (g *Guard) Check(ctx context.Context, account, ip string) error {
	keys := []string{account}
	if k, ok := g.ipKey(ip); ok {
		keys = append(keys, k)
	}
	left, err := g.counter.LockedFor(ctx, keys...)
	if err != nil {
		return err
	}
	if left > 0 {
		return domain.Locked(left)
	}
	return nil
}

// Fail counts one failed attempt against the account and the client IP.
func (g *Guard) Fail(ctx context.Context, account, ip string) error {
	if err := g.counter.Fail(ctx, account, g.policy.AccountLimit, g.policy.Lock); err != nil {
		return err
	}
	if k, ok := g.ipKey(ip); ok {
		return g.counter.Fail(ctx, k, g.policy.IPLimit, g.policy.Lock)
	}
	return nil
}

// Clear forgets the account's failures and lock. The IP's count stays: one
// good login must not wipe out an attacker's failures on other accounts.
func (g *Guard) Clear(ctx context.Context, account string) error {
	return g.counter.Reset(ctx, account)
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
