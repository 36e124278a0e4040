package memory

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/clock"
	"github.com/gatehouse/gatehouse/domain"
)

// TestSessionIndexHoldsOnlyLiveSessions checks what the contract suite
// cannot see: the per-user index never grows past the limit, whatever ends
// sessions (idling out, Delete, eviction), so no call walks sessions that
// ended long ago.
func TestSessionIndexHoldsOnlyLiveSessions(t *testing.T) {
	clk := clock.NewFake(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	store := NewSessionStore(clk)
	ctx := context.Background()
	user := domain.UserID(rand.Text())
	indexed := func() int {
		ids, _, _ := store.byUser.get(user, clk.Now())
		return len(ids)
	}
	const limit = 4
	create := func(idle time.Duration) domain.Session {
		t.Helper()
		now := clk.Now()
		s := domain.Session{ID: domain.SessionID(rand.Text()), UserID: user, CreatedAt: now, AbsoluteExpiry: now.Add(time.Hour), IdleTimeout: idle}
		if err := store.Create(ctx, s, s.IdleTTL(now), limit); err != nil {
			t.Fatalf("Create: %v", err)
		}
		return s
	}
	for i := range 6 * limit {
		idle := time.Hour
		if i%2 == 0 {
			idle = time.Minute
		}
		s := create(idle)
		if i%3 == 1 {
			if err := store.Delete(ctx, user, s.ID); err != nil {
				t.Fatalf("Delete: %v", err)
			}
		}
		if n := indexed(); n > limit {
			t.Fatalf("after %d creates the index holds %d entries, want at most %d", i+1, n, limit)
		}
		clk.Advance(20 * time.Second)
	}
	if _, err := store.DeleteAllForUser(ctx, user, ""); err != nil {
		t.Fatalf("DeleteAllForUser: %v", err)
	}
	if n := indexed(); n != 0 {
		t.Fatalf("the index holds %d entries after DeleteAllForUser, want 0", n)
	}

	// Two sessions idle out; the next call that touches the index drops
	// them, and only them.
	for _, idle := range []time.Duration{time.Minute, time.Hour, time.Minute, time.Hour} {
		create(idle)
	}
	clk.Advance(2 * time.Minute)
	if err := store.Delete(ctx, user, domain.SessionID(rand.Text())); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if n := indexed(); n != 2 {
		t.Errorf("the index holds %d entries after two of four sessions idled out, want 2", n)
	}
}
