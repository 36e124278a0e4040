package test

import (
	"net/http"
	"testing"
)

func TestFieldNamesAreExact(t *testing.T) {
	e := newEnv(t, memoryMode, nil)
	e.createUser(alice, alicePass, "")
	c := e.browser()
	// encoding/json alone would read EMAIL as email.
	expect(t, c.post("/login", map[string]string{"EMAIL": alice, "Password": alicePass}), http.StatusBadRequest, "VALIDATION_FAILED")
	c.login(alice, alicePass)
}

func TestDeleteUserWithEmptyKey(t *testing.T) {
	e := newEnv(t, memoryMode, nil)
	e.createUser(alice, alicePass, "")
	c := e.browser()
	c.login(alice, alicePass)
	expect(t, c.send(http.MethodDelete, "/user/", nil), http.StatusBadRequest, "VALIDATION_FAILED")
}

func TestEvery401ClearsTheTokenCookie(t *testing.T) {
	e := newEnv(t, memoryMode, nil)
	r := e.bare().get("/verify", "Cookie", "TOKEN=")
	expect(t, r, http.StatusUnauthorized, "AUTH_REQUIRED")
	if ck := r.cookie("TOKEN"); ck == nil || ck.MaxAge >= 0 {
		t.Fatalf("AUTH_REQUIRED did not clear TOKEN: %+v", ck)
	}
}

func TestRefreshInTheSameSecondGivesANewToken(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		e.createUser(alice, alicePass, "")
		c := e.browser()
		c.login(alice, alicePass)
		before := c.token()
		var rc struct {
			Code string `json:"code"`
		}
		c.get("/refresh_code").json(t, &rc)
		expect(t, c.post("/refresh_token", map[string]string{"code": rc.Code}), http.StatusNoContent, "")
		if after := c.token(); after == before || after == "" {
			t.Fatal("refresh handed back the same token")
		}
	})
}
