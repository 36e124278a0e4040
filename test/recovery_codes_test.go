package test

// recovery_codes_test.go covers TOTP recovery codes (API.md "TOTP recovery
// codes"): making them, logging in with them once, the lockout, and their
// voiding by DELETE /user/totp, a new binding and a password reset.

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/internal/testinbox"
)

var rcShape = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){5}$`)

// rcNow is the time the service lives by.
func (e *env) rcNow() time.Time {
	if e.clock != nil {
		return e.clock.Now()
	}
	return time.Now()
}

// rcBindTOTP binds a fresh secret for c's account with the codes of steps
// now+first and now+first+1; first is -2 or 0, so that two bindings within
// one step never reuse a step (each binding marks its two steps used).
func rcBindTOTP(t *testing.T, e *env, c *client, first int64) {
	t.Helper()
	var offer struct {
		TOTP string `json:"totp"`
	}
	r := c.get("/user/totp")
	expect(t, r, http.StatusOK, "")
	r.json(t, &offer)
	secret, ok := domain.TOTPSecretOfURL(offer.TOTP)
	if !ok {
		t.Fatalf("offer = %q", offer.TOTP)
	}
	p := domain.DefaultTOTPPolicy
	step := p.Step(e.rcNow()) + first
	var tss []string
	for _, s := range []int64{step, step + 1} {
		code, err := p.CodeAt(secret, s)
		if err != nil {
			t.Fatal(err)
		}
		tss = append(tss, code)
	}
	expect(t, c.post("/user/totp", map[string]any{"totp": offer.TOTP, "tss": tss}), http.StatusNoContent, "")
}

// rcMake makes a set of recovery codes for c's account.
func rcMake(t *testing.T, c *client, password string) []string {
	t.Helper()
	r := c.post("/user/recovery_codes", map[string]string{"password": password})
	expect(t, r, http.StatusOK, "")
	var body struct {
		Codes []string `json:"codes"`
	}
	r.json(t, &body)
	seen := map[string]bool{}
	for _, code := range body.Codes {
		if !rcShape.MatchString(code) || seen[code] {
			t.Fatalf("codes %q: want distinct codes of six lowercase Crockford groups of four", body.Codes)
		}
		seen[code] = true
	}
	if len(body.Codes) != 10 {
		t.Fatalf("%d codes, want 10", len(body.Codes))
	}
	return body.Codes
}

// rcLeft is GET /user's recovery_codes.
func rcLeft(t *testing.T, c *client) int {
	t.Helper()
	r := c.get("/user")
	expect(t, r, http.StatusOK, "")
	var u struct {
		RecoveryCodes *int `json:"recovery_codes"`
	}
	r.json(t, &u)
	if u.RecoveryCodes == nil {
		t.Fatalf("GET /user has no recovery_codes: %s", r)
	}
	return *u.RecoveryCodes
}

// rcLogin logs in at /login/totp with code and returns the response.
func rcLogin(e *env, email, code string, extra ...string) *response {
	return e.browser().post("/login/totp", map[string]string{"email": email, "code": code}, extra...)
}

// rcMail waits for the n-th mail to `to` whose subject holds part. Mail is
// delivered by several workers, so notices may arrive in any order.
func rcMail(t *testing.T, e *env, to, part string, n int) testinbox.Message {
	t.Helper()
	deadline := time.Now().Add(waitDelivery)
	for {
		var found []testinbox.Message
		for _, m := range e.mail.All() {
			if strings.Contains(m.Subject, part) && len(m.To) == 1 && strings.EqualFold(m.To[0], to) {
				found = append(found, m)
			}
		}
		if len(found) >= n {
			return found[n-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mails to %s with %q in the subject within %s, want %d", len(found), to, part, waitDelivery, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// handTyped is code as a person might type it: upper case, spaces for
// dashes, o for 0 and l for 1.
func handTyped(code string) string {
	typed := strings.ToUpper(strings.ReplaceAll(code, "-", " "))
	return strings.NewReplacer("0", "O", "1", "l").Replace(typed)
}

func TestRecoveryCodesMakeAndLogIn(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		e.createUser("bob@example.com", alicePass, "")
		c := e.browser()
		c.login(alice, alicePass)

		// Without TOTP there is nothing to recover.
		bob := e.browser()
		bob.login("bob@example.com", alicePass)
		expect(t, bob.post("/user/recovery_codes", map[string]string{"password": alicePass}), http.StatusBadRequest, "TOTP_INVALID")
		if n := rcLeft(t, bob); n != 0 {
			t.Fatalf("bob has %d recovery codes", n)
		}

		rcBindTOTP(t, e, c, -2)
		if n := rcLeft(t, c); n != 0 {
			t.Fatalf("%d recovery codes before any were made", n)
		}
		// The password is required, and checked.
		expect(t, c.post("/user/recovery_codes", map[string]string{"password": "wrong-Password-1"}), http.StatusBadRequest, "PASSWORD_INVALID")
		expect(t, c.post("/user/recovery_codes", map[string]string{}, malformed...), http.StatusBadRequest, "VALIDATION_FAILED")
		c.noXSRF = true
		expect(t, c.post("/user/recovery_codes", map[string]string{"password": alicePass}), http.StatusForbidden, "CSRF_INVALID")
		c.noXSRF = false

		codes := rcMake(t, c, alicePass)
		made := rcMail(t, e, alice, "recovery codes were made", 1)
		for _, code := range codes {
			if strings.Contains(made.Text, code) || strings.Contains(made.HTML, code) {
				t.Fatal("the notice carries a code")
			}
		}
		if n := rcLeft(t, c); n != 10 {
			t.Fatalf("GET /user recovery_codes = %d, want 10", n)
		}

		// A recovery code logs in once, typed any forgiving way.
		r := rcLogin(e, alice, handTyped(codes[0]))
		expect(t, r, http.StatusNoContent, "")
		rc := e.bare()
		rc.header.Set("Authorization", "Bearer "+r.cookie("TOKEN").Value)
		var u struct {
			History struct {
				Method string `json:"method"`
			} `json:"history"`
			RecoveryCodes int `json:"recovery_codes"`
		}
		rc.get("/user").json(t, &u)
		if u.History.Method != "recovery" || u.RecoveryCodes != 9 {
			t.Fatalf("after a recovery login GET /user says method %q, %d codes; want recovery, 9", u.History.Method, u.RecoveryCodes)
		}
		used := rcMail(t, e, alice, "recovery code signed in", 1)
		if !strings.Contains(used.Text, "9 unused recovery codes are left") {
			t.Fatalf("the notice does not say how many are left:\n%s", used.Text)
		}
		for _, again := range []string{codes[0], handTyped(codes[0])} {
			expect(t, rcLogin(e, alice, again), http.StatusBadRequest, "LOGIN_INVALID")
		}
		// Another account's codes do not open this one.
		expect(t, rcLogin(e, "bob@example.com", codes[1]), http.StatusBadRequest, "LOGIN_INVALID")
		expect(t, rcLogin(e, alice, codes[1]), http.StatusNoContent, "")
		if n := rcLeft(t, c); n != 8 {
			t.Fatalf("GET /user recovery_codes = %d, want 8", n)
		}

		// Neither 6 digits nor a recovery code's form.
		for _, bad := range []string{"12345", "1234567", "abcdef", codes[2] + "0", strings.ReplaceAll(codes[2], "-", "_")} {
			expect(t, rcLogin(e, alice, bad, malformed...), http.StatusBadRequest, "VALIDATION_FAILED")
		}

		// A new set voids the old one.
		fresh := rcMake(t, c, alicePass)
		expect(t, rcLogin(e, alice, codes[3]), http.StatusBadRequest, "LOGIN_INVALID")
		expect(t, rcLogin(e, alice, fresh[3]), http.StatusNoContent, "")
	})
}

func TestRecoveryCodeParallelUseLogsInOnce(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		c := e.browser()
		c.login(alice, alicePass)
		rcBindTOTP(t, e, c, -2)
		code := rcMake(t, c, alicePass)[0]

		const n = 16
		clients := make([]*client, n)
		for i := range clients {
			clients[i] = e.browser()
		}
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				statuses[i] = clients[i].post("/login/totp", map[string]string{"email": alice, "code": code}).status
			})
		}
		wg.Wait()
		ok := 0
		for _, s := range statuses {
			if s == http.StatusNoContent {
				ok++
			}
		}
		if ok != 1 {
			t.Fatalf("%d parallel uses of one recovery code logged in, want 1 (statuses %v)", ok, statuses)
		}
		if left := rcLeft(t, c); left != 9 {
			t.Fatalf("%d codes left, want 9", left)
		}
	})
}

func TestWrongRecoveryCodesCountTowardLockout(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		c := e.browser()
		c.login(alice, alicePass)
		rcBindTOTP(t, e, c, -2)
		codes := rcMake(t, c, alicePass)

		// Per account.
		for range e.cfg.LoginFailures {
			expect(t, rcLogin(e, alice, domain.NewRecoveryCode()), http.StatusBadRequest, "LOGIN_INVALID")
		}
		expect(t, rcLogin(e, alice, codes[0]), http.StatusTooManyRequests, "LOGIN_LOCKED")
		expect(t, e.browser().post("/login", map[string]string{"email": alice, "password": alicePass}), http.StatusTooManyRequests, "LOGIN_LOCKED")
		if n := rcLeft(t, c); n != 10 {
			t.Fatalf("%d codes left after refused attempts, want 10", n)
		}

		// Per client IP: guesses spread over many accounts, known or not.
		w := newEnv(t, m, nil)
		w.createUser(alice, alicePass, "")
		for i := range w.cfg.IPLoginFailures {
			email := "user" + string(rune('a'+i)) + "@example.com"
			expect(t, rcLogin(w, email, domain.NewRecoveryCode()), http.StatusBadRequest, "LOGIN_INVALID")
		}
		expect(t, w.browser().post("/login", map[string]string{"email": alice, "password": alicePass}), http.StatusTooManyRequests, "LOGIN_LOCKED")
	})
}

// A wrong password when making codes counts like a wrong old password at
// /user/password: the account's logins lock.
func TestRecoveryCodesWrongPasswordCountsTowardLockout(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		c := e.browser()
		c.login(alice, alicePass)
		rcBindTOTP(t, e, c, -2)
		for range e.cfg.LoginFailures {
			expect(t, c.post("/user/recovery_codes", map[string]string{"password": "wrong-Password-1"}), http.StatusBadRequest, "PASSWORD_INVALID")
		}
		expect(t, c.post("/user/recovery_codes", map[string]string{"password": alicePass}), http.StatusTooManyRequests, "LOGIN_LOCKED")
		expect(t, e.browser().post("/login", map[string]string{"email": alice, "password": alicePass}), http.StatusTooManyRequests, "LOGIN_LOCKED")
	})
}

// Each of the three events voids the codes: a password reset (TOTP stays
// bound, the codes do not), a new TOTP binding, and DELETE /user/totp. The
// reset comes first so that two bindings suffice: each marks two time steps
// used, and a third within a minute would find no fresh pair.
func TestRecoveryCodesVoided(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		c := e.browser()
		c.login(alice, alicePass)
		rcBindTOTP(t, e, c, -2)

		codes := rcMake(t, c, alicePass)
		expect(t, e.bare().get("/forget_code?email="+q(alice)), http.StatusNoContent, "")
		reset := rcMail(t, e, alice, "password reset code", 1).Code(t)
		expect(t, e.browser().post("/forget_reset", map[string]string{"email": alice, "code": reset, "password": "new-Password-77"}), http.StatusNoContent, "")
		expect(t, rcLogin(e, alice, codes[0]), http.StatusBadRequest, "LOGIN_INVALID")
		c = e.browser()
		c.login(alice, "new-Password-77")
		if n := rcLeft(t, c); n != 0 {
			t.Fatalf("%d codes left after a password reset", n)
		}

		codes = rcMake(t, c, "new-Password-77")
		rcBindTOTP(t, e, c, 0)
		if n := rcLeft(t, c); n != 0 {
			t.Fatalf("%d codes left after a new binding", n)
		}
		expect(t, rcLogin(e, alice, codes[0]), http.StatusBadRequest, "LOGIN_INVALID")

		codes = rcMake(t, c, "new-Password-77")
		expect(t, c.send(http.MethodDelete, "/user/totp", nil), http.StatusNoContent, "")
		if n := rcLeft(t, c); n != 0 {
			t.Fatalf("%d codes left without TOTP", n)
		}
		expect(t, rcLogin(e, alice, codes[0]), http.StatusBadRequest, "LOGIN_INVALID")
	})
}
