package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
)

// RecoveryCodeCount is how many recovery codes one set holds (API.md "TOTP
// recovery codes": the answer carries exactly ten).
const RecoveryCodeCount = 10

// A recovery code is recoveryCodeSymbols symbols of Crockford's base32
// (5 bits each: 120 random bits), shown in groups of recoveryCodeGroup
// joined by "-".
const (
	recoveryCodeSymbols = 24
	recoveryCodeGroup   = 4
	crockfordAlphabet   = "0123456789abcdefghjkmnpqrstvwxyz"
)

var crockford = base32.NewEncoding(crockfordAlphabet).WithPadding(base32.NoPadding)

// NewRecoveryCode returns a fresh recovery code as shown to its owner:
// 24 lowercase Crockford base32 symbols in six groups of four, e.g.
// "7k2m-x9q4-...". Recovery codes are bearer secrets that open an account,
// so they come from crypto/rand, never from an injectable source.
func NewRecoveryCode() string {
	var b [recoveryCodeSymbols * 5 / 8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	plain := crockford.EncodeToString(b[:])
	var out strings.Builder
	for i := 0; i < len(plain); i += recoveryCodeGroup {
		if i > 0 {
			out.WriteByte('-')
		}
		out.WriteString(plain[i : i+recoveryCodeGroup])
	}
	return out.String()
}

// RecoveryCodeDigest reads s as a recovery code and returns the digest a
// store keeps of it: the hex SHA-256 of its canonical form. 120 random bits
// need neither a key nor a slow hash, so the digest outlives a rotation of
// the service secret. Reading forgives what people get wrong when they copy
// a code by hand: case, "-" and spaces anywhere, and Crockford's aliases (o
// for 0, i and l for 1). It reports false when s is not in a recovery
// code's form.
func RecoveryCodeDigest(s string) (string, bool) {
	var canonical [recoveryCodeSymbols]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ' ':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		switch c {
		case 'o':
			c = '0'
		case 'i', 'l':
			c = '1'
		}
		if n == recoveryCodeSymbols || strings.IndexByte(crockfordAlphabet, c) < 0 {
			return "", false
		}
		canonical[n] = c
		n++
	}
	if n != recoveryCodeSymbols {
		return "", false
	}
	sum := sha256.Sum256(canonical[:])
	return hex.EncodeToString(sum[:]), true
}
