package domain

import (
	"regexp"
	"strings"
	"testing"
)

var recoveryCodeShape = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){5}$`)

func TestNewRecoveryCodeShape(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		code := NewRecoveryCode()
		if !recoveryCodeShape.MatchString(code) {
			t.Fatalf("code %q is not six lowercase Crockford groups of four", code)
		}
		if seen[code] {
			t.Fatalf("code %q came twice", code)
		}
		seen[code] = true
		if _, ok := RecoveryCodeDigest(code); !ok {
			t.Fatalf("a new code %q does not read back", code)
		}
	}
}

func TestRecoveryCodeDigestForgivesHandCopying(t *testing.T) {
	const code = "01ab-cdef-ghjk-mnpq-rstv-wxyz"
	want, ok := RecoveryCodeDigest(code)
	if !ok || len(want) != 64 {
		t.Fatalf("RecoveryCodeDigest(%q) = %q, %v", code, want, ok)
	}
	for _, in := range []string{
		"01abcdefghjkmnpqrstvwxyz",
		"01AB-CDEF-GHJK-MNPQ-RSTV-WXYZ",
		" 01ab cdef ghjk mnpq rstv wxyz ",
		"o1ab-cdef-ghjk-mnpq-rstv-wxyz",   // o is 0
		"Oiab-cdef-ghjk-mnpq-rstv-wxyz",   // O is 0, i is 1
		"0Lab-cdef-ghjk-mnpq-rstv-wxyz",   // L is 1
		"0-1-a-b--cdefghjkmnpqrstvwxyz--", // dashes anywhere
	} {
		if got, ok := RecoveryCodeDigest(in); !ok || got != want {
			t.Errorf("RecoveryCodeDigest(%q) = %q, %v; want the digest of %q", in, got, ok, code)
		}
	}
	if other, _ := RecoveryCodeDigest("11ab-cdef-ghjk-mnpq-rstv-wxyz"); other == want {
		t.Error("two different codes have one digest")
	}
}

func TestRecoveryCodeDigestRefusesOtherForms(t *testing.T) {
	for _, in := range []string{
		"",
		"123456",
		"01ab-cdef-ghjk-mnpq-rstv-wxy",   // 23 symbols
		"01ab-cdef-ghjk-mnpq-rstv-wxyz0", // 25
		"01ab-cdef-ghjk-mnpq-rstv-wxyu",  // u is not Crockford
		"01ab_cdef_ghjk_mnpq_rstv_wxyz",  // only - and space are ignored
		"01ab\tcdef-ghjk-mnpq-rstv-wxyz",
		"01ab-cdef-ghjk-mnpq-rstv-wxyé",
		strings.Repeat("0", 1000),
	} {
		if d, ok := RecoveryCodeDigest(in); ok {
			t.Errorf("RecoveryCodeDigest(%q) = %q, accepted", in, d)
		}
	}
}
