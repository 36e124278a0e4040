package domain

import (
	"crypto/rand"
	"encoding/base64"

	"github.com/google/uuid"
)

// UserID names an account: a UUID in its canonical lowercase form, as the
// user stores hand it out. Its own type keeps it from being passed where a
// session id or another string is expected. Build one with ParseUserID from
// untrusted text; a value the service issued itself (read back from a store,
// the subject of a verified token) may be converted directly.
type UserID string

// ParseUserID reads a user id, refusing anything but a canonical UUID.
func ParseUserID(s string) (UserID, error) {
	u, err := uuid.Parse(s)
	if err != nil || u.String() != s {
		return "", Invalid("user id must be a UUID")
	}
	return UserID(s), nil
}

// String returns the id as text.
func (id UserID) String() string { return string(id) }

// SessionID names one server-side session: 128 random bits, base64url
// without padding. Session ids are bearer secrets for the store, so new ones
// come from crypto/rand (NewSessionID). A value the service issued itself
// (the session id of a verified token) may be converted directly.
type SessionID string

// sessionIDBytes is how many random bytes a session id carries.
const sessionIDBytes = 16

// NewSessionID returns a fresh random session id.
func NewSessionID() SessionID {
	var b [sessionIDBytes]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return SessionID(base64.RawURLEncoding.EncodeToString(b[:]))
}

// ParseSessionID reads a session id in the form NewSessionID makes.
func ParseSessionID(s string) (SessionID, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != sessionIDBytes {
		return "", Invalid("session id must be 128 bits in unpadded base64url")
	}
	return SessionID(s), nil
}

// String returns the id as text.
func (id SessionID) String() string { return string(id) }

// Phone is a phone number in E.164 form (+8613800138000); the empty Phone
// is no number. ParsePhone builds one from what a person typed; a number
// read back from a store, which only ever holds parsed ones, may be
// converted directly.
type Phone string

// String returns the number in E.164 form.
func (p Phone) String() string { return string(p) }
