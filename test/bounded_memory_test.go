package test

import (
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

// Memory bounds of the in-memory mode under floods of distinct unknown
// identifiers, which each leave an entry behind (a resend throttle for
// /forget_code, an attempt counter for /login) until its TTL ends. The fake
// clock moves on with every request, so entries expire and the stores'
// sweeps have work; what is asserted is the live Go heap after a GC, sampled
// through the run, which must stay flat instead of growing with the count.
//
// The figures measured on the 2-core development machine (go test without
// -race) are in the README's "Bounded memory" paragraph.
const (
	// floodForgetCodes distinct unknown emails ask for a reset code, with the
	// clock moving forgetCodeSpan in all: the throttle TTL is an hour, so
	// about floodForgetCodes/10 entries are live at any time.
	floodForgetCodes = 1_000_000
	forgetCodeSpan   = 10 * time.Hour
	// floodLogins distinct unknown emails log in, each burning one (cheap)
	// hash, with the clock moving loginSpan: the attempt window is
	// LoginLockTTL (15 min), so about a tenth are live.
	floodLogins = 100_000
	loginSpan   = 150 * time.Minute

	// heapBound is the most live heap allowed at any sample. A store that
	// kept every entry would pass 200 MiB at the million; one bounded by its
	// TTL stays around a few tens of MiB.
	heapBound = 96 << 20
	// rssBound is the most resident memory the process may have held at
	// any time (VmHWM), checked on the full-size run of these tests alone
	// (CI's "bounded memory at full size" step): the race detector and
	// the rest of the package's tests would be measured too otherwise.
	// Measured: about 110 MiB after the million /forget_code requests.
	rssBound = 256 << 20
)

func TestBoundedMemoryForgetCodeFlood(t *testing.T) {
	n, span := floodForgetCodes, forgetCodeSpan
	if raceEnabled || testing.Short() {
		n /= 20 // the same span of time: entries still expire
	}
	e := newFloodEnv(t)
	curve := e.flood(n, span, func(i int) *http.Request {
		return httptest.NewRequest(http.MethodGet, "/forget_code?email="+q(fmt.Sprintf("nobody%07d@unknown.example", i)), nil)
	}, http.StatusNoContent)
	checkHeapCurve(t, "GET /forget_code", curve)
}

func TestBoundedMemoryLoginFlood(t *testing.T) {
	n, span := floodLogins, loginSpan
	if raceEnabled || testing.Short() {
		n /= 20
	}
	e := newFloodEnv(t)
	xsrfCookie, xsrf := e.xsrfPair(t)
	curve := e.flood(n, span, func(i int) *http.Request {
		body := fmt.Sprintf(`{"email":"nobody%07d@unknown.example","password":"not-the-password"}`, i)
		r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Cookie", xsrfCookie)
		r.Header.Set(e.cfg.XSRFHeader, xsrf)
		return r
	}, http.StatusBadRequest)
	checkHeapCurve(t, "POST /login", curve)
}

// floodEnv is a memory-mode service driven in-process, without sockets.
type floodEnv struct {
	*env
}

// floodClientIP is whitelisted: per-IP limits would otherwise (rightly) stop
// a flood from one address long before the stores are tested.
const floodClientIP = "127.0.0.1"

func newFloodEnv(t *testing.T) *floodEnv {
	e := newEnv(t, memoryMode, func(c *config.Config) {
		c.IPWhitelist = config.List{floodClientIP + "/32"}
		// The cheapest valid hash: an unknown email still burns one.
		c.Argon2Memory, c.Argon2Iterations, c.Argon2Parallelism = 8, 1, 1
	})
	return &floodEnv{e}
}

// xsrfPair returns the Cookie header value and the header value that pass
// the CSRF check.
func (e *floodEnv) xsrfPair(t *testing.T) (cookie, header string) {
	rec := httptest.NewRecorder()
	e.serve(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	for _, c := range rec.Result().Cookies() {
		if c.Name == e.cfg.XSRFCookie {
			return c.Name + "=" + c.Value, c.Value
		}
	}
	t.Fatalf("GET / set no %s cookie", e.cfg.XSRFCookie)
	return "", ""
}

func (e *floodEnv) serve(w http.ResponseWriter, r *http.Request) {
	r.RemoteAddr = floodClientIP + ":40000"
	e.app.Handler.ServeHTTP(w, r)
}

// heapSample is the live heap after a GC when done requests had been served.
type heapSample struct {
	done int
	heap uint64
}

// flood serves n requests made by req on all cores, moving the fake clock
// span in all, and samples the heap ten times. Every answer must be want.
func (e *floodEnv) flood(n int, span time.Duration, req func(i int) *http.Request, want int) []heapSample {
	t := e.t
	const samples = 10
	step := span / time.Duration(n)
	var next atomic.Int64
	var bad atomic.Int64
	curve := []heapSample{{0, liveHeap()}}
	start := time.Now()
	for s := 1; s <= samples; s++ {
		upTo := int64(n * s / samples)
		var wg sync.WaitGroup
		for range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				for {
					i := next.Add(1) - 1
					if i >= upTo {
						return
					}
					e.clock.Advance(step)
					rec := httptest.NewRecorder()
					e.serve(rec, req(int(i)))
					if rec.Code != want && bad.Add(1) <= 3 {
						t.Errorf("request %d: got %d %s, want %d", i, rec.Code, rec.Body.Bytes(), want)
					}
				}
			})
		}
		wg.Wait()
		next.Store(upTo)
		curve = append(curve, heapSample{int(upTo), liveHeap()})
	}
	now, peak := rss()
	t.Logf("%d requests in %s (%d unexpected), RSS now %.1f MiB, peak %.1f MiB", n, time.Since(start).Round(time.Millisecond), bad.Load(), mib(now), mib(peak))
	if !raceEnabled && !testing.Short() && onlyBoundedMemoryTests() && peak > rssBound {
		t.Errorf("peak RSS %.1f MiB, bound %d MiB", mib(peak), rssBound>>20)
	}
	return curve
}

func checkHeapCurve(t *testing.T, what string, curve []heapSample) {
	t.Helper()
	var b strings.Builder
	var peak uint64
	for _, s := range curve {
		fmt.Fprintf(&b, " %d:%.1fMiB", s.done, float64(s.heap)/(1<<20))
		peak = max(peak, s.heap)
	}
	t.Logf("%s live heap after GC by requests served:%s", what, b.String())
	if peak > heapBound {
		t.Errorf("%s: live heap reached %.1f MiB, bound %d MiB", what, float64(peak)/(1<<20), heapBound>>20)
	}
	// By a fifth of the run the TTL window has filled twice over; from then
	// on the heap must stay flat, not grow with the count.
	base := curve[len(curve)/5].heap
	for _, s := range curve[len(curve)/5:] {
		if s.heap > base*5/4+4<<20 {
			t.Errorf("%s: live heap grew from %.1f MiB to %.1f MiB between %d and %d requests",
				what, float64(base)/(1<<20), float64(s.heap)/(1<<20), curve[len(curve)/5].done, s.done)
			break
		}
	}
}

// liveHeap returns the bytes of live heap objects just after a full GC.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// rss reads the resident set size and its peak (VmRSS, VmHWM) from /proc
// (Linux), in bytes; zero when unknown.
func rss() (now, peak uint64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	kib := func(v string) uint64 {
		n, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		return n << 10
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			now = kib(v)
		} else if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			peak = kib(v)
		}
	}
	return now, peak
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// onlyBoundedMemoryTests reports whether -run selects these tests alone, so
// that the process's peak RSS is theirs.
func onlyBoundedMemoryTests() bool {
	f := flag.Lookup("test.run")
	return f != nil && strings.HasPrefix(f.Value.String(), "^TestBoundedMemory")
}
