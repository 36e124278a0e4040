// Package jwt signs and checks Gatehouse's access tokens: EdDSA (Ed25519)
// JWTs made with lestrrat-go/jwx, the token half of ports.TokenIssuer. It
// also publishes the public key as a JWK Set so other services can check
// tokens themselves, and keeps a cache of verified tokens because /verify,
// called on every page load, would otherwise spend most of its time checking
// the same signature again.
package jwt

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// Defaults of Config.
const (
	DefaultCacheSize = 10000
	DefaultCacheTTL  = time.Minute
)

// sidClaim is the private claim that names the token's session.
const sidClaim = "sid"

// maxTokenLength refuses oversized input before hashing or parsing it. Our
// tokens are about 300 bytes; browsers cap a cookie at 4 KiB.
const maxTokenLength = 4096

// Config is what the issuer needs besides its key.
type Config struct {
	// Issuer and Audience go into every token (iss, aud) and must match on
	// verification. Both are required.
	Issuer   string
	Audience string
	// CacheSize is how many verified tokens are remembered (default 10000;
	// negative turns the cache off).
	CacheSize int
	// CacheTTL is how long a verified token is trusted without checking its
	// signature again (default 1 min). An entry never outlives its token.
	CacheTTL time.Duration
}

// Issuer signs access tokens with one Ed25519 key and verifies them. It is
// safe for concurrent use.
type Issuer struct {
	cfg     Config
	kid     string
	signKey jwk.Key // the private key, carrying kid and alg so jwx writes them into the header
	pub     ed25519.PublicKey
	jwks    []byte
	// parseOpts are the options of every cold verification except the
	// clock, which is the caller's now.
	parseOpts []jwxjwt.ParseOption
	cache     *verifiedCache // nil when turned off
}

var _ ports.TokenIssuer = (*Issuer)(nil)

// NewIssuer returns an issuer that signs with key. Its key id is the RFC 7638
// thumbprint of the public key, so the same key always has the same id on
// every replica without any configuration.
func NewIssuer(cfg Config, key ed25519.PrivateKey) (*Issuer, error) {
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("jwt issuer: issuer and audience are required")
	}
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("jwt issuer: Ed25519 private key must be %d bytes, got %d", ed25519.PrivateKeySize, len(key))
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	pub, ok := key.Public().(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("jwt issuer: Ed25519 key has no Ed25519 public key")
	}

	pubJWK, err := jwk.Import(pub)
	if err != nil {
		return nil, fmt.Errorf("jwt issuer: import public key: %w", err)
	}
	thumb, err := pubJWK.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("jwt issuer: key thumbprint: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(thumb)
	if err := describe(pubJWK, kid); err != nil {
		return nil, err
	}
	set := jwk.NewSet()
	if err := set.AddKey(pubJWK); err != nil {
		return nil, fmt.Errorf("jwt issuer: build JWK set: %w", err)
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("jwt issuer: encode JWK set: %w", err)
	}

	signKey, err := jwk.Import(key)
	if err != nil {
		return nil, fmt.Errorf("jwt issuer: import private key: %w", err)
	}
	if err := describe(signKey, kid); err != nil {
		return nil, err
	}

	i := &Issuer{
		cfg:     cfg,
		kid:     kid,
		signKey: signKey,
		pub:     pub,
		jwks:    jwks,
		parseOpts: []jwxjwt.ParseOption{
			// Only our key, and only with EdDSA: the alg header is never
			// trusted to pick the algorithm, so "none" and HS256 made
			// with our public key as the secret are refused.
			jwxjwt.WithKey(jwa.EdDSA(), pub),
			jwxjwt.WithValidate(true),
			// The default validators also refuse an iat in the future. A
			// token minted by a replica whose clock runs a second ahead
			// would then fail here for that second, and iat guards
			// nothing in a token only we can sign: exp is the bound.
			jwxjwt.WithResetValidators(true),
			jwxjwt.WithValidator(jwxjwt.IsExpirationValid()),
			jwxjwt.WithValidator(jwxjwt.IsNbfValid()),
			jwxjwt.WithIssuer(cfg.Issuer),
			jwxjwt.WithAudience(cfg.Audience),
			jwxjwt.WithRequiredClaim(jwxjwt.SubjectKey),
			jwxjwt.WithRequiredClaim(jwxjwt.IssuedAtKey),
			jwxjwt.WithRequiredClaim(jwxjwt.ExpirationKey),
			jwxjwt.WithRequiredClaim(sidClaim),
		},
	}
	if cfg.CacheSize > 0 {
		if i.cache, err = newVerifiedCache(cfg.CacheSize, cfg.CacheTTL); err != nil {
			return nil, err
		}
	}
	return i, nil
}

// describe sets the JWK fields that say which key this is and what it is
// for.
func describe(k jwk.Key, kid string) error {
	for name, v := range map[string]any{
		jwk.KeyIDKey:     kid,
		jwk.AlgorithmKey: jwa.EdDSA(),
		jwk.KeyUsageKey:  jwk.ForSignature,
	} {
		if err := k.Set(name, v); err != nil {
			return fmt.Errorf("jwt issuer: set %s: %w", name, err)
		}
	}
	return nil
}

// KeyID returns the key id (kid) written into every token header.
func (i *Issuer) KeyID() string { return i.kid }

// JWKS returns the public key as a JWK Set document, for
// GET /.well-known/jwks.json. The caller may keep or change the slice.
func (i *Issuer) JWKS() []byte { return bytes.Clone(i.jwks) }

// Issue signs a token for c: iss, aud, sub (the user), sid (the session),
// iat and exp, with alg EdDSA, typ JWT and our kid in the header. Times are
// written in whole seconds, as JWT numeric dates are; exp is rounded down so
// the token never outlives c.ExpiresAt.
func (i *Issuer) Issue(c domain.Claims) (string, error) {
	if c.UserID == "" || c.SessionID == "" {
		return "", errors.New("jwt issue: user id and session id are required")
	}
	if c.IssuedAt.IsZero() || !c.ExpiresAt.After(c.IssuedAt) {
		return "", errors.New("jwt issue: expiry must come after issue time")
	}
	tok, err := jwxjwt.NewBuilder().
		Issuer(i.cfg.Issuer).
		Audience([]string{i.cfg.Audience}).
		Subject(c.UserID).
		IssuedAt(c.IssuedAt.Truncate(time.Second)).
		Expiration(c.ExpiresAt.Truncate(time.Second)).
		Claim(sidClaim, c.SessionID).
		// A random id makes every token distinct: iat and exp have whole
		// seconds and Ed25519 is deterministic, so a refresh within the
		// same second would otherwise hand back the very same token.
		JwtID(rand.Text()).
		Build()
	if err != nil {
		return "", fmt.Errorf("jwt issue: %w", err)
	}
	// One audience is written as a string rather than a one-element array:
	// both are valid, and the token rides in a cookie on every request.
	tok.Options().Enable(jwxjwt.FlattenAudience)
	signed, err := jwxjwt.Sign(tok, jwxjwt.WithKey(jwa.EdDSA(), i.signKey))
	if err != nil {
		return "", fmt.Errorf("jwt issue: sign: %w", err)
	}
	return string(signed), nil
}

// Verify checks token at now: our key (by kid and signature), EdDSA, issuer,
// audience, expiry, and the presence of sub, sid, iat and exp. Every failure
// is domain.ErrAuthExpired, wrapped with the reason for logs. A token that
// passed recently is answered from the cache without parsing it again, but
// its expiry is still checked against now; whether its session still lives
// is the caller's check, so logout stays instant.
func (i *Issuer) Verify(token string, now time.Time) (domain.Claims, error) {
	if len(token) > maxTokenLength {
		return domain.Claims{}, refuse(errors.New("token too long"))
	}
	if i.cache == nil {
		return i.verify(token, now)
	}
	key := cacheKey(token)
	if c, ok, err := i.cache.get(key, now); ok || err != nil {
		return c, err
	}
	c, err := i.verify(token, now)
	if err != nil {
		return domain.Claims{}, err
	}
	i.cache.add(key, c, now)
	return c, nil
}

// verify is the full check, without the cache.
func (i *Issuer) verify(token string, now time.Time) (domain.Claims, error) {
	if err := i.checkHeader(token); err != nil {
		return domain.Claims{}, refuse(err)
	}
	opts := append(i.parseOpts[:len(i.parseOpts):len(i.parseOpts)],
		jwxjwt.WithClock(jwxjwt.ClockFunc(func() time.Time { return now })))
	t, err := jwxjwt.ParseString(token, opts...)
	if err != nil {
		return domain.Claims{}, refuse(err)
	}
	var c domain.Claims
	c.UserID, _ = t.Subject()
	c.IssuedAt, _ = t.IssuedAt()
	c.ExpiresAt, _ = t.Expiration()
	if err := t.Get(sidClaim, &c.SessionID); err != nil {
		return domain.Claims{}, refuse(fmt.Errorf("sid claim: %w", err))
	}
	if c.UserID == "" || c.SessionID == "" {
		return domain.Claims{}, refuse(errors.New("empty sub or sid"))
	}
	return c, nil
}

// checkHeader refuses a token whose header names a key other than ours.
// jwx checks alg and the signature against our one key but ignores kid;
// checking it here keeps every accepted header true for whoever checks the
// token with the JWK Set, and refuses foreign tokens before any signature
// work.
func (i *Issuer) checkHeader(token string) error {
	encoded, _, ok := strings.Cut(token, ".")
	if !ok {
		return errors.New("not a compact JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if h.Kid != i.kid {
		return fmt.Errorf("unknown key id %q", h.Kid)
	}
	if h.Alg != jwa.EdDSA().String() {
		return fmt.Errorf("algorithm %q is not EdDSA", h.Alg)
	}
	return nil
}

// refuse wraps why a token failed into domain.ErrAuthExpired. The reason is
// formatted, not wrapped, so jwx's error types stay inside this package.
func refuse(reason error) error {
	return fmt.Errorf("%w: %v", domain.ErrAuthExpired, reason)
}
