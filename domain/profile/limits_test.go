package profile_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/profile"
)

// wantRateLimited fails t unless err is RATE_LIMITED with a wait.
func wantRateLimited(t *testing.T, err error) time.Duration {
	t.Helper()
	var de *domain.Error
	if !errors.Is(err, domain.ErrRateLimited) || !errors.As(err, &de) || de.RetryAfter <= 0 {
		t.Fatalf("err = %v, want RATE_LIMITED with a wait", err)
	}
	return de.RetryAfter
}

func TestEmailChangeHourlyLimit(t *testing.T) {
	e := newEnv(t) // two changes an hour
	ctx := context.Background()
	u := e.create(t, "alice@example.com", "")
	e.create(t, "bob@example.com", "")
	me := e.session(t, u, "mine")
	change := func(email string) error {
		return e.svc.Update(ctx, me, profile.Update{Key: profile.FieldEmail, Email: &email, Client: client})
	}

	// Neither a taken address nor the current one counts.
	wantErr(t, change("bob@example.com"), domain.ErrEmailTaken)
	if err := change("alice@example.com"); err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"a1@example.com", "a2@example.com"} {
		if err := change(email); err != nil {
			t.Fatalf("change to %s: %v", email, err)
		}
		e.clk.Advance(10 * time.Minute)
	}
	wait := wantRateLimited(t, change("a3@example.com"))
	if wait != 40*time.Minute {
		t.Errorf("retry after %v, want 40m (when the first change leaves the hour)", wait)
	}
	// The checks before the cap still answer first, and other fields are free.
	wantErr(t, change("bob@example.com"), domain.ErrEmailTaken)
	name := "New Name"
	if err := e.svc.Update(ctx, me, profile.Update{Key: profile.FieldName, Name: &name}); err != nil {
		t.Fatal(err)
	}
	got, _ := e.users.ByID(ctx, u.ID)
	if got.Email != "a2@example.com" {
		t.Fatalf("email = %q after a refused change", got.Email)
	}
	e.clk.Advance(wait)
	if err := change("a3@example.com"); err != nil {
		t.Fatalf("change after the wait: %v", err)
	}
}

func TestBindCodeDistinctNumbers(t *testing.T) {
	e := newEnv(t) // two distinct numbers an hour
	ctx := context.Background()
	u := e.create(t, "alice@example.com", "")
	e.create(t, "bob@example.com", "+8613700137000")
	me := e.session(t, u, "mine")
	send := func(phone string) error { return e.svc.SendBindCode(ctx, me, phone, client) }

	for _, phone := range []string{"+8613800138000", "+8613900139000"} {
		if err := send(phone); err != nil {
			t.Fatalf("send to %s: %v", phone, err)
		}
	}
	e.clk.Advance(time.Minute)
	// Asking again for a number already counted is allowed.
	if err := send("+8613800138000"); err != nil {
		t.Fatalf("send again: %v", err)
	}
	sent := len(e.outbox.SMS())
	wantRateLimited(t, send("+8613600136000"))
	// A taken number answers PHONE_TAKEN before the cap.
	wantErr(t, send("+8613700137000"), domain.ErrPhoneTaken)
	if len(e.outbox.SMS()) != sent {
		t.Fatalf("%d SMS sent by refused requests", len(e.outbox.SMS())-sent)
	}
	// A refusal by the cap leaves no resend throttle behind: another account
	// may ask for that number at once.
	other := e.session(t, e.create(t, "carol@example.com", ""), "carols")
	if err := e.svc.SendBindCode(ctx, other, "+8613600136000", client); err != nil {
		t.Fatalf("another account's send: %v", err)
	}
	e.clk.Advance(time.Hour)
	if err := send("+8613500135000"); err != nil {
		t.Fatalf("send after the hour: %v", err)
	}
}
