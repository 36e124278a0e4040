// Package soak holds the soak test: the assembled service on PostgreSQL and
// Redis, served on loopback, under a steady realistic mix of requests from
// many accounts for a bounded time. It checks that nothing fails (no 5xx, no
// status outside each request kind's allowed set) and that nothing grows
// after warm-up: resident memory, goroutines and the service's Redis keys.
//
// It runs only when SOAK_DURATION is set (go tool task soak; .ci/run sets
// 60s), so that go test ./... stays quick.
package soak

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/gatehouse/gatehouse/adapters/clock"
	"github.com/gatehouse/gatehouse/domain/profile"
	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/storetest"
)

// The accounts, by role. Holders keep one session each and make the
// session traffic; the login pool takes successful logins; victims take the
// wrong passwords, so their lockouts never stop a login that must succeed.
const (
	holders   = 150
	loginPool = 30
	victims   = 20
	accounts  = holders + loginPool + victims
	// unknownTargets is how many addresses and numbers without an account
	// are asked for codes, over and over, as a real mix would.
	unknownTargets = 500
	password       = "soak-Secret-2026"
	// clientIPs is how many addresses the clients come from, per pool: a
	// population of users reuses addresses, and per-IP keys, which live for
	// an hour or a lockout window, level off once each address was seen.
	clientIPs = 256
)

// The address pools: wrong passwords come from their own addresses, so the
// per-IP lockouts they earn never stop the logins that must succeed.
const (
	usersNet = 0
	guessNet = 200
)

// kind is one sort of request in the mix, with its rate and the statuses
// it may answer.
type kind struct {
	name    string
	perSec  float64
	allowed []int
	run     func(s *soak) (status int, err error)
}

// mix is the traffic per second: verify ≫ user reads > refresh > logins >
// wrong passwords > code requests > profile edits. Code requests may answer
// 429: the resend throttle of a target, or a per-IP cap.
var mix = []kind{
	{"verify", 200, []int{204}, (*soak).verify},
	{"user", 50, []int{200}, (*soak).user},
	{"refresh", 12, []int{204}, (*soak).refresh},
	{"login", 8, []int{204}, (*soak).login},
	{"wrong_password", 5, []int{400, 429}, (*soak).wrongPassword},
	{"code_known", 2, []int{204, 429}, (*soak).codeKnown},
	{"code_unknown", 2, []int{204, 429}, (*soak).codeUnknown},
	{"profile_edit", 2, []int{204}, (*soak).profileEdit},
}

func TestSoak(t *testing.T) {
	setting := os.Getenv("SOAK_DURATION")
	if setting == "" {
		t.Skip("set SOAK_DURATION (e.g. 60s) to run the soak test: go tool task soak")
	}
	duration, err := time.ParseDuration(setting)
	if err != nil || duration < 45*time.Second || duration > 2*time.Hour {
		t.Fatalf("SOAK_DURATION=%q: want a duration from 45s to 2h", setting)
	}
	sampleEvery := max(time.Second, duration/30)

	s := newSoak(t)
	// Warm-up lasts until the first sessions of the login pool have expired,
	// and at least a third of the run.
	warmUp := max(duration/3, s.cfg.SessionIdleTTL+10*time.Second)
	s.seed()
	stats := newStats()

	// A fixed pool of workers serves a queue the kinds' tickers fill; a full
	// queue skips the request (counted) rather than growing goroutines.
	jobs := make(chan *kind, 256)
	var workers sync.WaitGroup
	for range 16 {
		workers.Go(func() {
			for k := range jobs {
				status, err := k.run(s)
				stats.record(k, status, err)
			}
		})
	}
	ctx, stop := context.WithTimeout(t.Context(), duration)
	defer stop()
	var producers sync.WaitGroup
	for i := range mix {
		k := &mix[i]
		producers.Go(func() {
			tick := time.NewTicker(time.Duration(float64(time.Second) / k.perSec))
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					select {
					case jobs <- k:
					default:
						stats.skipped.Add(1)
					}
				}
			}
		})
	}

	var curve []sample
	start := time.Now()
	sampler := time.NewTicker(sampleEvery)
	curve = append(curve, s.sample(0))
sampling:
	for {
		select {
		case <-ctx.Done():
			break sampling
		case <-sampler.C:
			curve = append(curve, s.sample(time.Since(start)))
		}
	}
	sampler.Stop()
	producers.Wait()
	close(jobs)
	workers.Wait()
	curve = append(curve, s.sample(time.Since(start)))
	t.Logf("Redis keys by family after warm-up and at the end: %v, %v", sampleAt(curve, warmUp).families, curve[len(curve)-1].families)

	stats.report(t, time.Since(start))
	for _, c := range curve {
		t.Logf("t=%-6s rss=%6.1f MiB goroutines=%4d redis_keys=%d", c.at.Round(time.Second), float64(c.rss)/(1<<20), c.goroutines, c.keys)
	}
	stats.check(t)
	checkFlat(t, curve, warmUp)
}

// soak is the running service and the clients that drive it.
type soak struct {
	t        *testing.T
	base     string
	cfg      config.Config
	app      *app.App
	redis    rueidis.Client
	tr       *http.Transport
	holders  []*holder
	nextIP   atomic.Uint64
	unknownN atomic.Uint64
}

// holder is an account with a live session and the client holding it. Its
// lock keeps one request at a time per session, as one browser tab would,
// so that a refresh never races a verify of the token it replaces.
type holder struct {
	mu     sync.Mutex
	c      *client
	email  string
	phone  string
	edited int
}

func newSoak(t *testing.T) *soak {
	cfg := config.Default()
	cfg.Secret = "soak-secret-that-is-at-least-32-bytes-long"
	cfg.Name = "gatehouse-soak"
	cfg.DatabaseURL, _ = storetest.Schema(t)
	cfg.RedisURL = storetest.RedisURL(t)
	cfg.RedisKeyPrefix = storetest.RedisPrefix(t)
	cfg.MigrateOnStart = true
	// Cheap hashes, so that logins do not dominate the mix.
	cfg.Argon2Memory, cfg.Argon2Iterations, cfg.Argon2Parallelism = 1024, 1, 1
	// Sessions of the login pool expire within the run, so their keys must
	// level off rather than pile up; holders are used far more often.
	cfg.SessionIdleTTL = 20 * time.Second
	// Every client has its own address, passed on by a trusted proxy, so
	// per-IP limits see realistic traffic instead of one busy address.
	cfg.TrustedProxies = config.List{"127.0.0.1/32"}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("soak configuration: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, cleanup, err := app.Persistent(t.Context(), cfg, log, clock.System{})
	if err != nil {
		t.Fatalf("assemble: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := a.Server()
	go func() { _ = srv.Serve(ln) }()

	opt, err := rueidis.ParseURL(cfg.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	opt.DisableCache = true
	rc, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatal(err)
	}
	s := &soak{
		t: t, base: "http://" + ln.Addr().String(), cfg: cfg, app: a, redis: rc,
		tr: &http.Transport{MaxIdleConnsPerHost: 32, IdleConnTimeout: time.Minute},
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = a.Drain(ctx)
		s.tr.CloseIdleConnections()
		rc.Close()
		cleanup()
	})
	return s
}

func email(i int) string        { return fmt.Sprintf("soak%03d@example.com", i) }
func phone(i int) string        { return fmt.Sprintf("+861380013%04d", 1000+i) }
func unknownEmail(i int) string { return fmt.Sprintf("nobody%03d@unknown.example", i) }
func unknownPhone(i int) string { return fmt.Sprintf("+861390013%04d", 1000+i) }

// seed creates the accounts and logs every holder in.
func (s *soak) seed() {
	for i := range accounts {
		acc := profile.NewAccount{Email: email(i), Password: password, Phone: phone(i), Name: "Soak " + strconv.Itoa(i)}
		if _, err := s.app.Profile.CreateAccount(context.Background(), acc); err != nil {
			s.t.Fatalf("create %s: %v", acc.Email, err)
		}
	}
	for i := range holders {
		c := s.browser(usersNet)
		if st, err := c.send(http.MethodPost, "/login", map[string]string{"email": email(i), "password": password}, nil); st != 204 || err != nil {
			s.t.Fatalf("log holder %d in: %d %v", i, st, err)
		}
		s.holders = append(s.holders, &holder{c: c, email: email(i), phone: phone(i)})
	}
}

// client is one browser: a cookie jar, an address, the shared transport.
type client struct {
	s    *soak
	http *http.Client
	ip   string
}

// browser returns a new client that has loaded GET / (and holds
// XSRF-TOKEN), coming from the next address of the pool 10.<net>.0.0/16.
func (s *soak) browser(net int) *client {
	jar, _ := cookiejar.New(nil)
	n := s.nextIP.Add(1) % clientIPs
	c := &client{s: s, http: &http.Client{Jar: jar, Transport: s.tr, Timeout: 30 * time.Second},
		ip: fmt.Sprintf("10.%d.%d.%d", net, n>>8, n&0xff)}
	if st, err := c.send(http.MethodGet, "/", nil, nil); st != 200 || err != nil {
		s.t.Fatalf("GET / = %d %v", st, err)
	}
	return c
}

// send makes one request; body (unless nil) goes as JSON, and the answer's
// JSON is decoded into out when out is not nil.
func (c *client) send(method, path string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, c.s.base+path, r)
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-Forwarded-For", c.ip)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet {
		u, _ := url.Parse(c.s.base)
		for _, ck := range c.http.Jar.Cookies(u) {
			if ck.Name == c.s.cfg.XSRFCookie {
				req.Header.Set(c.s.cfg.XSRFHeader, ck.Value)
			}
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && out != nil && resp.StatusCode < 300 {
		err = json.Unmarshal(b, out)
	}
	return resp.StatusCode, err
}

// withHolder runs fn with a random holder that is not busy.
func (s *soak) withHolder(fn func(h *holder) (int, error)) (int, error) {
	for {
		h := s.holders[rand.IntN(len(s.holders))]
		if h.mu.TryLock() {
			defer h.mu.Unlock()
			return fn(h)
		}
	}
}

func (s *soak) verify() (int, error) {
	return s.withHolder(func(h *holder) (int, error) { return h.c.send(http.MethodGet, "/verify", nil, nil) })
}

func (s *soak) user() (int, error) {
	return s.withHolder(func(h *holder) (int, error) {
		var u struct {
			Email string `json:"email"`
		}
		st, err := h.c.send(http.MethodGet, "/user", nil, &u)
		if err == nil && st == 200 && u.Email != h.email {
			err = fmt.Errorf("GET /user answered %q for %q", u.Email, h.email)
		}
		return st, err
	})
}

// refresh takes a refresh code and swaps the token for a new one.
func (s *soak) refresh() (int, error) {
	return s.withHolder(func(h *holder) (int, error) {
		var rc struct {
			Code string `json:"code"`
		}
		if st, err := h.c.send(http.MethodGet, "/refresh_code", nil, &rc); st != 200 || err != nil {
			return st, err
		}
		return h.c.send(http.MethodPost, "/refresh_token", map[string]string{"code": rc.Code}, nil)
	})
}

func (s *soak) login() (int, error) {
	return s.browser(usersNet).send(http.MethodPost, "/login",
		map[string]string{"email": email(holders + rand.IntN(loginPool)), "password": password}, nil)
}

func (s *soak) wrongPassword() (int, error) {
	return s.browser(guessNet).send(http.MethodPost, "/login",
		map[string]string{"email": email(holders + loginPool + rand.IntN(victims)), "password": "not-the-password"}, nil)
}

// codeKnown asks for a reset mail or an SMS login code for an account.
func (s *soak) codeKnown() (int, error) {
	i := rand.IntN(accounts)
	c := s.browser(usersNet)
	if rand.IntN(2) == 0 {
		return c.send(http.MethodGet, "/forget_code?email="+url.QueryEscape(email(i)), nil, nil)
	}
	return c.send(http.MethodGet, "/login/sms?phone="+url.QueryEscape(phone(i)), nil, nil)
}

// codeUnknown does the same for addresses and numbers without an account.
func (s *soak) codeUnknown() (int, error) {
	i := int(s.unknownN.Add(1) % unknownTargets)
	c := s.browser(usersNet)
	if i%2 == 0 {
		return c.send(http.MethodGet, "/forget_code?email="+url.QueryEscape(unknownEmail(i)), nil, nil)
	}
	return c.send(http.MethodGet, "/login/sms?phone="+url.QueryEscape(unknownPhone(i)), nil, nil)
}

// profileEdit changes the holder's name or avatar (not the email: that has
// an hourly cap per account).
func (s *soak) profileEdit() (int, error) {
	return s.withHolder(func(h *holder) (int, error) {
		h.edited++
		if h.edited%2 == 0 {
			return h.c.send(http.MethodPatch, "/user", map[string]string{"key": "Name", "name": fmt.Sprintf("Soak %d", h.edited)}, nil)
		}
		return h.c.send(http.MethodPatch, "/user", map[string]string{"key": "Avatar", "avatar": fmt.Sprintf("https://img.example/%d.png", h.edited)}, nil)
	})
}

// stats counts answers per kind and status.
type stats struct {
	mu         sync.Mutex
	byKind     map[string]map[int]int
	unexpected []string
	errs       int
	skipped    atomic.Int64
}

func newStats() *stats { return &stats{byKind: map[string]map[int]int{}} }

func (st *stats) record(k *kind, status int, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.byKind[k.name] == nil {
		st.byKind[k.name] = map[int]int{}
	}
	st.byKind[k.name][status]++
	if err != nil || !slices.Contains(k.allowed, status) {
		st.errs++
		if len(st.unexpected) < 20 {
			st.unexpected = append(st.unexpected, fmt.Sprintf("%s: %d %v", k.name, status, err))
		}
	}
}

func (st *stats) report(t *testing.T, took time.Duration) {
	st.mu.Lock()
	defer st.mu.Unlock()
	total := 0
	for _, k := range mix {
		n := 0
		var parts []string
		codes := st.byKind[k.name]
		keys := make([]int, 0, len(codes))
		for c := range codes {
			keys = append(keys, c)
		}
		slices.Sort(keys)
		for _, c := range keys {
			parts = append(parts, fmt.Sprintf("%d×%d", c, codes[c]))
			n += codes[c]
		}
		total += n
		t.Logf("%-15s %7d requests (%.1f/s)  %s", k.name, n, float64(n)/took.Seconds(), strings.Join(parts, " "))
	}
	t.Logf("total %d requests in %s (%.0f/s), %d skipped because the load generator was saturated",
		total, took.Round(time.Second), float64(total)/took.Seconds(), st.skipped.Load())
}

func (st *stats) check(t *testing.T) {
	st.mu.Lock()
	defer st.mu.Unlock()
	fivexx := 0
	for _, codes := range st.byKind {
		for c, n := range codes {
			if c >= 500 {
				fivexx += n
			}
		}
	}
	if fivexx > 0 {
		t.Errorf("%d answers were 5xx", fivexx)
	}
	if st.errs > 0 {
		t.Errorf("%d unexpected answers or errors, first ones:\n%s", st.errs, strings.Join(st.unexpected, "\n"))
	}
	if st.byKind["verify"][204] == 0 || st.byKind["login"][204] == 0 {
		t.Error("the mix did not run")
	}
}

// sample is one reading of the process and of Redis.
type sample struct {
	at         time.Duration
	rss        uint64
	goroutines int
	keys       int
	families   map[string]int
}

func (s *soak) sample(at time.Duration) sample {
	families := s.keyFamilies()
	n := 0
	for _, c := range families {
		n += c
	}
	return sample{at: at, rss: rss(s.t), goroutines: runtime.NumGoroutine(), keys: n, families: families}
}

// keyFamilies counts the Redis keys under the soak's prefix by their first
// segment (sess, att, lock, code, thr...), for the log.
func (s *soak) keyFamilies() map[string]int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := map[string]int{}
	var cursor uint64
	for {
		e, err := s.redis.Do(ctx, s.redis.B().Scan().Cursor(cursor).Match(s.cfg.RedisKeyPrefix+"*").Count(1000).Build()).AsScanEntry()
		if err != nil {
			s.t.Errorf("count Redis keys: %v", err)
			return out
		}
		for _, k := range e.Elements {
			family, _, _ := strings.Cut(strings.TrimPrefix(k, s.cfg.RedisKeyPrefix), ":")
			out[family]++
		}
		if cursor = e.Cursor; cursor == 0 {
			return out
		}
	}
}

// rss reads the resident set size of this process (Linux /proc).
func rss(t *testing.T) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatalf("read RSS: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("parse VmRSS %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// sampleAt returns the last sample taken by at.
func sampleAt(curve []sample, at time.Duration) sample {
	base := curve[0]
	for _, c := range curve {
		if c.at <= at {
			base = c
		}
	}
	return base
}

// keyCaps bound the Redis key families whose keys are named after a
// distinct identifier that lives an hour or a lockout window, longer than
// the run: they grow until every identifier the mix uses has been seen, and
// never beyond. Attempt counters and locks are per account and per address;
// throttles per target and purpose (and per address, for per-IP caps);
// codes per account and purpose.
var keyCaps = map[string]int{
	"att":  accounts + 2*clientIPs,
	"lock": accounts + 2*clientIPs,
	"thr":  2*(accounts+unknownTargets) + 2*2*clientIPs,
	"code": 3 * accounts,
}

// checkFlat compares every sample after warm-up with the last sample of
// warm-up. The bounds are generous, as the machine is shared and noisy: what
// they catch is steady growth, which a longer run makes plain.
//   - RSS: at most 1.5× plus 64 MiB.
//   - goroutines: at most 1.5× plus 64 (connections come and go).
//   - Redis keys of a family in keyCaps: at most its cap. Any other family
//     (sessions and their indexes, whose TTL is shorter than warm-up, and
//     families this test does not know yet): at most 1.25× plus 100.
func checkFlat(t *testing.T, curve []sample, warmUp time.Duration) {
	base := sampleAt(curve, warmUp)
	if base.at == curve[len(curve)-1].at {
		t.Fatal("no samples after warm-up")
	}
	for _, c := range curve {
		if c.at <= warmUp {
			continue
		}
		if c.rss > base.rss*3/2+64<<20 {
			t.Errorf("RSS grew from %.1f MiB after warm-up to %.1f MiB at %s", float64(base.rss)/(1<<20), float64(c.rss)/(1<<20), c.at.Round(time.Second))
		}
		if c.goroutines > base.goroutines*3/2+64 {
			t.Errorf("goroutines grew from %d after warm-up to %d at %s", base.goroutines, c.goroutines, c.at.Round(time.Second))
		}
		for family, n := range c.families {
			limit, capped := keyCaps[family]
			if !capped {
				limit = base.families[family]*5/4 + 100
			}
			if n > limit {
				t.Errorf("Redis keys %q grew from %d after warm-up to %d at %s, bound %d", family, base.families[family], n, c.at.Round(time.Second), limit)
			}
		}
	}
	first, last := curve[0], curve[len(curve)-1]
	t.Logf("RSS %.1f → %.1f MiB (%.1f after warm-up), goroutines %d → %d (%d after warm-up), Redis keys %d → %d (%d after warm-up)",
		float64(first.rss)/(1<<20), float64(last.rss)/(1<<20), float64(base.rss)/(1<<20),
		first.goroutines, last.goroutines, base.goroutines, first.keys, last.keys, base.keys)
}
