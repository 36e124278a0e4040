package profile_test

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/argon2"
	"github.com/gatehouse/gatehouse/adapters/clock"
	"github.com/gatehouse/gatehouse/adapters/memory"
	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/lockout"
	"github.com/gatehouse/gatehouse/domain/onetime"
	"github.com/gatehouse/gatehouse/domain/profile"
)

const (
	password = "correct-Horse-42"
	clientIP = "203.0.113.7"
)

var client = domain.Client{IP: clientIP, Lang: domain.LangEnglish}

type env struct {
	clk      *clock.Fake
	users    *memory.UserStore
	sessions *memory.SessionStore
	guard    *lockout.Guard
	outbox   *memory.Outbox
	recovery *memory.RecoveryCodeStore
	// beforeReplace, when set, runs before recovery codes are stored.
	beforeReplace func()
	deps          profile.Deps // what svc was built from
	svc           *profile.Service
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clk := clock.NewFake(time.Unix(1_700_000_010, 0))
	e := &env{
		clk:      clk,
		users:    memory.NewUserStore(clk),
		sessions: memory.NewSessionStore(clk),
		outbox:   &memory.Outbox{},
	}
	e.recovery = memory.NewRecoveryCodeStore(e.users)
	e.guard = lockout.NewGuard(memory.NewAttemptCounter(clk), domain.LockoutPolicy{AccountLimit: 5, IPLimit: 10, Lock: 15 * time.Minute}, nil, nil)
	throttle := memory.NewThrottle(clk)
	codes := onetime.New(memory.NewCodeStore(clk), throttle, rand.Reader,
		[]byte("test-secret-test-secret-test-secret"), domain.ResendPolicy{Interval: time.Minute, HourlyLimit: 10}, onetime.Caps{})
	e.deps = profile.Deps{
		Users:         e.users,
		Sessions:      e.sessions,
		Hasher:        argon2.NewHasher(argon2.Params{Memory: 1024, Iterations: 1, Parallelism: 1}, 4),
		SMS:           e.outbox,
		Mail:          e.outbox,
		Codes:         codes,
		Guard:         e.guard,
		Throttle:      throttle,
		RecoveryCodes: hookedRecoveryCodes{e.recovery, e},
		Log:           slog.New(slog.DiscardHandler),
	}
	svc, err := profile.New(e.deps, profile.Policy{
		Password:               domain.DefaultPasswordPolicy,
		BindCode:               domain.CodePolicy{TTL: 2 * time.Minute, MaxAttempts: 5},
		PhoneRegion:            "CN",
		EmailChangeHourlyLimit: 2,
		BindNumbersHourlyLimit: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

func (e *env) create(t *testing.T, email, phone string) *domain.User {
	t.Helper()
	u, err := e.svc.CreateAccount(context.Background(), profile.NewAccount{Email: email, Password: password, Name: "N", Phone: phone})
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return u
}

// session opens a session for u directly in the store and returns its claims.
func (e *env) session(t *testing.T, u *domain.User, id domain.SessionID) domain.Claims {
	t.Helper()
	now := e.clk.Now()
	s := domain.Session{ID: id, UserID: u.ID, CreatedAt: now, AbsoluteExpiry: now.Add(7 * 24 * time.Hour), IdleTimeout: time.Hour}
	if err := e.sessions.Create(context.Background(), s, time.Hour, 50); err != nil {
		t.Fatal(err)
	}
	return domain.Claims{UserID: u.ID, SessionID: id}
}

func (e *env) alive(who domain.Claims) bool {
	_, err := e.sessions.Touch(context.Background(), who.UserID, who.SessionID, e.clk.Now(), time.Hour)
	return err == nil
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.create(t, "alice@example.com", "")
	me := e.session(t, u, "mine")
	other := e.session(t, u, "other")

	err := e.svc.ChangePassword(ctx, me, profile.PasswordChange{Old: "wrong-Horse-42", Password: "brand-New-Pass-7", Client: client})
	wantErr(t, err, domain.ErrPasswordInvalid)
	err = e.svc.ChangePassword(ctx, me, profile.PasswordChange{Old: password, Password: "password1", Client: client})
	wantErr(t, err, domain.ErrPasswordWeak)
	err = e.svc.ChangePassword(ctx, me, profile.PasswordChange{Old: "", Password: "brand-New-Pass-7", Client: client})
	wantErr(t, err, domain.ErrValidation)
	if !e.alive(me) || !e.alive(other) {
		t.Fatal("a refused change ended sessions")
	}

	if err := e.svc.ChangePassword(ctx, me, profile.PasswordChange{Old: password, Password: "brand-New-Pass-7", Client: client}); err != nil {
		t.Fatalf("change: %v", err)
	}
	if !e.alive(me) {
		t.Fatal("the caller's session ended")
	}
	if e.alive(other) {
		t.Fatal("another session survived the password change")
	}
	got, _ := e.users.ByID(ctx, u.ID)
	if got.PasswordHash == u.PasswordHash {
		t.Fatal("hash unchanged")
	}
	last := e.outbox.Mails()[len(e.outbox.Mails())-1]
	if last.Kind != domain.MailPasswordChanged || last.To != "alice@example.com" {
		t.Fatalf("notice = %+v", last)
	}
	// The new password is now the old one.
	err = e.svc.ChangePassword(ctx, me, profile.PasswordChange{Old: password, Password: "another-Pass-8", Client: client})
	wantErr(t, err, domain.ErrPasswordInvalid)
}

func TestChangePasswordWrongOldCountsTowardLockout(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.create(t, "alice@example.com", "")
	me := e.session(t, u, "mine")
	for i := 0; i < 5; i++ {
		err := e.svc.ChangePassword(ctx, me, profile.PasswordChange{Old: "wrong-Horse-42", Password: "brand-New-Pass-7", Client: client})
		wantErr(t, err, domain.ErrPasswordInvalid)
	}
	// Every login of the account is now locked, from any IP.
	err := e.guard.Admit(ctx, lockout.AccountKey(u, ""), "198.51.100.1")
	var de *domain.Error
	if !errors.Is(err, domain.ErrLoginLocked) || !errors.As(err, &de) || de.RetryAfter <= 0 {
		t.Fatalf("Guard.Admit = %v, want LOGIN_LOCKED", err)
	}
	// And so is the change itself, right old password included.
	err = e.svc.ChangePassword(ctx, me, profile.PasswordChange{Old: password, Password: "brand-New-Pass-7", Client: client})
	wantErr(t, err, domain.ErrLoginLocked)
	e.clk.Advance(15 * time.Minute)
	if err := e.svc.ChangePassword(ctx, me, profile.PasswordChange{Old: password, Password: "brand-New-Pass-7", Client: client}); err != nil {
		t.Fatalf("change after the lock: %v", err)
	}
}

func TestUpdateEmail(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.create(t, "alice@example.com", "")
	e.create(t, "bob@example.com", "")
	me := e.session(t, u, "mine")

	taken := "BOB@example.com"
	err := e.svc.Update(ctx, me, profile.Update{Key: profile.FieldEmail, Email: &taken})
	wantErr(t, err, domain.ErrEmailTaken)
	if len(e.outbox.Mails()) != 0 {
		t.Fatalf("mails after a refused change: %+v", e.outbox.Mails())
	}
	bad := "not an email"
	wantErr(t, e.svc.Update(ctx, me, profile.Update{Key: profile.FieldEmail, Email: &bad}), domain.ErrValidation)
	wantErr(t, e.svc.Update(ctx, me, profile.Update{Key: profile.FieldEmail}), domain.ErrValidation)

	fresh := "Alice.New@example.com"
	if err := e.svc.Update(ctx, me, profile.Update{Key: profile.FieldEmail, Email: &fresh, Client: client}); err != nil {
		t.Fatal(err)
	}
	got, _ := e.users.ByID(ctx, u.ID)
	if got.Email != fresh || got.EmailKey.String() != "alice.new@example.com" {
		t.Fatalf("email = %q / %q", got.Email, got.EmailKey)
	}
	if len(e.outbox.Mails()) != 1 {
		t.Fatalf("mails = %+v", e.outbox.Mails())
	}
	m := e.outbox.Mails()[0]
	if m.To != "alice@example.com" || m.Kind != domain.MailEmailChanged || m.NewEmail != fresh {
		t.Fatalf("notice = %+v, want email_changed to the old address", m)
	}
	// The old address is free again.
	e.create(t, "alice@example.com", "")
}

func TestUpdateNameAndAvatar(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.create(t, "alice@example.com", "")
	me := e.session(t, u, "mine")
	name, avatar, badAvatar, empty := "Alice Liddell", "https://example.com/a.png", "ftp://example.com/a.png", ""
	if err := e.svc.Update(ctx, me, profile.Update{Key: profile.FieldName, Name: &name}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Update(ctx, me, profile.Update{Key: profile.FieldAvatar, Avatar: &avatar}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.svc.Update(ctx, me, profile.Update{Key: profile.FieldAvatar, Avatar: &badAvatar}), domain.ErrValidation)
	wantErr(t, e.svc.Update(ctx, me, profile.Update{Key: profile.FieldName, Name: &empty}), domain.ErrValidation)
	wantErr(t, e.svc.Update(ctx, me, profile.Update{Key: "Phone", Name: &name}), domain.ErrValidation)
	got, _ := e.users.ByID(ctx, u.ID)
	if got.Name != name || got.Avatar != avatar {
		t.Fatalf("profile = %q %q", got.Name, got.Avatar)
	}
	if len(e.outbox.Mails()) != 0 {
		t.Fatalf("unexpected notices: %+v", e.outbox.Mails())
	}
}

func TestSendBindCodePhoneTaken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.create(t, "bob@example.com", "+8613800138000")
	u := e.create(t, "alice@example.com", "")
	me := e.session(t, u, "mine")
	err := e.svc.SendBindCode(ctx, me, "13800138000", client)
	wantErr(t, err, domain.ErrPhoneTaken)
	if len(e.outbox.SMS()) != 0 {
		t.Fatalf("SMS sent for a taken phone: %+v", e.outbox.SMS())
	}
	wantErr(t, e.svc.SendBindCode(ctx, me, "12345", client), domain.ErrValidation)
}

func TestBindPhone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.create(t, "alice@example.com", "")
	mallory := e.create(t, "mallory@example.com", "")
	me := e.session(t, u, "mine")
	them := e.session(t, mallory, "theirs")
	const phone = "+8613800138000"

	if err := e.svc.SendBindCode(ctx, me, "138 0013 8000", client); err != nil {
		t.Fatal(err)
	}
	if len(e.outbox.SMS()) != 1 || e.outbox.SMS()[0].Phone != phone || e.outbox.SMS()[0].Purpose != domain.PurposePhoneBind {
		t.Fatalf("sms = %+v", e.outbox.SMS())
	}
	code := e.outbox.SMS()[0].Code
	wantErr(t, e.svc.SendBindCode(ctx, me, phone, client), domain.ErrCodeTooFrequent)

	// The code is bound to the account that asked for it...
	wantErr(t, e.svc.BindPhone(ctx, them, profile.PhoneBinding{Phone: phone, Code: code}), domain.ErrCodeInvalid)
	// ...and to the phone it was sent to.
	wantErr(t, e.svc.BindPhone(ctx, me, profile.PhoneBinding{Phone: "+8613900139000", Code: code}), domain.ErrCodeInvalid)

	if err := e.svc.BindPhone(ctx, me, profile.PhoneBinding{Phone: phone, Code: code, Client: client}); err != nil {
		t.Fatalf("bind: %v", err)
	}
	got, _ := e.users.ByID(ctx, u.ID)
	if got.Phone != phone {
		t.Fatalf("phone = %q", got.Phone)
	}
	if m := e.outbox.Mails()[len(e.outbox.Mails())-1]; m.Kind != domain.MailPhoneChanged || m.To != u.Email {
		t.Fatalf("notice = %+v", m)
	}
	wantErr(t, e.svc.BindPhone(ctx, me, profile.PhoneBinding{Phone: phone, Code: code}), domain.ErrCodeInvalid) // single use

	// Now the phone is Alice's: Mallory cannot ask for it (once the resend
	// throttle, which answers first, has passed).
	e.clk.Advance(time.Minute)
	wantErr(t, e.svc.SendBindCode(ctx, them, phone, client), domain.ErrPhoneTaken)
}

func TestBindCodeExpires(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.create(t, "alice@example.com", "")
	me := e.session(t, u, "mine")
	if err := e.svc.SendBindCode(ctx, me, "+8613800138000", client); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(2 * time.Minute)
	err := e.svc.BindPhone(ctx, me, profile.PhoneBinding{Phone: "+8613800138000", Code: e.outbox.SMS()[0].Code})
	wantErr(t, err, domain.ErrCodeInvalid)
}

func TestRemove(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.create(t, "alice@example.com", "+8613800138000")
	u, err := e.users.Update(ctx, u.ID, func(u *domain.User) error {
		var err error
		if u.TOTP, err = e.users.SealTOTP(u.ID, "JBSWY3DPEHPK3PXP"); err != nil {
			return err
		}
		u.Lark = &domain.LarkProfile{Name: "A", OpenID: "ou_1"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	me := e.session(t, u, "mine")
	kinds := map[string]domain.MailKind{"phone": domain.MailPhoneRemoved, "totp": domain.MailTOTPRemoved, "lark": domain.MailLarkRemoved}
	for _, key := range []string{"phone", "totp", "lark"} {
		n := len(e.outbox.Mails())
		if err := e.svc.Remove(ctx, me, key, client); err != nil {
			t.Fatalf("remove %s: %v", key, err)
		}
		if len(e.outbox.Mails()) != n+1 || e.outbox.Mails()[n].Kind != kinds[key] {
			t.Fatalf("remove %s: mails = %+v", key, e.outbox.Mails())
		}
		// Removing again is a no-op success, without another notice.
		if err := e.svc.Remove(ctx, me, key, client); err != nil {
			t.Fatalf("remove %s again: %v", key, err)
		}
		if len(e.outbox.Mails()) != n+1 {
			t.Fatalf("second remove of %s sent a notice", key)
		}
	}
	got, _ := e.users.ByID(ctx, u.ID)
	if got.Phone != "" || got.TOTP != nil || got.Lark != nil {
		t.Fatalf("after remove: %+v", got)
	}
	for _, key := range []string{"email", "", "Phone", "password"} {
		wantErr(t, e.svc.Remove(ctx, me, key, client), domain.ErrValidation)
	}
}

func TestSetActive(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.create(t, "alice@example.com", "")
	a, b := e.session(t, u, "a"), e.session(t, u, "b")
	if err := e.svc.SetActive(ctx, "ALICE@example.com", false); err != nil {
		t.Fatal(err)
	}
	if e.alive(a) || e.alive(b) {
		t.Fatal("disabling kept sessions")
	}
	got, _ := e.users.ByID(ctx, u.ID)
	if got.Active {
		t.Fatal("still active")
	}
	if err := e.svc.SetActive(ctx, "alice@example.com", true); err != nil {
		t.Fatal(err)
	}
	got, _ = e.users.ByID(ctx, u.ID)
	if !got.Active {
		t.Fatal("not re-enabled")
	}
	wantErr(t, e.svc.SetActive(ctx, "nobody@example.com", false), domain.ErrUserNotFound)
}

func TestSetPassword(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.create(t, "alice@example.com", "")
	s := e.session(t, u, "a")
	wantErr(t, e.svc.SetPassword(ctx, "alice@example.com", "short"), domain.ErrPasswordWeak)
	wantErr(t, e.svc.SetPassword(ctx, "alice@example.com", "Alice@Example.com"), domain.ErrPasswordWeak)
	if !e.alive(s) {
		t.Fatal("a refused set-password ended sessions")
	}
	if err := e.svc.SetPassword(ctx, "alice@example.com", "brand-New-Pass-7"); err != nil {
		t.Fatal(err)
	}
	if e.alive(s) {
		t.Fatal("set-password kept sessions")
	}
}

func TestCreateAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := e.create(t, "Alice@Example.com", "13800138000")
	if u.Email != "Alice@Example.com" || u.EmailKey.String() != "alice@example.com" || u.Phone != "+8613800138000" || !u.Active {
		t.Fatalf("created %+v", u)
	}
	_, err := e.svc.CreateAccount(ctx, profile.NewAccount{Email: "alice@EXAMPLE.com", Password: password})
	wantErr(t, err, domain.ErrEmailTaken)
	_, err = e.svc.CreateAccount(ctx, profile.NewAccount{Email: "bob@example.com", Password: password, Phone: "+8613800138000"})
	wantErr(t, err, domain.ErrPhoneTaken)
	_, err = e.svc.CreateAccount(ctx, profile.NewAccount{Email: "bob@example.com", Password: "password1"})
	wantErr(t, err, domain.ErrPasswordWeak)
}

func TestEnsureAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := profile.NewAccount{Email: "seed@example.com", Password: password, Name: "Seed"}
	created, err := e.svc.EnsureAccount(ctx, in)
	if err != nil || !created {
		t.Fatalf("first EnsureAccount = %v, %v", created, err)
	}
	for _, email := range []string{"seed@example.com", "SEED@example.com"} {
		in.Email = email
		created, err = e.svc.EnsureAccount(ctx, in)
		if err != nil || created {
			t.Fatalf("EnsureAccount(%s) again = %v, %v", email, created, err)
		}
	}
	users, err := e.svc.ListAccounts(ctx)
	if err != nil || len(users) != 1 {
		t.Fatalf("accounts = %d, %v", len(users), err)
	}
}
