package test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse/gatehouse/internal/config"
)

// expectRateLimited fails t unless r is 429 RATE_LIMITED with a positive
// Retry-After.
func expectRateLimited(t *testing.T, r *response) {
	t.Helper()
	expect(t, r, http.StatusTooManyRequests, "RATE_LIMITED")
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s <= 0 {
		t.Fatalf("RATE_LIMITED with Retry-After %q", r.header.Get("Retry-After"))
	}
}

// redisKeys counts the keys under e's own Redis prefix whose name contains
// part.
func (e *env) redisKeys(part string) int {
	e.t.Helper()
	opt, err := rueidis.ParseURL(e.cfg.RedisURL)
	if err != nil {
		e.t.Fatal(err)
	}
	opt.DisableCache = true
	c, err := rueidis.NewClient(opt)
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nodes := map[string]rueidis.Client{"": c}
	if c.Mode() == rueidis.ClientModeCluster {
		nodes = c.Nodes() // a SCAN sees the keys of one node
	}
	n := 0
	for _, node := range nodes {
		var cursor uint64
		for {
			entry, err := node.Do(ctx, node.B().Scan().Cursor(cursor).Match(e.cfg.RedisKeyPrefix+"*").Count(1000).Build()).AsScanEntry()
			if err != nil {
				e.t.Fatal(err)
			}
			for _, k := range entry.Elements {
				if strings.Contains(k, part) {
					n++
				}
			}
			if cursor = entry.Cursor; cursor == 0 {
				break
			}
		}
	}
	return n
}

// Defect 9: one client asking codes for ever new targets is capped per IP,
// and, refused, leaves no per-target state behind.
func TestAbuseCodeSendingCappedPerIP(t *testing.T) {
	const mailCap, smsCap, tries = 3, 2, 40
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, func(c *config.Config) {
			c.MailIPHourlyLimit = mailCap
			c.SMSIPHourlyLimit = smsCap
		})
		e.createUser(alice, alicePass, alicePhone)
		c := e.browser()

		for i := range tries {
			r := c.get("/forget_code?email=" + q(fmt.Sprintf("nobody%d@example.com", i)))
			if i < mailCap {
				expect(t, r, http.StatusNoContent, "")
			} else {
				expectRateLimited(t, r)
			}
		}
		for i := range tries {
			r := c.get("/login/sms?phone=" + q(fmt.Sprintf("+86139%08d", i)))
			if i < smsCap {
				expect(t, r, http.StatusNoContent, "")
			} else {
				expectRateLimited(t, r)
			}
		}
		// Known targets get the same answer, and nothing is sent to them.
		expectRateLimited(t, c.get("/forget_code?email="+q(alice)))
		expectRateLimited(t, c.get("/login/sms?phone="+q(alicePhone)))
		// The binding codes of a signed-in client share its SMS cap.
		c.login(alice, alicePass)
		expectRateLimited(t, c.get("/user/phone_code?phone="+q("+8613700137000")))
		// Order: the format first, then the per-target throttle, then the cap.
		expect(t, c.get("/forget_code?email=not-an-email"), http.StatusBadRequest, "VALIDATION_FAILED")
		expect(t, c.get("/forget_code?email="+q("nobody0@example.com")), http.StatusTooManyRequests, "CODE_TOO_FREQUENT")
		expect(t, c.get("/login/sms?phone="+q("+8613900000000")), http.StatusTooManyRequests, "CODE_TOO_FREQUENT")

		if m != memoryMode {
			// One throttle per target that passed, one per channel's IP
			// cap, and the SMS guard's range cap of the one range sent to.
			if n, most := e.redisKeys("thr:"), mailCap+smsCap+2+1; n > most {
				t.Errorf("%d throttle keys in Redis after %d requests, want at most %d", n, 2*tries, most)
			}
		}
		time.Sleep(100 * time.Millisecond) // let any wrongly started delivery arrive
		if n := len(e.sms.All()); n != 0 {
			t.Errorf("%d SMS sent to unknown or capped numbers", n)
		}
		if n := len(e.mail.All()); n != 0 {
			t.Errorf("%d mails sent to unknown or capped addresses", n)
		}

		// Another client IP has its own cap.
		trusted := newEnv(t, m, func(c *config.Config) {
			c.MailIPHourlyLimit = 1
			c.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
		})
		from := func(ip string) *client {
			cl := trusted.browser()
			cl.header.Set("X-Forwarded-For", ip)
			return cl
		}
		expect(t, from("203.0.113.7").get("/forget_code?email="+q("a@example.com")), http.StatusNoContent, "")
		expectRateLimited(t, from("203.0.113.7").get("/forget_code?email="+q("b@example.com")))
		expect(t, from("203.0.113.8").get("/forget_code?email="+q("b@example.com")), http.StatusNoContent, "")
		// IPv6 clients are counted per /64.
		expect(t, from("2001:db8:1:2::1").get("/forget_code?email="+q("c@example.com")), http.StatusNoContent, "")
		expectRateLimited(t, from("2001:db8:1:2:ffff::9").get("/forget_code?email="+q("d@example.com")))
		expect(t, from("2001:db8:1:3::1").get("/forget_code?email="+q("d@example.com")), http.StatusNoContent, "")
	})
}

func TestAbuseWhitelistSkipsIPCaps(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, func(c *config.Config) {
			c.MailIPHourlyLimit = 1
			c.SMSIPHourlyLimit = 1
			c.IPWhitelist = []string{"127.0.0.0/8", "::1/128"}
		})
		c := e.browser()
		for i := range 5 {
			expect(t, c.get("/forget_code?email="+q(fmt.Sprintf("nobody%d@example.com", i))), http.StatusNoContent, "")
			expect(t, c.get("/login/sms?phone="+q(fmt.Sprintf("+86139%08d", i))), http.StatusNoContent, "")
		}
		// The per-target throttle still applies.
		expect(t, c.get("/forget_code?email="+q("nobody0@example.com")), http.StatusTooManyRequests, "CODE_TOO_FREQUENT")
	})
}

func TestAbuseEmailChangeHourlyLimit(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, func(c *config.Config) { c.EmailChangeHourlyLimit = 2 })
		e.createUser(alice, alicePass, "")
		e.createUser("bob@example.com", alicePass, "")
		c := e.browser()
		c.login(alice, alicePass)
		change := func(email string) *response {
			return c.send(http.MethodPatch, "/user", map[string]string{"key": "Email", "email": email})
		}
		// A taken address answers EMAIL_TAKEN and does not count.
		expect(t, change("bob@example.com"), http.StatusConflict, "EMAIL_TAKEN")
		expect(t, change("alice2@example.com"), http.StatusNoContent, "")
		expect(t, change("alice3@example.com"), http.StatusNoContent, "")
		expectRateLimited(t, change("alice4@example.com"))
		// Other fields are not limited.
		expect(t, c.send(http.MethodPatch, "/user", map[string]string{"key": "Name", "name": "Alice"}), http.StatusNoContent, "")
		var u struct {
			Email string `json:"email"`
		}
		r := c.get("/user")
		expect(t, r, http.StatusOK, "")
		r.json(t, &u)
		if u.Email != "alice3@example.com" {
			t.Fatalf("email = %q after a refused change", u.Email)
		}
		if m == memoryMode {
			e.advance(time.Hour)
			c.login("alice3@example.com", alicePass) // the session idled out meanwhile
			expect(t, change("alice4@example.com"), http.StatusNoContent, "")
		}
	})
}

func TestAbuseBindCodeDistinctNumbers(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, func(c *config.Config) { c.BindSMSHourlyLimit = 2 })
		e.createUser(alice, alicePass, "")
		e.createUser("bob@example.com", alicePass, alicePhone)
		c := e.browser()
		c.login(alice, alicePass)
		ask := func(phone string) *response { return c.get("/user/phone_code?phone=" + q(phone)) }

		expect(t, ask("+8613900139000"), http.StatusNoContent, "")
		expect(t, ask("+8613700137000"), http.StatusNoContent, "")
		expectRateLimited(t, ask("+8613600136000"))
		// Checks before the cap answer first: the resend throttle, PHONE_TAKEN.
		expect(t, ask("+8613900139000"), http.StatusTooManyRequests, "CODE_TOO_FREQUENT")
		expect(t, ask(alicePhone), http.StatusConflict, "PHONE_TAKEN")
		// Refused by the cap, the number kept no resend throttle: another
		// account may ask for it at once.
		other := e.browser()
		other.login("bob@example.com", alicePass)
		expect(t, other.get("/user/phone_code?phone="+q("+8613600136000")), http.StatusNoContent, "")
		e.sms.WaitFor(t, "+8613600136000", "bind", waitDelivery)
		if m == memoryMode {
			// A number already counted may be asked again once its resend
			// interval has passed; a new one waits for the hour.
			e.advance(61 * time.Second)
			expect(t, ask("+8613900139000"), http.StatusNoContent, "")
			expectRateLimited(t, ask("+8613600136000"))
			e.advance(time.Hour)
			c.login(alice, alicePass) // the session idled out meanwhile
			expect(t, ask("+8613600136000"), http.StatusNoContent, "")
		}
	})
}
