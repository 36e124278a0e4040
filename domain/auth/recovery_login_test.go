package auth_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/auth"
)

// giveRecoveryCodes stores a fresh set for u, as the profile service does,
// and returns the codes.
func (e *env) giveRecoveryCodes(t *testing.T, u *domain.User) []string {
	t.Helper()
	codes := make([]string, domain.RecoveryCodeCount)
	digests := make([]string, len(codes))
	for i := range codes {
		codes[i] = domain.NewRecoveryCode()
		digests[i], _ = domain.RecoveryCodeDigest(codes[i])
	}
	if err := e.recovery.Replace(context.Background(), u.ID, digests); err != nil {
		t.Fatal(err)
	}
	return codes
}

func (e *env) recoveryLeft(t *testing.T, u *domain.User) int {
	t.Helper()
	n, err := e.recovery.Count(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRecoveryCodeLogsInOnce(t *testing.T) {
	e := newEnv(t)
	u, _ := e.addTOTPUser(t)
	codes := e.giveRecoveryCodes(t, u)

	// Typed by hand: upper case, spaces for dashes, o for 0 and l for 1.
	typed := strings.ToUpper(strings.ReplaceAll(codes[0], "-", " "))
	typed = strings.NewReplacer("0", "o", "1", "l").Replace(typed)
	l, err := e.loginTOTP(t, typed)
	if err != nil {
		t.Fatalf("recovery login: %v", err)
	}
	if c := e.mustVerify(t, l.Token); c.UserID != u.ID {
		t.Fatalf("token of %s, want %s", c.UserID, u.ID)
	}
	got, _ := e.users.ByID(context.Background(), u.ID)
	if got.LastLogin == nil || got.LastLogin.Method != domain.LoginRecovery {
		t.Fatalf("last login = %+v, want method %q", got.LastLogin, domain.LoginRecovery)
	}
	mails := e.outbox.Mails()
	if len(mails) != 1 || mails[0].Kind != domain.MailRecoveryCodeUsed || mails[0].To != u.Email || mails[0].Remaining != 9 {
		t.Fatalf("mails = %+v, want one recovery-code notice saying 9 are left", mails)
	}
	if n := e.recoveryLeft(t, u); n != 9 {
		t.Fatalf("%d codes left, want 9", n)
	}

	// Spent: any spelling of it fails now, like a wrong TOTP code.
	for _, again := range []string{codes[0], typed} {
		_, err = e.loginTOTP(t, again)
		wantErr(t, err, domain.ErrLoginInvalid)
	}
	// The others still work, once each, and the notice counts down.
	e.clk.Advance(time.Minute)
	if _, err := e.loginTOTP(t, codes[1]); err != nil {
		t.Fatalf("second code: %v", err)
	}
	if last := e.outbox.Mails(); last[len(last)-1].Remaining != 8 {
		t.Fatalf("last notice says %d left, want 8", last[len(last)-1].Remaining)
	}
}

func TestRecoveryCodeParallelUseLogsInOnce(t *testing.T) {
	e := newEnv(t)
	u, _ := e.addTOTPUser(t)
	code := e.giveRecoveryCodes(t, u)[4]
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := e.svc.LoginTOTP(context.Background(), auth.TOTPLogin{Email: email, Code: code, Client: client}); err == nil {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d parallel logins with one recovery code succeeded, want 1", n)
	}
}

func TestWrongRecoveryCodesCountTowardLockout(t *testing.T) {
	e := newEnv(t)
	u, _ := e.addTOTPUser(t)
	codes := e.giveRecoveryCodes(t, u)
	for range 5 {
		_, err := e.loginTOTP(t, domain.NewRecoveryCode())
		wantErr(t, err, domain.ErrLoginInvalid)
	}
	_, err := e.loginTOTP(t, codes[0])
	wantLocked(t, err)
	_, err = e.login(t, password)
	wantLocked(t, err)
	// The refusal while locked spent nothing.
	if n := e.recoveryLeft(t, u); n != 10 {
		t.Fatalf("%d codes left after a locked attempt, want 10", n)
	}
	e.clk.Advance(15*time.Minute + time.Second)
	if _, err := e.loginTOTP(t, codes[0]); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	ids, recs := e.history.taken()
	if len(recs) < 5 {
		t.Fatalf("history handed %d records, want the 5 failed recovery attempts", len(recs))
	}
	for i, rec := range recs[:5] {
		if ids[i] != u.ID || rec.Method != domain.LoginRecovery || rec.Success {
			t.Fatalf("history record %d = %s %+v, want a failed recovery attempt of %s", i, ids[i], rec, u.ID)
		}
	}
}

// An account that cannot use recovery codes answers like a wrong code and
// keeps whatever codes it holds: one without TOTP (codes left by a failure
// between removing TOTP and voiding), a disabled one, and no account.
func TestRecoveryCodeNeedsAnActiveAccountWithTOTP(t *testing.T) {
	t.Run("no TOTP", func(t *testing.T) {
		e := newEnv(t)
		u := e.addUser(t, nil)
		code := e.giveRecoveryCodes(t, u)[0]
		_, err := e.loginTOTP(t, code)
		wantErr(t, err, domain.ErrLoginInvalid)
		if n := e.recoveryLeft(t, u); n != 10 {
			t.Fatalf("%d codes left, want 10", n)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		e := newEnv(t)
		u, _ := e.addTOTPUser(t)
		code := e.giveRecoveryCodes(t, u)[0]
		if _, err := e.users.Update(context.Background(), u.ID, func(u *domain.User) error { u.SetActive(false); return nil }); err != nil {
			t.Fatal(err)
		}
		_, err := e.loginTOTP(t, code)
		wantErr(t, err, domain.ErrLoginInvalid)
		if n := e.recoveryLeft(t, u); n != 10 {
			t.Fatalf("%d codes left, want 10", n)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.svc.LoginTOTP(context.Background(), auth.TOTPLogin{Email: "ghost@example.com", Code: domain.NewRecoveryCode(), Client: client})
		wantErr(t, err, domain.ErrLoginInvalid)
	})
}

func TestTOTPLoginCodeFormat(t *testing.T) {
	e := newEnv(t)
	e.addTOTPUser(t)
	for _, code := range []string{"", "12345", "1234567", "12345a", "recovery", "0123-4567-89ab-cdef-ghjk-mnpu"} {
		_, err := e.loginTOTP(t, code)
		wantErr(t, err, domain.ErrValidation)
	}
}

func TestResetPasswordVoidsRecoveryCodes(t *testing.T) {
	e := newEnv(t)
	u, _ := e.addTOTPUser(t)
	codes := e.giveRecoveryCodes(t, u)
	ctx := context.Background()
	if err := e.svc.SendResetCode(ctx, email, client); err != nil {
		t.Fatal(err)
	}
	reset := e.outbox.Mails()[0].Code
	if err := e.svc.ResetPassword(ctx, auth.PasswordReset{Email: email, Code: reset, Password: "brand-New-Pass-7", Client: client}); err != nil {
		t.Fatal(err)
	}
	if n := e.recoveryLeft(t, u); n != 0 {
		t.Fatalf("%d codes left after a reset, want 0", n)
	}
	_, err := e.loginTOTP(t, codes[0])
	wantErr(t, err, domain.ErrLoginInvalid)
}
