package test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

// parallel runs fn(i) for i in [0, n) at once and waits for all of them.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { fn(i) })
	}
	wg.Wait()
}

// Several tabs or scripts logging in to one account at once: more of them
// than the account's failure limit, and none fails, so none is refused.
func TestParallelCorrectLoginsOfOneAccount(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		const n = 9 // more than login_failures (5)
		clients := make([]*client, n)
		for i := range clients {
			clients[i] = e.browser()
		}
		answers := make([]*response, n)
		parallel(n, func(i int) {
			answers[i] = clients[i].post("/login", map[string]string{"email": alice, "password": alicePass})
		})
		for i, r := range answers {
			if r.status != http.StatusNoContent {
				t.Errorf("login %d of %d parallel correct logins: %s", i+1, n, r)
			}
		}
	})
}

// Two replicas share the counts: an attempt waiting in one is let through
// when an attempt settles in the other, which cannot wake it, by its retry.
func TestParallelCorrectLoginsAcrossReplicas(t *testing.T) {
	a := newEnv(t, persistentMode, nil)
	b := a.twin()
	a.createUser(alice, alicePass, "")
	const n = 12
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = a.browser()
		if i%2 == 1 {
			clients[i] = b.browser()
		}
	}
	answers := make([]*response, n)
	parallel(n, func(i int) {
		answers[i] = clients[i].post("/login", map[string]string{"email": alice, "password": alicePass})
	})
	for i, r := range answers {
		if r.status != http.StatusNoContent {
			t.Errorf("login %d of %d parallel correct logins on two replicas: %s", i+1, n, r)
		}
	}
}

// An office behind one NAT: more people than the IP's failure limit log in
// at once, each to their own account, and all succeed.
func TestParallelCorrectLoginsBehindOneIP(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		n := e.cfg.IPLoginFailures + 4
		clients := make([]*client, n)
		for i := range clients {
			e.createUser(fmt.Sprintf("office%d@example.com", i), alicePass, "")
			clients[i] = e.browser()
		}
		answers := make([]*response, n)
		parallel(n, func(i int) {
			answers[i] = clients[i].post("/login", map[string]string{"email": fmt.Sprintf("office%d@example.com", i), "password": alicePass})
		})
		for i, r := range answers {
			if r.status != http.StatusNoContent {
				t.Errorf("login %d of %d parallel correct logins from one IP: %s", i+1, n, r)
			}
		}
	})
}

// Parallel wrong guesses still cannot get more than the limit checked:
// the ones beyond it wait for the first ones, which lock the account.
func TestParallelWrongGuessesWaitAndLock(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		const n = 20
		clients := make([]*client, n)
		for i := range clients {
			clients[i] = e.browser()
		}
		answers := make([]*response, n)
		parallel(n, func(i int) {
			answers[i] = clients[i].post("/login", map[string]string{"email": alice, "password": "wrong-Password-1"})
		})
		checked := 0
		for _, r := range answers {
			switch {
			case r.status == http.StatusBadRequest && r.code() == "LOGIN_INVALID":
				checked++
			case r.status == http.StatusTooManyRequests && r.code() == "LOGIN_LOCKED":
				if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
					t.Errorf("LOGIN_LOCKED with Retry-After %q", ra)
				}
			default:
				t.Errorf("unexpected answer to a parallel wrong guess: %s", r)
			}
		}
		if checked != e.cfg.LoginFailures {
			t.Errorf("%d of %d parallel wrong guesses were checked, want exactly the limit %d", checked, n, e.cfg.LoginFailures)
		}
		expect(t, e.browser().post("/login", map[string]string{"email": alice, "password": alicePass}), http.StatusTooManyRequests, "LOGIN_LOCKED")
	})
}

// A correct login that arrives while wrong guesses fill the account's
// window waits for them; they lock the account, so it is refused.
func TestCorrectLoginBehindLockingGuessesIsLocked(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		// Password checks that take a while, one at a time, keep the wrong
		// guesses in flight long enough for the correct login to queue
		// behind them. The IP is whitelisted so that only the account's
		// count is at play.
		e := newEnv(t, m, func(c *config.Config) {
			c.Argon2Memory = 16 * 1024
			c.Argon2Iterations = 2
			c.HashConcurrency = 1
			c.IPWhitelist = []string{"127.0.0.0/8", "::1/128"}
		})
		e.createUser(alice, alicePass, "")
		guessers := make([]*client, e.cfg.LoginFailures)
		for i := range guessers {
			guessers[i] = e.browser()
		}
		// Warm the store connections up (an account lookup each, no hash),
		// so that every guess is admitted well before the correct login
		// arrives.
		parallel(len(guessers), func(i int) {
			guessers[i].get("/forget_code?email=" + q(fmt.Sprintf("warm%d@example.com", i)))
		})
		late := e.browser()
		var (
			wg      sync.WaitGroup
			guesses = make([]*response, len(guessers))
		)
		for i, c := range guessers {
			wg.Go(func() {
				guesses[i] = c.post("/login", map[string]string{"email": alice, "password": "wrong-Password-1"})
			})
		}
		time.Sleep(200 * time.Millisecond) // the guesses are admitted, and checked one at a time
		r := late.post("/login", map[string]string{"email": alice, "password": alicePass})
		wg.Wait()
		for _, g := range guesses {
			expect(t, g, http.StatusBadRequest, "LOGIN_INVALID")
		}
		expect(t, r, http.StatusTooManyRequests, "LOGIN_LOCKED")
	})
}

// Wrong codes at /forget_reset and /user/phone count against the client IP,
// whichever account they name: guessing codes across accounts is bounded
// like guessing passwords.
func TestWrongCodesAcrossAccountsLockTheIP(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		limit := e.cfg.IPLoginFailures
		for i := range limit {
			e.createUser(fmt.Sprintf("victim%d@example.com", i), alicePass, "")
		}
		c := e.browser()
		c.login(alice, alicePass) // before the lock, to reach /user/phone later
		expect(t, c.get("/forget_code?email="+q(alice)), http.StatusNoContent, "")
		code := e.mail.WaitFor(t, alice, waitDelivery).Code(t)

		for i := range limit {
			body := map[string]string{"email": fmt.Sprintf("victim%d@example.com", i), "code": "123456", "password": "new-Password-77"}
			expect(t, c.post("/forget_reset", body), http.StatusBadRequest, "CODE_INVALID")
		}
		// The IP is locked: even the right code is not checked.
		r := c.post("/forget_reset", map[string]string{"email": alice, "code": code, "password": "new-Password-77"})
		expect(t, r, http.StatusTooManyRequests, "LOGIN_LOCKED")
		if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Fatalf("Retry-After = %q", ra)
		}
		expect(t, c.post("/user/phone", map[string]string{"phone": alicePhone, "code": "123456"}), http.StatusTooManyRequests, "LOGIN_LOCKED")
		expect(t, e.browser().post("/login", map[string]string{"email": alice, "password": alicePass}), http.StatusTooManyRequests, "LOGIN_LOCKED")
		if m == memoryMode {
			// The refused reset changed nothing: once the lock is over the
			// old password still works.
			e.advance(e.cfg.LoginLockTTL + time.Second)
			e.browser().login(alice, alicePass)
		}

		// Wrong binding codes count the same way.
		b := newEnv(t, m, nil)
		b.createUser(alice, alicePass, "")
		bc := b.browser()
		bc.login(alice, alicePass)
		for range limit {
			expect(t, bc.post("/user/phone", map[string]string{"phone": alicePhone, "code": "123456"}), http.StatusBadRequest, "CODE_INVALID")
		}
		expect(t, bc.post("/user/phone", map[string]string{"phone": alicePhone, "code": "123456"}), http.StatusTooManyRequests, "LOGIN_LOCKED")

		// Whitelisted IPs are not counted.
		w := newEnv(t, m, func(c *config.Config) { c.IPWhitelist = []string{"127.0.0.0/8", "::1/128"} })
		w.createUser(alice, alicePass, "")
		wc := w.browser()
		expect(t, wc.get("/forget_code?email="+q(alice)), http.StatusNoContent, "")
		wcode := w.mail.WaitFor(t, alice, waitDelivery).Code(t)
		for i := range limit + 2 {
			body := map[string]string{"email": fmt.Sprintf("victim%d@example.com", i), "code": "123456", "password": "new-Password-77"}
			expect(t, wc.post("/forget_reset", body), http.StatusBadRequest, "CODE_INVALID")
		}
		expect(t, wc.post("/forget_reset", map[string]string{"email": alice, "code": wcode, "password": "new-Password-77"}), http.StatusNoContent, "")
	})
}

// IPv6 clients are counted per /64: failures from two addresses of one
// network lock both, and another network is untouched.
func TestIPv6LockoutPerPrefix(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1/32", "::1/128"} })
		e.createUser(alice, alicePass, "")
		from := func(ip string) *client {
			c := e.browser()
			c.header.Set("X-Forwarded-For", ip)
			return c
		}
		a, b := from("2001:db8:1:2::a"), from("2001:db8:1:2:ffff::b")
		for i := range e.cfg.IPLoginFailures {
			c := a
			if i%2 == 1 {
				c = b
			}
			body := map[string]string{"email": fmt.Sprintf("ghost%d@example.com", i), "password": "wrong-Password-1"}
			expect(t, c.post("/login", body), http.StatusBadRequest, "LOGIN_INVALID")
		}
		expect(t, a.post("/login", map[string]string{"email": alice, "password": alicePass}), http.StatusTooManyRequests, "LOGIN_LOCKED")
		expect(t, b.post("/login", map[string]string{"email": alice, "password": alicePass}), http.StatusTooManyRequests, "LOGIN_LOCKED")
		from("2001:db8:1:3::a").login(alice, alicePass)
	})
}
