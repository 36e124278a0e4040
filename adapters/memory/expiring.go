package memory

import "time"

// expiringMap is a map whose entries end at a deadline. It is not safe for
// concurrent use: each store guards its maps with its own mutex, so that one
// store operation can read and write several entries in one atomic step.
//
// Expired entries are dropped when read and, so that memory does not grow
// with entries nobody reads again, by a sweep of the whole map once it has
// taken as many writes as it held live entries after the previous sweep.
// That amortises the sweep to a constant cost per write and keeps the map
// within about twice its live size, without a background goroutine.
type expiringMap[K comparable, V any] struct {
	entries map[K]expiringEntry[V]
	// writes counts writes since the last sweep; the next sweep comes at
	// sweepAfter.
	writes, sweepAfter int
}

type expiringEntry[V any] struct {
	value   V
	expires time.Time
}

// expiringSweepMin keeps small maps from being swept on every write.
const expiringSweepMin = 64

func newExpiringMap[K comparable, V any]() *expiringMap[K, V] {
	return &expiringMap[K, V]{entries: make(map[K]expiringEntry[V]), sweepAfter: expiringSweepMin}
}

// get returns the live value of k and when it expires.
func (m *expiringMap[K, V]) get(k K, now time.Time) (V, time.Time, bool) {
	e, ok := m.entries[k]
	if ok && !now.Before(e.expires) {
		delete(m.entries, k)
		ok = false
	}
	if !ok {
		var zero V
		return zero, time.Time{}, false
	}
	return e.value, e.expires, true
}

// set stores v under k until expires; an expiry at or before now stores
// nothing and forgets what k held.
func (m *expiringMap[K, V]) set(k K, v V, expires, now time.Time) {
	if !now.Before(expires) {
		delete(m.entries, k)
		return
	}
	m.entries[k] = expiringEntry[V]{value: v, expires: expires}
	m.writes++
	if m.writes >= m.sweepAfter {
		m.sweep(now)
	}
}

// update replaces the value of a live k and keeps its expiry.
func (m *expiringMap[K, V]) update(k K, v V) {
	if e, ok := m.entries[k]; ok {
		e.value = v
		m.entries[k] = e
	}
}

func (m *expiringMap[K, V]) delete(k K) { delete(m.entries, k) }

// sweep drops every expired entry.
func (m *expiringMap[K, V]) sweep(now time.Time) {
	for k, e := range m.entries {
		if !now.Before(e.expires) {
			delete(m.entries, k)
		}
	}
	m.writes = 0
	m.sweepAfter = max(expiringSweepMin, len(m.entries))
}
