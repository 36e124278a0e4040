package portstest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// larkProfile returns a complete Lark binding of open_id ou_<n> for one app.
func larkProfile(n int) *domain.LarkProfile {
	return &domain.LarkProfile{
		Platform: domain.LarkFeishu, AppID: "cli_suite", OpenID: fmt.Sprintf("ou_%d", n),
		Name: fmt.Sprintf("飞书 %d", n), EnName: fmt.Sprintf("Lark %d", n), AvatarURL: "https://lark.example/a.png",
		UnionID: fmt.Sprintf("on_%d", n), TenantKey: "tenant",
	}
}

func larkNotFound(t *testing.T, store ports.UserStore, key domain.LarkKey) {
	t.Helper()
	if u, err := store.ByLark(t.Context(), key); !errors.Is(err, domain.ErrUserNotFound) {
		t.Errorf("ByLark(%+v) = %v, %v; want ErrUserNotFound", key, u, err)
	}
}

func testUserByLark(t *testing.T, store ports.UserStore) {
	u := userNew(1)
	u.Lark = larkProfile(1)
	userCreate(t, store, u)
	got, err := store.ByLark(t.Context(), u.Lark.Key())
	userCheckGot(t, "ByLark", got, err, u)

	// Every part of the key counts: the same open_id of another app or
	// platform is another person.
	key := u.Lark.Key()
	otherApp, otherPlatform, otherID := key, key, key
	otherApp.AppID = "cli_other"
	otherPlatform.Platform = domain.LarkSuite
	otherID.OpenID = "ou_2"
	for _, k := range []domain.LarkKey{otherApp, otherPlatform, otherID, {}, {OpenID: key.OpenID}} {
		larkNotFound(t, store, k)
	}
	v := userNew(2)
	v.Lark = larkProfile(1)
	v.Lark.AppID = "cli_other"
	userCreate(t, store, v)
	got, err = store.ByLark(t.Context(), otherApp)
	userCheckGot(t, "ByLark of the other app", got, err, v)
}

func testUserLarkTakenOnCreate(t *testing.T, store ports.UserStore) {
	a := userNew(1)
	a.Lark = larkProfile(1)
	userCreate(t, store, a)
	b := userNew(2)
	b.Lark = larkProfile(1)
	if err := store.Create(t.Context(), b); !errors.Is(err, domain.ErrLarkTaken) {
		t.Fatalf("Create with a bound Lark key = %v, want ErrLarkTaken", err)
	}
	if _, err := store.ByEmailKey(t.Context(), b.EmailKey); !errors.Is(err, domain.ErrUserNotFound) {
		t.Errorf("the refused account was stored: %v", err)
	}
}

func testUserLarkTakenOnUpdate(t *testing.T, store ports.UserStore) {
	a, b := userNew(1), userNew(2)
	a.Lark = larkProfile(1)
	userCreate(t, store, a)
	userCreate(t, store, b)
	b.Lark = larkProfile(1)
	b.Name = "not written"
	if err := userWrite(t.Context(), store, b); !errors.Is(err, domain.ErrLarkTaken) {
		t.Fatalf("Update to a bound Lark key = %v, want ErrLarkTaken", err)
	}
	if got := userByID(t, store, b.ID); got.Lark != nil || got.Name == "not written" {
		t.Errorf("the refused update was written: %s", userString(got))
	}
	// Rebinding one's own key (a refreshed profile) is no conflict.
	a.Lark.Name = "refreshed"
	userUpdate(t, store, a)
	got, err := store.ByLark(t.Context(), a.Lark.Key())
	userCheckGot(t, "ByLark after refresh", got, err, a)
}

func testUserUnboundLarkFree(t *testing.T, store ports.UserStore) {
	a, b := userNew(1), userNew(2)
	a.Lark = larkProfile(1)
	userCreate(t, store, a)
	userCreate(t, store, b)
	key := a.Lark.Key()
	a.Lark = nil
	userUpdate(t, store, a)
	larkNotFound(t, store, key)
	b.Lark = larkProfile(1)
	userUpdate(t, store, b)
	got, err := store.ByLark(t.Context(), key)
	userCheckGot(t, "ByLark after moving the binding", got, err, b)
}

func testUserParallelLarkBindsOneWins(t *testing.T, store ports.UserStore) {
	users := make([]*domain.User, raceGoroutines)
	for i := range users {
		users[i] = userNew(i + 1)
		userCreate(t, store, users[i])
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() {
			_, err := store.Update(t.Context(), u.ID, func(x *domain.User) error {
				x.Lark = larkProfile(7)
				return nil
			})
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, domain.ErrLarkTaken):
				t.Errorf("Update = %v, want nil or ErrLarkTaken", err)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d parallel bindings of one Lark key succeeded, want 1", n)
	}
}
