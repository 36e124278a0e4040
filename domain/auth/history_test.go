package auth_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/auth"
)

// A refusal by the lockout (429) of a known account's login goes to its
// history as locked, through the recorder like a failure; an unknown
// identifier's has nowhere to go.
func TestLockoutRefusalsOfKnownAccountsGoToTheRecorder(t *testing.T) {
	e := newEnv(t)
	u := e.addUser(t, nil)
	for range 5 {
		_, err := e.login(t, "wrong-Password-1")
		wantErr(t, err, domain.ErrLoginInvalid)
		_, err = e.svc.Login(context.Background(), auth.PasswordLogin{Email: "nobody@example.com", Password: "wrong-Password-1", Client: client})
		wantErr(t, err, domain.ErrLoginInvalid)
	}
	_, err := e.login(t, password)
	wantLocked(t, err)
	_, err = e.loginSMS(t, phone, "000000")
	wantLocked(t, err)
	_, err = e.svc.Login(context.Background(), auth.PasswordLogin{Email: "nobody@example.com", Password: password, Client: client})
	wantLocked(t, err)

	ids, recs := e.history.taken()
	if len(recs) != 7 {
		t.Fatalf("recorder got %d attempts %+v; want 5 failures and 2 refusals of the known account", len(recs), recs)
	}
	for i, rec := range recs {
		locked := i >= 5
		if ids[i] != u.ID || rec.Success || rec.Locked != locked || rec.Result() != map[bool]domain.LoginResult{true: domain.LoginRefused, false: domain.LoginFailed}[locked] {
			t.Fatalf("attempt %d = %s %+v, want locked=%v of %s", i, ids[i], rec, locked, u.ID)
		}
	}
	if recs[5].Method != domain.LoginEmail || recs[6].Method != domain.LoginSMS {
		t.Fatalf("refusals recorded as %s and %s, want email and sms", recs[5].Method, recs[6].Method)
	}
}
