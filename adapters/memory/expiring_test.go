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
