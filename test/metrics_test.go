package test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gatehouse/gatehouse/internal/config"
)

// scrape reads every metric family the metrics handler serves.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	return families
}

// series flattens counters to "name{k=v,...}" -> value, labels in the
// order Prometheus writes them (sorted by name).
func series(families map[string]*dto.MetricFamily, name string) map[string]float64 {
	out := map[string]float64{}
	f := families[name]
	if f == nil {
		return out
	}
	for _, m := range f.GetMetric() {
		var labels []string
		for _, l := range m.GetLabel() {
			labels = append(labels, l.GetName()+"="+l.GetValue())
		}
		v := m.GetCounter().GetValue()
		if m.GetGauge() != nil {
			v = m.GetGauge().GetValue()
		}
		out["{"+strings.Join(labels, ",")+"}"] = v
	}
	return out
}

// TestMetricsCountBusinessEvents drives a scripted set of logins, lockouts,
// codes and refusals, and checks the exact change of every business
// counter, that HTTP series are labelled by route pattern, and that no
// label value anywhere carries an email, phone, IP, user id or token.
func TestMetricsCountBusinessEvents(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, func(c *config.Config) {
			c.MetricsAddr = "127.0.0.1:0" // served below through MetricsHandler
			c.LoginFailures = 3
			c.IPLoginFailures = 5
			c.SMSIPHourlyLimit = 1
		})
		e.createUser(alice, alicePass, alicePhone)
		h := e.app.MetricsHandler()
		if h == nil {
			t.Fatal("metrics are off although GATEHOUSE_METRICS_ADDR is set")
		}
		msrv := httptest.NewServer(h)
		t.Cleanup(msrv.Close)
		before := scrape(t, msrv.URL)
		c := e.browser()

		// Metrics never show on the public listener.
		expect(t, c.get("/metrics"), http.StatusNotFound, "NOT_FOUND")

		// One SMS code to a known phone; the per-IP SMS cap (1) refuses
		// the next, to a number nobody has.
		expect(t, c.get("/login/sms?phone="+q(alicePhone)), http.StatusNoContent, "")
		code := e.sms.WaitFor(t, alicePhone, "login", waitDelivery).Code
		expectRateLimited(t, c.get("/login/sms?phone="+q("+8613900139000")))
		expect(t, c.post("/login/sms", map[string]string{"phone": alicePhone, "code": code}), http.StatusNoContent, "")

		c.login(alice, alicePass)
		expect(t, c.get("/forget_code?email="+q(alice)), http.StatusNoContent, "")
		e.mail.WaitFor(t, alice, waitDelivery)

		// Three failures lock the account once; the next try is refused
		// unchecked.
		for range 3 {
			expect(t, c.post("/login", map[string]string{"email": alice, "password": "wrong-Password-1"}), http.StatusBadRequest, "LOGIN_INVALID")
		}
		expect(t, c.post("/login", map[string]string{"email": alice, "password": alicePass}), http.StatusTooManyRequests, "LOGIN_LOCKED")
		// Two more failures make five from this IP: the IP locks once.
		for range 2 {
			expect(t, c.post("/login", map[string]string{"email": "ghost@example.com", "password": alicePass}), http.StatusBadRequest, "LOGIN_INVALID")
		}
		expect(t, c.post("/login", map[string]string{"email": "other@example.com", "password": alicePass}), http.StatusTooManyRequests, "LOGIN_LOCKED")

		// A path that matches no route, with an email in it.
		expect(t, c.get("/no/such/"+alice), http.StatusNotFound, "NOT_FOUND")

		after := scrape(t, msrv.URL)
		want := map[string]map[string]float64{
			"gatehouse_logins_total": {
				"{method=email,result=success}": 1,
				"{method=email,result=failure}": 5,
				"{method=email,result=locked}":  2,
				"{method=sms,result=success}":   1,
			},
			"gatehouse_lockouts_total": {
				"{scope=account}": 1,
				"{scope=ip}":      1,
			},
			"gatehouse_codes_sent_total": {
				"{channel=sms,purpose=login}":   1,
				"{channel=email,purpose=reset}": 1,
			},
			"gatehouse_sms_refused_total": {
				"{reason=ip}": 1,
			},
		}
		for name, changes := range want {
			b, a := series(before, name), series(after, name)
			if len(a) == 0 {
				t.Errorf("%s: no series", name)
			}
			for s, v := range a {
				if got := v - b[s]; got != changes[s] {
					t.Errorf("%s%s changed by %v, want %v", name, s, got, changes[s])
				}
			}
		}

		// HTTP series carry route patterns; the unmatched path is
		// "unmatched".
		reqs := series(after, "gatehouse_http_requests_total")
		for _, s := range []string{
			"{code=204,method=POST,route=/login/sms}",
			"{code=429,method=GET,route=/login/sms}",
			"{code=400,method=POST,route=/login}",
			"{code=404,method=GET,route=unmatched}",
		} {
			if reqs[s] < 1 {
				t.Errorf("no request counted as %s; have %v", s, reqs)
			}
		}
		for s := range reqs {
			route := s[strings.Index(s, "route=")+len("route=") : len(s)-1]
			if route != "unmatched" && !strings.HasPrefix(route, "/") {
				t.Errorf("route label %q is neither a pattern nor unmatched", route)
			}
		}
		for _, name := range []string{"gatehouse_http_request_duration_seconds", "gatehouse_password_hash_duration_seconds", "gatehouse_delivery_queue_length",
			"gatehouse_delivery_dropped_total", "gatehouse_store_errors_total", "go_goroutines", "process_cpu_seconds_total"} {
			if after[name] == nil {
				t.Errorf("metric %s is missing", name)
			}
		}
		if n := after["gatehouse_password_hash_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleCount(); n == 0 {
			t.Error("no password hash was timed")
		}

		// No label value carries personal data or a secret.
		users, err := e.app.Profile.ListAccounts(t.Context())
		if err != nil || len(users) == 0 {
			t.Fatalf("list accounts: %v", err)
		}
		forbidden := []string{"@", "example.com", "13800138000", "13900139000", "127.0.0.1", "::1", users[0].ID.String(), c.token(), code}
		for name, f := range after {
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					for _, bad := range forbidden {
						if bad != "" && strings.Contains(l.GetValue(), bad) {
							t.Errorf("%s has label %s=%q, which carries %q", name, l.GetName(), l.GetValue(), bad)
						}
					}
				}
			}
		}
	})
}

// TestMetricsOffByDefault: without GATEHOUSE_METRICS_ADDR nothing is
// collected or served.
func TestMetricsOffByDefault(t *testing.T) {
	e := newEnv(t, memoryMode, nil)
	if e.app.MetricsHandler() != nil || e.app.MetricsServer() != nil {
		t.Fatal("metrics are on without GATEHOUSE_METRICS_ADDR")
	}
	expect(t, e.browser().get("/metrics"), http.StatusNotFound, "NOT_FOUND")
}
