package memory

import (
	"slices"
	"time"
)

// expiringMap is a map whose entries end at a deadline. It is not safe for
// concurrent use: each store guards its maps with its own mutex, so that one
// store operation can read and write several entries in one atomic step.
//
// Expired entries are dropped when read and, so that memory does not grow
// with entries nobody reads again, by a sweep of the whole map once it has
// taken as many writes as it held live entries after the previous sweep.
// That amortises the sweep to a constant cost per write and keeps the map
// within about twice its live size, without a background goroutine.
//
// Two more bounds hold under a flood of distinct keys (unknown emails at
// /forget_code, say). A write at least expiringSweepEvery after the previous
// sweep sweeps again, so a map shrinks back to its live size soon after a
// burst, on the clock the store runs on, rather than only after as many new
// writes. And the map never holds more than maxEntries: a write that finds
// it full after a sweep evicts the half that would expire soonest, since
// the TTL was going to drop those first anyway.
type expiringMap[K comparable, V any] struct {
	entries map[K]expiringEntry[V]
	// writes counts writes since the last sweep; the next sweep comes at
	// sweepAfter writes, or at the first write from nextSweep on.
	writes, sweepAfter int
	nextSweep          time.Time
	maxEntries         int
}

type expiringEntry[V any] struct {
	value   V
	expires time.Time
}

const (
	// expiringSweepMin keeps small maps from being swept on every write.
	expiringSweepMin = 64
	// expiringSweepEvery is the longest a written map goes without a sweep.
	expiringSweepEvery = time.Minute
	// expiringMaxEntries caps each map of the in-memory stores. The memory
	// mode serves development, tests and single small instances; at about
	// 200 bytes an entry, a full map costs some 200 MiB, and reaching it
	// takes a million distinct keys within one TTL.
	expiringMaxEntries = 1 << 20
)

func newExpiringMap[K comparable, V any]() *expiringMap[K, V] {
	return &expiringMap[K, V]{
		entries:    make(map[K]expiringEntry[V]),
		sweepAfter: expiringSweepMin,
		maxEntries: expiringMaxEntries,
	}
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
	if _, exists := m.entries[k]; !exists && len(m.entries) >= m.maxEntries {
		m.sweep(now)
		if len(m.entries) >= m.maxEntries {
			m.evictSoonest()
		}
	}
	m.entries[k] = expiringEntry[V]{value: v, expires: expires}
	m.writes++
	if m.writes >= m.sweepAfter || !now.Before(m.nextSweep) {
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
	m.nextSweep = now.Add(expiringSweepEvery)
}

// evictSoonest drops the half of the entries that expire first. Halving
// rather than dropping one keeps the cost of a full map amortised: the next
// eviction is at least maxEntries/2 new keys away.
func (m *expiringMap[K, V]) evictSoonest() {
	expiries := make([]time.Time, 0, len(m.entries))
	for _, e := range m.entries {
		expiries = append(expiries, e.expires)
	}
	slices.SortFunc(expiries, time.Time.Compare)
	cut := expiries[len(expiries)/2]
	for k, e := range m.entries {
		if e.expires.Before(cut) || (e.expires.Equal(cut) && len(m.entries) > m.maxEntries/2) {
			delete(m.entries, k)
		}
	}
}
