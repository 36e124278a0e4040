package memory

import (
	"fmt"
	"testing"
	"time"
)

// TestExpiringMapSweeps checks that entries nobody reads again do not pile
// up: the map stays within about twice its live entries.
func TestExpiringMapSweeps(t *testing.T) {
	m := newExpiringMap[string, int]()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10_000 {
		m.set(fmt.Sprint(i), i, now.Add(time.Second), now)
		now = now.Add(100 * time.Millisecond)
	}
	// About ten entries are live at any time.
	if n := len(m.entries); n > 2*expiringSweepMin {
		t.Errorf("map holds %d entries after 10,000 short-lived writes, want at most %d", n, 2*expiringSweepMin)
	}
	if _, _, ok := m.get("9999", now); !ok {
		t.Error("the newest entry is gone")
	}
	if _, _, ok := m.get("0", now); ok {
		t.Error("an expired entry is still read")
	}
}

// TestExpiringMapSweepsOnTheClock checks that after a burst, the next write
// a sweep interval later drops what expired, rather than waiting for as many
// new writes as the burst left behind.
func TestExpiringMapSweepsOnTheClock(t *testing.T) {
	m := newExpiringMap[string, int]()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10_000 {
		m.set(fmt.Sprint(i), i, now.Add(time.Second), now)
	}
	now = now.Add(expiringSweepEvery)
	m.set("late", 1, now.Add(time.Hour), now)
	if n := len(m.entries); n != 1 {
		t.Errorf("map holds %d entries a sweep interval after a burst expired, want 1", n)
	}
}

// TestExpiringMapCapsItsSize checks that a flood of long-lived distinct keys
// stops at the cap, evicting the entries that would expire first.
func TestExpiringMapCapsItsSize(t *testing.T) {
	m := newExpiringMap[int, int]()
	m.maxEntries = 1000
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10_000 {
		// Later keys live longer, so the survivors must be the newest.
		m.set(i, i, now.Add(time.Hour+time.Duration(i)*time.Millisecond), now)
		if n := len(m.entries); n > m.maxEntries {
			t.Fatalf("map holds %d entries, cap %d", n, m.maxEntries)
		}
	}
	if _, _, ok := m.get(9999, now); !ok {
		t.Error("the newest entry was evicted")
	}
	if _, _, ok := m.get(0, now); ok {
		t.Error("the entry expiring first survived the cap")
	}
}
