package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/domain/auth"
)

// testGeo places the test client's IP and no other.
type testGeo struct{}

var testPlace = domain.Location{Country: "Testland", Region: "North", City: "Testville"}

func (testGeo) Locate(ip string) *domain.Location {
	if ip == clientIP {
		loc := testPlace
		return &loc
	}
	return nil
}

// otherClient logs in from somewhere the geo database does not know.
var otherClient = domain.Client{IP: "198.51.100.9", UserAgent: "other-agent", Lang: domain.LangChinese}

// device is one signed-in session: its token and what the token says.
type device struct {
	token string
	who   domain.Claims
}

// signIn logs the test account in from c.
func (e *env) signIn(t *testing.T, svc *auth.Service, c domain.Client) device {
	t.Helper()
	l, err := svc.Login(context.Background(), auth.PasswordLogin{Email: email, Password: password, Client: c})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	who, err := svc.Verify(context.Background(), l.Token)
	if err != nil {
		t.Fatalf("verify a new login: %v", err)
	}
	return device{token: l.Token, who: who}
}

// live reports whether d's token still opens its session.
func (d device) live(t *testing.T, svc *auth.Service) bool {
	t.Helper()
	_, err := svc.Verify(context.Background(), d.token)
	if err != nil && !errors.Is(err, domain.ErrAuthExpired) {
		t.Fatalf("verify: %v", err)
	}
	return err == nil
}

// mustList lists the sessions as d sees them and wants exactly want, in
// that order.
func mustList(t *testing.T, svc *auth.Service, d device, want ...device) []domain.Session {
	t.Helper()
	list, err := svc.ListSessions(context.Background(), d.who)
	if err != nil {
		t.Fatalf("ListSessions: %v", err)
	}
	if len(list) != len(want) {
		t.Fatalf("ListSessions holds %d sessions, want %d: %+v", len(list), len(want), list)
	}
	for i, w := range want {
		if list[i].ID != w.who.SessionID || list[i].UserID != w.who.UserID {
			t.Fatalf("ListSessions[%d] = %s, want %s", i, list[i].ID, w.who.SessionID)
		}
	}
	return list
}

func TestListSessionsShowsOriginAndLastSeen(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	start := e.clk.Now()
	a := e.signIn(t, e.svc, client)
	e.clk.Advance(time.Minute)
	b := e.signIn(t, e.svc, otherClient)

	list := mustList(t, e.svc, b, b, a)
	if o := list[0].Origin; o.Method != domain.LoginEmail || o.IP != otherClient.IP || o.UserAgent != otherClient.UserAgent || o.Location != nil {
		t.Errorf("origin of b = %+v", o)
	}
	if o := list[1].Origin; o.Method != domain.LoginEmail || o.IP != clientIP || o.UserAgent != client.UserAgent || o.Location == nil || *o.Location != testPlace {
		t.Errorf("origin of a = %+v (location %v)", o, o.Location)
	}
	if !list[1].CreatedAt.Equal(start) || !list[1].AbsoluteExpiry.Equal(start.Add(policy.Session.AbsoluteExpiry)) {
		t.Errorf("a: created %v, expires %v", list[1].CreatedAt, list[1].AbsoluteExpiry)
	}

	// Every authenticated request is a sighting of its session only.
	e.clk.Advance(10 * time.Minute)
	seen := e.clk.Now()
	if !a.live(t, e.svc) {
		t.Fatal("a ended")
	}
	e.clk.Advance(time.Minute)
	list = mustList(t, e.svc, b, b, a)
	if !list[1].LastSeen.Equal(seen) {
		t.Errorf("a last seen %v, want %v", list[1].LastSeen, seen)
	}
	if !list[0].LastSeen.Equal(start.Add(time.Minute)) {
		t.Errorf("b last seen %v, want its creation", list[0].LastSeen)
	}
}

func TestListSessionsAfterIdleExpiry(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	a := e.signIn(t, e.svc, client)
	e.clk.Advance(time.Minute)
	b := e.signIn(t, e.svc, client)
	e.clk.Advance(policy.Session.IdleTimeout - 10*time.Minute)
	mustList(t, e.svc, b, b, a)
	if !b.live(t, e.svc) { // an authenticated request renews b, not a
		t.Fatal("b ended")
	}
	e.clk.Advance(20 * time.Minute)
	mustList(t, e.svc, b, b)
	if a.live(t, e.svc) {
		t.Error("a outlived its idle timeout")
	}
}

func TestListSessionsAfterAbsoluteExpiry(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	p := policy
	p.Session.AbsoluteExpiry = 90 * time.Minute
	svc, err := auth.New(e.deps, p)
	if err != nil {
		t.Fatal(err)
	}
	a := e.signIn(t, svc, client)
	// Renewed well within its idle timeout, a still ends at 90 minutes.
	e.clk.Advance(50 * time.Minute)
	b := e.signIn(t, svc, client)
	mustList(t, svc, a, b, a)
	e.clk.Advance(45 * time.Minute)
	mustList(t, svc, b, b)
	if a.live(t, svc) {
		t.Error("a outlived its absolute expiry")
	}
}

func TestEndSessionEndsOnlyThatSessionOfTheCaller(t *testing.T) {
	e := newEnv(t)
	e.addUser(t, nil)
	a := e.signIn(t, e.svc, client)
	e.clk.Advance(time.Second) // lists are newest first
	b := e.signIn(t, e.svc, client)
	e.clk.Advance(time.Second)
	c := e.signIn(t, e.svc, client)

	if err := e.svc.EndSession(context.Background(), a.who, b.who.SessionID); err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	if b.live(t, e.svc) || !a.live(t, e.svc) || !c.live(t, e.svc) {
		t.Fatalf("after ending b: a %v, b %v, c %v; want only b ended", a.live(t, e.svc), b.live(t, e.svc), c.live(t, e.svc))
	}
	mustList(t, e.svc, a, c, a)

	// A session of another account, even named by its id, is out of reach.
	// So are ids that name nothing; neither is an error.
	other := e.addUser(t, func(u *domain.User) {
		u.Email, u.EmailKey, u.Phone = "bob@example.com", domain.NewEmailKey("bob@example.com"), ""
	})
	l, err := e.svc.Login(context.Background(), auth.PasswordLogin{Email: other.Email, Password: password, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	bob := device{token: l.Token}
	if bob.who, err = e.svc.Verify(context.Background(), l.Token); err != nil {
		t.Fatal(err)
	}
	for _, id := range []domain.SessionID{bob.who.SessionID, "no-such-session", ""} {
		if err := e.svc.EndSession(context.Background(), a.who, id); err != nil {
			t.Fatalf("EndSession(%q): %v", id, err)
		}
	}
	if !bob.live(t, e.svc) {
		t.Fatal("another account's session ended")
	}
	mustList(t, e.svc, a, c, a)

	// Ending one's own session is a logout.
	if err := e.svc.EndSession(context.Background(), a.who, a.who.SessionID); err != nil {
		t.Fatal(err)
	}
	if a.live(t, e.svc) || !c.live(t, e.svc) {
		t.Fatal("ending the caller's own session ended the wrong one")
	}
}

func TestEndOtherSessionsAndLogoutScopes(t *testing.T) {
	e := newEnv(t)
	u := e.addUser(t, nil)
	ctx := context.Background()
	a := e.signIn(t, e.svc, client)
	b := e.signIn(t, e.svc, client)
	c := e.signIn(t, e.svc, client)

	n, err := e.svc.EndOtherSessions(ctx, a.who, otherClient)
	if err != nil || n != 2 {
		t.Fatalf("EndOtherSessions = %d, %v; want 2", n, err)
	}
	if !a.live(t, e.svc) || b.live(t, e.svc) || c.live(t, e.svc) {
		t.Fatal("EndOtherSessions: want only the caller's session left")
	}
	wantNotices(t, e, domain.Mail{To: u.Email, Kind: domain.MailSessionsEnded, Lang: otherClient.Lang, Sessions: 2})
	// Nothing more to end: no notice.
	if n, err := e.svc.EndOtherSessions(ctx, a.who, client); err != nil || n != 0 {
		t.Fatalf("EndOtherSessions again = %d, %v; want 0", n, err)
	}
	wantNotices(t, e, domain.Mail{To: u.Email, Kind: domain.MailSessionsEnded, Lang: otherClient.Lang, Sessions: 2})

	d := e.signIn(t, e.svc, client)
	if err := e.svc.Logout(ctx, a.who, auth.LogoutOthers, client); err != nil {
		t.Fatal(err)
	}
	if !a.live(t, e.svc) || d.live(t, e.svc) {
		t.Fatal("logout others: want only the caller's session left")
	}
	f := e.signIn(t, e.svc, client)
	g := e.signIn(t, e.svc, client)
	if err := e.svc.Logout(ctx, a.who, auth.LogoutLocal, client); err != nil {
		t.Fatal(err)
	}
	if a.live(t, e.svc) || !f.live(t, e.svc) || !g.live(t, e.svc) {
		t.Fatal("logout local: want only the caller's session ended")
	}
	if err := e.svc.Logout(ctx, f.who, auth.LogoutGlobal, client); err != nil {
		t.Fatal(err)
	}
	if f.live(t, e.svc) || g.live(t, e.svc) {
		t.Fatal("logout global left a session")
	}
	wantNotices(t, e,
		domain.Mail{To: u.Email, Kind: domain.MailSessionsEnded, Lang: otherClient.Lang, Sessions: 2},
		domain.Mail{To: u.Email, Kind: domain.MailSessionsEnded, Lang: client.Lang, Sessions: 1},
		domain.Mail{To: u.Email, Kind: domain.MailSignedOutEverywhere, Lang: client.Lang, Sessions: 1},
	)
}

func TestParseLogoutScope(t *testing.T) {
	for in, want := range map[string]auth.LogoutScope{"": auth.LogoutLocal, "local": auth.LogoutLocal, "others": auth.LogoutOthers, "global": auth.LogoutGlobal} {
		if got, err := auth.ParseLogoutScope(in); err != nil || got != want {
			t.Errorf("ParseLogoutScope(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"Global", "all", " local", "local,others"} {
		_, err := auth.ParseLogoutScope(in)
		if !errors.Is(err, domain.ErrValidation) {
			t.Errorf("ParseLogoutScope(%q): err = %v, want VALIDATION_FAILED", in, err)
		}
	}
}

func wantNotices(t *testing.T, e *env, want ...domain.Mail) {
	t.Helper()
	got := e.outbox.Mails()
	if len(got) != len(want) {
		t.Fatalf("mails = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mail %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
