package domain_test

import (
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse/domain"
)

func TestParseUserID(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"0190b7c4-0000-7000-8000-000000000001", true},
		{"0b9d6c3e-5f1a-4c4e-9a51-1d2f3e4a5b6c", true},
		{"", false},
		{"not-a-uuid", false},
		{"0190B7C4-0000-7000-8000-000000000001", false},   // not canonical: upper case
		{"{0190b7c4-0000-7000-8000-000000000001}", false}, // not canonical: braces
		{"urn:uuid:0190b7c4-0000-7000-8000-000000000001", false},
		{"0190b7c400007000800000000000001", false},
	} {
		got, err := domain.ParseUserID(tt.in)
		switch {
		case tt.ok && (err != nil || got.String() != tt.in):
			t.Errorf("ParseUserID(%q) = %q, %v; want it unchanged", tt.in, got, err)
		case !tt.ok && !errors.Is(err, domain.ErrValidation):
			t.Errorf("ParseUserID(%q) = %q, %v; want a validation error", tt.in, got, err)
		}
	}
}

func TestParseSessionID(t *testing.T) {
	fresh := domain.NewSessionID()
	if got, err := domain.ParseSessionID(fresh.String()); err != nil || got != fresh {
		t.Errorf("ParseSessionID(NewSessionID() = %q) = %q, %v; want it back", fresh, got, err)
	}
	if again := domain.NewSessionID(); again == fresh {
		t.Errorf("two new session ids are both %q", fresh)
	}
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"AAAAAAAAAAAAAAAAAAAAAA", true},
		{"q83vEjRWeJq83vEjRWeJqw", true},
		{"-_-_-_-_-_-_-_-_-_-_-w", true},
		{"", false},
		{"orphan", false},
		{"AAAAAAAAAAAAAAAAAAAAAA==", false}, // padded
		{"AAAAAAAAAAAAAAAAAAAAAB", false},   // non-zero trailing bits
		{"AAAAAAAAAAAAAAAAAAAAA+", false},   // standard, not URL, alphabet
		{"AAAAAAAAAAAAAAAAAAAAAAAA", false}, // 18 bytes
		{"AAAAAAAAAAAAAAAAAAAA", false},     // 15 bytes
		{"AAAAAAAAAAAAAAAAAAAAA\n", false},  // a line break
	} {
		got, err := domain.ParseSessionID(tt.in)
		switch {
		case tt.ok && (err != nil || got.String() != tt.in):
			t.Errorf("ParseSessionID(%q) = %q, %v; want it unchanged", tt.in, got, err)
		case !tt.ok && !errors.Is(err, domain.ErrValidation):
			t.Errorf("ParseSessionID(%q) = %q, %v; want a validation error", tt.in, got, err)
		}
	}
}

func TestNewEmailKey(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Alice@Example.COM", "alice@example.com"},
		{"alice@example.com", "alice@example.com"},
		{"Straße@Bücher.example", "strasse@xn--bcher-kva.example"},
		{"ΑΣ@example.com", "ασ@example.com"},
		{"", ""},
	} {
		got := domain.NewEmailKey(tt.in)
		if got.String() != tt.want {
			t.Errorf("NewEmailKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got.IsZero() != (tt.want == "") {
			t.Errorf("NewEmailKey(%q).IsZero() = %v", tt.in, got.IsZero())
		}
		if again := domain.NewEmailKey(got.String()); again != got {
			t.Errorf("NewEmailKey of the key %q = %q, want the key itself", got, again)
		}
	}
	if !(domain.EmailKey{}).IsZero() {
		t.Error("the zero EmailKey is not zero")
	}
}

func TestParsePhoneType(t *testing.T) {
	for _, tt := range []struct {
		in, region string
		want       domain.Phone
	}{
		{"13800138000", "CN", "+8613800138000"},
		{"+86 138-0013-8000", "US", "+8613800138000"},
		{"(650) 253-0000", "US", "+16502530000"},
	} {
		if got, err := domain.ParsePhone(tt.in, tt.region); err != nil || got != tt.want {
			t.Errorf("ParsePhone(%q, %s) = %q, %v; want %q", tt.in, tt.region, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "12345", "+86 123", "phone"} {
		if got, err := domain.ParsePhone(in, "CN"); !errors.Is(err, domain.ErrValidation) || got != "" {
			t.Errorf("ParsePhone(%q) = %q, %v; want a validation error", in, got, err)
		}
	}
}

func TestParseLoginMethod(t *testing.T) {
	for _, m := range []domain.LoginMethod{domain.LoginEmail, domain.LoginSMS, domain.LoginTOTP, domain.LoginLark} {
		if got, err := domain.ParseLoginMethod(m.String()); err != nil || got != m {
			t.Errorf("ParseLoginMethod(%q) = %q, %v; want it back", m, got, err)
		}
		if !m.Valid() {
			t.Errorf("%q is not valid", m)
		}
	}
	for _, in := range []string{"", "Email", "password", "sms ", "oauth"} {
		if got, err := domain.ParseLoginMethod(in); !errors.Is(err, domain.ErrValidation) || got != "" {
			t.Errorf("ParseLoginMethod(%q) = %q, %v; want a validation error", in, got, err)
		}
		if domain.LoginMethod(in).Valid() {
			t.Errorf("%q is valid", in)
		}
	}
}

func TestParseCodePurpose(t *testing.T) {
	for _, p := range []domain.CodePurpose{domain.PurposeSMSLogin, domain.PurposePhoneBind, domain.PurposeMailReset, domain.PurposeRefreshCode} {
		if got, err := domain.ParseCodePurpose(p.String()); err != nil || got != p {
			t.Errorf("ParseCodePurpose(%q) = %q, %v; want it back", p, got, err)
		}
		if !p.Valid() {
			t.Errorf("%q is not valid", p)
		}
	}
	for _, in := range []string{"", "Login", "verify", "reset\x00"} {
		if got, err := domain.ParseCodePurpose(in); !errors.Is(err, domain.ErrValidation) || got != "" {
			t.Errorf("ParseCodePurpose(%q) = %q, %v; want a validation error", in, got, err)
		}
		if domain.CodePurpose(in).Valid() {
			t.Errorf("%q is valid", in)
		}
	}
}
