package test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse/gatehouse/internal/config"
)

// Defect 10: with a stuck SMS provider, reset mails (and SMS) were dropped
// from the one shared delivery pool while clients got 204. Mail has its own
// queue now.
func TestDeliveryStuckSMSProviderDoesNotDropMail(t *testing.T) {
	stuck := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stuck:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hanging.Close)
	const sends = 80 // more than the old pool's 64 deliveries in flight
	e := newEnv(t, memoryMode, func(c *config.Config) {
		c.SMSWebhookURL = hanging.URL
		c.SMSIPHourlyLimit = sends
		c.SMSRangeHourlyLimit = sends // the numbers share a range
	})
	t.Cleanup(func() { close(stuck) }) // runs first, so the env drains at once
	e.createUser(alice, alicePass, alicePhone)
	c := e.browser()
	// Login codes to registered numbers, each stuck at the SMS provider.
	for i := range sends {
		phone := fmt.Sprintf("+86137%08d", i)
		e.createUser(fmt.Sprintf("user%d@example.com", i), alicePass, phone)
		expect(t, c.get("/login/sms?phone="+q(phone)), http.StatusNoContent, "")
	}
	expect(t, c.get("/forget_code?email="+q(alice)), http.StatusNoContent, "")
	if m := e.mail.WaitFor(t, alice, waitDelivery); m.Code(t) == "" {
		t.Fatal("reset mail without a code")
	}
}
