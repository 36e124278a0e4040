package domain

import (
	"errors"
	"time"
)

// Code is a stable, machine-readable error code from the API contract. Clients
// branch on it, so its values never change.
type Code string

// The error codes of API.md that the domain raises. A new one goes into
// Codes too, and the HTTP adapter's status table fails its test until the
// code has a row there.
const (
	CodeValidationFailed Code = "VALIDATION_FAILED"
	CodeLoginInvalid     Code = "LOGIN_INVALID"
	CodeCodeInvalid      Code = "CODE_INVALID"
	CodeTOTPInvalid      Code = "TOTP_INVALID"
	CodePasswordInvalid  Code = "PASSWORD_INVALID"
	CodePasswordWeak     Code = "PASSWORD_WEAK"
	CodeOptionUnknown    Code = "OPTION_UNKNOWN"
	CodePhoneUnsupported Code = "PHONE_UNSUPPORTED"
	CodeAuthRequired     Code = "AUTH_REQUIRED"
	CodeAuthExpired      Code = "AUTH_EXPIRED"
	CodeEmailTaken       Code = "EMAIL_TAKEN"
	CodePhoneTaken       Code = "PHONE_TAKEN"
	CodeLoginLocked      Code = "LOGIN_LOCKED"
	CodeCodeTooFrequent  Code = "CODE_TOO_FREQUENT"
	CodeRateLimited      Code = "RATE_LIMITED"
	CodeUnavailable      Code = "UNAVAILABLE"

	// The Lark flow's failures. The callback sends them to the frontend in
	// a redirect rather than a JSON body, but they keep a status each like
	// every other code.
	CodeLarkStateInvalid Code = "LARK_STATE_INVALID"
	CodeLarkTaken        Code = "LARK_TAKEN"
	CodeLarkNotBound     Code = "LARK_NOT_BOUND"
	CodeLarkDenied       Code = "LARK_DENIED"
	CodeLarkFailed       Code = "LARK_FAILED"
)

// Codes returns every Code above, in the order of the API's status table. It
// is the list the edge's error table is checked against, so no code can
// reach a client without a status of its own.
func Codes() []Code {
	return []Code{
		CodeValidationFailed,
		CodeLoginInvalid,
		CodeCodeInvalid,
		CodeTOTPInvalid,
		CodePasswordInvalid,
		CodePasswordWeak,
		CodeOptionUnknown,
		CodePhoneUnsupported,
		CodeAuthRequired,
		CodeAuthExpired,
		CodeEmailTaken,
		CodePhoneTaken,
		CodeLoginLocked,
		CodeCodeTooFrequent,
		CodeRateLimited,
		CodeUnavailable,
		CodeLarkStateInvalid,
		CodeLarkTaken,
		CodeLarkNotBound,
		CodeLarkDenied,
		CodeLarkFailed,
	}
}

// Error is a failure the API reports to the client with a stable code and a
// message for people. It never wraps driver or internal errors: those stay
// plain errors and become 500 or 503 at the edge.
type Error struct {
	Code    Code
	Message string
	// RetryAfter is set on lockouts and throttles: how long until trying
	// again can succeed.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Is makes errors.Is match two domain errors by code, so a sentinel matches a
// copy that carries a different message or RetryAfter.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Invalid returns a VALIDATION_FAILED error with the given message.
func Invalid(message string) *Error {
	return &Error{Code: CodeValidationFailed, Message: message}
}

// Locked returns a LOGIN_LOCKED error that tells the client when to retry.
func Locked(retryAfter time.Duration) *Error {
	return &Error{Code: CodeLoginLocked, Message: "too many failed attempts, try again later", RetryAfter: retryAfter}
}

// TooFrequent returns a CODE_TOO_FREQUENT error that tells the client when
// to retry.
func TooFrequent(retryAfter time.Duration) *Error {
	return &Error{Code: CodeCodeTooFrequent, Message: "a code was sent recently, try again later", RetryAfter: retryAfter}
}

// RateLimited returns a RATE_LIMITED error that tells the client when to
// retry: a cap on how often a client or an account may do something, or a
// wait for attempts in flight that ran past its bound.
func RateLimited(retryAfter time.Duration) *Error {
	return &Error{Code: CodeRateLimited, Message: "too many requests, try again later", RetryAfter: retryAfter}
}

// CallerGone is the rule for a lookup of the caller's own account, the one
// a live session belongs to: when that account no longer exists the
// session is as dead as an ended one, so ErrUserNotFound becomes
// ErrAuthExpired. Any other err, nil included, is returned unchanged.
func CallerGone(err error) error {
	if errors.Is(err, ErrUserNotFound) {
		return ErrAuthExpired
	}
	return err
}

// Sentinel errors. Compare with errors.Is.
var (
	ErrValidation      = &Error{Code: CodeValidationFailed, Message: "invalid input"}
	ErrLoginInvalid    = &Error{Code: CodeLoginInvalid, Message: "the credentials are not valid"}
	ErrCodeInvalid     = &Error{Code: CodeCodeInvalid, Message: "the code is wrong, expired or already used"}
	ErrTOTPInvalid     = &Error{Code: CodeTOTPInvalid, Message: "the TOTP codes do not match the pending secret"}
	ErrPasswordInvalid = &Error{Code: CodePasswordInvalid, Message: "the current password is wrong"}
	ErrPasswordWeak    = &Error{Code: CodePasswordWeak, Message: "the new password does not meet the password policy"}
	ErrAuthRequired    = &Error{Code: CodeAuthRequired, Message: "authentication required"}
	ErrAuthExpired     = &Error{Code: CodeAuthExpired, Message: "the token is invalid or its session has ended"}
	ErrEmailTaken      = &Error{Code: CodeEmailTaken, Message: "the email belongs to another account"}
	ErrPhoneTaken      = &Error{Code: CodePhoneTaken, Message: "the phone belongs to another account"}
	// ErrPhoneUnsupported is the SMS toll-fraud guard's refusal of a number
	// in a region codes are not sent to, or of a number type (premium-rate,
	// shared-cost, VoIP, personal, UAN) that costs money to reach.
	ErrPhoneUnsupported = &Error{Code: CodePhoneUnsupported, Message: "codes cannot be sent to this phone number"}
	ErrLoginLocked      = Locked(0)
	ErrCodeTooFrequent  = TooFrequent(0)
	ErrRateLimited      = RateLimited(0)

	ErrLarkStateInvalid = &Error{Code: CodeLarkStateInvalid, Message: "the Lark sign-in was not started by this browser, has expired or was already used"}
	ErrLarkTaken        = &Error{Code: CodeLarkTaken, Message: "the Lark account is bound to another account"}
	ErrLarkNotBound     = &Error{Code: CodeLarkNotBound, Message: "no active account is bound to this Lark account"}
	ErrLarkDenied       = &Error{Code: CodeLarkDenied, Message: "the Lark sign-in was declined"}
	ErrLarkFailed       = &Error{Code: CodeLarkFailed, Message: "Lark refused the sign-in or could not be reached"}
)

// Store-level errors. They are not client-facing codes by themselves: a
// service turns "not found" into whatever the route must answer.
var (
	ErrUserNotFound    = errors.New("user not found")
	ErrSessionNotFound = errors.New("session not found or ended")
	ErrNotFound        = errors.New("not found")
	// ErrTOTPUnreadable means a bound TOTP secret does not open with the
	// configured keys: it was sealed under a key since removed or another
	// service secret, or its data was changed. Logins answer it like a
	// wrong code; `gatehouse keys check` lists such accounts.
	ErrTOTPUnreadable = errors.New("TOTP secret does not open with the configured keys")
	// ErrUnavailable marks a store outage (connection refused, timeout). The
	// edge answers 503 UNAVAILABLE; it must never read as a wrong password.
	ErrUnavailable = errors.New("store unavailable")
)
