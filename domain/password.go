package domain

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn/frequency"
)

// PasswordPolicy is the rule a new password must meet. Passwords are compared
// exactly as typed: no trimming, truncation or case folding.
type PasswordPolicy struct {
	MinLength int
	MaxLength int
	// Strength is 0 (length only), 1 (upper and lower case), 2 (and digits)
	// or 3 (and symbols).
	Strength int
}

// DefaultPasswordPolicy is the policy of API.md.
var DefaultPasswordPolicy = PasswordPolicy{MinLength: 8, MaxLength: 128, Strength: 0}

// Check reports ErrPasswordWeak when password breaks the policy, is one of
// the most common passwords, or is the account's own email, and
// VALIDATION_FAILED when it holds a character no text field may hold (see
// refusedInText): an invisible or control character makes a password that
// cannot be typed again on another keyboard, and that a person cannot see
// they typed. Only new passwords are checked; a login compares whatever it
// is given, so a password set before this rule still works.
func (p PasswordPolicy) Check(password, email string) error {
	if utf8.ValidString(password) && !cleanText(password, refusedInText) {
		return Invalid("the password must not contain control or invisible formatting characters")
	}
	n := utf8.RuneCountInString(password)
	if !utf8.ValidString(password) || n < p.MinLength || n > p.MaxLength {
		return weak("the password must be between %d and %d characters", p.MinLength, p.MaxLength)
	}
	if !p.strongEnough(password) {
		return weak("the password must mix %s", strengthNames[min(max(p.Strength, 0), 3)])
	}
	lower := strings.ToLower(password)
	if email != "" && lower == strings.ToLower(email) {
		return weak("the password must not be the account's email")
	}
	if IsCommonPassword(password) {
		return weak("the password is too common")
	}
	return nil
}

var strengthNames = [...]string{"", "upper and lower case letters", "upper and lower case letters and digits", "upper and lower case letters, digits and symbols"}

func weak(format string, args ...any) error {
	return &Error{Code: CodePasswordWeak, Message: fmt.Sprintf(format, args...)}
}

func (p PasswordPolicy) strongEnough(password string) bool {
	var upper, lower, digit, symbol bool
	for _, r := range password {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		default:
			symbol = true
		}
	}
	switch {
	case p.Strength >= 3:
		return upper && lower && digit && symbol
	case p.Strength == 2:
		return upper && lower && digit
	case p.Strength == 1:
		return upper && lower
	}
	return true
}

// commonPasswords is the zxcvbn list of the 30,000 most common passwords,
// folded to lower case, built on first use so that commands that never check
// a password do not pay for it.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	list := frequency.FrequencyLists["passwords"]
	set := make(map[string]struct{}, len(list))
	for _, p := range list {
		set[strings.ToLower(p)] = struct{}{}
	}
	return set
})

// IsCommonPassword reports whether password, ignoring case, is on the list of
// the most common passwords.
func IsCommonPassword(password string) bool {
	_, ok := commonPasswords()[strings.ToLower(password)]
	return ok
}

// CommonPasswordCount is how many passwords the embedded list holds.
func CommonPasswordCount() int { return len(commonPasswords()) }
