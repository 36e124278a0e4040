package memory

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// Throttle limits events per key in memory. It keeps the times of each key's
// events of the last hour, so the hourly limit slides with time exactly as
// the port says, rather than resetting on the hour.
type Throttle struct {
	clock    ports.Clock
	mu       sync.Mutex
	events   *expiringMap[domain.LimitKey, []time.Time]
	distinct *expiringMap[domain.LimitKey, map[string]time.Time] // member → last recorded
}

var _ ports.Throttle = (*Throttle)(nil)

// NewThrottle returns an empty throttle whose windows run on clock.
func NewThrottle(clock ports.Clock) *Throttle {
	return &Throttle{
		clock:    clock,
		events:   newExpiringMap[domain.LimitKey, []time.Time](),
		distinct: newExpiringMap[domain.LimitKey, map[string]time.Time](),
	}
}

// Allow records one event for key unless the previous one came less than
// interval ago or hourlyLimit events happened in the last hour, and returns
// how long until it would be allowed. A non-positive interval or limit does
// not apply.
func (th *Throttle) Allow(_ context.Context, key domain.LimitKey, interval time.Duration, hourlyLimit int) (time.Duration, error) {
	return th.event(key, interval, hourlyLimit, true), nil
}

// Wait returns what Allow would, recording nothing.
func (th *Throttle) Wait(_ context.Context, key domain.LimitKey, interval time.Duration, hourlyLimit int) (time.Duration, error) {
	return th.event(key, interval, hourlyLimit, false), nil
}

func (th *Throttle) event(key domain.LimitKey, interval time.Duration, hourlyLimit int, record bool) time.Duration {
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
	if wait > 0 || !record {
		return wait
	}

	kept := append(append([]time.Time(nil), events...), now)
	th.events.set(key, kept, now.Add(max(time.Hour, interval)), now)
	return 0
}

// AllowDistinct records member under key unless it is new to the last hour
// and hourlyLimit distinct members were recorded in it, and returns how long
// until a new member would be allowed.
func (th *Throttle) AllowDistinct(_ context.Context, key domain.LimitKey, member string, hourlyLimit int) (time.Duration, error) {
	return th.member(key, member, hourlyLimit, true), nil
}

// WaitDistinct returns what AllowDistinct would, recording nothing.
func (th *Throttle) WaitDistinct(_ context.Context, key domain.LimitKey, member string, hourlyLimit int) (time.Duration, error) {
	return th.member(key, member, hourlyLimit, false), nil
}

func (th *Throttle) member(key domain.LimitKey, member string, hourlyLimit int, record bool) time.Duration {
	th.mu.Lock()
	defer th.mu.Unlock()
	now := th.clock.Now()
	old, _, _ := th.distinct.get(key, now)
	members := make(map[string]time.Time, len(old)+1)
	for m, at := range old {
		if at.After(now.Add(-time.Hour)) { // leaves when exactly an hour has passed
			members[m] = at
		}
	}
	if _, known := members[member]; !known && hourlyLimit > 0 && len(members) >= hourlyLimit {
		// A new member fits once enough of the hour's members have left it.
		times := make([]time.Time, 0, len(members))
		for _, at := range members {
			times = append(times, at)
		}
		slices.SortFunc(times, time.Time.Compare)
		return times[len(times)-hourlyLimit].Add(time.Hour).Sub(now)
	}
	if !record {
		return 0
	}
	members[member] = now
	th.distinct.set(key, members, now.Add(time.Hour), now)
	return 0
}

// throttleCountUpTo returns how many of the ascending times are at or before t.
func throttleCountUpTo(times []time.Time, t time.Time) int {
	n := 0
	for n < len(times) && !times[n].After(t) {
		n++
	}
	return n
}
