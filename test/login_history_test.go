package test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/geotest"
)

// historyItem is one item of GET /user/history.
type historyItem struct {
	Time      string `json:"time"`
	IP        string `json:"ip"`
	UserAgent string `json:"user_agent"`
	Method    string `json:"method"`
	Result    string `json:"result"`
	Location  *struct {
		Country string `json:"country"`
		Region  string `json:"region"`
		City    string `json:"city"`
	} `json:"location"`
}

type historyPage struct {
	Items []historyItem `json:"items"`
	Next  *string       `json:"next"`
}

// historyEnv is a service with a geo database made by the test, a lockout
// after three failures, and client IPs taken from X-Forwarded-For.
func historyEnv(t *testing.T, m mode, tweak func(*config.Config)) *env {
	geoDB := geotest.WriteCity(t)
	e := newEnv(t, m, func(c *config.Config) {
		c.GeoIPDB = geoDB
		c.LoginFailures = 3
		c.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
		if tweak != nil {
			tweak(c)
		}
	})
	e.createUser(alice, alicePass, alicePhone)
	return e
}

// from returns a client that appears to come from ip.
func (e *env) from(ip, agent string) *client {
	c := e.browser()
	c.header.Set("X-Forwarded-For", ip)
	c.header.Set("User-Agent", agent)
	return c
}

// tick moves the fake clock on between attempts in memory mode, so every
// attempt has its own instant, as it does on the real clock.
func (e *env) tick() {
	if e.clock != nil {
		e.clock.Advance(time.Second)
	}
}

func (c *client) historyPage(t *testing.T, query string) historyPage {
	t.Helper()
	r := c.get("/user/history" + query)
	expect(t, r, http.StatusOK, "")
	var p historyPage
	r.json(t, &p)
	return p
}

// API.md "Login history": a signed-in account reads its login attempts,
// newest first, page by page to the end: successes, failures on any route,
// and refusals by the lockout, each within 1 s of its answer, placed by
// the geo database when their IP is in it.
func TestLoginHistoryRecordsAndPages(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := historyEnv(t, m, nil)
		owner := e.from(geotest.TestIP, "owner-agent")
		owner.login(alice, alicePass)
		e.tick()

		guesser := e.from(geotest.OtherIP, "guesser-agent")
		wrong := map[string]string{"email": alice, "password": "wrong-Password-1"}
		expect(t, guesser.post("/login", wrong), http.StatusBadRequest, "LOGIN_INVALID")
		e.tick()
		expect(t, guesser.post("/login/sms", map[string]string{"phone": alicePhone, "code": "000000"}), http.StatusBadRequest, "LOGIN_INVALID")
		e.tick()
		expect(t, guesser.post("/login", wrong), http.StatusBadRequest, "LOGIN_INVALID")
		e.tick()
		// Locked now: even the right password is refused, and recorded.
		expect(t, guesser.post("/login", map[string]string{"email": alice, "password": alicePass}), http.StatusTooManyRequests, "LOGIN_LOCKED")
		answered := time.Now()

		want := []struct{ result, method, ip, agent string }{
			{"locked", "email", geotest.OtherIP, "guesser-agent"},
			{"failure", "email", geotest.OtherIP, "guesser-agent"},
			{"failure", "sms", geotest.OtherIP, "guesser-agent"},
			{"failure", "email", geotest.OtherIP, "guesser-agent"},
			{"success", "email", geotest.TestIP, "owner-agent"},
		}
		var all historyPage
		for {
			all = owner.historyPage(t, "")
			if len(all.Items) >= len(want) {
				break
			}
			if time.Since(answered) > time.Second {
				t.Fatalf("%d attempts readable 1 s after the last answer, want %d: %+v", len(all.Items), len(want), all.Items)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(all.Items) != len(want) || all.Next != nil {
			t.Fatalf("history = %+v (next %v), want %d attempts and no next", all.Items, all.Next, len(want))
		}
		var prev time.Time
		for i, w := range want {
			got := all.Items[i]
			if got.Result != w.result || got.Method != w.method || got.IP != w.ip || got.UserAgent != w.agent {
				t.Errorf("item %d = %+v, want %+v", i, got, w)
			}
			at, err := time.Parse(time.RFC3339, got.Time)
			if err != nil || (i > 0 && at.After(prev)) {
				t.Errorf("item %d time %q is not RFC 3339 or is newer than the one before", i, got.Time)
			}
			prev = at
			if w.ip == geotest.OtherIP && got.Location != nil {
				t.Errorf("item %d: location %+v for an IP outside the database, want null", i, got.Location)
			}
		}
		loc := all.Items[4].Location
		if loc == nil || loc.Country != geotest.Tokyo.Country || loc.Region != geotest.Tokyo.Region || loc.City != geotest.Tokyo.City {
			t.Errorf("location of the success = %+v, want %+v", loc, geotest.Tokyo)
		}

		// Paging to the end gives the same attempts, in the same order.
		var paged []historyItem
		query := "?limit=2"
		for pages := 0; ; pages++ {
			if pages > len(want) {
				t.Fatal("paging does not end")
			}
			p := owner.historyPage(t, query)
			if len(p.Items) > 2 {
				t.Fatalf("page of %d items, limit 2", len(p.Items))
			}
			paged = append(paged, p.Items...)
			if p.Next == nil {
				break
			}
			query = "?limit=2&before=" + url.QueryEscape(*p.Next)
		}
		if !reflect.DeepEqual(paged, all.Items) {
			t.Fatalf("pages = %+v, want %+v", paged, all.Items)
		}

		// GET /user's latest login carries the same place, and the
		// original's detail.
		var u struct {
			History struct {
				Location *struct {
					Country string `json:"country"`
				} `json:"location"`
				Detail struct {
					Country   string  `json:"country"`
					Continent string  `json:"continent"`
					Prov      string  `json:"prov"`
					City      string  `json:"city"`
					Lng       float64 `json:"lng"`
					Lat       float64 `json:"lat"`
					Timezone  string  `json:"timezone"`
				} `json:"detail"`
			} `json:"history"`
		}
		r := owner.get("/user")
		expect(t, r, http.StatusOK, "")
		r.json(t, &u)
		d, g := u.History.Detail, geotest.Tokyo
		if d.Country != g.Country || d.Continent != g.Continent || d.Prov != g.Region || d.City != g.City ||
			d.Lat != g.Latitude || d.Lng != g.Longitude || d.Timezone != g.TimeZone || u.History.Location == nil {
			t.Errorf("GET /user history = %+v, want the detail of %+v and a location", u.History, g)
		}
	})
}

// Malformed limit or before answer 400 VALIDATION_FAILED; the route needs
// a session.
func TestLoginHistoryRefusesMalformedQueries(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := historyEnv(t, m, nil)
		expect(t, e.browser().get("/user/history"), http.StatusUnauthorized, "AUTH_REQUIRED")
		c := e.browser()
		c.login(alice, alicePass)
		short := base64.RawURLEncoding.EncodeToString([]byte("12345678"))
		for _, query := range []string{
			"?limit=0", "?limit=101", "?limit=-1", "?limit=abc", "?limit=1.5", "?limit=", "?limit=2&limit=3",
			"?before=", "?before=not*base64", "?before=" + short, "?before=" + short + "&limit=5",
			"?before=AAAAAAAAAAAAAAAAAAAAAA", // zero time
		} {
			r := c.get("/user/history"+query, malformed...)
			if r.status != http.StatusBadRequest || r.code() != "VALIDATION_FAILED" {
				t.Errorf("GET /user/history%s = %s, want 400 VALIDATION_FAILED", query, r)
			}
		}
		for _, query := range []string{"?limit=1", "?limit=100", ""} {
			expect(t, c.get("/user/history"+query), http.StatusOK, "")
		}
	})
}

// The background retention deletes attempts older than
// GATEHOUSE_LOGIN_HISTORY_RETENTION (memory mode, on the fake clock; the
// PostgreSQL prune has its port contract and CLI tests).
func TestLoginHistoryRetention(t *testing.T) {
	e := historyEnv(t, memoryMode, func(c *config.Config) {
		c.LoginHistoryRetention = time.Hour
		c.LoginHistoryPruneInterval = 20 * time.Millisecond
	})
	c := e.from(geotest.TestIP, "agent")
	c.login(alice, alicePass)
	e.advance(90 * time.Minute) // past the retention, and the session's idle timeout
	c = e.from(geotest.OtherIP, "agent")
	c.login(alice, alicePass)
	eventually(t, 2*time.Second, "the old attempt pruned", func() bool {
		p := c.historyPage(t, "")
		return len(p.Items) == 1 && p.Items[0].IP == geotest.OtherIP
	})
}
