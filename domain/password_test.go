package domain

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func TestPasswordLength(t *testing.T) {
	p := DefaultPasswordPolicy
	cases := []struct {
		name     string
		password string
		ok       bool
	}{
		{"7 characters", "xk7#qPz", false},
		{"8 characters", "xk7#qPz2", true},
		{"spaces count, no trimming", " pass123word ", true},
		{"8 with surrounding spaces, 6 without", "  k7qPz2", true},
		{"7 with a space", " k7qPz2", false},
		{"128 characters", strings.Repeat("kq7#", 32), true},
		{"129 characters", strings.Repeat("kq7#", 32) + "x", false},
		{"128 multi-byte runes", strings.Repeat("密", 128), true},
		{"129 multi-byte runes", strings.Repeat("密", 129), false},
		{"invalid UTF-8", "xk7#qPz2\xff", false},
		{"empty", "", false},
	}
	for _, tc := range cases {
		err := p.Check(tc.password, "alice@example.com")
		if tc.ok && err != nil {
			t.Errorf("%s: %q refused: %v", tc.name, tc.password, err)
		}
		if !tc.ok && !errors.Is(err, ErrPasswordWeak) {
			t.Errorf("%s: %q: err = %v, want PASSWORD_WEAK", tc.name, tc.password, err)
		}
	}
}

func TestPasswordNotTrimmedOrFolded(t *testing.T) {
	// Exactly 8 characters only with its spaces: trimming would make it 6.
	if err := DefaultPasswordPolicy.Check(" zq7kx9 ", ""); err != nil {
		t.Fatalf("8 characters counting spaces refused: %v", err)
	}
	// The same with the spaces trimmed is too short.
	if err := DefaultPasswordPolicy.Check("zq7kx9", ""); !errors.Is(err, ErrPasswordWeak) {
		t.Fatalf("6 characters accepted: %v", err)
	}
}

func TestPasswordStrength(t *testing.T) {
	pws := []string{"zqxkwvbn", "zqxKWvbn", "zqxKWv9n", "zqxKW9!n"} // level reached: 0,1,2,3
	for level := 0; level <= 3; level++ {
		p := PasswordPolicy{MinLength: 8, MaxLength: 128, Strength: level}
		for reached, pw := range pws {
			err := p.Check(pw, "")
			if want := reached >= level; want != (err == nil) {
				t.Errorf("strength %d, %q: err = %v", level, pw, err)
			}
			if err != nil && !errors.Is(err, ErrPasswordWeak) {
				t.Errorf("strength %d, %q: err = %v, want PASSWORD_WEAK", level, pw, err)
			}
		}
	}
	// Non-ASCII letters count as upper and lower case.
	p := PasswordPolicy{MinLength: 8, MaxLength: 128, Strength: 2}
	if err := p.Check("Äöüßxyz9", ""); err != nil {
		t.Errorf("non-ASCII letters: %v", err)
	}
}

func TestCommonPasswords(t *testing.T) {
	if n := CommonPasswordCount(); n < 10000 {
		t.Fatalf("CommonPasswordCount() = %d, want >= 10000", n)
	}
	for _, pw := range []string{"password1", "PASSWORD1", "Password1", "12345678", "iloveyou", "qwertyuiop"} {
		if !IsCommonPassword(pw) {
			t.Errorf("IsCommonPassword(%q) = false", pw)
		}
		if err := DefaultPasswordPolicy.Check(pw, ""); !errors.Is(err, ErrPasswordWeak) {
			t.Errorf("Check(%q) = %v, want PASSWORD_WEAK", pw, err)
		}
	}
	if IsCommonPassword("zq7#Kx9!vW2m") {
		t.Error("a random password is on the common list")
	}
}

func TestPasswordIsNotTheEmail(t *testing.T) {
	for _, pw := range []string{"alice@example.com", "Alice@Example.COM"} {
		if err := DefaultPasswordPolicy.Check(pw, "alice@example.com"); !errors.Is(err, ErrPasswordWeak) {
			t.Errorf("Check(%q) = %v, want PASSWORD_WEAK", pw, err)
		}
	}
	if err := DefaultPasswordPolicy.Check("alice@example.com", "bob@example.com"); err != nil {
		t.Errorf("another account's email as password: %v", err)
	}
}

func TestParseEmail(t *testing.T) {
	long := strings.Repeat("l", 64) + "@" + strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 57) + ".com"
	if len(long) != 254 {
		t.Fatalf("test address is %d long", len(long))
	}
	ok := []string{"a@example.com", "Alice.Smith+tag@Example.COM", long}
	for _, s := range ok {
		got, err := ParseEmail(s)
		if err != nil || got != s {
			t.Errorf("ParseEmail(%q) = %q, %v; want it unchanged", s, got, err)
		}
	}
	bad := []string{
		"",
		"plain",
		"@example.com",
		"a@",
		"Alice <a@example.com>",
		"<a@example.com>",
		" a@example.com",
		"a@example.com ",
		"a@example.com\n",
		"a\x00b@example.com",
		"a\tb@example.com",
		`"a b"@example.com`,
		"a@b@example.com",
		long[:63] + "x" + long[63:], // 255
	}
	for _, s := range bad {
		if _, err := ParseEmail(s); !errors.Is(err, ErrValidation) {
			t.Errorf("ParseEmail(%q) = %v, want VALIDATION_FAILED", s, err)
		}
	}
	if emailKey("Alice@Example.COM") != "alice@example.com" {
		t.Error("EmailKey does not fold case")
	}
}

func TestParsePhone(t *testing.T) {
	ok := map[string]string{
		"13800138000":       "+8613800138000",
		"138 0013 8000":     "+8613800138000",
		"+86 138-0013-8000": "+8613800138000",
		"+8613800138000":    "+8613800138000",
		"+1 650 253 0000":   "+16502530000",
		"+44 20 7946 0958":  "+442079460958",
	}
	for in, want := range ok {
		got, err := ParsePhone(in, "CN")
		if err != nil || string(got) != want {
			t.Errorf("ParsePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "12345", "abc", "+86 123", "1380013800\x00", strings.Repeat("1", 33), "+999 1234567"} {
		if _, err := ParsePhone(in, "CN"); !errors.Is(err, ErrValidation) {
			t.Errorf("ParsePhone(%q) = %v, want VALIDATION_FAILED", in, err)
		}
	}
}

func TestValidateName(t *testing.T) {
	for _, s := range []string{"", "Alice", strings.Repeat("名", 64), "Émile Zola"} {
		if err := ValidateName(s); err != nil {
			t.Errorf("ValidateName(%q) = %v", s, err)
		}
	}
	for _, s := range []string{strings.Repeat("名", 65), "a\tb", "a\nb", "a\x00b", "a\u0085b", "\xff"} {
		if err := ValidateName(s); !errors.Is(err, ErrValidation) {
			t.Errorf("ValidateName(%q) = %v, want VALIDATION_FAILED", s, err)
		}
	}
}

func TestValidateAvatar(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("a", MaxAvatarLength-len("https://example.com/"))
	for _, s := range []string{"https://example.com/a.png", "http://cdn.example.com/x?y=1", long} {
		if err := ValidateAvatar(s); err != nil {
			t.Errorf("ValidateAvatar(%q) = %v", s, err)
		}
	}
	for _, s := range []string{"", "ftp://example.com/a.png", "javascript:alert(1)", "/a.png", "https://", "https:///a.png", long + "a", "https://example.com/\na"} {
		if err := ValidateAvatar(s); !errors.Is(err, ErrValidation) {
			t.Errorf("ValidateAvatar(%q) = %v, want VALIDATION_FAILED", s, err)
		}
	}
}

func TestNewCode(t *testing.T) {
	for i := 0; i < 2000; i++ {
		c, err := NewCode(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != 6 || !IsCodeFormat(c) {
			t.Fatalf("NewCode = %q", c)
		}
	}
	// Values past 999999 are rejected, not folded: 0xFFFFF is out of range,
	// so the next three bytes decide.
	c, err := NewCode(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0x00, 0x00, 0x07}))
	if err != nil || c != "000007" {
		t.Fatalf("NewCode = %q, %v; want 000007", c, err)
	}
	if _, err := NewCode(bytes.NewReader([]byte{1, 2})); err == nil {
		t.Fatal("NewCode with a short reader succeeded")
	}
}

func TestIsCodeFormat(t *testing.T) {
	for _, s := range []string{"000000", "123456", "999999"} {
		if !IsCodeFormat(s) {
			t.Errorf("IsCodeFormat(%q) = false", s)
		}
	}
	for _, s := range []string{"", "12345", "1234567", "12345a", " 12345", "١٢٣٤٥٦", "12 456"} {
		if IsCodeFormat(s) {
			t.Errorf("IsCodeFormat(%q) = true", s)
		}
	}
}

func TestCodeDigest(t *testing.T) {
	secret := []byte("secret")
	key := CodeKey{Purpose: PurposeSMSLogin, Owner: "+8613800138000"}
	base := CodeDigest(secret, key, "", "123456")
	if base != CodeDigest(secret, key, "", "123456") {
		t.Fatal("CodeDigest is not deterministic")
	}
	others := map[string]string{
		"purpose": CodeDigest(secret, CodeKey{Purpose: PurposePhoneBind, Owner: key.Owner}, "", "123456"),
		"owner":   CodeDigest(secret, CodeKey{Purpose: key.Purpose, Owner: "+8613900139000"}, "", "123456"),
		"bound":   CodeDigest(secret, key, "user-1", "123456"),
		"code":    CodeDigest(secret, key, "", "123457"),
		"secret":  CodeDigest([]byte("other"), key, "", "123456"),
	}
	for what, d := range others {
		if d == base {
			t.Errorf("changing the %s does not change the digest", what)
		}
		if strings.Contains(d, "123456") {
			t.Errorf("digest holds the code in the clear")
		}
	}
}
