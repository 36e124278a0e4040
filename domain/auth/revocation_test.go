package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/argon2"
	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/auth"
	"github.com/gatehouse/gatehouse/ports"
)

// raceSessions is a session store that runs a revocation just before or
// just after a login's Create, the two places where a login in flight can
// meet one, and remembers the sessions it created.
type raceSessions struct {
	ports.SessionStore
	before, after func()
	created       []domain.Session
}

func (r *raceSessions) Create(ctx context.Context, s domain.Session, ttl time.Duration, maxLive int) error {
	if r.before != nil {
		r.before()
	}
	err := r.SessionStore.Create(ctx, s, ttl, maxLive)
	r.created = append(r.created, s)
	if r.after != nil {
		r.after()
	}
	return err
}

// withSessions returns a service like e's on sessions.
func (e *env) withSessions(t testing.TB, sessions ports.SessionStore) *auth.Service {
	d := e.deps
	d.Sessions = sessions
	return newService(t, d)
}

// revoke changes u the way a revocation does, then sweeps its sessions.
func (e *env) revoke(t *testing.T, u *domain.User, change func(*domain.User)) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.users.Update(ctx, u.ID, func(u *domain.User) error {
		change(u)
		return nil
	}); err != nil {
		t.Fatalf("update: %v", err)
	}
	if _, err := e.sessions.DeleteAllForUser(ctx, u.ID, ""); err != nil {
		t.Fatalf("sweep: %v", err)
	}
}

// TestLoginInFlightLosesToRevocation: a login that checked the password
// before a password change or a disable, and opens its session on either
// side of the revocation's sweep, fails and leaves no session.
func TestLoginInFlightLosesToRevocation(t *testing.T) {
	revocations := map[string]func(*domain.User){
		"password": func(u *domain.User) { u.SetPassword("$argon2id$v=19$m=1024,t=1,p=1$bmV3$bmV3") },
		"disable":  func(u *domain.User) { u.SetActive(false) },
		// A quick disable and enable still ends what the disable ended.
		"disable and enable": func(u *domain.User) { u.SetActive(false); u.SetActive(true) },
	}
	for name, change := range revocations {
		for _, when := range []string{"before", "after"} {
			t.Run(name+" "+when+" create", func(t *testing.T) {
				e := newEnv(t)
				u := e.addUser(t, nil)
				race := &raceSessions{SessionStore: e.sessions}
				hook := func() { e.revoke(t, u, change) }
				if when == "before" {
					race.before = hook
				} else {
					race.after = hook
				}
				svc := e.withSessions(t, race)
				_, err := svc.Login(context.Background(), auth.PasswordLogin{Email: email, Password: password, Client: client})
				if !errors.Is(err, domain.ErrLoginInvalid) {
					t.Fatalf("login across a revocation = %v, want %v", err, domain.ErrLoginInvalid)
				}
				for _, s := range race.created {
					if _, err := e.sessions.Touch(context.Background(), s.UserID, s.ID, e.clk.Now(), time.Hour); !errors.Is(err, domain.ErrSessionNotFound) {
						t.Errorf("the session of a login that lost to a revocation is live (%v)", err)
					}
				}
			})
		}
	}
}

// TestRehashKeepsSessions: upgrading a hash at login is not a new password,
// so it neither revokes sessions nor fails the login that made it.
func TestRehashKeepsSessions(t *testing.T) {
	e := newEnv(t)
	old, err := argon2.NewHasher(argon2.Params{Memory: 512, Iterations: 1, Parallelism: 1}, 1).Hash(context.Background(), password)
	if err != nil {
		t.Fatal(err)
	}
	u := e.addUser(t, func(u *domain.User) { u.PasswordHash = old })
	first := e.mustLogin(t)
	second := e.mustLogin(t)
	got, err := e.users.ByID(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PasswordHash == old || got.CredentialEpoch != u.CredentialEpoch {
		t.Fatalf("after a rehash: hash replaced %v, epoch %d (was %d)", got.PasswordHash != old, got.CredentialEpoch, u.CredentialEpoch)
	}
	e.mustVerify(t, first.Token)
	e.mustVerify(t, second.Token)
}
