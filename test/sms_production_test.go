package test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/clock"
	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/testinbox"
	"github.com/gatehouse/gatehouse/internal/testtencent"
)

const (
	tcSecretID  = "AKIDblackboxsecretid"
	tcSecretKey = "blackbox-tencent-secret-key"
	premiumCN   = "+8616812345" // libphonenumber's example premium-rate number of CN
	mobileUS    = "+12015550123"
)

// useTencent points cfg at a fake Tencent SMS endpoint and returns it.
func useTencent(t *testing.T, cfg *config.Config, fake *testtencent.Server) {
	t.Helper()
	cfg.SMSProvider = "tencent"
	cfg.TencentSecretID, cfg.TencentSecretKey = tcSecretID, tcSecretKey
	cfg.TencentSMSAppID, cfg.TencentSMSSignName = "1400000001", "Gatehouse"
	cfg.TencentSMSTemplateLogin, cfg.TencentSMSTemplateBind = "101", "201"
	cfg.TencentSMSTemplateLoginZH, cfg.TencentSMSTemplateBindEN = "102", "203"
	cfg.TencentSMSEndpoint = fake.URL()
	cfg.TencentSMSRegion = "ap-guangzhou"
}

// trustLoopback lets tests name the client IP with X-Forwarded-For.
func trustLoopback(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1/32", "::1/128"} }

// fromIP returns a browser whose requests come from ip through the proxy.
func (e *env) fromIP(ip string) *client {
	c := e.browser()
	c.header.Set("X-Forwarded-For", ip)
	return c
}

func TestSMSTencentDelivery(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		fake := testtencent.New(t, tcSecretID, tcSecretKey)
		e := newEnv(t, m, func(c *config.Config) { useTencent(t, c, fake) })
		e.createUser(alice, alicePass, alicePhone)

		// A login code in Chinese: the Chinese template, [code, minutes].
		zh := e.browser()
		zh.header.Set("Accept-Language", "zh-CN,zh;q=0.9")
		expect(t, zh.get("/login/sms?phone="+q(alicePhone)), http.StatusNoContent, "")
		got := fake.WaitFor(t, alicePhone, waitDelivery)
		if got.TemplateID != "102" || got.SignName != "Gatehouse" || got.AppID != "1400000001" || got.Region != "ap-guangzhou" ||
			len(got.Params) != 2 || len(got.Params[0]) != 6 || got.Params[1] != "2" {
			t.Fatalf("login SMS = %+v, want template 102, sign Gatehouse, params [code 2]", got)
		}
		expect(t, zh.post("/login/sms", map[string]string{"phone": alicePhone, "code": got.Params[0]}), http.StatusNoContent, "")

		// A binding code in English: its English template.
		const newPhone = "+8613700137000"
		zh.header.Set("Accept-Language", "en")
		expect(t, zh.get("/user/phone_code?phone="+q(newPhone)), http.StatusNoContent, "")
		if got := fake.WaitFor(t, newPhone, waitDelivery); got.TemplateID != "203" || got.Params[1] != "2" {
			t.Fatalf("bind SMS = %+v, want template 203", got)
		}
		// Unknown numbers get the same answer and no SMS.
		expect(t, e.browser().get("/login/sms?phone="+q("+8613900139999")), http.StatusNoContent, "")
		time.Sleep(50 * time.Millisecond)
		if n := fake.Calls(); n != 2 {
			t.Errorf("%d calls to Tencent, want 2", n)
		}
	})
}

func TestSMSWebhookStandardSignatures(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		// Two secrets during a rotation, the second written whsec_: the
		// receiver checks a signature under each, and refuses replays.
		const secrets = "old-webhook-secret whsec_bmV3LXdlYmhvb2stc2VjcmV0"
		inbox := testinbox.NewSMSInbox(t, secrets)
		e := newEnv(t, m, func(c *config.Config) { c.SMSWebhookURL, c.SMSWebhookSecret = inbox.URL(), secrets })
		e.createUser(alice, alicePass, alicePhone)
		c := e.browser()
		expect(t, c.get("/login/sms?phone="+q(alicePhone)), http.StatusNoContent, "")
		code := inbox.WaitFor(t, alicePhone, "login", waitDelivery).Code
		expect(t, c.post("/login/sms", map[string]string{"phone": alicePhone, "code": code}), http.StatusNoContent, "")
		expect(t, c.get("/user/phone_code?phone="+q("+8613700137000")), http.StatusNoContent, "")
		inbox.WaitFor(t, "+8613700137000", "bind", waitDelivery)
	})
}

func TestSMSGuardPhoneUnsupported(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		fake := testtencent.New(t, tcSecretID, tcSecretKey)
		e := newEnv(t, m, func(c *config.Config) { useTencent(t, c, fake) })
		// Registered accounts on a refused region and a premium-rate number.
		e.createUser("us@example.com", alicePass, mobileUS)
		e.createUser("premium@example.com", alicePass, premiumCN)
		e.createUser(alice, alicePass, alicePhone)
		for _, phone := range []string{
			mobileUS, premiumCN, // registered
			"+447400123456", "+8616812346", "+864001234567", // unknown: GB, premium-rate and shared-cost CN
		} {
			r := e.browser().get("/login/sms?phone=" + q(phone))
			expect(t, r, http.StatusBadRequest, "PHONE_UNSUPPORTED")
		}
		// At binding too, before the resend throttle and PHONE_TAKEN.
		c := e.browser()
		c.login(alice, alicePass)
		expect(t, c.get("/user/phone_code?phone="+q(premiumCN)), http.StatusBadRequest, "PHONE_UNSUPPORTED")
		expect(t, c.get("/user/phone_code?phone="+q(mobileUS)), http.StatusBadRequest, "PHONE_UNSUPPORTED")
		// The format still answers first.
		expect(t, c.get("/login/sms?phone=12"), http.StatusBadRequest, "VALIDATION_FAILED")
		time.Sleep(50 * time.Millisecond)
		if n := fake.Calls(); n != 0 {
			t.Errorf("%d calls to Tencent for refused numbers", n)
		}
		// "*" allows every region; the number type is still refused.
		all := newEnv(t, m, func(c *config.Config) { useTencent(t, c, fake); c.SMSCountries = config.List{"*"} })
		all.createUser("us@example.com", alicePass, mobileUS)
		expect(t, all.browser().get("/login/sms?phone="+q(mobileUS)), http.StatusNoContent, "")
		fake.WaitFor(t, mobileUS, waitDelivery)
		expect(t, all.browser().get("/login/sms?phone="+q("+19002345678")), http.StatusBadRequest, "PHONE_UNSUPPORTED")
	})
}

// capCase is one cap of the guard: requests made by next(i) pass until the
// limit, and the next one, to a registered number, is refused.
type capCase struct {
	name  string
	tweak func(*config.Config)
	next  func(i int) (phone, ip string)
	limit int
}

var capCases = []capCase{
	{"ip", func(c *config.Config) { c.SMSIPHourlyLimit = 3 }, func(i int) (string, string) {
		return fmt.Sprintf("+86138%02d138000", i), "203.0.113.9"
	}, 3},
	{"range", func(c *config.Config) { c.SMSRangeHourlyLimit = 4 }, func(i int) (string, string) {
		return fmt.Sprintf("+861380013%04d", 8000+i), fmt.Sprintf("203.0.113.%d", i+1)
	}, 4},
	{"region", func(c *config.Config) { c.SMSRegionHourlyLimit = 3 }, func(i int) (string, string) {
		return fmt.Sprintf("+86138%02d138000", i), fmt.Sprintf("203.0.113.%d", i+1)
	}, 3},
	{"global", func(c *config.Config) { c.SMSGlobalHourlyLimit = 3; c.SMSCountries = config.List{"*"} }, func(i int) (string, string) {
		return []string{"+8613800138000", "+12015550123", "+447400123456", "+8613900139000"}[i], fmt.Sprintf("203.0.113.%d", i+1)
	}, 3},
}

func TestSMSGuardCaps(t *testing.T) {
	for _, tc := range capCases {
		t.Run(tc.name, func(t *testing.T) {
			eachMode(t, func(t *testing.T, m mode) {
				fake := testtencent.New(t, tcSecretID, tcSecretKey)
				e := newEnv(t, m, func(c *config.Config) { useTencent(t, c, fake); trustLoopback(c); tc.tweak(c) })
				for i := range tc.limit + 1 {
					phone, _ := tc.next(i)
					e.createUser(fmt.Sprintf("u%d@example.com", i), alicePass, phone)
				}
				for i := range tc.limit {
					phone, ip := tc.next(i)
					expect(t, e.fromIP(ip).get("/login/sms?phone="+q(phone)), http.StatusNoContent, "")
					fake.WaitFor(t, phone, waitDelivery)
				}
				phone, ip := tc.next(tc.limit)
				expectRateLimited(t, e.fromIP(ip).get("/login/sms?phone="+q(phone)))
				// Unknown numbers get the same answer.
				unknown := phone[:len(phone)-1] + string("98"[strings.IndexByte("0123456789", phone[len(phone)-1])%2])
				expectRateLimited(t, e.fromIP(ip).get("/login/sms?phone="+q(unknown)))
				time.Sleep(50 * time.Millisecond)
				if n := fake.Calls(); n != tc.limit {
					t.Errorf("%d calls to Tencent, want %d: the refused request sent something", n, tc.limit)
				}
			})
		})
	}
}

// The caps live in Redis: two processes share them.
func TestSMSGuardCapsAcrossProcesses(t *testing.T) {
	fake := testtencent.New(t, tcSecretID, tcSecretKey)
	const limit = 4
	a := newEnv(t, persistentMode, func(c *config.Config) {
		useTencent(t, c, fake)
		trustLoopback(c)
		c.SMSRangeHourlyLimit = limit
		c.SMSGlobalHourlyLimit = limit + 2
	})
	b := a.twin()
	phone := func(i int) string { return fmt.Sprintf("+861380013%04d", 8000+i) }
	for i := range limit + 2 {
		a.createUser(fmt.Sprintf("u%d@example.com", i), alicePass, phone(i))
	}
	for i := range limit {
		e := []*env{a, b}[i%2]
		expect(t, e.fromIP(fmt.Sprintf("203.0.113.%d", i+1)).get("/login/sms?phone="+q(phone(i))), http.StatusNoContent, "")
	}
	expectRateLimited(t, a.fromIP("198.51.100.1").get("/login/sms?phone="+q(phone(limit))))
	expectRateLimited(t, b.fromIP("198.51.100.2").get("/login/sms?phone="+q(phone(limit+1))))
	// Delivery is asynchronous: wait for every accepted send before
	// counting, so a slow machine is not taken for a missing call.
	for i := range limit {
		fake.WaitFor(t, phone(i), waitDelivery)
	}
	time.Sleep(100 * time.Millisecond) // let any wrongly started delivery arrive
	if n := fake.Calls(); n != limit {
		t.Errorf("%d calls to Tencent from two processes, want %d", n, limit)
	}
}

// newLoggedEnv is newEnv with the service's log kept, to check what it says.
func newLoggedEnv(t *testing.T, m mode, tweak func(*config.Config)) (*env, *syncBuffer) {
	t.Helper()
	e := &env{t: t, mode: m, sms: testinbox.NewSMSInbox(t, webhookSecret), mail: testinbox.NewMailInbox(t)}
	e.cfg = testConfig(e.sms, e.mail)
	useStoresOf(t, m, &e.cfg)
	tweak(&e.cfg)
	if err := e.cfg.Validate(); err != nil {
		t.Fatalf("test configuration: %v", err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	var (
		a       *app.App
		cleanup func()
		err     error
	)
	if m == memoryMode {
		e.clock = clock.NewFake(time.Now())
		a, cleanup, err = app.InMemory(e.cfg, log, e.clock)
	} else {
		a, cleanup, err = app.Persistent(context.Background(), e.cfg, log, clock.System{})
	}
	if err != nil {
		t.Fatalf("assemble %s: %v", m, err)
	}
	e.app = a
	e.srv = newServer(t, a, cleanup)
	return e, logs
}

func TestSMSGuardRecordMode(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		fake := testtencent.New(t, tcSecretID, tcSecretKey)
		e, logs := newLoggedEnv(t, m, func(c *config.Config) {
			useTencent(t, c, fake)
			trustLoopback(c)
			c.SMSGuard = config.SMSGuardRecord
			c.SMSIPHourlyLimit, c.SMSRangeHourlyLimit, c.SMSRegionHourlyLimit, c.SMSGlobalHourlyLimit = 1, 1, 1, 1
		})
		phones := []string{"+8613800138000", "+8613800138001", mobileUS, premiumCN}
		for i, p := range phones {
			e.createUser(fmt.Sprintf("u%d@example.com", i), alicePass, p)
		}
		for _, p := range phones {
			expect(t, e.fromIP("203.0.113.7").get("/login/sms?phone="+q(p)), http.StatusNoContent, "")
			fake.WaitFor(t, p, waitDelivery)
		}
		out := logs.String()
		for _, reason := range []string{"region", "number_type", "ip", "range", "region_cap", "global_cap"} {
			if !strings.Contains(out, "record") || !strings.Contains(out, "reason="+reason+" ") {
				t.Errorf("record mode did not log reason %s:\n%s", reason, out)
			}
		}
		for _, p := range phones {
			if strings.Contains(out, p) {
				t.Errorf("the log holds the full number %s", p)
			}
		}
		if !strings.Contains(out, "range=+861380013\n") {
			t.Errorf("the log lacks the number range:\n%s", out)
		}
	})
}

// A bounded pumping simulation on loopback: many client IPs behind a
// trusted proxy ask codes for random numbers of one range, all registered
// (the worst case: each passing request costs a provider call). The calls
// that reach the provider stay within the range cap.
func TestSMSPumpingSimulation(t *testing.T) {
	const (
		requests   = 2000
		ips        = 400
		registered = 300
		rangeCap   = 30
		ipCap      = 20
		workers    = 8
	)
	fake := testtencent.New(t, tcSecretID, tcSecretKey)
	e := newEnv(t, memoryMode, func(c *config.Config) {
		useTencent(t, c, fake)
		trustLoopback(c)
		c.SMSIPHourlyLimit, c.SMSRangeHourlyLimit = ipCap, rangeCap
		c.SMSGlobalHourlyLimit = 1000
	})
	numbers := make([]string, registered)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("+861380013%04d", i)
		e.createUser(fmt.Sprintf("victim%d@example.com", i), alicePass, numbers[i])
	}
	clients := make([]*client, ips)
	for i := range clients {
		clients[i] = e.fromIP(fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256+1))
	}
	var (
		next                    atomic.Int64
		passed, limited, others atomic.Int64
		wg                      sync.WaitGroup
	)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for next.Add(1) <= requests {
				c := clients[rng.IntN(ips)]
				r := c.get("/login/sms?phone=" + q(numbers[rng.IntN(registered)]))
				switch {
				case r.status == http.StatusNoContent:
					passed.Add(1)
				case r.status == http.StatusTooManyRequests && slices.Contains([]string{"RATE_LIMITED", "CODE_TOO_FREQUENT"}, r.code()):
					limited.Add(1)
				default:
					others.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	time.Sleep(200 * time.Millisecond) // let the last deliveries reach the fake
	calls := fake.Calls()
	t.Logf("pumping: %d requests from %d IPs over %d numbers of one range in %s: %d passed, %d refused (429), %d other; %d provider calls (range cap %d/h)",
		requests, ips, registered, elapsed.Round(time.Millisecond), passed.Load(), limited.Load(), others.Load(), calls, rangeCap)
	if others.Load() != 0 {
		t.Errorf("%d answers were neither 204 nor 429", others.Load())
	}
	if calls > rangeCap || passed.Load() > rangeCap {
		t.Errorf("%d provider calls, %d passed, over the range cap %d", calls, passed.Load(), rangeCap)
	}
	if got := e.app.SMSRefusals.Count("range"); got == 0 {
		t.Error("no refusal counted under reason range")
	}
}

// newServer serves a over loopback until the test ends, then drains it.
func newServer(t *testing.T, a *app.App, cleanup func()) *httptest.Server {
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Drain(ctx)
		cleanup()
	})
	return srv
}
