package memory

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/ports"
)

// Throttle limits events per key in memory. It keeps the times of each key's
// events of the last hour, so the hourly limit slides with time exactly as
// the port says, rather than resetting on the hour.
type Throttle struct {
	clock  ports.Clock
	mu     sync.Mutex
	events *expiringMap[string, []time.Time]
}

var _ ports.Throttle = (*Throttle)(nil)

// NewThrottle returns an empty throttle whose windows run on clock.
func NewThrottle(clock ports.Clock) *Throttle {
	return &Throttle{clock: clock, events: newExpiringMap[string, []time.Time]()}
}

// Allow records one event for key unless the previous one came less than
// interval ago or hourlyLimit events happened in the last hour, and returns
// how long until it would be allowed. A non-positive interval or limit does
// not apply.
func (th *Throttle) Allow(_ context.Context, key string, interval time.Duration, hourlyLimit int) (time.Duration, error) {
	th.mu.Lock()
	defer th.mu.Unlock()
	now := th.clock.Now()
	events, _, _ := th.events.get(key, now)

	// An event leaves the hour when exactly an hour has passed, as in the
	// Redis throttle. Older events are kept only while an interval longer
	// than an hour may still run from the last of them.
	events = events[throttleCountUpTo(events, now.Add(-max(time.Hour, interval))):]
	inHour := events[throttleCountUpTo(events, now.Add(-time.Hour)):]

	var wait time.Duration
	if n := len(events); interval > 0 && n > 0 {
		wait = max(wait, events[n-1].Add(interval).Sub(now))
	}
	if hourlyLimit > 0 && len(inHour) >= hourlyLimit {
		// Allowed again once enough of the hour's events have left it that
		// one more stays within the limit.
		wait = max(wait, inHour[len(inHour)-hourlyLimit].Add(time.Hour).Sub(now))
	}
	if wait > 0 {
		return wait, nil
	}

	kept := append(append([]time.Time(nil), events...), now)
	th.events.set(key, kept, now.Add(max(time.Hour, interval)), now)
	return 0, nil
}

// throttleCountUpTo returns how many of the ascending times are at or before t.
func throttleCountUpTo(times []time.Time, t time.Time) int {
	n := 0
	for n < len(times) && !times[n].After(t) {
		n++
	}
	return n
}
