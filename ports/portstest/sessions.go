package portstest

import (
	"context"
	"crypto/rand"
	"errors"
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
		s := sessionFor(tl, rand.Text(), suiteTTL, time.Hour)
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
		s := sessionFor(tl, rand.Text(), suiteTTL, time.Hour)
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
		s := sessionFor(tl, rand.Text(), time.Hour, time.Hour)
		sessionCreate(t, store, s, suiteTTL)

		tl.Advance(suiteTTL + suiteMargin)
		sessionTouchEnded(t, store, s, tl.Now())
	})

	t.Run("the absolute expiry caps renewal", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		s := sessionFor(tl, rand.Text(), 2*suiteTTL, suiteTTL+suiteMargin)
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
		s := sessionFor(tl, rand.Text(), time.Hour, time.Hour)
		sessionCreate(t, store, s, s.IdleTTL(tl.Now()))

		sessionTouchEnded(t, store, s, s.AbsoluteExpiry.Add(time.Millisecond))
		// The store ended the session rather than merely refusing one touch.
		sessionTouchEnded(t, store, s, tl.Now())
	})

	t.Run("another user cannot touch it", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		s := sessionFor(tl, rand.Text(), suiteTTL, time.Hour)
		sessionCreate(t, store, s, s.IdleTTL(tl.Now()))

		other := s
		other.UserID = rand.Text()
		sessionTouchEnded(t, store, other, tl.Now())
		sessionTouchEnded(t, store, sessionFor(tl, s.UserID, suiteTTL, time.Hour), tl.Now())
		sessionTouchLive(t, store, s, tl.Now())
	})

	t.Run("delete is idempotent", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		s := sessionFor(tl, rand.Text(), suiteTTL, time.Hour)
		sessionCreate(t, store, s, s.IdleTTL(tl.Now()))

		for range 2 {
			if err := store.Delete(ctx, s.UserID, s.ID); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			sessionTouchEnded(t, store, s, tl.Now())
		}
		if err := store.Delete(ctx, rand.Text(), rand.Text()); err != nil {
			t.Errorf("Delete of an unknown session: %v", err)
		}
	})

	t.Run("delete all for a user keeps one", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		user := rand.Text()
		var mine []domain.Session
		for range 4 {
			s := sessionFor(tl, user, suiteTTL, time.Hour)
			sessionCreate(t, store, s, s.IdleTTL(tl.Now()))
			mine = append(mine, s)
		}
		theirs := sessionFor(tl, rand.Text(), suiteTTL, time.Hour)
		sessionCreate(t, store, theirs, theirs.IdleTTL(tl.Now()))

		keep := mine[1]
		if err := store.DeleteAllForUser(ctx, user, keep.ID); err != nil {
			t.Fatalf("DeleteAllForUser: %v", err)
		}
		for _, s := range mine {
			if s.ID == keep.ID {
				sessionTouchLive(t, store, s, tl.Now())
			} else {
				sessionTouchEnded(t, store, s, tl.Now())
			}
		}
		sessionTouchLive(t, store, theirs, tl.Now())

		if err := store.DeleteAllForUser(ctx, user, ""); err != nil {
			t.Fatalf("DeleteAllForUser without keep: %v", err)
		}
		sessionTouchEnded(t, store, keep, tl.Now())
		sessionTouchLive(t, store, theirs, tl.Now())
		if err := store.DeleteAllForUser(ctx, rand.Text(), ""); err != nil {
			t.Errorf("DeleteAllForUser of a user without sessions: %v", err)
		}
	})

	t.Run("delete all survives expired sessions", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		user := rand.Text()
		gone := sessionFor(tl, user, suiteMargin, time.Hour)
		sessionCreate(t, store, gone, gone.IdleTTL(tl.Now()))
		live := sessionFor(tl, user, time.Hour, time.Hour)
		sessionCreate(t, store, live, live.IdleTTL(tl.Now()))

		tl.Advance(2 * suiteMargin)
		// A session created after one expired must still be found by
		// DeleteAllForUser, however the store indexes sessions by user.
		later := sessionFor(tl, user, time.Hour, time.Hour)
		sessionCreate(t, store, later, later.IdleTTL(tl.Now()))
		if err := store.DeleteAllForUser(ctx, user, ""); err != nil {
			t.Fatalf("DeleteAllForUser: %v", err)
		}
		for _, s := range []domain.Session{gone, live, later} {
			sessionTouchEnded(t, store, s, tl.Now())
		}
	})

	t.Run("a touch keeps the session in the user's index", func(t *testing.T) {
		t.Parallel()
		store, tl := h.New(t)
		// The session outlives its first idle timeout only because it is
		// touched; DeleteAllForUser must still reach it then.
		s := sessionFor(tl, rand.Text(), suiteTTL, time.Hour)
		sessionCreate(t, store, s, s.IdleTTL(tl.Now()))
		for range 3 {
			tl.Advance(suiteTTL - suiteMargin)
			sessionTouchLive(t, store, s, tl.Now())
		}
		if err := store.DeleteAllForUser(ctx, s.UserID, ""); err != nil {
			t.Fatalf("DeleteAllForUser: %v", err)
		}
		sessionTouchEnded(t, store, s, tl.Now())
	})
}

// sessionFor returns a new session of user that starts now, with times at
// millisecond resolution.
func sessionFor(tl Timeline, user string, idle, absolute time.Duration) domain.Session {
	now := millisTime(tl.Now())
	return domain.Session{
		ID:             rand.Text(),
		UserID:         user,
		CreatedAt:      now,
		AbsoluteExpiry: now.Add(absolute),
		IdleTimeout:    idle,
	}
}

func sessionCreate(t *testing.T, store ports.SessionStore, s domain.Session, ttl time.Duration) {
	t.Helper()
	if err := store.Create(context.Background(), s, ttl); err != nil {
		t.Fatalf("Create: %v", err)
	}
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
