package domain

import (
	"net/mail"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Limits on free-text fields, from API.md "Identifiers".
const (
	MaxEmailLength  = 254
	MaxNameLength   = 64
	MaxAvatarLength = 2048
)

// EmailKey is the case-folded form of an address: two accounts can never
// differ only by case, so uniqueness and look-ups use this form.
func EmailKey(address string) string { return strings.ToLower(address) }

// ParseEmail validates an address as typed and returns it unchanged. A display
// name, angle brackets or surrounding spaces are refused: the account keeps
// exactly the address the person typed.
func ParseEmail(s string) (string, error) {
	if s == "" {
		return "", Invalid("email is required")
	}
	if len(s) > MaxEmailLength || hasControl(s) {
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
	return s, nil
}

// ParsePhone reads a phone number, in the default region when it carries no
// country code, and returns it in E.164 form.
func ParsePhone(s, defaultRegion string) (string, error) {
	if s == "" {
		return "", Invalid("phone is required")
	}
	if len(s) > 32 || hasControl(s) {
		return "", Invalid("phone is not a valid number")
	}
	num, err := phonenumbers.Parse(s, defaultRegion)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", Invalid("phone is not a valid number")
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// ValidateName checks a display name: at most 64 characters, no control
// characters. An empty name is allowed (it clears the name).
func ValidateName(s string) error {
	if utf8.RuneCountInString(s) > MaxNameLength || !utf8.ValidString(s) || hasControl(s) {
		return Invalid("name must be at most 64 characters without control characters")
	}
	return nil
}

// ValidateAvatar checks an avatar URL: absolute http(s), at most 2,048
// characters, no control characters.
func ValidateAvatar(s string) error {
	if s == "" || len(s) > MaxAvatarLength || hasControl(s) {
		return Invalid("avatar must be an http(s) URL of at most 2048 characters")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Invalid("avatar must be an http(s) URL of at most 2048 characters")
	}
	return nil
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}
