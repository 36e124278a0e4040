package profile_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/memory"
	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/lockout"
	"github.com/gatehouse/gatehouse/domain/profile"
)

// hookedRecoveryCodes lets a test act just before codes are stored, where
// a concurrent change of the account would land.
type hookedRecoveryCodes struct {
	*memory.RecoveryCodeStore
	e *env
}

func (h hookedRecoveryCodes) Replace(ctx context.Context, userID domain.UserID, digests []string) error {
	if h.e.beforeReplace != nil {
		h.e.beforeReplace()
	}
	return h.RecoveryCodeStore.Replace(ctx, userID, digests)
}

var recoveryCodeShape = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){5}$`)

// createWithTOTP makes an account with a TOTP secret bound and a session.
func (e *env) createWithTOTP(t *testing.T) (*domain.User, domain.Claims) {
	t.Helper()
	u := e.create(t, "alice@example.com", "")
	u, err := e.users.Update(context.Background(), u.ID, func(u *domain.User) error {
		var err error
		u.TOTP, err = e.users.SealTOTP(u.ID, "JBSWY3DPEHPK3PXP")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return u, e.session(t, u, "mine")
}

func (e *env) makeCodes(who domain.Claims, pw string) ([]string, error) {
	return e.svc.MakeRecoveryCodes(context.Background(), who, profile.RecoveryCodesRequest{Password: pw, Client: client})
}

func (e *env) codesLeft(t *testing.T, u *domain.User) int {
	t.Helper()
	got, err := e.users.ByID(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.svc.RecoveryCodesLeft(context.Background(), got)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// spend uses code as a login would, straight on the store.
func (e *env) spend(t *testing.T, u *domain.User, code string) bool {
	t.Helper()
	digest, ok := domain.RecoveryCodeDigest(code)
	if !ok {
		t.Fatalf("%q is not a recovery code", code)
	}
	_, ok, err := e.recovery.Spend(context.Background(), u.ID, digest, e.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestMakeRecoveryCodes(t *testing.T) {
	e := newEnv(t)
	u, me := e.createWithTOTP(t)
	if n := e.codesLeft(t, u); n != 0 {
		t.Fatalf("%d codes before any were made", n)
	}
	first, err := e.makeCodes(me, password)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != domain.RecoveryCodeCount {
		t.Fatalf("%d codes, want %d", len(first), domain.RecoveryCodeCount)
	}
	seen := map[string]bool{}
	for _, c := range first {
		if !recoveryCodeShape.MatchString(c) || seen[c] {
			t.Fatalf("codes %q: each must be new and six lowercase Crockford groups of four", first)
		}
		seen[c] = true
	}
	if n := e.codesLeft(t, u); n != 10 {
		t.Fatalf("%d codes left, want 10", n)
	}
	mails := e.outbox.Mails()
	if last := mails[len(mails)-1]; last.Kind != domain.MailRecoveryCodesMade || last.To != u.Email {
		t.Fatalf("last mail = %+v, want the new-codes notice", last)
	}
	if !e.spend(t, u, first[0]) || e.spend(t, u, first[0]) {
		t.Fatal("a code was not spent exactly once")
	}
	if n := e.codesLeft(t, u); n != 9 {
		t.Fatalf("%d codes left after one use, want 9", n)
	}

	// A new set voids the earlier one, used or not.
	second, err := e.makeCodes(me, password)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.codesLeft(t, u); n != 10 {
		t.Fatalf("%d codes left in the new set, want 10", n)
	}
	for _, c := range first {
		if e.spend(t, u, c) {
			t.Fatalf("code %q of the earlier set still works", c)
		}
	}
	if !e.spend(t, u, second[9]) {
		t.Fatal("a code of the new set does not work")
	}
}

func TestMakeRecoveryCodesNeedsTOTP(t *testing.T) {
	e := newEnv(t)
	u := e.create(t, "alice@example.com", "")
	me := e.session(t, u, "mine")
	// Checked before the password, so no lockout is touched either way.
	for range 6 {
		_, err := e.makeCodes(me, "wrong-Horse-42")
		wantErr(t, err, domain.ErrTOTPInvalid)
	}
	_, err := e.makeCodes(me, password)
	wantErr(t, err, domain.ErrTOTPInvalid)
	_, err = e.makeCodes(me, "")
	wantErr(t, err, domain.ErrValidation)
}

func TestMakeRecoveryCodesWrongPasswordCountsTowardLockout(t *testing.T) {
	e := newEnv(t)
	u, me := e.createWithTOTP(t)
	for range 5 {
		_, err := e.makeCodes(me, "wrong-Horse-42")
		wantErr(t, err, domain.ErrPasswordInvalid)
	}
	_, err := e.makeCodes(me, password)
	wantErr(t, err, domain.ErrLoginLocked)
	// The account's lock is the login lock: a password login is refused too.
	err = e.guard.Admit(context.Background(), lockout.AccountKey(u, ""), "198.51.100.1")
	wantErr(t, err, domain.ErrLoginLocked)
	if n := e.codesLeft(t, u); n != 0 {
		t.Fatalf("%d codes made while locked", n)
	}
	e.clk.Advance(15*time.Minute + time.Second)
	if _, err := e.makeCodes(me, password); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
}

func TestRemovingTOTPVoidsRecoveryCodes(t *testing.T) {
	e := newEnv(t)
	u, me := e.createWithTOTP(t)
	codes, err := e.makeCodes(me, password)
	if err != nil {
		t.Fatal(err)
	}
	// Removing something else keeps them.
	if err := e.svc.Remove(context.Background(), me, "phone", client); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.recovery.Count(context.Background(), u.ID); n != 10 {
		t.Fatalf("%d codes left after removing the phone, want 10", n)
	}
	if err := e.svc.Remove(context.Background(), me, "totp", client); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.recovery.Count(context.Background(), u.ID); n != 0 {
		t.Fatalf("%d codes left after removing TOTP, want 0", n)
	}
	if e.spend(t, u, codes[0]) {
		t.Fatal("a code works after TOTP was removed")
	}
}

// A change that lands between the password check and the store of the new
// codes, after its own void, must not leave the new codes behind.
func TestMakeRecoveryCodesRacingAChange(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(e *env, u *domain.User) func(*domain.User) error
		want   error
	}{
		{"TOTP removed", func(*env, *domain.User) func(*domain.User) error {
			return func(u *domain.User) error { u.TOTP = nil; return nil }
		}, domain.ErrTOTPInvalid},
		{"TOTP rebound", func(e *env, _ *domain.User) func(*domain.User) error {
			return func(u *domain.User) error {
				var err error
				u.TOTP, err = e.users.SealTOTP(u.ID, "KRSXG5CTMVRXEZLU")
				return err
			}
		}, domain.ErrTOTPInvalid},
		{"password reset", func(*env, *domain.User) func(*domain.User) error {
			return func(u *domain.User) error { u.SetPassword("another hash"); return nil }
		}, domain.ErrPasswordInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			u, me := e.createWithTOTP(t)
			e.beforeReplace = func() {
				if _, err := e.users.Update(context.Background(), u.ID, c.change(e, u)); err != nil {
					t.Fatal(err)
				}
				// The change's own void, which found nothing yet.
				if err := e.recovery.Void(context.Background(), u.ID); err != nil {
					t.Fatal(err)
				}
			}
			codes, err := e.makeCodes(me, password)
			wantErr(t, err, c.want)
			if codes != nil {
				t.Fatal("codes were handed out")
			}
			if n, _ := e.recovery.Count(context.Background(), u.ID); n != 0 {
				t.Fatalf("%d codes survived the change", n)
			}
		})
	}
}
