package domain_test

import (
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/domain"
)

// limitKinds builds one key of each kind from one input text, for the tests
// that try every kind on the same inputs.
var limitKinds = map[string]func(in string) domain.LimitKey{
	"send login":   func(in string) domain.LimitKey { return domain.SendLimitKey(domain.PurposeSMSLogin, in) },
	"send bind":    func(in string) domain.LimitKey { return domain.SendLimitKey(domain.PurposePhoneBind, in) },
	"send reset":   func(in string) domain.LimitKey { return domain.SendLimitKey(domain.PurposeMailReset, in) },
	"send refresh": func(in string) domain.LimitKey { return domain.SendLimitKey(domain.PurposeRefreshCode, in) },
	"mail per IP":  domain.MailPerIPLimitKey,
	"SMS per IP":   domain.SMSPerIPLimitKey,
	"SMS range":    domain.SMSRangeLimitKey,
	"SMS region":   domain.SMSRegionLimitKey,
	"SMS global":   func(string) domain.LimitKey { return domain.SMSGlobalLimitKey() },
	"email change": func(in string) domain.LimitKey { return domain.EmailChangeLimitKey(domain.UserID(in)) },
	"bind numbers": func(in string) domain.LimitKey { return domain.BindNumbersLimitKey(domain.UserID(in)) },
	"lockout user": func(in string) domain.LimitKey { return domain.LockoutUserLimitKey(domain.UserID(in)) },
	"lockout id":   domain.LockoutIdentifierLimitKey,
	"lockout IP":   domain.LockoutIPLimitKey,
}

// TestLimitKeysKeepTheirText pins the text of every kind of key to what
// the callers composed by hand before LimitKey existed: stores build their
// keys (Redis: <prefix>thr:{<key>} and the like) from it, so a change would
// orphan the counts and locks already stored.
func TestLimitKeysKeepTheirText(t *testing.T) {
	const (
		user  = domain.UserID("0190b7c4-0000-7000-8000-000000000001")
		phone = "+8613800138000"
	)
	for _, tt := range []struct {
		got  domain.LimitKey
		want string
	}{
		{domain.SendLimitKey(domain.PurposeSMSLogin, phone), "send:login:+8613800138000"},
		{domain.SendLimitKey(domain.PurposePhoneBind, phone), "send:bind:+8613800138000"},
		{domain.SendLimitKey(domain.PurposeMailReset, "ann@example.com"), "send:reset:ann@example.com"},
		{domain.MailPerIPLimitKey("203.0.113.9"), "send-ip:mail:203.0.113.9"},
		{domain.SMSPerIPLimitKey("2001:db8:1:2::/64"), "send-ip:sms:2001:db8:1:2::/64"},
		{domain.SMSRangeLimitKey("+861380013"), "sms-range:+861380013"},
		{domain.SMSRegionLimitKey("CN"), "sms-region:CN"},
		{domain.SMSRegionLimitKey(""), "sms-region:"},
		{domain.SMSGlobalLimitKey(), "sms-global"},
		{domain.EmailChangeLimitKey(user), "email-change:0190b7c4-0000-7000-8000-000000000001"},
		{domain.BindNumbersLimitKey(user), "bind-numbers:0190b7c4-0000-7000-8000-000000000001"},
		{domain.LockoutUserLimitKey(user), "user:0190b7c4-0000-7000-8000-000000000001"},
		{domain.LockoutIdentifierLimitKey("email:ann@example.com"), "id:email:ann@example.com"},
		{domain.LockoutIdentifierLimitKey("phone:" + phone), "id:phone:+8613800138000"},
		{domain.LockoutIdentifierLimitKey(""), "id:"},
		{domain.LockoutIPLimitKey("198.51.100.2"), "ip:198.51.100.2"},
	} {
		if got := tt.got.String(); got != tt.want {
			t.Errorf("key = %q, want %q", got, tt.want)
		}
	}
}

// TestLimitKeysNeverCollide feeds every kind inputs made to look like other
// kinds' keys, including every tail of every key after a ':', and fails
// when two different kinds, or two different inputs of one kind, give the
// same key.
func TestLimitKeysNeverCollide(t *testing.T) {
	base := []string{"", ":", "::", "a", "a:b", ":a", "a:", "login", "login:a", "mail:a", "sms:a", "sms-global", "{x}", "%00"}
	inputs := slices.Clone(base)
	for _, kind := range limitKinds {
		for _, in := range base {
			key := kind(in).String()
			inputs = append(inputs, key)
			for i, c := range key {
				if c == ':' {
					inputs = append(inputs, key[i+1:])
				}
			}
		}
	}

	type source struct{ kind, in string }
	seen := map[string]source{}
	for name, kind := range limitKinds {
		for _, in := range inputs {
			key := kind(in).String()
			if key == "" {
				t.Errorf("%s(%q) is the empty key", name, in)
			}
			// The global counter takes no input: all of its inputs are one.
			src := source{name, in}
			if name == "SMS global" {
				src.in = ""
			}
			if prev, ok := seen[key]; ok && prev != src {
				t.Errorf("%s(%q) and %s(%q) are both %q", prev.kind, prev.in, name, in, key)
			}
			seen[key] = src
		}
	}
}
