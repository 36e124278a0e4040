package argon2

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testParams are cheap, so the tests run fast; they still pass Validate.
var testParams = Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

func TestHashFormat(t *testing.T) {
	h := NewHasher(DefaultParams, 0)
	got, err := h.Hash(context.Background(), "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(got) {
		t.Fatalf("hash %q is not the PHC form", got)
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 0)
	for _, pw := range []string{"correct horse battery staple", "пароль-密码-🔑", " padded ", strings.Repeat("x", 128)} {
		enc, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatal(err)
		}
		ok, rehash, err := h.Verify(ctx, pw, enc)
		if err != nil || !ok || rehash {
			t.Errorf("Verify(%q) = %v, %v, %v; want true, false, nil", pw, ok, rehash, err)
		}
	}
}

func TestSaltIsFresh(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 0)
	a, _ := h.Hash(ctx, "same password")
	b, _ := h.Hash(ctx, "same password")
	if a == b {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
}

func TestWrongPassword(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(testParams, 0)
	enc, err := h.Hash(ctx, "Password1")
	if err != nil {
		t.Fatal(err)
	}
	// Passwords are compared exactly as typed: case, spaces and a prefix
	// all differ.
	for _, pw := range []string{"password1", "Password1 ", "Password", ""} {
		ok, rehash, err := h.Verify(ctx, pw, enc)
		if err != nil || ok || rehash {
			t.Errorf("Verify(%q) = %v, %v, %v; want false, false, nil", pw, ok, rehash, err)
		}
	}
}

// TestKnownVectors checks hashes written by the reference implementation
// (phc-winner-argon2, src/test.c), so the encoding and the derivation agree
// with every other argon2id library, not only with ourselves.
func TestKnownVectors(t *testing.T) {
	vectors := []struct {
		p   Params
		enc string
	}{
		{Params{Memory: 256, Iterations: 2, Parallelism: 1, SaltLength: 8, KeyLength: 32}, "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
		{Params{Memory: 65536, Iterations: 2, Parallelism: 1, SaltLength: 8, KeyLength: 32}, "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"},
	}
	for _, v := range vectors {
		ok, rehash, err := NewHasher(v.p, 0).Verify(context.Background(), "password", v.enc)
		if err != nil || !ok || rehash {
			t.Errorf("Verify(%q) = %v, %v, %v; want true, false, nil", v.enc, ok, rehash, err)
		}
		if got := encode(v.p, []byte("somesalt"), mustDecodeKey(t, v.enc)); got != v.enc {
			t.Errorf("encode = %q; want %q", got, v.enc)
		}
	}
}

func mustDecodeKey(t *testing.T, enc string) []byte {
	t.Helper()
	_, _, key, err := decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestRehash(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(testParams, 0)
	enc, err := old.Hash(ctx, "hunter22")
	if err != nil {
		t.Fatal(err)
	}
	changes := map[string]Params{
		"memory":      {Memory: 128, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32},
		"iterations":  {Memory: 64, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32},
		"parallelism": {Memory: 64, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32},
		"salt length": {Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 32, KeyLength: 32},
		"key length":  {Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 64},
	}
	for name, p := range changes {
		t.Run(name, func(t *testing.T) {
			ok, rehash, err := NewHasher(p, 0).Verify(ctx, "hunter22", enc)
			if err != nil || !ok || !rehash {
				t.Fatalf("Verify = %v, %v, %v; want true, true, nil", ok, rehash, err)
			}
			// A wrong password never asks for a rehash: there is nothing to
			// store.
			ok, rehash, err = NewHasher(p, 0).Verify(ctx, "hunter23", enc)
			if err != nil || ok || rehash {
				t.Fatalf("wrong password: Verify = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	const salt, key = "c29tZXNhbHQ", "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	cases := map[string]string{
		"empty":              "",
		"garbage":            "not a hash",
		"bcrypt":             "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":            "$argon2i$v=19$m=64,t=2,p=1$" + salt + "$" + key,
		"argon2d":            "$argon2d$v=19$m=64,t=2,p=1$" + salt + "$" + key,
		"version 16":         "$argon2id$v=16$m=64,t=2,p=1$" + salt + "$" + key,
		"no version":         "$argon2id$m=64,t=2,p=1$" + salt + "$" + key,
		"params reordered":   "$argon2id$v=19$t=2,m=64,p=1$" + salt + "$" + key,
		"extra param":        "$argon2id$v=19$m=64,t=2,p=1,keyid=x$" + salt + "$" + key,
		"leading zero":       "$argon2id$v=19$m=064,t=2,p=1$" + salt + "$" + key,
		"plus sign":          "$argon2id$v=19$m=+64,t=2,p=1$" + salt + "$" + key,
		"negative":           "$argon2id$v=19$m=64,t=-2,p=1$" + salt + "$" + key,
		"overflow":           "$argon2id$v=19$m=99999999999,t=2,p=1$" + salt + "$" + key,
		"zero iterations":    "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"zero parallelism":   "$argon2id$v=19$m=64,t=2,p=0$" + salt + "$" + key,
		"parallelism 256":    "$argon2id$v=19$m=4096,t=2,p=256$" + salt + "$" + key,
		"memory below lanes": "$argon2id$v=19$m=8,t=2,p=4$" + salt + "$" + key,
		"absurd memory":      "$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + key,
		"absurd iterations":  "$argon2id$v=19$m=64,t=100000,p=1$" + salt + "$" + key,
		"padded salt":        "$argon2id$v=19$m=64,t=2,p=1$" + salt + "==$" + key,
		"url alphabet":       "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$" + strings.NewReplacer("+", "-", "/", "_").Replace(key),
		"stray bits":         "$argon2id$v=19$m=64,t=2,p=1$" + salt[:len(salt)-1] + "B$" + key,
		"short salt":         "$argon2id$v=19$m=64,t=2,p=1$c2FsdA$" + key,
		"short key":          "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$c2hvcnQ",
		"empty key":          "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$",
		"trailing field":     "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$" + key + "$",
		"leading text":       "x$argon2id$v=19$m=64,t=2,p=1$" + salt + "$" + key,
		"huge":               "$argon2id$v=19$m=64,t=2,p=1$" + salt + "$" + strings.Repeat("A", 10000),
	}
	h := NewHasher(testParams, 0)
	for name, enc := range cases {
		t.Run(name, func(t *testing.T) {
			ok, rehash, err := h.Verify(context.Background(), "password", enc)
			if !errors.Is(err, ErrMalformedHash) || ok || rehash {
				t.Fatalf("Verify = %v, %v, %v; want false, false, ErrMalformedHash", ok, rehash, err)
			}
		})
	}
}

// fuzzHash is a real hash of "fuzz" under testParams. Most of the committed
// corpus (testdata/fuzz/FuzzVerify) is near misses of it: stray bits, line
// breaks, padding, the URL alphabet, other spellings of the costs,
// truncations. One mutation turns many of them back into fuzzHash itself,
// which Verify must accept, so FuzzVerify allows exactly that string.
const fuzzHash = "$argon2id$v=19$m=64,t=1,p=1$tlBMh/WzZUhO8JcMjpwlpA$qHeyAHbsZZ1cel02QH/FTcwOCxqa5t3P5Ho5eYN85i8"

// FuzzVerify checks that no stored string, however broken, makes Verify
// panic, and that of all the spellings of fuzzHash's parameters, salt and
// key, Verify accepts the password for fuzzHash alone: a decoder lenient
// about any near miss would accept a second string.
func FuzzVerify(f *testing.F) {
	f.Add("$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4")
	f.Add("$argon2id$v=19$m=,t=,p=$$")
	h := NewHasher(testParams, 0)
	if ok, _, err := h.Verify(context.Background(), "fuzz", fuzzHash); !ok || err != nil {
		f.Fatalf("Verify(fuzzHash) = %v, %v; want true, nil, or the corpus tests nothing", ok, err)
	}
	f.Fuzz(func(t *testing.T, enc string) {
		if ok, _, _ := h.Verify(context.Background(), "fuzz", enc); ok && enc != fuzzHash {
			t.Fatalf("Verify accepted %q, a second spelling of fuzzHash", enc)
		}
	})
}

func TestBurn(t *testing.T) {
	h := NewHasher(testParams, 0)
	var calls atomic.Int32
	h.derive = func(_, _ []byte, iterations, memory uint32, parallelism uint8, keyLen uint32) []byte {
		calls.Add(1)
		if iterations != testParams.Iterations || memory != testParams.Memory || parallelism != testParams.Parallelism || keyLen != testParams.KeyLength {
			t.Errorf("Burn derived with t=%d m=%d p=%d len=%d; want the hasher's parameters", iterations, memory, parallelism, keyLen)
		}
		return make([]byte, keyLen)
	}
	h.Burn(context.Background(), "whatever")
	h.Burn(context.Background(), "whatever")
	if calls.Load() != 2 {
		t.Fatalf("Burn ran %d derivations in two calls; want one each", calls.Load())
	}
}

func TestConcurrencyBound(t *testing.T) {
	for _, limit := range []int{1, 3} {
		h := NewHasher(testParams, limit)
		var running, peak atomic.Int32
		h.derive = func(_, _ []byte, _, _ uint32, _ uint8, keyLen uint32) []byte {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			// Stay long enough that the other goroutines pile up behind
			// the semaphore.
			time.Sleep(5 * time.Millisecond)
			running.Add(-1)
			return make([]byte, keyLen)
		}
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Go(func() {
				switch i % 3 {
				case 0:
					_, _ = h.Hash(context.Background(), "pw")
				case 1:
					_, _, _ = h.Verify(context.Background(), "pw", h.dummy)
				default:
					h.Burn(context.Background(), "pw")
				}
			})
		}
		wg.Wait()
		if got := peak.Load(); got != int32(limit) {
			t.Errorf("maxConcurrent=%d: peak of %d hashes at once", limit, got)
		}
	}
}

func TestWaitRespectsContext(t *testing.T) {
	h := NewHasher(testParams, 1)
	release := make(chan struct{})
	started := make(chan struct{})
	h.derive = func(_, _ []byte, _, _ uint32, _ uint8, keyLen uint32) []byte {
		close(started)
		<-release
		return make([]byte, keyLen)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = h.Hash(context.Background(), "holds the only slot")
	}()
	<-started

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "waits"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash while full = %v; want context.DeadlineExceeded", err)
	}
	if _, _, err := h.Verify(ctx, "waits", h.dummy); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Verify while full = %v; want context.DeadlineExceeded", err)
	}
	canceled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	h.Burn(canceled, "returns at once") // must not block
	close(release)
	<-done
}

func TestNewHasherDefaults(t *testing.T) {
	h := NewHasher(Params{Memory: 64, Iterations: 1, Parallelism: 1}, 0)
	want := Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: DefaultParams.SaltLength, KeyLength: DefaultParams.KeyLength}
	if h.Params() != want {
		t.Errorf("Params() = %+v; want %+v", h.Params(), want)
	}
	if cap(h.slots) < 1 {
		t.Errorf("maxConcurrent 0 gave %d slots; want runtime.NumCPU()", cap(h.slots))
	}
	if NewHasher(Params{}, 0).Params() != DefaultParams {
		t.Error("zero Params did not become DefaultParams")
	}
}

func TestNewHasherRefusesBadParams(t *testing.T) {
	bad := Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 4, KeyLength: 32}
	if bad.Validate() == nil {
		t.Fatal("Validate accepted a 4-byte salt")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("NewHasher accepted a 4-byte salt")
		}
	}()
	NewHasher(bad, 0)
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultParams, 0)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := NewHasher(DefaultParams, 0)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, err := h.Verify(ctx, "correct horse battery staple", enc); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
