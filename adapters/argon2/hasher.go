// Package argon2 hashes passwords with argon2id (RFC 9106) into PHC strings,
// the password hash behind ports.PasswordHasher. Each hash takes tens of
// MiB of memory, so the hasher bounds how many run at once: a burst of logins
// queues instead of exhausting the machine's memory.
package argon2

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime"
	"time"

	"go.opentelemetry.io/otel/trace"
	"golang.org/x/crypto/argon2"

	"github.com/gatehouse/gatehouse/ports"
)

// Params are the argon2id cost parameters of a hash. They are stored inside
// every PHC string, so hashes made with older parameters still verify and
// can be upgraded at the next login.
type Params struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
	SaltLength  uint32 // bytes
	KeyLength   uint32 // bytes
}

// DefaultParams are OWASP's minimum recommendation for argon2id: 19 MiB,
// two passes, one lane, a 128-bit salt and a 256-bit key.
var DefaultParams = Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Bounds on the parameters a hash may carry. They keep a corrupt or hostile
// stored hash from asking for gigabytes of memory or minutes of work, and
// refuse values too weak to be a real argon2id hash of ours.
const (
	minSaltLength = 8 // RFC 9106 §3.1
	maxSaltLength = 64
	minKeyLength  = 16
	maxKeyLength  = 64
	maxMemory     = 1 << 20 // KiB, 1 GiB
	maxIterations = 64
	minMemoryLane = 8 // KiB per lane, RFC 9106 §3.1
)

// Validate reports whether p is within the bounds this package accepts. It
// lets configuration loading refuse bad values before NewHasher is reached.
func (p Params) Validate() error {
	switch {
	case p.Parallelism < 1:
		return errors.New("argon2 parallelism must be at least 1")
	case p.Memory < minMemoryLane*uint32(p.Parallelism) || p.Memory > maxMemory:
		return fmt.Errorf("argon2 memory must be between %d and %d KiB", minMemoryLane*uint32(p.Parallelism), maxMemory)
	case p.Iterations < 1 || p.Iterations > maxIterations:
		return fmt.Errorf("argon2 iterations must be between 1 and %d", maxIterations)
	case p.SaltLength < minSaltLength || p.SaltLength > maxSaltLength:
		return fmt.Errorf("argon2 salt length must be between %d and %d bytes", minSaltLength, maxSaltLength)
	case p.KeyLength < minKeyLength || p.KeyLength > maxKeyLength:
		return fmt.Errorf("argon2 key length must be between %d and %d bytes", minKeyLength, maxKeyLength)
	}
	return nil
}

// withDefaults fills every zero field from DefaultParams, so a configuration
// that sets only memory, iterations and parallelism gets OWASP's salt and key
// lengths.
func (p Params) withDefaults() Params {
	if p.Memory == 0 {
		p.Memory = DefaultParams.Memory
	}
	if p.Iterations == 0 {
		p.Iterations = DefaultParams.Iterations
	}
	if p.Parallelism == 0 {
		p.Parallelism = DefaultParams.Parallelism
	}
	if p.SaltLength == 0 {
		p.SaltLength = DefaultParams.SaltLength
	}
	if p.KeyLength == 0 {
		p.KeyLength = DefaultParams.KeyLength
	}
	return p
}

// Hasher hashes and verifies passwords with argon2id. It is safe for
// concurrent use.
type Hasher struct {
	params Params
	// slots is a semaphore: one token per hash in progress, so at most
	// cap(slots) hashes hold their memory at once.
	slots chan struct{}
	// dummy is the hash Burn verifies against (see Burn).
	dummy string
	// derive is argon2.IDKey; tests swap it to observe the concurrency bound.
	derive func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte

	// tracer, when set, opens a span around each hash, wait included.
	tracer trace.Tracer
	// observe, when set, is told how long each derivation took, without
	// the wait for a slot.
	observe func(time.Duration)
}

var _ ports.PasswordHasher = (*Hasher)(nil)

// NewHasher returns a hasher that makes new hashes with p and runs at most
// maxConcurrent hashes at once (runtime.NumCPU() when maxConcurrent <= 0;
// argon2 is CPU-bound, so more would only add memory, not throughput). Zero
// fields of p take the value of DefaultParams. NewHasher panics when p is
// outside the bounds of Params.Validate: check configuration with Validate
// first.
func NewHasher(p Params, maxConcurrent int) *Hasher {
	p = p.withDefaults()
	if err := p.Validate(); err != nil {
		panic("argon2.NewHasher: " + err.Error())
	}
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.NumCPU()
	}
	return &Hasher{
		params: p,
		slots:  make(chan struct{}, maxConcurrent),
		// Burn needs a hash with our parameters that no password matches.
		// Random bytes shaped like one cost nothing to make, unlike a real
		// hash, so there is nothing to gain from making it later.
		dummy:  encode(p, random(p.SaltLength), random(p.KeyLength)),
		derive: argon2.IDKey,
	}
}

// Instrument makes the hasher open a span per hash through tp and report
// each derivation's duration to observe; either may be nil. Call it before
// the hasher is used. Spans carry no attribute: nothing about a password or
// a hash belongs in a trace.
func (h *Hasher) Instrument(tp trace.TracerProvider, observe func(time.Duration)) {
	if tp != nil {
		h.tracer = tp.Tracer("github.com/gatehouse/gatehouse/adapters/argon2")
	}
	h.observe = observe
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the PHC string of password under a fresh random salt. It
// waits for a free slot first and returns ctx.Err() if ctx ends while
// waiting.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	ctx, end := h.span(ctx, "argon2.hash")
	defer end()
	salt := random(h.params.SaltLength)
	key, err := h.compute(ctx, password, salt, h.params, h.params.KeyLength)
	if err != nil {
		return "", err
	}
	return encode(h.params, salt, key), nil
}

// Verify reports whether password matches encoded, comparing in constant
// time. rehash is true when the password matches but encoded was made with
// parameters other than the hasher's, so the caller should store a new hash.
// A hash that is not a well-formed argon2id v19 PHC string within the bounds
// of Params.Validate is an error, as is ctx ending while waiting for a slot.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	ctx, end := h.span(ctx, "argon2.verify")
	defer end()
	return h.verify(ctx, password, encoded)
}

func (h *Hasher) verify(ctx context.Context, password, encoded string) (ok, rehash bool, err error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	got, err := h.compute(ctx, password, salt, p, uint32(len(want)))
	if err != nil {
		return false, false, err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p != h.params, nil
}

// Burn spends the time and memory of one Verify without a real hash, so that
// a login for an unknown account takes as long as one for a known account
// and timing does not tell which emails are registered. It returns early
// only when ctx ends while waiting for a slot.
func (h *Hasher) Burn(ctx context.Context, password string) {
	// The span is named like a real check's: a trace must not tell an
	// unknown account from a known one any more than the timing does.
	ctx, end := h.span(ctx, "argon2.verify")
	defer end()
	_, _, _ = h.verify(ctx, password, h.dummy)
}

// span opens a span named name when tracing is on, and returns the function
// that ends it.
func (h *Hasher) span(ctx context.Context, name string) (context.Context, func()) {
	if h.tracer == nil {
		return ctx, func() {}
	}
	ctx, span := h.tracer.Start(ctx, name)
	return ctx, func() { span.End() }
}

// compute runs one argon2id derivation inside a concurrency slot.
func (h *Hasher) compute(ctx context.Context, password string, salt []byte, p Params, keyLen uint32) ([]byte, error) {
	// A caller that has already given up must not take a slot: select
	// picks at random when both cases are ready.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-h.slots }()
	if h.observe == nil {
		return h.derive([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, keyLen), nil
	}
	start := time.Now()
	key := h.derive([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, keyLen)
	h.observe(time.Since(start))
	return key, nil
}

// random returns n bytes from crypto/rand, which never fails on the
// platforms Go supports.
func random(n uint32) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
