package jwt

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
)

// FuzzVerify checks token verification against made-up and mutated tokens:
// it never panics, a string that is not one of our tokens is refused with
// domain.ErrAuthExpired, and no change to a valid token (a byte flipped,
// bytes spliced in, a cut, a segment swapped) still verifies, with or
// without the verified-token cache.
func FuzzVerify(f *testing.F) {
	f.Add("", uint16(0), byte(1), "")
	f.Add("e30.e30.", uint16(10), byte(0x20), "x")
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1In0.", uint16(200), byte(1), ".")
	f.Add("a.b.c.d", uint16(0), byte(0), "==")
	f.Add(strings.Repeat("A", 5000), uint16(5), byte(2), "")
	f.Add("eyJhbGciOiJFZERTQSJ9..", uint16(150), byte(3), "AA")
	f.Add("", uint16(0), byte(2), "")
	key := newKey(f)
	cached := newIssuer(f, testCfg, key)
	uncached := newIssuer(f, Config{Issuer: testCfg.Issuer, Audience: testCfg.Audience, CacheSize: -1}, key)
	valid := issue(f, cached, testClaim)
	now := testClaim.IssuedAt
	f.Fuzz(func(t *testing.T, junk string, at uint16, flip byte, splice string) {
		for _, i := range []*Issuer{cached, uncached} {
			if c, err := i.Verify(valid, now); err != nil || c != testClaim {
				t.Fatalf("the valid token no longer verifies: %+v, %v", c, err)
			}
			if junk != valid {
				refused(t, i, junk, now)
			}
			pos := int(at) % (len(valid) + 1)
			header, rest, _ := strings.Cut(valid, ".")
			payload, sig, _ := strings.Cut(rest, ".")
			for _, mutated := range []string{
				valid[:pos] + splice + valid[pos:],
				valid[:pos] + splice,
				valid[:pos] + junk + valid[min(len(valid), pos+len(junk)):],
				flipAt(valid, pos, flip),
				// The last character of the signature carries unused bits.
				flipAt(valid, len(valid)-1, flip),
				header + "." + payload + "." + junk,
				header + "." + junk + "." + sig,
				junk + "." + payload + "." + sig,
			} {
				if mutated != valid {
					refused(t, i, mutated, now)
				}
			}
		}
	})
}

// refused fails unless token is refused as domain.ErrAuthExpired.
func refused(t *testing.T, i *Issuer, token string, now time.Time) {
	t.Helper()
	if c, err := i.Verify(token, now); !errors.Is(err, domain.ErrAuthExpired) {
		t.Fatalf("Verify(%q) = %+v, %v; want domain.ErrAuthExpired", token, c, err)
	}
}

// flipAt xors the byte at i (wrapping) with mask.
func flipAt(s string, i int, mask byte) string {
	b := []byte(s)
	b[i%len(b)] ^= mask
	return string(b)
}
