package domain

import (
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// EmailKey is the form of an address that uniqueness and look-ups use, so
// that no two accounts differ only by case in any script (API.md "Abuse
// limits"): the local part in Unicode NFC with full case folding (ΑΣ, ας and
// ασ are one; straße and STRASSE are one), the domain lowercased and in its
// IDNA ASCII form (Bücher.example and xn--bcher-kva.example are one).
//
// It is a struct so that the only way to make one is NewEmailKey: a string
// cannot be turned into a key without being folded. The zero EmailKey is no
// key.
type EmailKey struct{ key string }

// NewEmailKey returns the key of address.
//
// NewEmailKey(k.String()) == k for every key k, so a store may rebuild the
// keys it kept. An all-ASCII address keys to its lowercase form, exactly as
// before the key learnt Unicode, so only rows of non-ASCII addresses change
// (see migration 4).
func NewEmailKey(address string) EmailKey {
	return EmailKey{key: foldEmail(address)}
}

// String returns the key as text, the form stores keep.
func (k EmailKey) String() string { return k.key }

// IsZero reports whether k is no key.
func (k EmailKey) IsZero() bool { return k.key == "" }

func foldEmail(address string) string {
	if isASCII(address) {
		return strings.ToLower(address)
	}
	at := strings.LastIndexByte(address, '@')
	if at < 0 {
		return foldLocal(address)
	}
	return foldLocal(address[:at]) + "@" + domainKey(address[at+1:])
}

// foldLocal is NFC, then full case folding, then NFC again: folding can
// decompose (ß → ss, ᾳ → αι) and the result must be normalized to compare.
func foldLocal(s string) string {
	return norm.NFC.String(strings.Map(cherokeeFold, folder.String(norm.NFC.String(s))))
}

// folder is stateless, so one serves every goroutine.
var folder = cases.Fold()

// cherokeeFold corrects golang.org/x/text's folding of Cherokee, which maps
// capitals to the small letters; Unicode's CaseFolding.txt does the reverse
// (small letters fold to capitals, for stability with Unicode 8 and
// earlier). With this the folding equals CaseFolding.txt's full (C+F)
// mappings for every code point (checked against Python's str.casefold).
func cherokeeFold(r rune) rune {
	switch {
	case r >= '\uab70' && r <= '\uabbf': // small letters a..mv
		return r - 0xab70 + 0x13a0
	case r >= '\u13f8' && r <= '\u13fd': // small letters ye..mv
		return r - 8
	}
	return r
}

// domainKey is the IDNA (UTS #46, non-transitional) ASCII form of a domain,
// which also lowercases it. A domain IDNA refuses, which ParseEmail never
// lets through but an old row may hold, is just lowercased.
func domainKey(domain string) string {
	if isASCII(domain) {
		return strings.ToLower(domain)
	}
	if ascii, err := idna.Lookup.ToASCII(domain); err == nil {
		return ascii
	}
	return strings.ToLower(domain)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
