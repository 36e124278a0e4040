package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/memory"
	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/auth"
)

// stubLark is a ports.LarkIdentity that answers every code with one
// profile, or fails, and counts its calls.
type stubLark struct {
	profile domain.LarkProfile
	fail    bool
	calls   atomic.Int32
}

func (s *stubLark) AuthorizeURL(state, _ string) string {
	return "https://lark.example/authorize?state=" + state
}

func (s *stubLark) Profile(context.Context, string, string) (domain.LarkProfile, error) {
	s.calls.Add(1)
	if s.fail {
		return domain.LarkProfile{}, fmt.Errorf("%w: HTTP 500", domain.ErrLarkFailed)
	}
	return s.profile, nil
}

var adaLark = domain.LarkProfile{Platform: domain.LarkFeishu, AppID: "cli_a", OpenID: "ou_ada", Name: "Ada"}

// withLark returns e's service with Lark on, answering with lark.
func withLark(e *env, lark *stubLark) *auth.Service {
	d := e.deps
	d.Lark, d.LarkStates = lark, memory.NewLarkStateStore(e.clk)
	p := policy
	p.LarkStateTTL = 10 * time.Minute
	svc, err := auth.New(d, p)
	if err != nil {
		panic(err) // every dependency of e is given
	}
	return svc
}

func finish(t *testing.T, svc *auth.Service, start auth.LarkStart, who *domain.Claims) (auth.LarkResult, error) {
	t.Helper()
	return svc.FinishLark(context.Background(), auth.LarkCallback{
		State: start.State, Action: start.Action, Verifier: start.Verifier, Code: "code", Caller: who, Client: client,
	})
}

func TestLarkLinkNeedsItsOwnSession(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	lark := &stubLark{profile: adaLark}
	svc := withLark(e, lark)
	mine, other := e.mustVerify(t, e.mustLogin(t).Token), e.mustVerify(t, e.mustLogin(t).Token)

	for _, who := range []*domain.Claims{nil, &other} {
		// A fresh state each time: a failed callback spends its state.
		start, err := svc.StartLark(context.Background(), domain.LarkLink, &mine)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := finish(t, svc, start, who); !errors.Is(err, domain.ErrAuthExpired) {
			t.Errorf("link finished by %v = %v, want AUTH_EXPIRED", who, err)
		}
	}
	if n := lark.calls.Load(); n != 0 {
		t.Errorf("Lark was asked %d times for links that could not bind", n)
	}
	start, _ := svc.StartLark(context.Background(), domain.LarkLink, &mine)
	if res, err := finish(t, svc, start, &mine); err != nil || !res.Linked {
		t.Fatalf("link = %+v, %v", res, err)
	}
	if _, err := finish(t, svc, start, &mine); !errors.Is(err, domain.ErrLarkStateInvalid) {
		t.Errorf("a spent state finished again: %v", err)
	}
	if _, err := svc.StartLark(context.Background(), domain.LarkLink, nil); !errors.Is(err, domain.ErrAuthRequired) {
		t.Errorf("a link started without a session: %v", err)
	}
}

func TestLarkStateOfAnotherAction(t *testing.T) {
	e := newEnv(t)
	svc := withLark(e, &stubLark{profile: adaLark})
	start, err := svc.StartLark(context.Background(), domain.LarkLogin, nil)
	if err != nil {
		t.Fatal(err)
	}
	start.Action = domain.LarkLink // a cookie that says link for a login state
	if _, err := finish(t, svc, start, nil); !errors.Is(err, domain.ErrLarkStateInvalid) {
		t.Errorf("FinishLark = %v, want LARK_STATE_INVALID", err)
	}
}

func TestLarkLoginOnlyByBinding(t *testing.T) {
	e := newEnv(t)
	// Lark's email and phone are never asked for, let alone matched.
	e.addUser(t, nil)
	svc := withLark(e, &stubLark{profile: adaLark})
	start, _ := svc.StartLark(context.Background(), domain.LarkLogin, nil)
	if _, err := finish(t, svc, start, nil); !errors.Is(err, domain.ErrLarkNotBound) {
		t.Fatalf("login of an unbound identity = %v", err)
	}

	bound := adaLark
	bound.AppID = "cli_other" // the same open_id in another app is another person
	e2 := newEnv(t)
	e2.addUser(t, func(u *domain.User) { u.Lark = &bound })
	svc = withLark(e2, &stubLark{profile: adaLark})
	start, _ = svc.StartLark(context.Background(), domain.LarkLogin, nil)
	if _, err := finish(t, svc, start, nil); !errors.Is(err, domain.ErrLarkNotBound) {
		t.Fatalf("login by another app's open_id = %v", err)
	}

	e3 := newEnv(t)
	e3.addUser(t, func(u *domain.User) { u.Lark = &adaLark })
	svc = withLark(e3, &stubLark{profile: adaLark})
	start, _ = svc.StartLark(context.Background(), domain.LarkLogin, nil)
	res, err := finish(t, svc, start, nil)
	if err != nil || res.Login == nil {
		t.Fatalf("login by the binding = %+v, %v", res, err)
	}
	if c := e3.mustVerify(t, res.Login.Token); c.UserID == "" {
		t.Error("the Lark login's token does not verify")
	}
}

func TestLarkFailedAndDenied(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, func(u *domain.User) { u.Lark = &adaLark })
	lark := &stubLark{fail: true}
	svc := withLark(e, lark)
	start, _ := svc.StartLark(context.Background(), domain.LarkLogin, nil)
	if _, err := finish(t, svc, start, nil); !errors.Is(err, domain.ErrLarkFailed) {
		t.Errorf("Lark failing = %v, want LARK_FAILED", err)
	}
	start, _ = svc.StartLark(context.Background(), domain.LarkLogin, nil)
	_, err := svc.FinishLark(context.Background(), auth.LarkCallback{State: start.State, Action: start.Action, Verifier: start.Verifier, Denied: true, Client: client})
	if !errors.Is(err, domain.ErrLarkDenied) {
		t.Errorf("denied = %v, want LARK_DENIED", err)
	}
	if n := lark.calls.Load(); n != 1 {
		t.Errorf("Lark was asked %d times, want 1 (never after a denial)", n)
	}
}
