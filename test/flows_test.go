package test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/internal/config"
)

const (
	alice      = "alice@example.com"
	alicePass  = "correct-Horse-42"
	alicePhone = "+8613800138000"
)

func TestPasswordLoginVerifyLogout(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		c := e.browser()

		expect(t, c.get("/verify"), http.StatusUnauthorized, "AUTH_REQUIRED")
		r := c.post("/login", map[string]string{"email": "ALICE@example.com", "password": alicePass})
		expect(t, r, http.StatusNoContent, "")
		tok := r.cookie("TOKEN")
		if tok == nil || !tok.HttpOnly || tok.Path != "/" || tok.SameSite != http.SameSiteLaxMode || tok.Secure {
			t.Fatalf("TOKEN cookie attributes in debug mode: %+v", tok)
		}
		expect(t, c.get("/verify"), http.StatusNoContent, "")

		// The same token as a Bearer header, without cookies, also works.
		bearer := e.bare()
		expect(t, bearer.get("/verify", "Authorization", "Bearer "+tok.Value), http.StatusNoContent, "")

		expect(t, c.post("/logout", nil), http.StatusNoContent, "")
		r = bearer.get("/verify", "Authorization", "Bearer "+tok.Value)
		expect(t, r, http.StatusUnauthorized, "AUTH_EXPIRED")
		if ck := r.cookie("TOKEN"); ck == nil || ck.MaxAge >= 0 {
			t.Fatalf("401 from /verify must clear TOKEN, got %+v", ck)
		}
	})
}

func TestLoginFailuresLookAlike(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		e.createUser("off@example.com", alicePass, "")
		if err := e.app.Profile.SetActive(t.Context(), "off@example.com", false); err != nil {
			t.Fatal(err)
		}
		c := e.browser()
		for _, body := range []map[string]string{
			{"email": alice, "password": "wrong-Password-1"},
			{"email": "nobody@example.com", "password": alicePass},
			{"email": "off@example.com", "password": alicePass},
		} {
			expect(t, c.post("/login", body), http.StatusBadRequest, "LOGIN_INVALID")
		}
		expect(t, c.post("/login", map[string]string{"email": "not-an-email", "password": "x"}), http.StatusBadRequest, "VALIDATION_FAILED")
	})
}

func TestAccountLockout(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		c := e.browser()
		for i := 1; i <= 5; i++ {
			expect(t, c.post("/login", map[string]string{"email": alice, "password": "wrong-Password-1"}), http.StatusBadRequest, "LOGIN_INVALID")
		}
		r := c.post("/login", map[string]string{"email": alice, "password": alicePass})
		expect(t, r, http.StatusTooManyRequests, "LOGIN_LOCKED")
		if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Fatalf("Retry-After = %q", ra)
		}
		// Unknown accounts lock the same way, so a lock says nothing.
		for i := 1; i <= 5; i++ {
			c.post("/login", map[string]string{"email": "ghost@example.com", "password": "wrong-Password-1"})
		}
		expect(t, c.post("/login", map[string]string{"email": "ghost@example.com", "password": alicePass}), http.StatusTooManyRequests, "LOGIN_LOCKED")

		if m == memoryMode {
			e.advance(15*time.Minute + time.Second)
			c.login(alice, alicePass)
		}
	})
}

func TestIPLockoutAndWhitelist(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		c := e.browser()
		for i := 0; i < 10; i++ {
			// Ten different accounts from one IP: no account reaches its limit.
			expect(t, c.post("/login", map[string]string{"email": "user" + string(rune('a'+i)) + "@example.com", "password": "wrong-Password-1"}), http.StatusBadRequest, "LOGIN_INVALID")
		}
		expect(t, c.post("/login", map[string]string{"email": alice, "password": alicePass}), http.StatusTooManyRequests, "LOGIN_LOCKED")

		w := newEnv(t, m, func(c *config.Config) { c.IPWhitelist = []string{"127.0.0.0/8", "::1/128"} })
		w.createUser(alice, alicePass, "")
		wc := w.browser()
		for i := 0; i < 12; i++ {
			wc.post("/login", map[string]string{"email": "user" + string(rune('a'+i)) + "@example.com", "password": "wrong-Password-1"})
		}
		wc.login(alice, alicePass)
	})
}

func TestSMSLoginThroughWebhook(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, alicePhone)
		c := e.browser()
		c.header.Set("Accept-Language", "zh-CN,zh;q=0.9")
		expect(t, c.get("/login/sms?phone="+q("13800138000")), http.StatusNoContent, "")
		msg := e.sms.WaitFor(t, alicePhone, "login", waitDelivery)
		if !domain.IsCodeFormat(msg.Code) || !strings.Contains(msg.Message, msg.Code) {
			t.Fatalf("sms = %+v", msg)
		}
		// A second send within the interval is throttled.
		r := c.get("/login/sms?phone=" + q(alicePhone))
		expect(t, r, http.StatusTooManyRequests, "CODE_TOO_FREQUENT")
		if r.header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After")
		}
		expect(t, c.post("/login/sms", map[string]string{"phone": alicePhone, "code": wrongCode(msg.Code)}), http.StatusBadRequest, "LOGIN_INVALID")
		expect(t, c.post("/login/sms", map[string]string{"phone": alicePhone, "code": msg.Code}), http.StatusNoContent, "")
		expect(t, c.get("/verify"), http.StatusNoContent, "")
		// Single use.
		expect(t, e.browser().post("/login/sms", map[string]string{"phone": alicePhone, "code": msg.Code}), http.StatusBadRequest, "LOGIN_INVALID")

		// Unknown phones get the same answer and no SMS.
		expect(t, c.get("/login/sms?phone="+q("+8613900139000")), http.StatusNoContent, "")
		expect(t, c.get("/login/sms?phone=12"), http.StatusBadRequest, "VALIDATION_FAILED")
	})
}

func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

func TestCodeUsedTwiceInParallelSucceedsOnce(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, alicePhone)
		c := e.browser()
		expect(t, c.get("/login/sms?phone="+q(alicePhone)), http.StatusNoContent, "")
		code := e.sms.WaitFor(t, alicePhone, "login", waitDelivery).Code

		const n = 16
		clients := make([]*client, n)
		for i := range clients {
			clients[i] = e.browser()
		}
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = clients[i].post("/login/sms", map[string]string{"phone": alicePhone, "code": code}).status
			}()
		}
		wg.Wait()
		ok := 0
		for _, s := range statuses {
			if s == http.StatusNoContent {
				ok++
			}
		}
		if ok != 1 {
			t.Fatalf("%d parallel uses of one code succeeded, want 1 (statuses %v)", ok, statuses)
		}
	})
}

func TestPasswordResetByMail(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser("Alice@Example.com", alicePass, "")
		old := e.browser()
		old.login(alice, alicePass)

		c := e.browser()
		expect(t, c.get("/forget_code?email="+q("ALICE@example.com")), http.StatusNoContent, "")
		mail := e.mail.WaitFor(t, "Alice@Example.com", waitDelivery)
		code := mail.Code(t)

		expect(t, c.post("/forget_reset", map[string]string{"email": alice, "code": code, "password": "short"}), http.StatusBadRequest, "PASSWORD_WEAK")
		expect(t, c.post("/forget_reset", map[string]string{"email": alice, "code": wrongCode(code), "password": "new-Password-77"}), http.StatusBadRequest, "CODE_INVALID")
		expect(t, c.post("/forget_reset", map[string]string{"email": alice, "code": code, "password": "new-Password-77"}), http.StatusNoContent, "")
		expect(t, c.post("/forget_reset", map[string]string{"email": alice, "code": code, "password": "new-Password-78"}), http.StatusBadRequest, "CODE_INVALID")

		expect(t, old.get("/verify"), http.StatusUnauthorized, "AUTH_EXPIRED")
		expect(t, c.post("/login", map[string]string{"email": alice, "password": alicePass}), http.StatusBadRequest, "LOGIN_INVALID")
		c.login(alice, "new-Password-77")
		notice := e.mail.WaitFor(t, "Alice@Example.com", waitDelivery)
		if notice.Subject == "" {
			t.Fatal("no password-changed notice")
		}

		// Unknown addresses: same answer, no mail.
		expect(t, c.get("/forget_code?email="+q("nobody@example.com")), http.StatusNoContent, "")
	})
}
