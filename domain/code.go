package domain

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"time"
)

// CodePurpose says what a one-time code is for. A code is bound to its purpose
// and target: an SMS login code cannot bind a phone. It is a closed set: the
// constants below are the only purposes, and ParseCodePurpose refuses any
// other text.
type CodePurpose string

// The purposes of one-time codes.
const (
	PurposeSMSLogin    CodePurpose = "login"   // target: phone
	PurposePhoneBind   CodePurpose = "bind"    // target: user id, bound to the phone
	PurposeMailReset   CodePurpose = "reset"   // target: email key
	PurposeRefreshCode CodePurpose = "refresh" // target: session id
)

// ParseCodePurpose reads a code purpose by its name.
func ParseCodePurpose(s string) (CodePurpose, error) {
	if p := CodePurpose(s); p.Valid() {
		return p, nil
	}
	return "", Invalid("code purpose must be one of login, bind, reset, refresh")
}

// Valid reports whether p is one of the code purposes.
func (p CodePurpose) Valid() bool {
	switch p {
	case PurposeSMSLogin, PurposePhoneBind, PurposeMailReset, PurposeRefreshCode:
		return true
	}
	return false
}

// String returns the purpose's name, the form stores and senders use.
func (p CodePurpose) String() string { return string(p) }

// CodeKey names the one live code of a purpose and target. Asking again
// replaces the previous code under the same key.
type CodeKey struct {
	Purpose CodePurpose
	// Owner is the account or identifier the code belongs to; stores keep
	// every key of one owner together (a Redis Cluster hash tag).
	Owner string
}

// CodePolicy is the lifetime and number of tries of a kind of code.
type CodePolicy struct {
	TTL         time.Duration
	MaxAttempts int
}

// ResendPolicy throttles how often codes are sent to one target.
type ResendPolicy struct {
	Interval    time.Duration // one send per interval
	HourlyLimit int           // at most this many per hour
}

// NewCode reads a uniformly random 6-digit code from random.
func NewCode(random io.Reader) (string, error) {
	// Rejection sampling over 20 bits keeps every code equally likely.
	var b [3]byte
	for {
		if _, err := io.ReadFull(random, b[:]); err != nil {
			return "", fmt.Errorf("read random code: %w", err)
		}
		n := (uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])) & 0xFFFFF
		if n < 1_000_000 {
			return fmt.Sprintf("%06d", n), nil
		}
	}
}

// IsCodeFormat reports whether s is exactly six ASCII digits.
func IsCodeFormat(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// CodeDigest is what stores keep instead of a code: an HMAC of the code, its
// key and what it is bound to, under the service secret. Stores compare
// digests, so a code never rests in a store in the clear, a code cannot be
// replayed under another purpose, and comparing leaks nothing useful.
func CodeDigest(secret []byte, key CodeKey, bound, code string) string {
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "%s\x00%s\x00%s\x00%s", key.Purpose, key.Owner, bound, code)
	return hex.EncodeToString(m.Sum(nil))
}
