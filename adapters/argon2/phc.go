package argon2

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrMalformedHash is returned by Verify for a stored hash that is not an
// argon2id v19 PHC string this package could have written, or whose
// parameters are out of bounds. It means the stored data is wrong, never
// that the password is.
var ErrMalformedHash = errors.New("malformed argon2id hash")

// maxEncodedLen is far above the longest valid hash (64-byte salt and key,
// largest parameters), so that garbage is refused before any parsing work.
const maxEncodedLen = 512

// b64 is the PHC string encoding: standard alphabet, no padding. Strict
// refuses stray bits in the last character; decode refuses the line breaks
// that encoding/base64 skips even then, so every hash has exactly one
// spelling.
var b64 = base64.RawStdEncoding.Strict()

// encode writes $argon2id$v=19$m=<memory>,t=<iterations>,p=<parallelism>$<salt>$<key>.
func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Iterations, p.Parallelism,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses exactly the form encode writes. The PHC format allows more
// (other parameter orders, a keyid, associated data), but this package never
// writes those, so meeting one means the hash did not come from us. The
// returned Params carry the salt and key lengths of the hash itself.
func decode(encoded string) (p Params, salt, key []byte, err error) {
	if len(encoded) > maxEncodedLen || strings.ContainsAny(encoded, "\r\n") {
		return Params{}, nil, nil, ErrMalformedHash
	}
	fields := strings.Split(encoded, "$")
	if len(fields) != 6 || fields[0] != "" || fields[1] != "argon2id" || fields[2] != "v="+strconv.Itoa(argon2.Version) {
		return Params{}, nil, nil, ErrMalformedHash
	}
	m, t, par, ok := parseCosts(fields[3])
	if !ok || par > 255 {
		return Params{}, nil, nil, ErrMalformedHash
	}
	if salt, err = b64.DecodeString(fields[4]); err != nil {
		return Params{}, nil, nil, ErrMalformedHash
	}
	if key, err = b64.DecodeString(fields[5]); err != nil {
		return Params{}, nil, nil, ErrMalformedHash
	}
	p = Params{
		Memory:      m,
		Iterations:  t,
		Parallelism: uint8(par),
		SaltLength:  uint32(len(salt)),
		KeyLength:   uint32(len(key)),
	}
	if err := p.Validate(); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}
	return p, salt, key, nil
}

// parseCosts reads "m=<uint>,t=<uint>,p=<uint>" in that order.
func parseCosts(s string) (m, t, p uint32, ok bool) {
	ms, rest, ok1 := strings.Cut(s, ",")
	ts, ps, ok2 := strings.Cut(rest, ",")
	if !ok1 || !ok2 {
		return 0, 0, 0, false
	}
	m, okm := parseCost(ms, "m=")
	t, okt := parseCost(ts, "t=")
	p, okp := parseCost(ps, "p=")
	return m, t, p, okm && okt && okp
}

// parseCost reads name followed by a canonical decimal: no sign, no leading
// zeros, so that every hash has exactly one spelling.
func parseCost(s, name string) (uint32, bool) {
	digits, ok := strings.CutPrefix(s, name)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(digits, 10, 32)
	if err != nil || strconv.FormatUint(v, 10) != digits {
		return 0, false
	}
	return uint32(v), true
}
