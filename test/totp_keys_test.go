package test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
)

// An account whose TOTP secret does not open with the configured keys (here
// sealed under the key derived from a previous GATEHOUSE_SECRET) still
// reads and logs in by password; a TOTP login answers like a wrong code and
// counts against the lockout.
func TestUnreadableTOTPSecretBreaksOnlyTOTPLogin(t *testing.T) {
	first := newEnv(t, persistentMode, fixedKey(t))
	first.createUser(alice, alicePass, "")
	first.createUser("bob@example.com", alicePass, "")
	c := first.browser()
	c.login(alice, alicePass)
	var offer struct {
		TOTP string `json:"totp"`
	}
	c.get("/user/totp").json(t, &offer)
	secret, _ := domain.TOTPSecretOfURL(offer.TOTP)
	p := domain.DefaultTOTPPolicy
	code := func(s int64) string {
		c, err := p.CodeAt(secret, s)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	step := p.Step(time.Now())
	expect(t, c.post("/user/totp", map[string]any{"totp": offer.TOTP, "tss": []string{code(step - 1), code(step)}}), http.StatusNoContent, "")
	first.srv.Close()

	// The same stores under another service secret and no TOTP keys.
	second := &env{t: t, mode: first.mode, cfg: first.cfg, sms: first.sms, mail: first.mail}
	second.cfg.Secret = "another-test-secret-at-least-32-bytes-long"
	second.start()

	b := second.browser()
	b.login(alice, alicePass)
	var u struct {
		TOTP string `json:"totp"`
	}
	b.get("/user").json(t, &u)
	if u.TOTP != "*" {
		t.Fatalf("GET /user totp = %q, want * (bound)", u.TOTP)
	}
	second.browser().login("bob@example.com", alicePass)

	t0 := second.browser()
	for i := range second.cfg.LoginFailures {
		// The right codes of the bound secret: refused all the same.
		r := t0.post("/login/totp", map[string]string{"email": alice, "code": code(p.Step(time.Now()) + int64(i%2))})
		expect(t, r, http.StatusBadRequest, "LOGIN_INVALID")
	}
	expect(t, second.browser().post("/login", map[string]string{"email": alice, "password": alicePass}), http.StatusTooManyRequests, "LOGIN_LOCKED")
}
