package portstest

import (
	"crypto/rand"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// TestLarkStateStore runs the ports.LarkStateStore contract against h.
func TestLarkStateStore(t *testing.T, h Harness[ports.LarkStateStore]) {
	link := domain.LarkState{Action: domain.LarkLink, UserID: "user-1", SessionID: "session-1"}

	t.Run("a state is taken once", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		state := rand.Text()
		larkPut(t, store, state, link)
		if got := larkTake(t, store, state); got != link {
			t.Errorf("Take = %+v, want %+v", got, link)
		}
		larkTakeMissing(t, store, state)
		larkTakeMissing(t, store, rand.Text())
	})

	t.Run("a login state keeps no session", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		state, login := rand.Text(), domain.LarkState{Action: domain.LarkLogin}
		larkPut(t, store, state, login)
		if got := larkTake(t, store, state); got != login {
			t.Errorf("Take = %+v, want %+v", got, login)
		}
	})

	t.Run("a state expires", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		kept, expired := rand.Text(), rand.Text()
		larkPut(t, store, kept, link)
		larkPut(t, store, expired, link)
		tl.Advance(suiteTTL - suiteMargin)
		larkTake(t, store, kept)
		tl.Advance(2 * suiteMargin)
		larkTakeMissing(t, store, expired)
	})

	t.Run("of parallel takes one wins", func(t *testing.T) {
		t.Parallel()
		store, _ := h.New(t)
		state := rand.Text()
		larkPut(t, store, state, link)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range raceGoroutines {
			wg.Go(func() {
				_, err := store.Take(t.Context(), state)
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, domain.ErrNotFound):
					t.Errorf("Take = %v", err)
				}
			})
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("%d parallel takes of one state succeeded, want 1", n)
		}
	})
}

func larkPut(t *testing.T, store ports.LarkStateStore, state string, st domain.LarkState) {
	t.Helper()
	if err := store.Put(t.Context(), state, st, suiteTTL); err != nil {
		t.Fatalf("Put = %v", err)
	}
}

func larkTake(t *testing.T, store ports.LarkStateStore, state string) domain.LarkState {
	t.Helper()
	st, err := store.Take(t.Context(), state)
	if err != nil {
		t.Fatalf("Take = %v", err)
	}
	return st
}

func larkTakeMissing(t *testing.T, store ports.LarkStateStore, state string) {
	t.Helper()
	if st, err := store.Take(t.Context(), state); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Take = %+v, %v; want ErrNotFound", st, err)
	}
}
