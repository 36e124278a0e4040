package httpapi

import (
	"strings"
	"testing"
)

// FuzzCSRFCookie checks the signed XSRF cookie: a freshly minted value is
// valid, any change to it (a byte flipped, cut, extended or spliced with the
// fuzzer's bytes) is not, a value the fuzzer makes up is not, and a value
// signed under another secret is not.
func FuzzCSRFCookie(f *testing.F) {
	f.Add(uint16(0), byte(1), "")
	f.Add(uint16(5), byte(0x20), "x")
	f.Add(uint16(24), byte(0), ".")
	f.Add(uint16(25), byte(0), "..")
	f.Add(uint16(60), byte(0xff), "AAAA.BBBB")
	f.Add(uint16(1000), byte(0), "=")
	signer := csrfSigner{secret: []byte("fuzz-secret-that-is-at-least-32-bytes")}
	other := csrfSigner{secret: []byte("another-secret-that-is-32-bytes-long")}
	f.Fuzz(func(t *testing.T, at uint16, flip byte, splice string) {
		value := signer.mint()
		if !signer.valid(value) {
			t.Fatalf("a freshly minted value %q is not valid", value)
		}
		if other.valid(value) {
			t.Fatalf("%q, signed under one secret, passed under another", value)
		}
		// The fuzzer's own bytes, alone, as a whole cookie.
		if signer.valid(splice) {
			t.Fatalf("a made-up value %q passed", splice)
		}
		i := int(at) % (len(value) + 1)
		for _, mutated := range []string{
			value[:i] + splice + value[i:],
			value[:i] + splice,
			flipAt(value, i, flip),
			strings.Replace(value, ".", splice, 1),
		} {
			if mutated != value && signer.valid(mutated) {
				t.Fatalf("mutated value %q of %q passed", mutated, value)
			}
		}
	})
}

// flipAt xors the byte at i (wrapping) with mask.
func flipAt(s string, i int, mask byte) string {
	b := []byte(s)
	b[i%len(b)] ^= mask
	return string(b)
}
