package redis

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
)

// TestLimiterKeysKeepTheirLayout records under keys of several kinds and
// checks that the Redis keys written are, byte for byte, the ones written
// when callers passed the text themselves: counts and locks already stored
// keep their meaning. The expected keys are spelled out in full, hash tag
// and escaping included.
func TestLimiterKeysKeepTheirLayout(t *testing.T) {
	c := newTestClient(t)
	ctx := context.Background()
	th, ac := NewThrottle(c), NewAttemptCounter(c)
	const user = domain.UserID("0190b7c4-0000-7000-8000-000000000001")

	for _, key := range []domain.LimitKey{
		domain.SendLimitKey(domain.PurposeSMSLogin, "+8613800138000"),
		domain.SMSPerIPLimitKey("2001:db8:1:2::/64"),
		domain.SMSGlobalLimitKey(),
		domain.EmailChangeLimitKey(user),
	} {
		if _, err := th.Allow(ctx, key, time.Minute, 10); err != nil {
			t.Fatalf("Allow(%s): %v", key, err)
		}
	}
	if _, err := th.AllowDistinct(ctx, domain.BindNumbersLimitKey(user), "+8613800138000", 10); err != nil {
		t.Fatalf("AllowDistinct: %v", err)
	}
	ip := domain.LockoutIPLimitKey("203.0.113.9")
	braces := domain.LockoutIdentifierLimitKey("email:{a}%@example.com")
	for _, key := range []domain.LimitKey{ip, braces} {
		if _, err := ac.Admit(ctx, key, 2, time.Minute); err != nil {
			t.Fatalf("Admit(%s): %v", key, err)
		}
	}
	if _, err := ac.Fail(ctx, ip, 2, time.Minute); err != nil { // one failure: counted, not locked
		t.Fatal(err)
	}
	if _, err := ac.Fail(ctx, braces, 1, time.Minute); err != nil { // locks
		t.Fatal(err)
	}

	for _, want := range []string{
		"thr:{send:login:+8613800138000}",
		"thr:{send-ip:sms:2001:db8:1:2::/64}",
		"thr:{sms-global}",
		"thr:{email-change:0190b7c4-0000-7000-8000-000000000001}",
		"thd:{bind-numbers:0190b7c4-0000-7000-8000-000000000001}",
		"fail:{ip:203.0.113.9}",
		"lock:{id:email:%7Ba%7D%25@example.com}",
	} {
		n, err := c.rdb.Do(ctx, c.rdb.B().Exists().Key(c.prefix+want).Build()).AsInt64()
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("no key %s%s", c.prefix, want)
		}
	}
}
