package argon2

import (
	"errors"
	"testing"
)

// FuzzDecode checks the PHC decoder: it never panics, refuses with
// ErrMalformedHash and nothing else, and what it accepts has valid
// parameters and is exactly what encode writes for them, so every stored
// hash has one spelling.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXowMTIzNDU",
		"$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=019456,t=2,p=1$c29tZXNhbHQ$a2V5",
		"$argon2id$v=19$t=2,m=19456,p=1$c29tZXNhbHQ$a2V5",
		"$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$a2V5",
		"$argon2id$v=16$m=19456,t=2,p=1$c29tZXNhbHQ$a2V5",
		"$argon2id$v=19$m=4294967295,t=4294967295,p=256$c29tZXNhbHQ$a2V5",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ=$a2V5",
		"$argon2id$v=19$m=19456,t=2,p=1$$",
		"$argon2id$v=19$m=+19456,t=2,p=1$c29tZXNhbHQ$a2V5",
		"",
		"$",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := decode(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("decode(%q) = %v, want ErrMalformedHash", s, err)
			}
			if p != (Params{}) || salt != nil || key != nil {
				t.Fatalf("decode(%q) failed but returned %+v, %x, %x", s, p, salt, key)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("decode(%q) accepted invalid parameters %+v: %v", s, p, err)
		}
		if int(p.SaltLength) != len(salt) || int(p.KeyLength) != len(key) {
			t.Fatalf("decode(%q): params say salt %d key %d, got %d and %d", s, p.SaltLength, p.KeyLength, len(salt), len(key))
		}
		if again := encode(p, salt, key); again != s {
			t.Fatalf("decode(%q) accepted a second spelling of %q", s, again)
		}
	})
}
