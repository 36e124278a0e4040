package test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/internal/config"
)

func TestTOTPBindAndLogin(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		c := e.browser()
		c.login(alice, alicePass)

		var offer struct {
			TOTP string `json:"totp"`
		}
		r := c.get("/user/totp")
		expect(t, r, http.StatusOK, "")
		r.json(t, &offer)
		secret, ok := domain.TOTPSecretOfURL(offer.TOTP)
		if !ok || !strings.HasPrefix(offer.TOTP, "otpauth://totp/") || !strings.Contains(offer.TOTP, "issuer=Gatehouse") {
			t.Fatalf("offer = %q", offer.TOTP)
		}
		now := time.Now()
		if e.clock != nil {
			now = e.clock.Now()
		}
		step := domain.DefaultTOTPPolicy.Step(now)
		code := func(s int64) string {
			c, err := domain.DefaultTOTPPolicy.CodeAt(secret, s)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		// Not consecutive: refused.
		expect(t, c.post("/user/totp", map[string]any{"totp": offer.TOTP, "tss": []string{code(step), code(step - 5)}}), http.StatusBadRequest, "TOTP_INVALID")
		expect(t, c.post("/user/totp", map[string]any{"totp": offer.TOTP, "tss": []string{"12345"}}, malformed...), http.StatusBadRequest, "VALIDATION_FAILED")
		expect(t, c.post("/user/totp", map[string]any{"totp": offer.TOTP, "tss": []string{code(step - 1), code(step)}}), http.StatusNoContent, "")

		var u struct {
			TOTP string `json:"totp"`
		}
		c.get("/user").json(t, &u)
		if u.TOTP != "*" {
			t.Fatalf("totp marker = %q", u.TOTP)
		}
		// The binding steps count as used.
		lc := e.browser()
		expect(t, lc.post("/login/totp", map[string]string{"email": alice, "code": code(step)}), http.StatusBadRequest, "LOGIN_INVALID")
		if m == memoryMode {
			e.advance(30 * time.Second)
			next := code(step + 1)
			expect(t, lc.post("/login/totp", map[string]string{"email": alice, "code": next}), http.StatusNoContent, "")
			// Each step once.
			expect(t, e.browser().post("/login/totp", map[string]string{"email": alice, "code": next}), http.StatusBadRequest, "LOGIN_INVALID")
		}
		expect(t, c.send(http.MethodDelete, "/user/totp", nil), http.StatusNoContent, "")
		expect(t, c.send(http.MethodDelete, "/user/totp", nil), http.StatusNoContent, "")
		expect(t, c.send(http.MethodDelete, "/user/email", nil, malformed...), http.StatusBadRequest, "VALIDATION_FAILED")
	})
}

func TestRefreshToken(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		c := e.browser()
		c.login(alice, alicePass)
		first := c.token()

		var rc struct {
			Code string `json:"code"`
		}
		r := c.get("/refresh_code")
		expect(t, r, http.StatusOK, "")
		r.json(t, &rc)
		if !domain.IsCodeFormat(rc.Code) {
			t.Fatalf("refresh code %q", rc.Code)
		}
		// A code works only for its own session.
		other := e.browser()
		other.login(alice, alicePass)
		expect(t, other.post("/refresh_token", map[string]string{"code": rc.Code}), http.StatusBadRequest, "CODE_INVALID")

		if m == memoryMode {
			e.advance(time.Second) // a new iat, so the new token differs
		}
		r = c.post("/refresh_token", map[string]string{"code": rc.Code})
		expect(t, r, http.StatusNoContent, "")
		if r.cookie("TOKEN") == nil {
			t.Fatal("no new TOKEN")
		}
		expect(t, c.post("/refresh_token", map[string]string{"code": rc.Code}), http.StatusBadRequest, "CODE_INVALID")
		// The previous token still works until its own expiry.
		expect(t, e.bare().get("/verify", "Authorization", "Bearer "+first), http.StatusNoContent, "")
		expect(t, c.get("/verify"), http.StatusNoContent, "")

		if m == memoryMode {
			r := c.get("/refresh_code")
			r.json(t, &rc)
			e.advance(31 * time.Second)
			expect(t, c.post("/refresh_token", map[string]string{"code": rc.Code}), http.StatusBadRequest, "CODE_INVALID")
		}
	})
}

func TestSessionIdleAndAbsoluteTimeouts(t *testing.T) {
	// A long token lifetime, so only the session can end the login here.
	e := newEnv(t, memoryMode, func(cfg *config.Config) { cfg.TokenTTL = 24 * time.Hour })
	e.createUser(alice, alicePass, "")
	c := e.browser()
	c.login(alice, alicePass)
	for range 3 {
		e.advance(50 * time.Minute) // within the idle timeout each time, renewed by /verify
		expect(t, c.get("/verify"), http.StatusNoContent, "")
	}
	e.advance(61 * time.Minute)
	expect(t, c.get("/verify"), http.StatusUnauthorized, "AUTH_EXPIRED")

	// Absolute timeout: renewals cannot carry a session past it.
	a := newEnv(t, memoryMode, func(cfg *config.Config) { cfg.SessionAbsoluteTTL = 90 * time.Minute; cfg.TokenTTL = 4 * time.Hour })
	a.createUser(alice, alicePass, "")
	ac := a.browser()
	ac.login(alice, alicePass)
	a.advance(50 * time.Minute)
	expect(t, ac.get("/verify"), http.StatusNoContent, "")
	a.advance(41 * time.Minute)
	expect(t, ac.get("/verify"), http.StatusUnauthorized, "AUTH_EXPIRED")
}

func TestGetAndPatchUser(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		e.createUser("bob@example.com", alicePass, "")
		c := e.browser()
		c.header.Set("User-Agent", "gatehouse-test/1")
		c.login(alice, alicePass)

		var u struct {
			ID         string `json:"_id"`
			Email      string `json:"email"`
			Name       string `json:"name"`
			Avatar     string `json:"avatar"`
			Phone      string `json:"phone"`
			Sessions   int    `json:"sessions"`
			TOTP       string `json:"totp"`
			Status     bool   `json:"status"`
			CreateTime string `json:"create_time"`
			UpdateTime string `json:"update_time"`
			Lark       any    `json:"lark"`
			History    *struct {
				Time      string `json:"time"`
				IP        string `json:"ip"`
				UserAgent string `json:"user_agent"`
				Method    string `json:"method"`
			} `json:"history"`
		}
		r := c.get("/user")
		expect(t, r, http.StatusOK, "")
		if r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("Cache-Control = %q", r.header.Get("Cache-Control"))
		}
		r.json(t, &u)
		if u.Email != alice || u.Sessions != 1 || u.Phone != "" || u.TOTP != "" || !u.Status || u.Lark != nil || u.ID == "" {
			t.Fatalf("user = %+v", u)
		}
		if u.History == nil || u.History.Method != "email" || u.History.UserAgent != "gatehouse-test/1" || u.History.IP != "127.0.0.1" {
			t.Fatalf("history = %+v", u.History)
		}
		if _, err := time.Parse(time.RFC3339, u.CreateTime); err != nil {
			t.Fatalf("create_time %q: %v", u.CreateTime, err)
		}

		expect(t, c.send(http.MethodPatch, "/user", map[string]string{"key": "Name", "name": "Alice A."}), http.StatusNoContent, "")
		expect(t, c.send(http.MethodPatch, "/user", map[string]string{"key": "Name"}), http.StatusBadRequest, "VALIDATION_FAILED")
		expect(t, c.send(http.MethodPatch, "/user", map[string]string{"key": "Name", "name": strings.Repeat("n", 65)}, malformed...), http.StatusBadRequest, "VALIDATION_FAILED")
		expect(t, c.send(http.MethodPatch, "/user", map[string]string{"key": "Avatar", "avatar": "javascript:alert(1)"}), http.StatusBadRequest, "VALIDATION_FAILED")
		expect(t, c.send(http.MethodPatch, "/user", map[string]string{"key": "Avatar", "avatar": "https://cdn.example.com/a.png"}), http.StatusNoContent, "")
		expect(t, c.send(http.MethodPatch, "/user", map[string]string{"key": "Email", "email": "BOB@example.com"}), http.StatusConflict, "EMAIL_TAKEN")
		expect(t, c.send(http.MethodPatch, "/user", map[string]string{"key": "Phone"}, malformed...), http.StatusBadRequest, "VALIDATION_FAILED")
		expect(t, c.send(http.MethodPatch, "/user", map[string]string{"key": "Email", "email": "alice2@example.com"}), http.StatusNoContent, "")
		notice := e.mail.WaitFor(t, alice, waitDelivery)
		if !strings.Contains(notice.Text, "alice2@example.com") {
			t.Fatalf("email-changed notice to the old address lacks the new one: %q", notice.Text)
		}
		c.get("/user").json(t, &u)
		if u.Email != "alice2@example.com" || u.Name != "Alice A." || u.Avatar != "https://cdn.example.com/a.png" {
			t.Fatalf("after patch: %+v", u)
		}
	})
}

func TestChangePassword(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		c := e.browser()
		c.login(alice, alicePass)
		other := e.browser()
		other.login(alice, alicePass)

		expect(t, c.post("/user/password", map[string]string{"old": "wrong-Password-9", "password": "new-Password-77"}), http.StatusBadRequest, "PASSWORD_INVALID")
		expect(t, c.post("/user/password", map[string]string{"old": alicePass, "password": "password"}), http.StatusBadRequest, "PASSWORD_WEAK")
		expect(t, c.post("/user/password", map[string]string{"old": alicePass, "password": alice}), http.StatusBadRequest, "PASSWORD_WEAK")
		expect(t, c.post("/user/password", map[string]string{"old": alicePass, "password": "new-Password-77"}), http.StatusNoContent, "")
		expect(t, c.get("/verify"), http.StatusNoContent, "")
		expect(t, other.get("/verify"), http.StatusUnauthorized, "AUTH_EXPIRED")
		e.browser().login(alice, "new-Password-77")
	})
}

func TestBindPhone(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		e.createUser("bob@example.com", alicePass, "+8613900139000")
		c := e.browser()
		c.login(alice, alicePass)

		expect(t, c.get("/user/phone_code?phone="+q("+8613900139000")), http.StatusConflict, "PHONE_TAKEN")
		expect(t, c.get("/user/phone_code?phone="+q(alicePhone)), http.StatusNoContent, "")
		msg := e.sms.WaitFor(t, alicePhone, "bind", waitDelivery)
		// A login code is not a binding code and the reverse.
		expect(t, e.browser().post("/login/sms", map[string]string{"phone": alicePhone, "code": msg.Code}), http.StatusBadRequest, "LOGIN_INVALID")
		expect(t, c.post("/user/phone", map[string]string{"phone": "+8613700137000", "code": msg.Code}), http.StatusBadRequest, "CODE_INVALID")
		expect(t, c.post("/user/phone", map[string]string{"phone": alicePhone, "code": msg.Code}), http.StatusNoContent, "")

		var u struct {
			Phone string `json:"phone"`
		}
		c.get("/user").json(t, &u)
		if u.Phone != "*" {
			t.Fatalf("phone marker = %q", u.Phone)
		}
		expect(t, c.send(http.MethodDelete, "/user/phone", nil), http.StatusNoContent, "")
		c.get("/user").json(t, &u)
		if u.Phone != "" {
			t.Fatalf("phone marker after delete = %q", u.Phone)
		}
	})
}

func TestDeleteUserWithEmptyKey(t *testing.T) {
	e := newEnv(t, memoryMode, nil)
	e.createUser(alice, alicePass, "")
	c := e.browser()
	c.login(alice, alicePass)
	expect(t, c.send(http.MethodDelete, "/user/", nil, malformed...), http.StatusBadRequest, "VALIDATION_FAILED")
}
