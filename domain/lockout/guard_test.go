package lockout

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/clock"
	"github.com/gatehouse/gatehouse/adapters/memory"
	"github.com/gatehouse/gatehouse/domain"
)

const lock = 15 * time.Minute

// newGuard returns a guard on a memory counter and a fake clock, with an
// account limit of 2 and an IP limit of 3.
func newGuard(t *testing.T, queue time.Duration, whitelist ...string) (*Guard, *memory.AttemptCounter, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	counter := memory.NewAttemptCounter(clk)
	var prefixes []netip.Prefix
	for _, w := range whitelist {
		prefixes = append(prefixes, netip.MustParsePrefix(w))
	}
	policy := domain.LockoutPolicy{AccountLimit: 2, IPLimit: 3, Lock: lock, QueueTimeout: queue, IPv6Prefix: 64}
	return NewGuard(counter, policy, prefixes, nil), counter, clk
}

// user names the lockout counter of the account with id name.
func user(name string) Account { return AccountKey(&domain.User{ID: domain.UserID(name)}, "") }

// noIP is a client IP that names no per-IP key, for tests of the account
// alone.
const noIP = ""

// admitLater runs Admit in the background and returns where its answer
// will arrive.
func admitLater(g *Guard, ctx context.Context, account Account, ip string) <-chan error {
	done := make(chan error, 1)
	go func() { done <- g.Admit(ctx, account, ip) }()
	return done
}

// waitForWaiter returns once an attempt waits on key. It polls briefly; the
// bound only stops a broken test from hanging.
func waitForWaiter(t *testing.T, g *Guard, key domain.LimitKey) {
	t.Helper()
	for range 5000 {
		g.mu.Lock()
		w := g.waiters[key]
		g.mu.Unlock()
		if w != nil && w.n > 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("no attempt waits on %s", key)
}

func mustAdmit(t *testing.T, g *Guard, account Account, ip string) {
	t.Helper()
	if err := g.Admit(context.Background(), account, ip); err != nil {
		t.Fatalf("Admit(%s, %q) = %v, want admitted", account, ip, err)
	}
}

func wantCode(t *testing.T, err error, code domain.Code) *domain.Error {
	t.Helper()
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
	if de.RetryAfter <= 0 {
		t.Fatalf("%s without RetryAfter", code)
	}
	return de
}

func TestCorrectAttemptsBeyondTheLimitWaitAndPass(t *testing.T) {
	g, _, _ := newGuard(t, time.Minute)
	ctx := context.Background()
	mustAdmit(t, g, user("a"), noIP)
	mustAdmit(t, g, user("a"), noIP)
	third := admitLater(g, ctx, user("a"), noIP)
	waitForWaiter(t, g, user("a").key)
	if err := g.Succeeded(ctx, user("a"), noIP); err != nil {
		t.Fatal(err)
	}
	if err := <-third; err != nil {
		t.Fatalf("waiting attempt = %v, want admitted once one succeeded", err)
	}
	if n := len(g.waiters); n != 0 {
		t.Fatalf("%d wait lists left behind", n)
	}
}

func TestWaiterBehindLockingFailuresIsLocked(t *testing.T) {
	g, _, _ := newGuard(t, time.Minute)
	ctx := context.Background()
	mustAdmit(t, g, user("a"), noIP)
	mustAdmit(t, g, user("a"), noIP)
	late := admitLater(g, ctx, user("a"), noIP)
	waitForWaiter(t, g, user("a").key)
	for range 2 {
		if err := g.Failed(ctx, user("a"), noIP); err != nil {
			t.Fatal(err)
		}
	}
	de := wantCode(t, <-late, domain.CodeLoginLocked)
	if de.RetryAfter > lock {
		t.Fatalf("RetryAfter = %v, longer than the lock", de.RetryAfter)
	}
}

func TestOnlyFailuresLock(t *testing.T) {
	g, _, _ := newGuard(t, time.Minute)
	ctx := context.Background()
	mustAdmit(t, g, user("a"), noIP)
	mustAdmit(t, g, user("a"), noIP)
	if err := g.Failed(ctx, user("a"), noIP); err != nil {
		t.Fatal(err)
	}
	g.Abandoned(ctx, user("a"), noIP)
	// One failure, nothing in flight: one more attempt may be checked.
	mustAdmit(t, g, user("a"), noIP)
	if err := g.Failed(ctx, user("a"), noIP); err != nil {
		t.Fatal(err)
	}
	wantCode(t, g.Admit(ctx, user("a"), noIP), domain.CodeLoginLocked)
	// A password reset lifts the lock.
	if err := g.Clear(ctx, user("a")); err != nil {
		t.Fatal(err)
	}
	mustAdmit(t, g, user("a"), noIP)
}

func TestQueueTimeoutAnswersRateLimited(t *testing.T) {
	for _, queue := range []time.Duration{0, 20 * time.Millisecond} {
		g, _, _ := newGuard(t, queue)
		mustAdmit(t, g, user("a"), noIP)
		mustAdmit(t, g, user("a"), noIP)
		wantCode(t, g.Admit(context.Background(), user("a"), noIP), domain.CodeRateLimited)
		if n := len(g.waiters); n != 0 {
			t.Fatalf("queue %v: %d wait lists left behind", queue, n)
		}
	}
}

// A client that hangs up ends its wait, and gives back only what it was
// admitted: here the account, admitted before the IP turned out busy.
func TestCanceledWaitReleasesOnlyItsOwn(t *testing.T) {
	g, counter, _ := newGuard(t, time.Minute)
	const ip = "203.0.113.7"
	for _, acc := range []Account{user("a"), user("b"), user("c")} {
		mustAdmit(t, g, acc, ip) // the IP's limit is full of attempts in flight
	}
	ctx, cancel := context.WithCancel(context.Background())
	waiting := admitLater(g, ctx, user("d"), ip)
	waitForWaiter(t, g, domain.LockoutIPLimitKey(ip))
	cancel()
	if err := <-waiting; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled wait = %v, want context.Canceled", err)
	}
	// The IP still holds the three attempts in flight, and user:d holds
	// none (its limit of two is free).
	if a, err := counter.Admit(context.Background(), domain.LockoutIPLimitKey(ip), 3, time.Minute); err != nil || !a.Busy() {
		t.Fatalf("IP after the canceled wait: %+v, %v; want busy", a, err)
	}
	mustAdmit(t, g, user("d"), noIP)
	mustAdmit(t, g, user("d"), noIP)
}

// A success gives back the IP's attempt but keeps its failures: one good
// login must not wipe out failures on other accounts.
func TestSuccessKeepsTheIPFailures(t *testing.T) {
	g, _, _ := newGuard(t, 0)
	ctx := context.Background()
	const ip = "198.51.100.2"
	for _, acc := range []Account{user("a"), user("b")} {
		mustAdmit(t, g, acc, ip)
		if err := g.Failed(ctx, acc, ip); err != nil {
			t.Fatal(err)
		}
	}
	mustAdmit(t, g, user("c"), ip)
	if err := g.Succeeded(ctx, user("c"), ip); err != nil {
		t.Fatal(err)
	}
	mustAdmit(t, g, user("d"), ip)
	if err := g.Failed(ctx, user("d"), ip); err != nil {
		t.Fatal(err)
	}
	wantCode(t, g.Admit(ctx, user("c"), ip), domain.CodeLoginLocked)
}

func TestIPv6CountsPerNetworkWhitelistPerAddress(t *testing.T) {
	g, _, clk := newGuard(t, 0, "2001:db8:1:2::99/128")
	ctx := context.Background()
	for i, ip := range []string{"2001:db8:1:2::a", "2001:db8:1:2:ffff::b", "2001:db8:1:2::c"} {
		acc := user(string(rune('a' + i)))
		mustAdmit(t, g, acc, ip)
		if err := g.Failed(ctx, acc, ip); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, g.Admit(ctx, user("z"), "2001:db8:1:2::1234"), domain.CodeLoginLocked)
	mustAdmit(t, g, user("z"), "2001:db8:1:3::a")  // another /64
	mustAdmit(t, g, user("y"), "2001:db8:1:2::99") // whitelisted address
	clk.Advance(lock + time.Second)
	mustAdmit(t, g, user("w"), "2001:db8:1:2::1234")
}

func TestCheckFromIP(t *testing.T) {
	g, _, _ := newGuard(t, 0, "192.0.2.0/24")
	ctx := context.Background()
	const ip = "203.0.113.9"
	wrong := func() error { return domain.ErrCodeInvalid }
	for range 3 {
		if err := g.CheckFromIP(ctx, ip, domain.ErrCodeInvalid, wrong); !errors.Is(err, domain.ErrCodeInvalid) {
			t.Fatalf("wrong code = %v", err)
		}
	}
	ran := false
	err := g.CheckFromIP(ctx, ip, domain.ErrCodeInvalid, func() error { ran = true; return nil })
	wantCode(t, err, domain.CodeLoginLocked)
	if ran {
		t.Fatal("a locked IP had its code checked")
	}
	// The IP's lock is the login lockout's.
	wantCode(t, g.Admit(ctx, user("a"), ip), domain.CodeLoginLocked)

	// Right codes and other errors do not count.
	other := "203.0.113.10"
	outage := errors.New("store down")
	for range 5 {
		if err := g.CheckFromIP(ctx, other, domain.ErrCodeInvalid, func() error { return nil }); err != nil {
			t.Fatal(err)
		}
		if err := g.CheckFromIP(ctx, other, domain.ErrCodeInvalid, func() error { return outage }); !errors.Is(err, outage) {
			t.Fatalf("outage = %v", err)
		}
	}
	mustAdmit(t, g, user("a"), other)

	// Whitelisted IPs are not counted.
	for range 5 {
		if err := g.CheckFromIP(ctx, "192.0.2.1", domain.ErrCodeInvalid, wrong); !errors.Is(err, domain.ErrCodeInvalid) {
			t.Fatalf("wrong code = %v", err)
		}
	}
	mustAdmit(t, g, user("a"), "192.0.2.1")
}
