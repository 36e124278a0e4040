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
	"sync/atomic"
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

// Issuer signs access tokens with one Ed25519 key and verifies tokens of
// that key and of any verify-only keys (the next key before it signs, the
// previous one until its tokens expire). SetKeys replaces the keys while
// requests run. It is safe for concurrent use.
type Issuer struct {
	cfg Config
	// keys is the current key set; SetKeys swaps it whole, so every request
	// sees one consistent set.
	keys atomic.Pointer[keySet]
	// parseOpts are the options of every cold verification except the key,
	// which the token's kid picks, and the clock, which is the caller's now.
	parseOpts []jwxjwt.ParseOption
}

// keySet is the keys in force, with the cache of tokens verified under
// them: a new set starts with an empty cache, so a key removed from the
// set stops verifying at once, even for tokens checked a moment before.
type keySet struct {
	kid     string
	signKey jwk.Key // the private key, carrying kid and alg so jwx writes them into the header
	// verify maps each accepted kid, the signing key's included, to its key.
	verify map[string]ed25519.PublicKey
	jwks   []byte
	cache  *verifiedCache // nil when turned off
}

var _ ports.TokenIssuer = (*Issuer)(nil)

// NewIssuer returns an issuer that signs with key and also accepts tokens
// signed by any of verifyOnly. A key id is the RFC 7638 thumbprint of the
// public key, so the same key always has the same id on every replica
// without any configuration.
func NewIssuer(cfg Config, key ed25519.PrivateKey, verifyOnly ...ed25519.PublicKey) (*Issuer, error) {
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("jwt issuer: issuer and audience are required")
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	i := &Issuer{
		cfg: cfg,
		parseOpts: []jwxjwt.ParseOption{
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
	if err := i.SetKeys(key, verifyOnly); err != nil {
		return nil, err
	}
	return i, nil
}

// SetKeys makes key the signing key and verifyOnly the other accepted keys,
// for every request from now on, and forgets every verified token. On error
// nothing changes.
func (i *Issuer) SetKeys(key ed25519.PrivateKey, verifyOnly []ed25519.PublicKey) error {
	ks, err := i.newKeySet(key, verifyOnly)
	if err != nil {
		return err
	}
	i.keys.Store(ks)
	return nil
}

func (i *Issuer) newKeySet(key ed25519.PrivateKey, verifyOnly []ed25519.PublicKey) (*keySet, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("jwt issuer: Ed25519 private key must be %d bytes, got %d", ed25519.PrivateKeySize, len(key))
	}
	pub, ok := key.Public().(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("jwt issuer: Ed25519 key has no Ed25519 public key")
	}
	ks := &keySet{verify: make(map[string]ed25519.PublicKey, 1+len(verifyOnly))}
	set := jwk.NewSet()
	// The signing key comes first in the JWK Set; a verify-only key equal
	// to it is listed once.
	for n, k := range append([]ed25519.PublicKey{pub}, verifyOnly...) {
		if len(k) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("jwt issuer: Ed25519 public key must be %d bytes, got %d", ed25519.PublicKeySize, len(k))
		}
		pubJWK, kid, err := publicJWK(k)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			ks.kid = kid
		}
		if _, dup := ks.verify[kid]; dup {
			continue
		}
		ks.verify[kid] = k
		if err := set.AddKey(pubJWK); err != nil {
			return nil, fmt.Errorf("jwt issuer: build JWK set: %w", err)
		}
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("jwt issuer: encode JWK set: %w", err)
	}
	ks.jwks = jwks
	if ks.signKey, err = jwk.Import(key); err != nil {
		return nil, fmt.Errorf("jwt issuer: import private key: %w", err)
	}
	if err := describe(ks.signKey, ks.kid); err != nil {
		return nil, err
	}
	if i.cfg.CacheSize > 0 {
		if ks.cache, err = newVerifiedCache(i.cfg.CacheSize, i.cfg.CacheTTL); err != nil {
			return nil, err
		}
	}
	return ks, nil
}

// publicJWK returns k as a JWK described for signatures, and its kid.
func publicJWK(k ed25519.PublicKey) (jwk.Key, string, error) {
	pubJWK, err := jwk.Import(k)
	if err != nil {
		return nil, "", fmt.Errorf("jwt issuer: import public key: %w", err)
	}
	thumb, err := pubJWK.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, "", fmt.Errorf("jwt issuer: key thumbprint: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(thumb)
	if err := describe(pubJWK, kid); err != nil {
		return nil, "", err
	}
	return pubJWK, kid, nil
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

// KeyID returns the key id (kid) of the signing key, written into every
// token header.
func (i *Issuer) KeyID() string { return i.keys.Load().kid }

// JWKS returns the accepted public keys, the signing key first, as a JWK
// Set document for GET /.well-known/jwks.json. The caller may keep or
// change the slice.
func (i *Issuer) JWKS() []byte { return bytes.Clone(i.keys.Load().jwks) }

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
		Subject(c.UserID.String()).
		IssuedAt(c.IssuedAt.Truncate(time.Second)).
		Expiration(c.ExpiresAt.Truncate(time.Second)).
		Claim(sidClaim, c.SessionID.String()).
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
	signed, err := jwxjwt.Sign(tok, jwxjwt.WithKey(jwa.EdDSA(), i.keys.Load().signKey))
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
	ks := i.keys.Load()
	if ks.cache == nil {
		return i.verify(ks, token, now)
	}
	key := cacheKey(token)
	if c, ok, err := ks.cache.get(key, now); ok || err != nil {
		return c, err
	}
	c, err := i.verify(ks, token, now)
	if err != nil {
		return domain.Claims{}, err
	}
	ks.cache.add(key, c, now)
	return c, nil
}

// verify is the full check against the keys of ks, without the cache.
func (i *Issuer) verify(ks *keySet, token string, now time.Time) (domain.Claims, error) {
	if err := checkCanonical(token); err != nil {
		return domain.Claims{}, refuse(err)
	}
	pub, err := ks.checkHeader(token)
	if err != nil {
		return domain.Claims{}, refuse(err)
	}
	opts := append(i.parseOpts[:len(i.parseOpts):len(i.parseOpts)],
		// Only the key the kid names, and only with EdDSA: the alg
		// header is never trusted to pick the algorithm, so "none" and
		// HS256 made with a public key as the secret are refused.
		jwxjwt.WithKey(jwa.EdDSA(), pub),
		jwxjwt.WithClock(jwxjwt.ClockFunc(func() time.Time { return now })))
	t, err := jwxjwt.ParseString(token, opts...)
	if err != nil {
		return domain.Claims{}, refuse(err)
	}
	var c domain.Claims
	sub, _ := t.Subject()
	c.IssuedAt, _ = t.IssuedAt()
	c.ExpiresAt, _ = t.Expiration()
	var sid string
	if err := t.Get(sidClaim, &sid); err != nil {
		return domain.Claims{}, refuse(fmt.Errorf("sid claim: %w", err))
	}
	// The signature vouches for both: this service issued them.
	c.UserID, c.SessionID = domain.UserID(sub), domain.SessionID(sid)
	if c.UserID == "" || c.SessionID == "" {
		return domain.Claims{}, refuse(errors.New("empty sub or sid"))
	}
	return c, nil
}

// checkHeader returns the accepted key the token's kid names, and refuses
// a token whose header names no accepted key. The signature is then checked
// against that one key, so every accepted header is true for whoever checks
// the token with the JWK Set, and foreign tokens are refused before any
// signature work.
func (ks *keySet) checkHeader(token string) (ed25519.PublicKey, error) {
	encoded, _, ok := strings.Cut(token, ".")
	if !ok {
		return nil, errors.New("not a compact JWS")
	}
	raw, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	pub, ok := ks.verify[h.Kid]
	if !ok {
		return nil, fmt.Errorf("unknown key id %q", h.Kid)
	}
	if h.Alg != jwa.EdDSA().String() {
		return nil, fmt.Errorf("algorithm %q is not EdDSA", h.Alg)
	}
	return pub, nil
}

// strictBase64 refuses stray bits in a segment's last character.
var strictBase64 = base64.RawURLEncoding.Strict()

// checkCanonical refuses a token whose segments are not in canonical
// base64url. jwx decodes leniently, so changing the unused low bits of the
// last character of the signature (or of the header or payload) gave a
// different string that verified as the same token (found by FuzzVerify):
// every token we accept has exactly the one spelling we issued.
func checkCanonical(token string) error {
	// encoding/base64 skips line breaks even in strict mode.
	if strings.ContainsAny(token, "\r\n") {
		return errors.New("a segment is not canonical base64url")
	}
	for segment := range strings.SplitSeq(token, ".") {
		if _, err := strictBase64.DecodeString(segment); err != nil {
			return errors.New("a segment is not canonical base64url")
		}
	}
	return nil
}

// refuse wraps why a token failed into domain.ErrAuthExpired. The reason is
// formatted, not wrapped, so jwx's error types stay inside this package.
func refuse(reason error) error {
	return fmt.Errorf("%w: %v", domain.ErrAuthExpired, reason)
}
