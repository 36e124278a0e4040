package redis

import (
	"context"
	"crypto/rand"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
)

// TestSessionIndexHoldsOnlyLiveSessions checks what the contract suite
// cannot see: the per-user index never grows past the limit, whatever ends
// sessions (idling out, Delete, eviction), so no script walks sessions that
// ended long ago.
func TestSessionIndexHoldsOnlyLiveSessions(t *testing.T) {
	c := newTestClient(t)
	store := NewSessionStore(c)
	ctx := context.Background()
	user := domain.UserID(rand.Text())
	index := store.index(user)
	card := func() int64 {
		t.Helper()
		n, err := c.rdb.Do(ctx, c.rdb.B().Zcard().Key(index).Build()).AsInt64()
		if err != nil {
			t.Fatalf("ZCARD: %v", err)
		}
		return n
	}
	origins := func() int64 {
		t.Helper()
		n, err := c.rdb.Do(ctx, c.rdb.B().Hlen().Key(index+"#origin").Build()).AsInt64()
		if err != nil {
			t.Fatalf("HLEN: %v", err)
		}
		return n
	}
	const limit = 4
	newSession := func(idle time.Duration) domain.Session {
		now := time.Now()
		return domain.Session{ID: domain.SessionID(rand.Text()), UserID: user, CreatedAt: now, AbsoluteExpiry: now.Add(time.Hour), IdleTimeout: idle}
	}
	for i := range 6 * limit {
		idle := time.Hour
		if i%2 == 0 {
			idle = 50 * time.Millisecond
		}
		s := newSession(idle)
		if err := store.Create(ctx, s, s.IdleTTL(s.CreatedAt), limit); err != nil {
			t.Fatalf("Create: %v", err)
		}
		if i%3 == 1 {
			if err := store.Delete(ctx, user, s.ID); err != nil {
				t.Fatalf("Delete: %v", err)
			}
		}
		if n := card(); n > limit {
			t.Fatalf("after %d creates the index holds %d entries, want at most %d", i+1, n, limit)
		}
		if n := origins(); n != card() {
			t.Fatalf("after %d creates the origin hash holds %d entries, the index %d", i+1, n, card())
		}
	}
	if _, err := store.DeleteAllForUser(ctx, user, ""); err != nil {
		t.Fatalf("DeleteAllForUser: %v", err)
	}
	if n := card(); n != 0 {
		t.Fatalf("the index holds %d entries after DeleteAllForUser, want 0", n)
	}
	if n := origins(); n != 0 {
		t.Fatalf("the origin hash holds %d entries after DeleteAllForUser, want 0", n)
	}

	// Two sessions idle out; the next call that touches the index drops
	// them, and only them.
	for _, idle := range []time.Duration{50 * time.Millisecond, time.Hour, 50 * time.Millisecond, time.Hour} {
		s := newSession(idle)
		if err := store.Create(ctx, s, s.IdleTTL(s.CreatedAt), limit); err != nil {
			t.Fatalf("Create: %v", err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if err := store.Delete(ctx, user, domain.SessionID(rand.Text())); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if n := card(); n != 2 {
		t.Errorf("the index holds %d entries after two of four sessions idled out, want 2", n)
	}
	if n := origins(); n != 2 {
		t.Errorf("the origin hash holds %d entries after two of four sessions idled out, want 2", n)
	}
}

// TestLastSeenSurvivesAChangedIdleTimeout checks that the last-seen time,
// which List reads off the key's TTL, stays right when the configured idle
// timeout changes between the login and a renewal: the renewal counts down
// from the new timeout, so the value must say so too.
func TestLastSeenSurvivesAChangedIdleTimeout(t *testing.T) {
	store := NewSessionStore(newTestClient(t))
	ctx := context.Background()
	now := time.Now()
	s := domain.Session{ID: domain.SessionID(rand.Text()), UserID: domain.UserID(rand.Text()), CreatedAt: now, AbsoluteExpiry: now.Add(24 * time.Hour), IdleTimeout: time.Hour}
	if err := store.Create(ctx, s, s.IdleTTL(now), 10); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := store.Touch(ctx, s.UserID, s.ID, time.Now(), 2*time.Hour); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	const quiet = 30 * time.Millisecond
	time.Sleep(quiet)
	listedAt := time.Now()
	list, err := store.List(ctx, s.UserID, listedAt)
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v; want the one session", list, err)
	}
	// At least quiet passed between the renewal and the list, on Redis's
	// clock as on ours; a last-seen time read with the old timeout would
	// be an hour in the future, cut to listedAt.
	if got := list[0].LastSeen; got.After(listedAt.Add(-quiet)) || got.Before(s.CreatedAt.Truncate(time.Millisecond)) {
		t.Errorf("LastSeen = %v, want at most %v before %v and not before the creation", got, quiet, listedAt)
	}
	if list[0].IdleTimeout != 2*time.Hour {
		t.Errorf("IdleTimeout = %v, want the renewal's 2h", list[0].IdleTimeout)
	}
}

// BenchmarkSessionCreateAtLimit measures a login's Create when the account
// already holds the limit of live sessions, so each Create walks them all
// and evicts one: the longest a session script holds Redis.
func BenchmarkSessionCreateAtLimit(b *testing.B) {
	for _, limit := range []int{50, 1000} {
		b.Run(strconv.Itoa(limit), func(b *testing.B) {
			store := NewSessionStore(newTestClient(b))
			ctx := context.Background()
			user := domain.UserID(rand.Text())
			create := func() {
				now := time.Now()
				s := domain.Session{ID: domain.SessionID(rand.Text()), UserID: user, CreatedAt: now, AbsoluteExpiry: now.Add(time.Hour), IdleTimeout: time.Hour}
				if err := store.Create(ctx, s, s.IdleTTL(now), limit); err != nil {
					b.Fatal(err)
				}
			}
			for range limit {
				create()
			}
			for b.Loop() {
				create()
			}
		})
	}
}
