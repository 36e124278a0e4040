package test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

// API.md "Revocation is final": when a password change, a reset or a disable
// returns, no session of the account that predates it survives, including
// sessions made by logins that checked the old password or state while the
// revocation ran. Each scenario loops parallel logins with the old password
// across the revocation, several rounds over fresh accounts, and then wants
// every token those logins got refused.

// revocationRounds is how many accounts each scenario revokes; a login that
// beats the revocation needs it to land inside a hash check, so one round
// alone would catch a regression only now and then.
const revocationRounds = 4

// revocationWorkers is how many goroutines log in at once: enough to keep
// a login in flight at every instant on two cores.
const revocationWorkers = 4

// revocationConfig lifts the lockouts and the session cap, which would
// otherwise refuse or end the test's own logins for reasons of their own.
func revocationConfig(c *config.Config) {
	c.LoginFailures = 100000
	c.IPLoginFailures = 100000
	c.SessionsPerAccount = 1000
}

// loginStorm is a set of goroutines logging in to one account by password
// until stopped, keeping every token they got.
type loginStorm struct {
	e               *env
	email, password string
	xsrf            string
	// client sends the logins, each checked against the OpenAPI document.
	client *http.Client

	mu       sync.Mutex
	tokens   []string
	statuses map[int]int
	errs     []string
	wg       sync.WaitGroup
	stop     chan struct{}
}

// startLogins starts the storm and returns once a few logins have succeeded,
// so that the revocation that follows meets logins in flight.
func startLogins(t *testing.T, e *env, email, password string) *loginStorm {
	t.Helper()
	s := &loginStorm{e: e, email: email, password: password, xsrf: e.browser().xsrf(),
		client:   &http.Client{Transport: newSpecTransport(e.t)},
		statuses: map[int]int{}, stop: make(chan struct{})}
	for range revocationWorkers {
		s.wg.Go(s.loop)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.count() < revocationWorkers {
		if time.Now().After(deadline) {
			s.finish(t)
			t.Fatalf("no logins succeeded within 10 s: %v", s.statuses)
		}
		time.Sleep(time.Millisecond)
	}
	return s
}

func (s *loginStorm) loop() {
	body := fmt.Sprintf(`{"email":%q,"password":%q}`, s.email, s.password)
	for {
		select {
		case <-s.stop:
			return
		default:
		}
		req, err := http.NewRequest(http.MethodPost, s.e.srv.URL+"/login", strings.NewReader(body))
		if err != nil {
			s.fail(err)
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cookie", s.e.cfg.XSRFCookie+"="+s.xsrf)
		req.Header.Set(s.e.cfg.XSRFHeader, s.xsrf)
		resp, err := s.client.Do(req)
		if err != nil {
			s.fail(err)
			return
		}
		resp.Body.Close()
		s.mu.Lock()
		s.statuses[resp.StatusCode]++
		for _, c := range resp.Cookies() {
			if c.Name == "TOKEN" && c.Value != "" && resp.StatusCode == http.StatusNoContent {
				s.tokens = append(s.tokens, c.Value)
			}
		}
		s.mu.Unlock()
	}
}

func (s *loginStorm) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, err.Error())
}

func (s *loginStorm) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens)
}

// finish stops the storm and waits for the logins in flight to answer; it
// returns every token obtained.
func (s *loginStorm) finish(t *testing.T) []string {
	t.Helper()
	close(s.stop)
	s.wg.Wait()
	if len(s.errs) > 0 {
		t.Fatalf("login requests failed: %v", s.errs)
	}
	for status := range s.statuses {
		if status != http.StatusNoContent && status != http.StatusBadRequest {
			t.Fatalf("logins answered %v; want only 204 and 400", s.statuses)
		}
	}
	return s.tokens
}

// survivors returns the tokens that GET /verify still accepts.
func survivors(t *testing.T, e *env, tokens []string) []string {
	t.Helper()
	var live []string
	for _, tok := range tokens {
		r := e.bare().get("/verify", "Authorization", "Bearer "+tok)
		switch {
		case r.status == http.StatusNoContent:
			live = append(live, tok)
		case r.status != http.StatusUnauthorized || r.code() != "AUTH_EXPIRED":
			t.Fatalf("GET /verify of a revoked login: got %s, want 401 AUTH_EXPIRED", r)
		}
	}
	return live
}

// revocationScenario runs revocationRounds rounds of: a fresh account, a
// storm of logins with its password, revoke in the middle of it; then it
// checks that no token of the storm survived. revoke returns the tokens
// that must survive (the changer's own), if any.
func revocationScenario(t *testing.T, revoke func(t *testing.T, e *env, email string) (keep []string)) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, revocationConfig)
		total, survived, refused := 0, 0, 0
		for round := range revocationRounds {
			email := fmt.Sprintf("storm%d@example.com", round)
			e.createUser(email, alicePass, "")
			storm := startLogins(t, e, email, alicePass)
			keep := revoke(t, e, email)
			tokens := storm.finish(t)
			refused += storm.statuses[http.StatusBadRequest]
			live := survivors(t, e, tokens)
			total += len(tokens)
			survived += len(live)
			for _, tok := range keep {
				expect(t, e.bare().get("/verify", "Authorization", "Bearer "+tok), http.StatusNoContent, "")
			}
		}
		t.Logf("%d rounds: %d tokens from logins with the old credentials, %d survived; %d logins refused", revocationRounds, total, survived, refused)
		if survived > 0 {
			t.Fatalf("%d of %d tokens made with the old credentials outlived the revocation", survived, total)
		}
	})
}

func TestRevocationPasswordChangeBeatsLoginsInFlight(t *testing.T) {
	revocationScenario(t, func(t *testing.T, e *env, email string) []string {
		c := e.browser()
		c.login(email, alicePass)
		expect(t, c.post("/user/password", map[string]string{"old": alicePass, "password": "new-Password-77"}), http.StatusNoContent, "")
		return []string{c.token()}
	})
}

func TestRevocationResetBeatsLoginsInFlight(t *testing.T) {
	revocationScenario(t, func(t *testing.T, e *env, email string) []string {
		c := e.browser()
		expect(t, c.get("/forget_code?email="+q(email)), http.StatusNoContent, "")
		code := e.mail.WaitFor(t, email, waitDelivery).Code(t)
		expect(t, c.post("/forget_reset", map[string]string{"email": email, "code": code, "password": "new-Password-77"}), http.StatusNoContent, "")
		return nil
	})
}

func TestRevocationSetPasswordBeatsLoginsInFlight(t *testing.T) {
	revocationScenario(t, func(t *testing.T, e *env, email string) []string {
		if err := e.app.Profile.SetPassword(context.Background(), email, "new-Password-77"); err != nil {
			t.Fatalf("set password: %v", err)
		}
		return nil
	})
}

func TestRevocationDisableBeatsLoginsInFlight(t *testing.T) {
	revocationScenario(t, func(t *testing.T, e *env, email string) []string {
		if err := e.app.Profile.SetActive(context.Background(), email, false); err != nil {
			t.Fatalf("disable: %v", err)
		}
		return nil
	})
}

// TestDisabledAccountHasNoLiveSession checks every authenticated route, and
// a refresh code minted before the disable, against the token of a disabled
// account.
func TestDisabledAccountHasNoLiveSession(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		c := e.browser()
		c.login(alice, alicePass)
		var rc struct {
			Code string `json:"code"`
		}
		r := c.get("/refresh_code")
		expect(t, r, http.StatusOK, "")
		r.json(t, &rc)

		if err := e.app.Profile.SetActive(context.Background(), alice, false); err != nil {
			t.Fatalf("disable: %v", err)
		}
		tok := c.token()
		for _, rt := range []struct {
			method, path string
			body         any
		}{
			{http.MethodGet, "/verify", nil},
			{http.MethodGet, "/user", nil},
			{http.MethodPatch, "/user", map[string]string{"key": "Name", "name": "Mallory"}},
			{http.MethodPost, "/user/password", map[string]string{"old": alicePass, "password": "new-Password-77"}},
			{http.MethodGet, "/refresh_code", nil},
			{http.MethodPost, "/refresh_token", map[string]string{"code": rc.Code}},
			{http.MethodGet, "/user/totp", nil},
			{http.MethodDelete, "/user/phone", nil},
			{http.MethodPost, "/logout", nil},
		} {
			r := e.bare().send(rt.method, rt.path, rt.body, "Authorization", "Bearer "+tok)
			if r.status != http.StatusUnauthorized || r.code() != "AUTH_EXPIRED" {
				t.Errorf("%s %s with the token of a disabled account: got %s, want 401 AUTH_EXPIRED", rt.method, rt.path, r)
			}
		}
		// Enabling the account again does not bring the old session back.
		if err := e.app.Profile.SetActive(context.Background(), alice, true); err != nil {
			t.Fatalf("enable: %v", err)
		}
		expect(t, e.bare().get("/verify", "Authorization", "Bearer "+tok), http.StatusUnauthorized, "AUTH_EXPIRED")
	})
}
