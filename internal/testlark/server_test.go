package testlark

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSlowEndsWithItsRequest checks that a slow endpoint stops waiting when
// its caller gives up: Close, which waits for every handler, must not wait
// out the delay.
func TestSlowEndsWithItsRequest(t *testing.T) {
	for _, tc := range []struct {
		name string
		slow func(*Server, time.Duration)
		call func(c *http.Client, s *Server) (*http.Response, error)
	}{
		{"token", (*Server).SlowToken, func(c *http.Client, s *Server) (*http.Response, error) {
			return c.Post(s.TokenURL(), "application/json", strings.NewReader("{}"))
		}},
		{"user info", (*Server).SlowUserInfo, func(c *http.Client, s *Server) (*http.Response, error) {
			return c.Get(s.UserInfoURL())
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(t, "cli_test", "secret", User{OpenID: "ou_ada"})
			// Long enough to tell apart from the 2 s allowed below, short
			// enough that a regression fails rather than hangs.
			tc.slow(s, 10*time.Second)
			c := &http.Client{Timeout: 100 * time.Millisecond}
			if resp, err := tc.call(c, s); err == nil {
				resp.Body.Close()
				t.Fatalf("a slow endpoint answered %d at once", resp.StatusCode)
			}
			closed := make(chan struct{})
			go func() { s.srv.Close(); close(closed) }()
			select {
			case <-closed:
			case <-time.After(2 * time.Second):
				t.Fatal("Close still waits: the slow handler outlived its cancelled request")
			}
		})
	}
}

// TestSlowThenAnswers checks that a slow endpoint answers as usual once its
// delay is over.
func TestSlowThenAnswers(t *testing.T) {
	s := New(t, "cli_test", "secret", User{OpenID: "ou_ada"})
	const delay = 100 * time.Millisecond
	s.SlowUserInfo(delay)
	s.FailUserInfo(ErrorCode)
	start := time.Now()
	resp, err := http.Get(s.UserInfoURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if took := time.Since(start); took < delay {
		t.Errorf("answered after %v, before the %v delay", took, delay)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d, want the ErrorCode failure's 200", resp.StatusCode)
	}
	if n := s.Requests(UserInfoPath); n != 1 {
		t.Errorf("Requests(user info) = %d, want 1", n)
	}
}
