package domain_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/domain"
)

// emailSeeds cover case, Unicode that folds in surprising ways (Turkish
// dotted I, the long s, Kelvin sign, German sharp s), combining marks that
// NFC composes, quoted and bracketed forms, and invalid UTF-8.
var emailSeeds = []string{
	"alice@example.com",
	"Alice@Example.COM",
	"İstanbul@example.com",
	"ſam@example.com",
	"\u212aelvin@example.com",
	"STRAßE@example.de",
	"e\u0301@example.com",
	"\u00e9@example.com",
	"\"quoted\"@example.com",
	"Alice <alice@example.com>",
	" alice@example.com",
	"a@b",
	"a@@b",
	"a\x00@example.com",
	"\xff@example.com",
	"ǅ@example.com",
	"ΣΑΣ@example.gr",
	strings.Repeat("a", 250) + "@b.c",
}

// FuzzEmailKey checks that the key is a fixed point: keying a key changes
// nothing, for any string at all, whatever normalisation EmailKey applies
// (lower case today; NFC and full case folding are planned).
func FuzzEmailKey(f *testing.F) {
	for _, s := range emailSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := domain.NewEmailKey(s).String()
		if kk := domain.NewEmailKey(k).String(); kk != k {
			t.Fatalf("EmailKey(%q) = %q, but EmailKey of that is %q", s, k, kk)
		}
		if utf8.ValidString(s) && !utf8.ValidString(k) {
			t.Fatalf("EmailKey(%q) = %q is not valid UTF-8", s, k)
		}
	})
}

// FuzzParseEmail checks what an accepted address is: exactly the input, at
// most MaxEmailLength bytes, valid UTF-8 without control characters, with a
// non-empty local part and domain, and a key that is again a fixed point.
func FuzzParseEmail(f *testing.F) {
	for _, s := range emailSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := domain.ParseEmail(s)
		if err != nil {
			if got != "" {
				t.Fatalf("ParseEmail(%q) failed but returned %q", s, got)
			}
			return
		}
		if got != s {
			t.Fatalf("ParseEmail(%q) = %q, want the input unchanged", s, got)
		}
		if len(s) > domain.MaxEmailLength || !utf8.ValidString(s) || strings.ContainsFunc(s, isControl) {
			t.Fatalf("ParseEmail accepted %q", s)
		}
		at := strings.LastIndexByte(s, '@')
		if at <= 0 || at == len(s)-1 {
			t.Fatalf("ParseEmail accepted %q without a local part and a domain", s)
		}
		if k := domain.NewEmailKey(s).String(); domain.NewEmailKey(k).String() != k {
			t.Fatalf("the key of %q is not a fixed point", s)
		}
	})
}

// FuzzParsePhone checks that an accepted number comes back in E.164 form
// ("+" and at most 15 digits, no leading zero) and that E.164 is canonical:
// parsing the result again, in any region, gives the same number.
func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{
		"13800138000", "+8613800138000", "+86 138 0013 8000", "(415) 555-2671",
		"+1 415 555 2671", "+44 20 7946 0958", "0049 30 901820", "tel:+1-415-555-2671",
		"+0", "+", "", "１３８００１３８０００", "+86\x00138", "138001380001380013800",
		"+1 415 555 2671 ext. 1234", "\xff",
	} {
		f.Add(s, "CN")
		f.Add(s, "US")
	}
	f.Fuzz(func(t *testing.T, s, region string) {
		got, err := domain.ParsePhone(s, region)
		if err != nil {
			return
		}
		digits, ok := strings.CutPrefix(got.String(), "+")
		if !ok || len(digits) == 0 || len(digits) > 15 || digits[0] == '0' || strings.ContainsFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) {
			t.Fatalf("ParsePhone(%q, %q) = %q, not E.164", s, region, got)
		}
		for _, again := range []string{region, "CN", "US"} {
			if g, err := domain.ParsePhone(got.String(), again); err != nil || g != got {
				t.Fatalf("ParsePhone(%q, %q) = %q, %v; want %q unchanged", got, again, g, err, got)
			}
		}
	})
}

func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }
