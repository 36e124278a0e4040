package portstest

import (
	"context"
	"crypto/rand"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// TestSessionStore runs the ports.SessionStore contract against h.
func TestSessionStore(t *testing.T, h Harness[ports.SessionStore]) {
	ctx := context.Background()

	t.Run("create and touch", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		s := sessionFor(tl, anyUserID(), suiteTTL, time.Hour)
		sessionCreate(t, store, s, s.IdleTTL(tl.Now()))

		got, err := store.Touch(ctx, s.UserID, s.ID, tl.Now(), s.IdleTimeout)
		if err != nil {
			t.Fatalf("Touch: %v", err)
		}
		if got.ID != s.ID || got.UserID != s.UserID || !got.CreatedAt.Equal(s.CreatedAt) ||
			!got.AbsoluteExpiry.Equal(s.AbsoluteExpiry) || got.IdleTimeout != s.IdleTimeout {
			t.Errorf("Touch = %+v, want %+v", got, s)
		}
		if err := store.Ping(ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})

	t.Run("touch renews the idle timeout", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		s := sessionFor(tl, anyUserID(), suiteTTL, time.Hour)
		sessionCreate(t, store, s, s.IdleTTL(tl.Now()))

		// Two touches two-thirds of the idle timeout apart keep the session
		// alive well past its first deadline.
		for range 2 {
			tl.Advance(suiteTTL - suiteMargin)
			sessionTouchLive(t, store, s, tl.Now())
		}
		tl.Advance(suiteTTL + suiteMargin)
		sessionTouchEnded(t, store, s, tl.Now())
	})

	t.Run("the ttl of create is honoured", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		s := sessionFor(tl, anyUserID(), time.Hour, time.Hour)
		sessionCreate(t, store, s, suiteTTL)

		tl.Advance(suiteTTL + suiteMargin)
		sessionTouchEnded(t, store, s, tl.Now())
	})

	t.Run("the absolute expiry caps renewal", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		s := sessionFor(tl, anyUserID(), 2*suiteTTL, suiteTTL+suiteMargin)
		sessionCreate(t, store, s, s.IdleTTL(tl.Now()))

		// This touch may renew the session only up to its absolute expiry,
		// which comes long before a full idle timeout.
		tl.Advance(2 * suiteMargin)
		sessionTouchLive(t, store, s, tl.Now())
		tl.Advance(suiteTTL + suiteMargin/2)
		sessionTouchEnded(t, store, s, tl.Now())
	})

	t.Run("a touch after the absolute expiry ends the session", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		s := sessionFor(tl, anyUserID(), time.Hour, time.Hour)
		sessionCreate(t, store, s, s.IdleTTL(tl.Now()))

		sessionTouchEnded(t, store, s, s.AbsoluteExpiry.Add(time.Millisecond))
		// The store ended the session rather than merely refusing one touch.
		sessionTouchEnded(t, store, s, tl.Now())
	})

	t.Run("another user cannot touch it", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		s := sessionFor(tl, anyUserID(), suiteTTL, time.Hour)
		sessionCreate(t, store, s, s.IdleTTL(tl.Now()))

		other := s
		other.UserID = anyUserID()
		sessionTouchEnded(t, store, other, tl.Now())
		sessionTouchEnded(t, store, sessionFor(tl, s.UserID, suiteTTL, time.Hour), tl.Now())
		sessionTouchLive(t, store, s, tl.Now())
	})

	t.Run("delete is idempotent", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		s := sessionFor(tl, anyUserID(), suiteTTL, time.Hour)
		sessionCreate(t, store, s, s.IdleTTL(tl.Now()))

		for range 2 {
			if err := store.Delete(ctx, s.UserID, s.ID); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			sessionTouchEnded(t, store, s, tl.Now())
		}
		if err := store.Delete(ctx, anyUserID(), anySessionID()); err != nil {
			t.Errorf("Delete of an unknown session: %v", err)
		}
	})

	t.Run("delete all for a user keeps one", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		user := anyUserID()
		var mine []domain.Session
		for range 4 {
			s := sessionFor(tl, user, suiteTTL, time.Hour)
			sessionCreate(t, store, s, s.IdleTTL(tl.Now()))
			mine = append(mine, s)
		}
		theirs := sessionFor(tl, anyUserID(), suiteTTL, time.Hour)
		sessionCreate(t, store, theirs, theirs.IdleTTL(tl.Now()))

		keep := mine[1]
		if n, err := store.DeleteAllForUser(ctx, user, keep.ID); err != nil || n != 3 {
			t.Fatalf("DeleteAllForUser = %d, %v; want 3 ended", n, err)
		}
		for _, s := range mine {
			if s.ID == keep.ID {
				sessionTouchLive(t, store, s, tl.Now())
			} else {
				sessionTouchEnded(t, store, s, tl.Now())
			}
		}
		sessionTouchLive(t, store, theirs, tl.Now())

		if n, err := store.DeleteAllForUser(ctx, user, ""); err != nil || n != 1 {
			t.Fatalf("DeleteAllForUser without keep = %d, %v; want 1 ended", n, err)
		}
		sessionTouchEnded(t, store, keep, tl.Now())
		sessionTouchLive(t, store, theirs, tl.Now())
		if n, err := store.DeleteAllForUser(ctx, anyUserID(), ""); err != nil || n != 0 {
			t.Errorf("DeleteAllForUser of a user without sessions = %d, %v; want 0", n, err)
		}
	})

	t.Run("delete all survives expired sessions", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		user := anyUserID()
		gone := sessionFor(tl, user, suiteMargin, time.Hour)
		sessionCreate(t, store, gone, gone.IdleTTL(tl.Now()))
		live := sessionFor(tl, user, time.Hour, time.Hour)
		sessionCreate(t, store, live, live.IdleTTL(tl.Now()))

		tl.Advance(2 * suiteMargin)
		// A session created after one expired must still be found by
		// DeleteAllForUser, however the store indexes sessions by user.
		later := sessionFor(tl, user, time.Hour, time.Hour)
		sessionCreate(t, store, later, later.IdleTTL(tl.Now()))
		if _, err := store.DeleteAllForUser(ctx, user, ""); err != nil {
			t.Fatalf("DeleteAllForUser: %v", err)
		}
		for _, s := range []domain.Session{gone, live, later} {
			sessionTouchEnded(t, store, s, tl.Now())
		}
	})

	t.Run("the limit ends the least recently seen session", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		user := anyUserID()
		// a would idle out last, yet it is the least recently seen: the
		// limit goes by last use, not by expiry.
		a := sessionFor(tl, user, 5*time.Hour, 24*time.Hour)
		sessionCreateMax(t, store, a, a.IdleTTL(tl.Now()), 3)
		tl.Advance(suiteGap)
		b := sessionFor(tl, user, time.Hour, 24*time.Hour)
		sessionCreateMax(t, store, b, b.IdleTTL(tl.Now()), 3)
		tl.Advance(suiteGap)
		c := sessionFor(tl, user, 2*time.Hour, 24*time.Hour)
		sessionCreateMax(t, store, c, c.IdleTTL(tl.Now()), 3)
		tl.Advance(suiteGap)
		sessionTouchLive(t, store, b, tl.Now())

		tl.Advance(suiteGap)
		d := sessionFor(tl, user, time.Hour, 24*time.Hour)
		sessionCreateMax(t, store, d, d.IdleTTL(tl.Now()), 3)
		sessionListIDs(t, store, user, tl.Now(), d, c, b)

		// Next in line is c; another user's sessions never count.
		other := sessionFor(tl, anyUserID(), time.Minute, 24*time.Hour)
		sessionCreateMax(t, store, other, other.IdleTTL(tl.Now()), 1)
		tl.Advance(suiteGap)
		e := sessionFor(tl, user, time.Hour, 24*time.Hour)
		sessionCreateMax(t, store, e, e.IdleTTL(tl.Now()), 3)
		sessionListIDs(t, store, user, tl.Now(), e, d, b)
		sessionListIDs(t, store, other.UserID, tl.Now(), other)

		// A lower limit ends as many as it takes: b, then d.
		tl.Advance(suiteGap)
		f := sessionFor(tl, user, time.Hour, 24*time.Hour)
		sessionCreateMax(t, store, f, f.IdleTTL(tl.Now()), 2)
		sessionListIDs(t, store, user, tl.Now(), f, e)
		for _, s := range []domain.Session{a, b, c, d} {
			sessionTouchEnded(t, store, s, tl.Now())
		}
	})

	t.Run("list returns the live sessions with their origin, newest first", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		user := anyUserID()
		var made []domain.Session
		for i, origin := range []domain.SessionOrigin{
			{Method: domain.LoginEmail, IP: "192.0.2.1", UserAgent: "Firefox/140 \"quoted\" 中文",
				Location: &domain.Location{Country: "Japan", Region: "Tokyo", City: "Shinjuku"}},
			{Method: domain.LoginSMS, IP: "2001:db8::1", UserAgent: ""},
			{Method: domain.LoginTOTP, IP: "198.51.100.7", UserAgent: "curl/8", Location: &domain.Location{Country: "Chile"}},
		} {
			if i > 0 {
				tl.Advance(suiteGap)
			}
			s := sessionFor(tl, user, time.Hour, 24*time.Hour)
			s.Origin = origin
			sessionCreate(t, store, s, s.IdleTTL(tl.Now()))
			made = append(made, s)
		}
		theirs := sessionFor(tl, anyUserID(), time.Hour, 24*time.Hour)
		sessionCreate(t, store, theirs, theirs.IdleTTL(tl.Now()))
		if err := store.Delete(ctx, user, made[1].ID); err != nil {
			t.Fatalf("Delete: %v", err)
		}

		tl.Advance(suiteGap)
		touchedAt := millisTime(tl.Now())
		sessionTouchLive(t, store, made[0], tl.Now())
		tl.Advance(suiteGap)
		now := tl.Now()
		got := sessionListIDs(t, store, user, now, made[2], made[0])
		for i, want := range []domain.Session{made[2], made[0]} {
			g := got[i]
			if g.UserID != want.UserID || !g.CreatedAt.Equal(want.CreatedAt) || !g.AbsoluteExpiry.Equal(want.AbsoluteExpiry) ||
				g.IdleTimeout != want.IdleTimeout || !reflect.DeepEqual(g.Origin, want.Origin) {
				t.Errorf("List[%d] = %+v (origin %+v), want %+v (origin %+v)", i, g, g.Origin, want, want.Origin)
			}
			if g.LastSeen.Before(want.CreatedAt) || g.LastSeen.After(now) {
				t.Errorf("List[%d].LastSeen = %v, want in [%v, %v]", i, g.LastSeen, want.CreatedAt, now)
			}
		}
		// The touched session was seen last, at its touch.
		if !got[1].LastSeen.After(got[0].LastSeen) || got[1].LastSeen.Before(touchedAt.Add(-suiteMargin)) {
			t.Errorf("last seen: touched %v (at %v), untouched %v", got[1].LastSeen, touchedAt, got[0].LastSeen)
		}
		// What a caller does to a listed session never reaches the store.
		got[0].Origin.Location.City = "changed"
		again := sessionListIDs(t, store, user, now, made[2], made[0])
		if again[0].Origin.Location.City != "" {
			t.Errorf("an edit of a listed location reached the store: %+v", again[0].Origin.Location)
		}

		if list, err := store.List(ctx, anyUserID(), now); err != nil || len(list) != 0 {
			t.Errorf("List of a user without sessions = %v, %v; want empty", list, err)
		}
	})

	t.Run("list leaves out sessions that idled out", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		user := anyUserID()
		short := sessionFor(tl, user, suiteTTL, time.Hour)
		sessionCreate(t, store, short, short.IdleTTL(tl.Now()))
		tl.Advance(suiteGap)
		renewed := sessionFor(tl, user, suiteTTL, time.Hour)
		sessionCreate(t, store, renewed, renewed.IdleTTL(tl.Now()))
		tl.Advance(suiteGap)
		long := sessionFor(tl, user, time.Hour, time.Hour)
		sessionCreate(t, store, long, long.IdleTTL(tl.Now()))

		tl.Advance(suiteTTL - suiteMargin)
		sessionTouchLive(t, store, renewed, tl.Now())
		tl.Advance(2 * suiteMargin)
		sessionListIDs(t, store, user, tl.Now(), long, renewed)
		tl.Advance(suiteTTL)
		sessionListIDs(t, store, user, tl.Now(), long)
		sessionTouchEnded(t, store, short, tl.Now())
	})

	t.Run("list leaves out and ends sessions past their absolute expiry", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		user := anyUserID()
		early := sessionFor(tl, user, time.Hour, time.Hour)
		sessionCreate(t, store, early, early.IdleTTL(tl.Now()))
		tl.Advance(suiteGap)
		late := sessionFor(tl, user, time.Hour, 2*time.Hour)
		sessionCreate(t, store, late, late.IdleTTL(tl.Now()))

		sessionListIDs(t, store, user, early.AbsoluteExpiry.Add(-time.Millisecond), late, early)
		sessionListIDs(t, store, user, early.AbsoluteExpiry, late)
		// The list ended it rather than merely leaving it out once.
		sessionTouchEnded(t, store, early, tl.Now())
		sessionListIDs(t, store, user, tl.Now(), late)
	})

	t.Run("parallel creates and deletes leave exactly the survivors listed", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		user := anyUserID()
		sessions := make([]domain.Session, raceGoroutines)
		var wg sync.WaitGroup
		for i := range sessions {
			sessions[i] = sessionFor(tl, user, time.Hour, time.Hour)
			wg.Go(func() {
				s := sessions[i]
				if err := store.Create(ctx, s, s.IdleTTL(tl.Now()), suiteMaxLive); err != nil {
					t.Errorf("Create: %v", err)
					return
				}
				if _, err := store.List(ctx, user, tl.Now()); err != nil {
					t.Errorf("List: %v", err)
				}
				if i%2 == 1 {
					if err := store.Delete(ctx, user, s.ID); err != nil {
						t.Errorf("Delete: %v", err)
					}
				}
			})
		}
		wg.Wait()
		list, err := store.List(ctx, user, tl.Now())
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		want := map[domain.SessionID]bool{}
		for i := 0; i < len(sessions); i += 2 {
			want[sessions[i].ID] = true
		}
		if len(list) != len(want) {
			t.Fatalf("List holds %d sessions, want %d", len(list), len(want))
		}
		for _, s := range list {
			if !want[s.ID] {
				t.Errorf("List holds %s, which was deleted", s.ID)
			}
		}
		n, err := store.DeleteAllForUser(ctx, user, "")
		if err != nil || n != len(want) {
			t.Fatalf("DeleteAllForUser = %d, %v; want %d", n, err, len(want))
		}
		sessionListIDs(t, store, user, tl.Now())
	})

	t.Run("ended sessions do not count toward the limit", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		user := anyUserID()
		idled := sessionFor(tl, user, suiteTTL, time.Hour)
		sessionCreateMax(t, store, idled, idled.IdleTTL(tl.Now()), 2)
		deleted := sessionFor(tl, user, time.Hour, time.Hour)
		sessionCreateMax(t, store, deleted, deleted.IdleTTL(tl.Now()), 2)
		if err := store.Delete(ctx, user, deleted.ID); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		tl.Advance(suiteTTL + suiteMargin)

		// Two ended sessions and the limit 2: both new ones stay.
		first := sessionFor(tl, user, time.Hour, time.Hour)
		sessionCreateMax(t, store, first, first.IdleTTL(tl.Now()), 2)
		second := sessionFor(tl, user, 2*time.Hour, time.Hour)
		sessionCreateMax(t, store, second, second.IdleTTL(tl.Now()), 2)
		sessionTouchLive(t, store, first, tl.Now())
		sessionTouchLive(t, store, second, tl.Now())
	})

	t.Run("parallel creates never exceed the limit", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		user := anyUserID()
		const limit = 5
		sessions := make([]domain.Session, raceGoroutines)
		var wg sync.WaitGroup
		for i := range sessions {
			sessions[i] = sessionFor(tl, user, time.Hour, time.Hour)
			wg.Go(func() {
				s := sessions[i]
				if err := store.Create(ctx, s, s.IdleTTL(tl.Now()), limit); err != nil {
					t.Errorf("Create: %v", err)
				}
			})
		}
		wg.Wait()
		live := 0
		for _, s := range sessions {
			if sessionLive(t, store, s, tl.Now()) {
				live++
			}
		}
		if live != limit {
			t.Fatalf("%d parallel creates with the limit %d left %d live sessions", raceGoroutines, limit, live)
		}
	})

	t.Run("delete all keeps one among ended and evicted sessions", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		user := anyUserID()
		idled := sessionFor(tl, user, suiteTTL, time.Hour)
		sessionCreateMax(t, store, idled, idled.IdleTTL(tl.Now()), 2)
		tl.Advance(suiteTTL + suiteMargin)
		var mine []domain.Session
		for i := range 4 {
			// Apart by suiteGap, so that which is least recently seen does
			// not hang on two creations in one millisecond.
			tl.Advance(suiteGap)
			s := sessionFor(tl, user, time.Duration(i+1)*time.Hour, 24*time.Hour)
			sessionCreateMax(t, store, s, s.IdleTTL(tl.Now()), 2)
			mine = append(mine, s)
		}
		// mine[0] and mine[1] were evicted; keeping an ended one keeps nothing.
		if _, err := store.DeleteAllForUser(ctx, user, mine[0].ID); err != nil {
			t.Fatalf("DeleteAllForUser: %v", err)
		}
		for _, s := range append(mine, idled) {
			sessionTouchEnded(t, store, s, tl.Now())
		}
		// The user can log in again at once, up to the limit.
		again := []domain.Session{sessionFor(tl, user, time.Hour, time.Hour), sessionFor(tl, user, 2*time.Hour, time.Hour)}
		for _, s := range again {
			sessionCreateMax(t, store, s, s.IdleTTL(tl.Now()), 2)
		}
		if _, err := store.DeleteAllForUser(ctx, user, again[1].ID); err != nil {
			t.Fatalf("DeleteAllForUser: %v", err)
		}
		sessionTouchEnded(t, store, again[0], tl.Now())
		sessionTouchLive(t, store, again[1], tl.Now())
	})

	t.Run("a touch keeps the session in the user's index", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		// The session outlives its first idle timeout only because it is
		// touched; DeleteAllForUser must still reach it then.
		s := sessionFor(tl, anyUserID(), suiteTTL, time.Hour)
		sessionCreate(t, store, s, s.IdleTTL(tl.Now()))
		for range 3 {
			tl.Advance(suiteTTL - suiteMargin)
			sessionTouchLive(t, store, s, tl.Now())
		}
		if _, err := store.DeleteAllForUser(ctx, s.UserID, ""); err != nil {
			t.Fatalf("DeleteAllForUser: %v", err)
		}
		sessionTouchEnded(t, store, s, tl.Now())
	})
}

// sessionFor returns a new session of user that starts now, with times at
// millisecond resolution.
func sessionFor(tl Timeline, user domain.UserID, idle, absolute time.Duration) domain.Session {
	now := millisTime(tl.Now())
	return domain.Session{
		ID:             anySessionID(),
		UserID:         user,
		CreatedAt:      now,
		AbsoluteExpiry: now.Add(absolute),
		IdleTimeout:    idle,
	}
}

// suiteGap separates events whose order a case checks: creations (lists
// are newest first) and renewals (the limit ends the least recently seen).
// Stores keep times to the millisecond.
const suiteGap = 10 * time.Millisecond

// sessionListIDs lists user's sessions at now and fails t unless they are
// want, in that order; it returns the list.
func sessionListIDs(t *testing.T, store ports.SessionStore, user domain.UserID, now time.Time, want ...domain.Session) []domain.Session {
	t.Helper()
	list, err := store.List(context.Background(), user, now)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	got := make([]domain.SessionID, len(list))
	for i, s := range list {
		got[i] = s.ID
	}
	ids := make([]domain.SessionID, len(want))
	for i, s := range want {
		ids[i] = s.ID
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("List = %v, want %v", got, ids)
	}
	return list
}

// suiteMaxLive is the per-user limit of the cases that are not about it:
// more than any of them creates.
const suiteMaxLive = 100

func sessionCreate(t *testing.T, store ports.SessionStore, s domain.Session, ttl time.Duration) {
	t.Helper()
	sessionCreateMax(t, store, s, ttl, suiteMaxLive)
}

func sessionCreateMax(t *testing.T, store ports.SessionStore, s domain.Session, ttl time.Duration, maxLive int) {
	t.Helper()
	if err := store.Create(context.Background(), s, ttl, maxLive); err != nil {
		t.Fatalf("Create: %v", err)
	}
}

// sessionLive reports whether s is live, renewing it for its own idle
// timeout as any Touch does.
func sessionLive(t *testing.T, store ports.SessionStore, s domain.Session, now time.Time) bool {
	t.Helper()
	_, err := store.Touch(context.Background(), s.UserID, s.ID, now, s.IdleTimeout)
	if err != nil && !errors.Is(err, domain.ErrSessionNotFound) {
		t.Fatalf("Touch: %v", err)
	}
	return err == nil
}

func sessionTouchLive(t *testing.T, store ports.SessionStore, s domain.Session, now time.Time) {
	t.Helper()
	if _, err := store.Touch(context.Background(), s.UserID, s.ID, now, s.IdleTimeout); err != nil {
		t.Fatalf("Touch of a live session: %v", err)
	}
}

func sessionTouchEnded(t *testing.T, store ports.SessionStore, s domain.Session, now time.Time) {
	t.Helper()
	if _, err := store.Touch(context.Background(), s.UserID, s.ID, now, s.IdleTimeout); !errors.Is(err, domain.ErrSessionNotFound) {
		t.Fatalf("Touch of an ended session: err = %v, want %v", err, domain.ErrSessionNotFound)
	}
}

// anyUserID and anySessionID return fresh random ids. Session stores take
// ids as given, so these need not have the form of real ones.
func anyUserID() domain.UserID       { return domain.UserID(rand.Text()) }
func anySessionID() domain.SessionID { return domain.SessionID(rand.Text()) }
