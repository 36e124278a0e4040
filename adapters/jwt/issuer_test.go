package jwt

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/gatehouse/gatehouse/domain"
)

var (
	t0        = time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	testCfg   = Config{Issuer: "gatehouse", Audience: "app"}
	testClaim = domain.Claims{UserID: "user-1", SessionID: "sess-1", IssuedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)}
)

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newIssuer(t testing.TB, cfg Config, key ed25519.PrivateKey) *Issuer {
	t.Helper()
	i, err := NewIssuer(cfg, key)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func issue(t testing.TB, i *Issuer, c domain.Claims) string {
	t.Helper()
	tok, err := i.Issue(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func wantRefused(t *testing.T, i *Issuer, token string, now time.Time) {
	t.Helper()
	c, err := i.Verify(token, now)
	if !errors.Is(err, domain.ErrAuthExpired) {
		t.Fatalf("Verify = %+v, %v; want domain.ErrAuthExpired", c, err)
	}
	if c != (domain.Claims{}) {
		t.Fatalf("refused Verify returned claims %+v", c)
	}
}

// segments decodes the header and payload of a compact token.
func segments(t *testing.T, token string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &payload} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, payload
}

// b64json encodes v as a base64url JSON token segment.
func b64json(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(raw)
}

func TestRoundTrip(t *testing.T) {
	i := newIssuer(t, testCfg, newKey(t))
	tok := issue(t, i, testClaim)
	for _, now := range []time.Time{t0, t0.Add(time.Hour), testClaim.ExpiresAt.Add(-time.Second)} {
		got, err := i.Verify(tok, now)
		if err != nil {
			t.Fatalf("Verify at %s: %v", now, err)
		}
		if !got.IssuedAt.Equal(testClaim.IssuedAt) || !got.ExpiresAt.Equal(testClaim.ExpiresAt) ||
			got.UserID != testClaim.UserID || got.SessionID != testClaim.SessionID {
			t.Fatalf("Verify = %+v; want %+v", got, testClaim)
		}
	}
}

// Two tokens of the same claims differ (jti), so a refresh in the same
// second still hands out a new token.
func TestTokensAreDistinct(t *testing.T) {
	i := newIssuer(t, testCfg, newKey(t))
	first, second := issue(t, i, testClaim), issue(t, i, testClaim)
	if first == second {
		t.Fatal("two tokens of the same claims are identical")
	}
}

func TestTokenShape(t *testing.T) {
	i := newIssuer(t, testCfg, newKey(t))
	header, payload := segments(t, issue(t, i, testClaim))
	wantHeader := map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": i.KeyID()}
	if len(header) != len(wantHeader) {
		t.Errorf("header = %v; want %v", header, wantHeader)
	}
	for k, v := range wantHeader {
		if header[k] != v {
			t.Errorf("header[%q] = %v; want %v", k, header[k], v)
		}
	}
	wantPayload := map[string]any{
		"iss": "gatehouse", "aud": "app", "sub": "user-1", "sid": "sess-1",
		"iat": float64(t0.Unix()), "exp": float64(t0.Add(2 * time.Hour).Unix()),
	}
	jti, _ := payload["jti"].(string)
	if len(jti) < 16 {
		t.Errorf("jti = %q; want a random id", jti)
	}
	if len(payload) != len(wantPayload)+1 {
		t.Errorf("payload = %v; want %v and jti", payload, wantPayload)
	}
	for k, v := range wantPayload {
		if payload[k] != v {
			t.Errorf("payload[%q] = %v; want %v", k, payload[k], v)
		}
	}
}

func TestExpiryRoundsDown(t *testing.T) {
	i := newIssuer(t, testCfg, newKey(t))
	c := testClaim
	c.ExpiresAt = t0.Add(time.Hour + 900*time.Millisecond)
	got, err := i.Verify(issue(t, i, c), t0)
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(time.Hour); !got.ExpiresAt.Equal(want) {
		t.Fatalf("ExpiresAt = %s; want %s, never later than asked", got.ExpiresAt, want)
	}
}

// TestKeyID checks the kid against the example of RFC 8037, appendix A.3:
// the RFC 7638 thumbprint of its Ed25519 key.
func TestKeyID(t *testing.T) {
	seed, err := base64.RawURLEncoding.DecodeString("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
	if err != nil {
		t.Fatal(err)
	}
	i := newIssuer(t, testCfg, ed25519.NewKeyFromSeed(seed))
	if got, want := i.KeyID(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Fatalf("KeyID = %q; want %q", got, want)
	}
}

func TestWrongIssuerOrAudience(t *testing.T) {
	key := newKey(t)
	ours := newIssuer(t, testCfg, key)
	for name, cfg := range map[string]Config{
		"issuer":   {Issuer: "someone-else", Audience: testCfg.Audience},
		"audience": {Issuer: testCfg.Issuer, Audience: "other-app"},
	} {
		t.Run(name, func(t *testing.T) {
			// Same key, so only the claim differs.
			tok := issue(t, newIssuer(t, cfg, key), testClaim)
			wantRefused(t, ours, tok, t0)
		})
	}
}

func TestExpired(t *testing.T) {
	i := newIssuer(t, testCfg, newKey(t))
	tok := issue(t, i, testClaim)
	wantRefused(t, i, tok, testClaim.ExpiresAt)
	wantRefused(t, i, tok, testClaim.ExpiresAt.Add(time.Hour))
}

func TestNotYetValid(t *testing.T) {
	key := newKey(t)
	i := newIssuer(t, testCfg, key)
	tok, err := jwxjwt.NewBuilder().Issuer(testCfg.Issuer).Audience([]string{testCfg.Audience}).
		Subject("user-1").Claim(sidClaim, "sess-1").IssuedAt(t0).NotBefore(t0.Add(time.Hour)).
		Expiration(t0.Add(2 * time.Hour)).Build()
	if err != nil {
		t.Fatal(err)
	}
	signed, err := jwxjwt.Sign(tok, jwxjwt.WithKey(jwa.EdDSA(), i.keys.Load().signKey))
	if err != nil {
		t.Fatal(err)
	}
	wantRefused(t, i, string(signed), t0)
	if _, err := i.Verify(string(signed), t0.Add(time.Hour)); err != nil {
		t.Fatalf("Verify once nbf passed: %v", err)
	}
}

// TestIssuedAtAhead accepts a token whose iat is a little ahead of now: it
// was minted by a replica whose clock runs fast.
func TestIssuedAtAhead(t *testing.T) {
	i := newIssuer(t, testCfg, newKey(t))
	if _, err := i.Verify(issue(t, i, testClaim), t0.Add(-2*time.Second)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestForged(t *testing.T) {
	ours := newIssuer(t, testCfg, newKey(t))
	other := newIssuer(t, testCfg, newKey(t))
	t.Run("other key and kid", func(t *testing.T) {
		wantRefused(t, ours, issue(t, other, testClaim), t0)
	})
	t.Run("other key with our kid", func(t *testing.T) {
		if err := other.keys.Load().signKey.Set(jwk.KeyIDKey, ours.KeyID()); err != nil {
			t.Fatal(err)
		}
		tok := issue(t, other, testClaim)
		if h, _ := segments(t, tok); h["kid"] != ours.KeyID() {
			t.Fatalf("forged header kid = %v", h["kid"])
		}
		wantRefused(t, ours, tok, t0)
	})
}

// TestForeignKeyID refuses a token that our key signed but whose header
// names another key: every accepted header must be true.
func TestForeignKeyID(t *testing.T) {
	i := newIssuer(t, testCfg, newKey(t))
	for _, kid := range []string{"other-key", ""} {
		k, err := i.keys.Load().signKey.Clone()
		if err != nil {
			t.Fatal(err)
		}
		if kid == "" {
			err = k.Remove(jwk.KeyIDKey)
		} else {
			err = k.Set(jwk.KeyIDKey, kid)
		}
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwxjwt.NewBuilder().Issuer(testCfg.Issuer).Audience([]string{testCfg.Audience}).
			Subject("user-1").Claim(sidClaim, "sess-1").IssuedAt(t0).Expiration(t0.Add(time.Hour)).Build()
		if err != nil {
			t.Fatal(err)
		}
		signed, err := jwxjwt.Sign(tok, jwxjwt.WithKey(jwa.EdDSA(), k))
		if err != nil {
			t.Fatal(err)
		}
		wantRefused(t, i, string(signed), t0)
	}
}

func TestTampered(t *testing.T) {
	i := newIssuer(t, testCfg, newKey(t))
	tok := issue(t, i, testClaim)
	parts := strings.Split(tok, ".")
	_, payload := segments(t, tok)

	payload["sub"] = "admin"
	wantRefused(t, i, parts[0]+"."+b64json(t, payload)+"."+parts[2], t0)

	payload["sub"] = "user-1"
	payload["exp"] = float64(t0.Add(100 * 24 * time.Hour).Unix())
	wantRefused(t, i, parts[0]+"."+b64json(t, payload)+"."+parts[2], t0)

	sig := []byte(parts[2])
	sig[5] ^= 1
	wantRefused(t, i, parts[0]+"."+parts[1]+"."+string(sig), t0)

	wantRefused(t, i, parts[0]+"."+parts[1]+".", t0)
	wantRefused(t, i, tok+"x", t0)
}

func TestAlgNone(t *testing.T) {
	i := newIssuer(t, testCfg, newKey(t))
	_, payload := segments(t, issue(t, i, testClaim))
	for _, alg := range []string{"none", "None", "EdDSA"} {
		header := b64json(t, map[string]any{"alg": alg, "typ": "JWT", "kid": i.KeyID()})
		wantRefused(t, i, header+"."+b64json(t, payload)+".", t0)
	}
}

// TestAlgorithmConfusion signs HS256 with the public key bytes as the HMAC
// secret: a verifier that lets the header pick the algorithm would accept it.
func TestAlgorithmConfusion(t *testing.T) {
	i := newIssuer(t, testCfg, newKey(t))
	tok, err := jwxjwt.NewBuilder().Issuer(testCfg.Issuer).Audience([]string{testCfg.Audience}).
		Subject("user-1").Claim(sidClaim, "sess-1").IssuedAt(t0).Expiration(t0.Add(time.Hour)).Build()
	if err != nil {
		t.Fatal(err)
	}
	pub := i.keys.Load().verify[i.KeyID()]
	for _, secret := range [][]byte{pub, []byte(base64.RawURLEncoding.EncodeToString(pub)), i.JWKS()} {
		hdr := jws.NewHeaders()
		if err := hdr.Set(jws.KeyIDKey, i.KeyID()); err != nil {
			t.Fatal(err)
		}
		signed, err := jwxjwt.Sign(tok, jwxjwt.WithKey(jwa.HS256(), secret, jws.WithProtectedHeaders(hdr)))
		if err != nil {
			t.Fatal(err)
		}
		wantRefused(t, i, string(signed), t0)
	}
}

func TestMissingClaims(t *testing.T) {
	i := newIssuer(t, testCfg, newKey(t))
	build := func(drop string, sid any) string {
		b := jwxjwt.NewBuilder().Issuer(testCfg.Issuer).Audience([]string{testCfg.Audience})
		if drop != "sub" {
			b = b.Subject("user-1")
		}
		if drop != "sid" {
			b = b.Claim(sidClaim, sid)
		}
		if drop != "iat" {
			b = b.IssuedAt(t0)
		}
		if drop != "exp" {
			b = b.Expiration(t0.Add(time.Hour))
		}
		tok, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		signed, err := jwxjwt.Sign(tok, jwxjwt.WithKey(jwa.EdDSA(), i.keys.Load().signKey))
		if err != nil {
			t.Fatal(err)
		}
		return string(signed)
	}
	for _, drop := range []string{"sub", "sid", "iat", "exp"} {
		t.Run("no "+drop, func(t *testing.T) { wantRefused(t, i, build(drop, "sess-1"), t0) })
	}
	t.Run("empty sid", func(t *testing.T) { wantRefused(t, i, build("", ""), t0) })
	t.Run("numeric sid", func(t *testing.T) { wantRefused(t, i, build("", 42), t0) })
	if _, err := i.Verify(build("", "sess-1"), t0); err != nil {
		t.Fatalf("the complete token is refused too: %v", err)
	}
}

func TestGarbage(t *testing.T) {
	i := newIssuer(t, testCfg, newKey(t))
	for _, tok := range []string{"", ".", "..", "a.b.c", "not a token", strings.Repeat("a", 5000), "eyJhbGciOiJFZERTQSJ9..", "\x00.\x00.\x00"} {
		wantRefused(t, i, tok, t0)
	}
	if i.keys.Load().cache.entries.Len() != 0 {
		t.Fatalf("failed verifications were cached: %d entries", i.keys.Load().cache.entries.Len())
	}
}

func TestCache(t *testing.T) {
	i := newIssuer(t, Config{Issuer: "gatehouse", Audience: "app", CacheTTL: 10 * time.Minute}, newKey(t))
	tok := issue(t, i, testClaim)
	first, err := i.Verify(tok, t0)
	if err != nil {
		t.Fatal(err)
	}
	key := cacheKey(tok)
	if !i.keys.Load().cache.entries.Contains(key) {
		t.Fatal("a verified token was not cached")
	}

	// A hit must not parse the token again. Swap the public key: a full
	// check would now fail, so success proves the answer came from the
	// cache.
	i.keys.Load().verify[i.KeyID()] = newKey(t).Public().(ed25519.PublicKey)
	second, err := i.Verify(tok, t0.Add(time.Minute))
	if err != nil {
		t.Fatalf("cache hit: %v", err)
	}
	if first != second {
		t.Fatalf("cache hit = %+v; want %+v", second, first)
	}

	// Past the TTL the token is checked in full again (and now fails,
	// because the key changed).
	wantRefused(t, i, tok, t0.Add(11*time.Minute))
	if i.keys.Load().cache.entries.Contains(key) {
		t.Fatal("an entry past its TTL stayed in the cache")
	}
}

func TestCachedTokenExpires(t *testing.T) {
	// A TTL longer than the token: the entry must still die with the token.
	i := newIssuer(t, Config{Issuer: "gatehouse", Audience: "app", CacheTTL: 24 * time.Hour}, newKey(t))
	tok := issue(t, i, testClaim)
	if _, err := i.Verify(tok, testClaim.ExpiresAt.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, i, tok, testClaim.ExpiresAt)
	if i.keys.Load().cache.entries.Contains(cacheKey(tok)) {
		t.Fatal("an expired token stayed in the cache")
	}
}

func TestCacheBounded(t *testing.T) {
	i := newIssuer(t, Config{Issuer: "gatehouse", Audience: "app", CacheSize: 3}, newKey(t))
	for n := range 10 {
		c := testClaim
		c.SessionID = domain.SessionID("sess-" + string(rune('a'+n)))
		if _, err := i.Verify(issue(t, i, c), t0); err != nil {
			t.Fatal(err)
		}
	}
	if got := i.keys.Load().cache.entries.Len(); got != 3 {
		t.Fatalf("cache holds %d entries; want 3", got)
	}
}

func TestCacheOff(t *testing.T) {
	i := newIssuer(t, Config{Issuer: "gatehouse", Audience: "app", CacheSize: -1}, newKey(t))
	if i.keys.Load().cache != nil {
		t.Fatal("CacheSize -1 did not turn the cache off")
	}
	tok := issue(t, i, testClaim)
	if _, err := i.Verify(tok, t0); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, i, tok, testClaim.ExpiresAt)
}

func TestConcurrentVerify(t *testing.T) {
	i := newIssuer(t, Config{Issuer: "gatehouse", Audience: "app", CacheSize: 8}, newKey(t))
	toks := make([]string, 16)
	for n := range toks {
		c := testClaim
		c.SessionID = domain.SessionID("sess-" + string(rune('a'+n)))
		toks[n] = issue(t, i, c)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 200 {
				tok := toks[(g+n)%len(toks)]
				c, err := i.Verify(tok, t0)
				if err != nil || c.UserID != "user-1" {
					t.Errorf("Verify = %+v, %v", c, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestJWKS(t *testing.T) {
	i := newIssuer(t, testCfg, newKey(t))
	doc := i.JWKS()

	var raw struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		t.Fatalf("JWKS is not JSON: %v\n%s", err, doc)
	}
	if len(raw.Keys) != 1 {
		t.Fatalf("JWKS has %d keys; want 1", len(raw.Keys))
	}
	want := map[string]string{
		"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": i.KeyID(),
		"x": base64.RawURLEncoding.EncodeToString(i.keys.Load().verify[i.KeyID()]),
	}
	if len(raw.Keys[0]) != len(want) {
		t.Errorf("JWK = %v; want exactly %v (and never the private part d)", raw.Keys[0], want)
	}
	for k, v := range want {
		if raw.Keys[0][k] != v {
			t.Errorf("JWK[%q] = %q; want %q", k, raw.Keys[0][k], v)
		}
	}

	// A third party that knows only the JWKS can check our tokens.
	set, err := jwk.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwxjwt.ParseString(issue(t, i, testClaim), jwxjwt.WithKeySet(set),
		jwxjwt.WithClock(jwxjwt.ClockFunc(func() time.Time { return t0 })))
	if err != nil {
		t.Fatalf("token does not verify with the JWKS: %v", err)
	}
	if sub, _ := tok.Subject(); sub != "user-1" {
		t.Fatalf("sub = %q", sub)
	}

	doc[0] = 'X'
	if i.JWKS()[0] != '{' {
		t.Fatal("JWKS returned the issuer's own buffer")
	}
}

func TestNewIssuerRefuses(t *testing.T) {
	key := newKey(t)
	if _, err := NewIssuer(Config{Audience: "app"}, key); err == nil {
		t.Error("accepted an empty issuer")
	}
	if _, err := NewIssuer(Config{Issuer: "gatehouse"}, key); err == nil {
		t.Error("accepted an empty audience")
	}
	if _, err := NewIssuer(testCfg, key[:32]); err == nil {
		t.Error("accepted a 32-byte private key")
	}
}

func TestIssueRefuses(t *testing.T) {
	i := newIssuer(t, testCfg, newKey(t))
	for name, c := range map[string]domain.Claims{
		"no user":           {SessionID: "s", IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)},
		"no session":        {UserID: "u", IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)},
		"no issue time":     {UserID: "u", SessionID: "s", ExpiresAt: t0.Add(time.Hour)},
		"expiry before iat": {UserID: "u", SessionID: "s", IssuedAt: t0, ExpiresAt: t0},
	} {
		if _, err := i.Issue(c); err == nil {
			t.Errorf("%s: Issue succeeded", name)
		}
	}
}

func TestCacheKeyIsSHA256(t *testing.T) {
	if cacheKey("abc") != sha256.Sum256([]byte("abc")) {
		t.Fatal("cache key is not the SHA-256 of the token")
	}
}

func BenchmarkIssue(b *testing.B) {
	i := newIssuer(b, testCfg, newKey(b))
	for b.Loop() {
		if _, err := i.Issue(testClaim); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyCold(b *testing.B) {
	i := newIssuer(b, Config{Issuer: "gatehouse", Audience: "app", CacheSize: -1}, newKey(b))
	tok := issue(b, i, testClaim)
	for b.Loop() {
		if _, err := i.Verify(tok, t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyCached(b *testing.B) {
	i := newIssuer(b, testCfg, newKey(b))
	tok := issue(b, i, testClaim)
	for b.Loop() {
		if _, err := i.Verify(tok, t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyCachedParallel(b *testing.B) {
	i := newIssuer(b, testCfg, newKey(b))
	toks := make([]string, 64)
	for n := range toks {
		c := testClaim
		c.SessionID = domain.SessionID("sess-" + string(rune('A'+n)))
		toks[n] = issue(b, i, c)
	}
	b.RunParallel(func(pb *testing.PB) {
		n := 0
		for pb.Next() {
			if _, err := i.Verify(toks[n%len(toks)], t0); err != nil {
				b.Fatal(err)
			}
			n++
		}
	})
}
