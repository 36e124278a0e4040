package domain

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEmailKeyFoldsEveryScript(t *testing.T) {
	same := [][]string{
		{"ΑΣ@example.com", "ας@example.com", "ασ@EXAMPLE.com", "Ας@Example.Com"},
		{"straße@example.com", "STRASSE@example.com", "strasse@example.com", "STRAẞE@example.com"},
		{"user@Bücher.example", "USER@BÜCHER.EXAMPLE", "user@xn--bcher-kva.example", "User@XN--BCHER-KVA.example"},
		{"Alice@Example.COM", "alice@example.com", "ALICE@EXAMPLE.COM"},
		{"café@example.com", "cafe\u0301@example.com", "CAFÉ@example.com"}, // NFC and NFD
		{"ꭰ@example.com", "Ꭰ@example.com"},                                 // Cherokee folds to capitals
		{"kelvin@example.com", "\u212aelvin@example.com"},                  // KELVIN SIGN
		{"名前@例え.テスト", "名前@xn--r8jz45g.xn--zckzah"},
	}
	for _, group := range same {
		want := emailKey(group[0])
		for _, a := range group[1:] {
			if got := emailKey(a); got != want {
				t.Errorf("emailKey(%q) = %q, want %q as for %q", a, got, want, group[0])
			}
		}
	}
	for a, want := range map[string]string{
		"ΑΣ@Example.com":      "ασ@example.com",
		"straße@example.com":  "strasse@example.com",
		"user@Bücher.example": "user@xn--bcher-kva.example",
		"Alice@Example.COM":   "alice@example.com",
	} {
		if got := emailKey(a); got != want {
			t.Errorf("emailKey(%q) = %q, want %q", a, got, want)
		}
	}
	// Different domains under IDNA2008 stay different: ß is a letter of
	// its own in a domain name, unlike in the local part.
	if emailKey("a@straße.de") == emailKey("a@strasse.de") {
		t.Error("the domains straße.de and strasse.de share a key")
	}
}

// ASCII addresses key exactly as before (strings.ToLower), so migration 4
// needs to look only at rows with non-ASCII addresses.
func TestEmailKeyOfASCIIIsLowercase(t *testing.T) {
	for _, a := range []string{"Alice.Smith+tag@Example.COM", "a_b@x_y.example", "X@XN--BCHER-KVA.EXAMPLE", "plain"} {
		if got := emailKey(a); got != strings.ToLower(a) {
			t.Errorf("emailKey(%q) = %q, want %q", a, got, strings.ToLower(a))
		}
	}
}

func TestEmailKeyIsIdempotent(t *testing.T) {
	check := func(a string) {
		t.Helper()
		k := emailKey(a)
		if again := emailKey(k); again != k {
			t.Fatalf("emailKey(%q) = %q, but emailKey(%q) = %q", a, k, k, again)
		}
	}
	for _, a := range []string{
		"ΑΣ@Example.com", "straße@Bücher.example", "İstanbul@example.com", "ﬃ@example.com",
		"ᾼ@example.com", "α\u0345@example.com", "ǅ@example.com", "ꭰ@example.com", "Ꭰ@example.com",
		"a@-bad-.例え", "no-at-sign-ΣΣ", "x@ｅｘａｍｐｌｅ.com", "",
	} {
		check(a)
	}
	// Every code point of the scripts that have case (the BMP up to the CJK
	// blocks, and the cased blocks of plane 1), in runs of 32, as a local
	// part; then again with the combining marks that interact with folding
	// (ypogegrammeni, acute, dot above) after each one.
	var b strings.Builder
	for _, block := range [][2]rune{{0, 0x3000}, {0xa640, 0xac00}, {0xfb00, 0x10000}, {0x10400, 0x10d00}, {0x118a0, 0x11900}, {0x16e40, 0x16ea0}, {0x1e900, 0x1e960}} {
		for r := block[0]; r < block[1]; r++ {
			if !utf8.ValidRune(r) || r == '@' {
				continue
			}
			b.WriteRune(r)
			if r%32 == 31 || r == block[1]-1 {
				local := b.String()
				check(local + "@example.com")
				check(strings.Join(strings.Split(local, ""), "\u0345\u0301\u0307") + "@example.com")
				b.Reset()
			}
		}
	}
}

func FuzzEmailKeyIsIdempotent(f *testing.F) {
	for _, s := range []string{"ΑΣ@Example.com", "straße@Bücher.example", "Ꭰ\u0345@例え.テスト", "a@b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, a string) {
		k := emailKey(a)
		if again := emailKey(k); again != k {
			t.Fatalf("emailKey(%q) = %q, but emailKey(%q) = %q", a, k, k, again)
		}
	})
}

func TestParseEmailRefusesInvisibleCharacters(t *testing.T) {
	for _, s := range []string{
		"ali\u200bce@example.com", "ali\u200cce@example.com", "ali\u200dce@example.com",
		"ali\u202ece@example.com", "ali\u2066ce@example.com", "ali\u00adce@example.com",
		"\ufeffalice@example.com", "alice@exa\u200bmple.com", "ali\x7fce@example.com",
		"ali\u0085ce@example.com", "ali\xffce@example.com", "alice@-bad-.例え",
	} {
		if _, err := ParseEmail(s); !errors.Is(err, ErrValidation) {
			t.Errorf("ParseEmail(%q) = %v, want VALIDATION_FAILED", s, err)
		}
	}
	for _, s := range []string{"ασ@example.com", "straße@Bücher.example", "名前@例え.テスト"} {
		if got, err := ParseEmail(s); err != nil || got != s {
			t.Errorf("ParseEmail(%q) = %q, %v; want it unchanged", s, got, err)
		}
	}
}

// emailKey is the key of a as text, the form the tests compare.
func emailKey(a string) string { return NewEmailKey(a).String() }
