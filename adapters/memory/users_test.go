package memory_test

import (
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/clock"
	"github.com/gatehouse/gatehouse/adapters/memory"
	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
	"github.com/gatehouse/gatehouse/ports/portstest"
)

func TestUserStore(t *testing.T) {
	portstest.TestUserStore(t, func(*testing.T) ports.UserStore {
		return memory.NewUserStore(clock.NewFake(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)))
	})
}

// The memory store takes its times from the clock, at the precision
// Postgres keeps, so the two stores read back alike.
func TestUserStoreTimesComeFromTheClock(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 999, time.UTC)
	clk := clock.NewFake(start)
	store := memory.NewUserStore(clk)
	u := &domain.User{Email: "a@example.com", EmailKey: domain.NewEmailKey("a@example.com"), Active: true}
	if err := store.Create(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	want := start.Truncate(time.Microsecond)
	if !u.CreatedAt.Equal(want) || !u.UpdatedAt.Equal(want) {
		t.Errorf("Create stamped %v, %v; want %v", u.CreatedAt, u.UpdatedAt, want)
	}
	clk.Advance(time.Hour)
	if _, err := store.Update(t.Context(), u.ID, func(*domain.User) error { return nil }); err != nil {
		t.Fatal(err)
	}
	got, err := store.ByID(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(want) || !got.UpdatedAt.Equal(want.Add(time.Hour)) {
		t.Errorf("after Update CreatedAt %v, UpdatedAt %v; want %v, %v", got.CreatedAt, got.UpdatedAt, want, want.Add(time.Hour))
	}
}

func TestLoginHistory(t *testing.T) {
	portstest.TestLoginHistory(t, func(*testing.T) portstest.HistoryStore {
		return memory.NewUserStore(clock.NewFake(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)))
	})
}
