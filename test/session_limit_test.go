package test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/config"
)

// TestSessionLimitEndsLeastRecentlyUsed checks GATEHOUSE_SESSIONS_PER_ACCOUNT
// (API.md "Abuse limits"): a login beyond the limit ends the account's least
// recently used session, not merely the oldest, and no other.
func TestSessionLimitEndsLeastRecentlyUsed(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		const limit = 3
		// Renewal on every request: with the session cache on, Redis
		// renews a session (and so its last-seen time, which ranks it)
		// at most once a minute, as API.md allows, and this test ranks
		// sessions used milliseconds apart.
		e := newEnv(t, m, func(c *config.Config) { c.SessionsPerAccount, c.SessionRenewInterval = limit, 0 })
		e.createUser(alice, alicePass, "")
		// pause orders renewals: sessions are ranked by when they would
		// idle out, which the stores keep to the millisecond.
		pause := func() {
			if m == memoryMode {
				e.advance(time.Second)
			} else {
				time.Sleep(5 * time.Millisecond)
			}
		}
		login := func() string {
			t.Helper()
			pause()
			c := e.browser()
			c.login(alice, alicePass)
			return c.token()
		}
		verify := func(tok string, status int) {
			t.Helper()
			code := ""
			if status != http.StatusNoContent {
				code = "AUTH_EXPIRED"
			}
			expect(t, e.bare().get("/verify", "Authorization", "Bearer "+tok), status, code)
		}

		var tokens []string
		for range limit + 1 {
			tokens = append(tokens, login())
		}
		verify(tokens[0], http.StatusUnauthorized)
		for _, tok := range tokens[1:] {
			pause()
			verify(tok, http.StatusNoContent)
		}

		// tokens[1] was renewed first, so it is the least recently used now;
		// renewing it again leaves tokens[2] in that place.
		pause()
		verify(tokens[1], http.StatusNoContent)
		tokens = append(tokens, login())
		verify(tokens[2], http.StatusUnauthorized)
		for _, i := range []int{1, 3, 4} {
			verify(tokens[i], http.StatusNoContent)
		}
	})
}
