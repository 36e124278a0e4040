package domain

import (
	"net/mail"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/net/idna"
)

// Limits on free-text fields, from API.md "Identifiers".
const (
	MaxEmailLength  = 254
	MaxNameLength   = 64
	MaxAvatarLength = 2048
)

// ParseEmail validates an address as typed and returns it unchanged. A display
// name, angle brackets or surrounding spaces are refused: the account keeps
// exactly the address the person typed. So are control and invisible
// characters (see refusedInEmail), and a non-ASCII domain that IDNA refuses,
// since EmailKey could not give it its ASCII form.
func ParseEmail(s string) (string, error) {
	if s == "" {
		return "", Invalid("email is required")
	}
	if len(s) > MaxEmailLength || !cleanText(s, refusedInEmail) {
		return "", Invalid("email is not a valid address")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", Invalid("email is not a valid address")
	}
	local, domainPart, ok := strings.Cut(s, "@")
	if !ok || local == "" || domainPart == "" || strings.HasPrefix(local, "\"") {
		return "", Invalid("email is not a valid address")
	}
	if !isASCII(domainPart) {
		if _, err := idna.Lookup.ToASCII(domainPart); err != nil {
			return "", Invalid("email is not a valid address")
		}
	}
	return s, nil
}

// ParsePhone reads a phone number, in the default region when it carries no
// country code, and returns it in E.164 form.
func ParsePhone(s, defaultRegion string) (Phone, error) {
	if s == "" {
		return "", Invalid("phone is required")
	}
	if len(s) > 32 || !cleanText(s, refusedInText) {
		return "", Invalid("phone is not a valid number")
	}
	// Letters are refused: libphonenumber reads them as keypad digits
	// ("+4XX1..." as "+4991..."), and then found a 16-digit number valid
	// (FuzzParsePhone). What is returned must be E.164: at most 15 digits.
	if strings.IndexFunc(s, unicode.IsLetter) >= 0 {
		return "", Invalid("phone is not a valid number")
	}
	num, err := phonenumbers.Parse(s, defaultRegion)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", Invalid("phone is not a valid number")
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	if !isE164(e164) {
		return "", Invalid("phone is not a valid number")
	}
	return Phone(e164), nil
}

// isE164 reports whether s is + and 2 to 15 digits, the first not 0.
func isE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	return strings.Trim(s[1:], "0123456789") == ""
}

// ValidateName checks a display name: at most 64 characters, none of them
// refused (see refusedInText; joiners stay, for emoji and Persian). An empty
// name is allowed (it clears the name).
func ValidateName(s string) error {
	if utf8.RuneCountInString(s) > MaxNameLength || !cleanText(s, refusedInText) {
		return Invalid("name must be at most 64 characters without control or invisible formatting characters")
	}
	return nil
}

// ValidateAvatar checks an avatar URL: absolute http(s), at most 2,048
// characters, none of them refused, and no user information: a
// `user:pass@` (or bare `user@`) in a URL every client loads would publish a
// credential, or dress another host up as a trusted one.
func ValidateAvatar(s string) error {
	if s == "" || len(s) > MaxAvatarLength || !cleanText(s, refusedInText) {
		return Invalid("avatar must be an http(s) URL of at most 2048 characters")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Invalid("avatar must be an http(s) URL of at most 2048 characters")
	}
	if u.User != nil {
		return Invalid("avatar must not carry user information (user:password@)")
	}
	return nil
}
