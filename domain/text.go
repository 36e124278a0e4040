package domain

import (
	"unicode"
	"unicode/utf8"
)

// refusedInText reports the characters no text field may hold (API.md
// "Abuse limits", "Identifiers"): control characters (C0, DEL, C1), which
// break logs, mail headers and terminals; and invisible formatting
// characters that make two different strings look alike or reorder what a
// reader sees: the zero-width space, the word joiner (the zero-width
// no-break space that replaced U+FEFF), the byte-order mark, the soft
// hyphen, and the bidirectional embeddings, overrides (U+202A–U+202E) and
// isolates (U+2066–U+2069). The left-to-right and right-to-left marks stay
// allowed: mixed-script names need them.
func refusedInText(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == '\u200b', r == '\u2060', r == '\ufeff', r == '\u00ad':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// refusedInEmail adds to refusedInText the zero-width non-joiner and
// joiner (U+200C, U+200D). Names keep them (emoji sequences, Persian); in an
// address they only make one mailbox look like another.
func refusedInEmail(r rune) bool {
	return refusedInText(r) || r == '\u200c' || r == '\u200d'
}

// cleanText reports whether s is valid UTF-8 holding no refused character.
func cleanText(s string, refused func(rune) bool) bool {
	for _, r := range s {
		if r == utf8.RuneError || refused(r) {
			// RuneError is also what an invalid byte decodes to; a real
			// U+FFFD has no place in these fields either.
			return false
		}
	}
	return true
}

// ValidateText checks a free-text field: valid UTF-8 without control
// characters, zero-width spaces, bidirectional overrides or isolates, soft
// hyphens or byte-order marks. field names it in the message.
func ValidateText(field, s string) error {
	if !cleanText(s, refusedInText) {
		return Invalid(field + " must not contain control or invisible formatting characters")
	}
	return nil
}
