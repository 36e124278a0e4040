package httpapi

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/domain"
)

// FuzzLarkStateCookie checks the signed LARK_STATE cookie:
//
//   - a value sealed by encodeLark opens to exactly what was sealed, if and
//     only if its state and verifier are non-empty and hold no dot and it is
//     opened before its expiry (to the nanosecond: at the expiry it is
//     refused);
//   - it never opens under another secret, nor passes as an XSRF value, and
//     no XSRF value opens as a LARK_STATE;
//   - a value the fuzzer makes up never opens;
//   - any change to a valid value never opens: a byte flipped, deleted or
//     inserted, a cut, a dot replaced, the action swapped, the expiry pushed
//     back, the state and verifier swapped or replaced, the signature taken
//     from another cookie or made under the XSRF label.
func FuzzLarkStateCookie(f *testing.F) {
	f.Add("c3RhdGU", "dmVyaWZpZXI", false, int32(600), int32(0), uint16(0), byte(1), "")
	f.Add("c3RhdGU", "dmVyaWZpZXI", true, int32(600), int32(0), uint16(8), byte(0x20), "")
	f.Add("s", "v", true, int32(0), int32(0), uint16(1), byte(0), ".")
	f.Add("s", "v", false, int32(1), int32(999_999_999), uint16(2), byte(0), "..")
	f.Add("s", "v", false, int32(0), int32(-1), uint16(100), byte(0xff), "x")
	f.Add("a.link", "v", false, int32(600), int32(0), uint16(5), byte(0), "link")
	f.Add("", "v", false, int32(600), int32(0), uint16(0), byte(0), "")
	f.Add("s", "", true, int32(600), int32(0), uint16(0), byte(0), "s.link.v.1900000600.")
	f.Add("s", "v", true, int32(-600), int32(0), uint16(0), byte(0), "")
	base := time.Unix(1_900_000_000, 0)
	signer := csrfSigner{secret: []byte("fuzz-secret-that-is-at-least-32-bytes")}
	other := csrfSigner{secret: []byte("another-secret-that-is-32-bytes-long")}
	f.Fuzz(func(t *testing.T, state, verifier string, link bool, ttl, jitter int32, at uint16, flip byte, splice string) {
		action, swapped := domain.LarkLogin, domain.LarkLink
		if link {
			action, swapped = swapped, action
		}
		now := base.Add(time.Duration(jitter))
		sealed := larkCookieValue{state: state, action: action, verifier: verifier, expires: base.Add(time.Duration(ttl) * time.Second)}
		value := signer.encodeLark(sealed)

		// The oracle, in whole nanoseconds after base.
		wellFormed := state != "" && verifier != "" && !strings.Contains(state, ".") && !strings.Contains(verifier, ".")
		live := int64(jitter) < int64(ttl)*int64(time.Second)
		got, ok := signer.decodeLark(value, now)
		switch {
		case ok != (wellFormed && live):
			t.Fatalf("%q (sealed %+v) opened at %v: %v; want %v", value, sealed, now, ok, wellFormed && live)
		case ok && (got.state != state || got.action != action || got.verifier != verifier || !got.expires.Equal(sealed.expires)):
			t.Fatalf("%q opened to %+v; sealed %+v", value, got, sealed)
		}
		if _, ok := other.decodeLark(value, now); ok {
			t.Fatalf("%q, signed under one secret, opened under another", value)
		}
		if signer.valid(value) {
			t.Fatalf("LARK_STATE value %q passed as an XSRF value", value)
		}
		if xsrf := signer.mint(); opens(signer, xsrf, now) {
			t.Fatalf("XSRF value %q opened as LARK_STATE", xsrf)
		}
		if opens(signer, splice, now) {
			t.Fatalf("a made-up value %q opened", splice)
		}

		// Mutate a value that opens: the fuzzer's when it does, else a
		// fixed one.
		honest := value
		if !ok {
			honest = signer.encodeLark(larkCookieValue{state: "c3RhdGU", action: action, verifier: "dmVyaWZpZXI", expires: base.Add(10 * time.Minute)})
			if !opens(signer, honest, now) {
				t.Fatalf("a fresh cookie %q does not open", honest)
			}
		}
		i := int(at) % (len(honest) + 1)
		mutated := []string{
			honest[:i] + splice + honest[i:],
			honest[:i] + splice,
			flipAt(honest, i, flip),
			honest[:min(i, len(honest)-1)] + honest[min(i, len(honest)-1)+1:],
		}
		for d := range len(honest) {
			if honest[d] == '.' {
				mutated = append(mutated, honest[:d]+splice+honest[d+1:])
			}
		}
		parts := strings.Split(honest, ".")
		if len(parts) != 5 {
			t.Fatalf("%q has %d parts, want state.action.verifier.expiry.signature", honest, len(parts))
		}
		payload := strings.Join(parts[:4], ".")
		exp, _ := strconv.ParseInt(parts[3], 10, 64)
		mutated = append(mutated,
			join(parts[0], string(swapped), parts[2], parts[3], parts[4]),
			join(parts[0], parts[1], parts[2], strconv.FormatInt(exp+365*24*3600, 10), parts[4]),
			join(parts[0], parts[1], parts[2], "+"+parts[3], parts[4]),
			join(parts[2], parts[1], parts[0], parts[3], parts[4]),
			join(splice, parts[1], parts[2], parts[3], parts[4]),
			join(parts[0], parts[1], splice, parts[3], parts[4]),
		)
		for _, m := range mutated {
			if m != honest && opens(signer, m, now) {
				t.Fatalf("mutated value %q of %q opened", m, honest)
			}
		}
		// Signatures that are not this payload's under this secret and the
		// LARK_STATE label: none may open it, whether or not it happens to
		// equal the honest one (which would mean the labels or secrets do
		// not separate anything).
		for _, sig := range []string{
			signer.sign(payload),
			other.signLark(payload),
			signer.signLark(join(parts[0], string(swapped), parts[2], parts[3])),
		} {
			if opens(signer, payload+"."+sig, now) {
				t.Fatalf("%q opened with the signature %q made for something else", payload, sig)
			}
		}
	})
}

// opens reports whether value is a LARK_STATE that s opens at now.
func opens(s csrfSigner, value string, now time.Time) bool {
	_, ok := s.decodeLark(value, now)
	return ok
}

func join(parts ...string) string { return strings.Join(parts, ".") }
