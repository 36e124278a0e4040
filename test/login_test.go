package test

import (
	"net/http"
	"sync"
	"testing"
)

func TestFieldNamesAreExact(t *testing.T) {
	e := newEnv(t, memoryMode, nil)
	e.createUser(alice, alicePass, "")
	c := e.browser()
	// encoding/json alone would read EMAIL as email.
	expect(t, c.post("/login", map[string]string{"EMAIL": alice, "Password": alicePass}, malformed...), http.StatusBadRequest, "VALIDATION_FAILED")
	c.login(alice, alicePass)
}

// Attempts sent in parallel are counted before the slow password check, so
// they cannot all slip past the limit while the first ones are checked.
func TestParallelLoginsCannotBypassTheLockout(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		const n = 30
		clients := make([]*client, n)
		for i := range clients {
			clients[i] = e.browser()
		}
		codes := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				codes[i] = clients[i].post("/login", map[string]string{"email": alice, "password": "wrong-Password-1"}).code()
			})
		}
		wg.Wait()
		invalid := 0
		for _, c := range codes {
			switch c {
			case "LOGIN_INVALID":
				invalid++
			case "LOGIN_LOCKED":
			default:
				t.Fatalf("unexpected answer %q", c)
			}
		}
		if invalid > 5 {
			t.Fatalf("%d parallel wrong passwords were checked, the limit is 5", invalid)
		}
		expect(t, e.browser().post("/login", map[string]string{"email": alice, "password": alicePass}), http.StatusTooManyRequests, "LOGIN_LOCKED")
	})
}
