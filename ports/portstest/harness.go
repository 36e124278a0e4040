package portstest

import (
	"testing"
	"time"
)

// Harness tells a contract suite how to open a fresh store of type S and how
// time passes for it.
type Harness[S any] struct {
	// New returns an empty store and the time it lives by. Every subtest
	// calls it, so subtests never share a clock or a key and can run in
	// parallel; New registers any clean-up with t.Cleanup.
	New func(t *testing.T) (S, Timeline)
	// MaxAdvance is the longest wait the store's Timeline can afford; zero
	// means any. Checks that need longer, such as a throttle's hour, are
	// skipped by name against stores on real time.
	MaxAdvance time.Duration
}

// Timeline is the time a store under test lives by: a fake clock that the
// store reads through ports.Clock, or real time for a server that keeps its
// own TTLs. *clock.Fake is a Timeline.
type Timeline interface {
	Now() time.Time
	// Advance lets d pass for the store.
	Advance(d time.Duration)
}

// RealTime is the Timeline of stores that keep time themselves, like Redis:
// advancing sleeps.
type RealTime struct{}

// Now returns the wall-clock time.
func (RealTime) Now() time.Time { return time.Now() }

// Advance sleeps for d.
func (RealTime) Advance(d time.Duration) { time.Sleep(d) }

// The TTLs the suites use. They are short so that a store on real time passes
// the whole suite in seconds, and far enough apart that a scheduler hiccup
// under -race does not turn "still alive" into "expired".
const (
	suiteTTL    = 300 * time.Millisecond
	suiteMargin = 100 * time.Millisecond
)

// raceGoroutines is how many goroutines race for one single-use thing.
const raceGoroutines = 20

// skipLongerThan skips t when the harness cannot wait d.
func skipLongerThan[S any](t *testing.T, h Harness[S], d time.Duration) {
	t.Helper()
	if h.MaxAdvance > 0 && d > h.MaxAdvance {
		t.Skipf("needs %v to pass; this store lives on real time (max %v)", d, h.MaxAdvance)
	}
}

// millisTime drops what a store with millisecond resolution would lose, so that
// times read back compare equal.
func millisTime(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

// checkDurationIn fails t unless lo < got <= hi.
func checkDurationIn(t *testing.T, what string, got, lo, hi time.Duration) {
	t.Helper()
	if got <= lo || got > hi {
		t.Errorf("%s = %v, want in (%v, %v]", what, got, lo, hi)
	}
}
