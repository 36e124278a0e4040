package domain

import (
	"errors"
	"time"
)

// Code is a stable, machine-readable error code from the API contract. Clients
// branch on it, so its values never change.
type Code string

// The error codes of API.md.
const (
	CodeValidationFailed Code = "VALIDATION_FAILED"
	CodeLoginInvalid     Code = "LOGIN_INVALID"
	CodeCodeInvalid      Code = "CODE_INVALID"
	CodeTOTPInvalid      Code = "TOTP_INVALID"
	CodePasswordInvalid  Code = "PASSWORD_INVALID"
	CodePasswordWeak     Code = "PASSWORD_WEAK"
	CodeOptionUnknown    Code = "OPTION_UNKNOWN"
	CodeAuthRequired     Code = "AUTH_REQUIRED"
	CodeAuthExpired      Code = "AUTH_EXPIRED"
	CodeEmailTaken       Code = "EMAIL_TAKEN"
	CodePhoneTaken       Code = "PHONE_TAKEN"
	CodeLoginLocked      Code = "LOGIN_LOCKED"
	CodeCodeTooFrequent  Code = "CODE_TOO_FREQUENT"
	CodeUnavailable      Code = "UNAVAILABLE"
)

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
	ErrLoginLocked     = Locked(0)
	ErrCodeTooFrequent = TooFrequent(0)
)

// Store-level errors. They are not client-facing codes by themselves: a
// service turns "not found" into whatever the route must answer.
var (
	ErrUserNotFound    = errors.New("user not found")
	ErrSessionNotFound = errors.New("session not found or ended")
	ErrNotFound        = errors.New("not found")
	// ErrUnavailable marks a store outage (connection refused, timeout). The
	// edge answers 503 UNAVAILABLE; it must never read as a wrong password.
	ErrUnavailable = errors.New("store unavailable")
)
