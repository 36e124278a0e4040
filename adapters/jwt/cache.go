package jwt

import (
	"crypto/sha256"
	"fmt"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/gatehouse/gatehouse/domain"
)

// verifiedCache remembers the claims of tokens that passed the full check.
// It is keyed by the SHA-256 of the token, so it holds no bearer tokens and
// any change to a token, even one bit of its signature, misses. Entries
// expire against the caller's now rather than a background timer, so a
// fake clock drives them in tests, and no goroutine outlives the issuer.
type verifiedCache struct {
	ttl     time.Duration
	entries *lru.Cache[[sha256.Size]byte, verified]
}

// verified is one cache entry: the claims, and until when they may be
// served without checking the signature again.
type verified struct {
	claims domain.Claims
	until  time.Time
}

func newVerifiedCache(size int, ttl time.Duration) (*verifiedCache, error) {
	entries, err := lru.New[[sha256.Size]byte, verified](size)
	if err != nil {
		return nil, fmt.Errorf("jwt issuer: verified-token cache: %w", err)
	}
	return &verifiedCache{ttl: ttl, entries: entries}, nil
}

// cacheKey hashes token. Copying it into a stack buffer rather than
// converting with []byte(token) saves the one heap allocation of a cache
// hit; tokens longer than the buffer (none of ours) simply allocate.
func cacheKey(token string) [sha256.Size]byte {
	var buf [512]byte
	return sha256.Sum256(append(buf[:0], token...))
}

// get returns the cached claims of key. ok is false when the entry is
// missing or older than the TTL, and the token must be checked in full. A
// cached token that has expired at now is refused outright: the cache never
// lets a token outlive its exp.
func (c *verifiedCache) get(key [sha256.Size]byte, now time.Time) (claims domain.Claims, ok bool, err error) {
	e, found := c.entries.Get(key)
	if !found {
		return domain.Claims{}, false, nil
	}
	if !now.Before(e.claims.ExpiresAt) {
		c.entries.Remove(key)
		return domain.Claims{}, false, refuse(fmt.Errorf("token expired at %s", e.claims.ExpiresAt.Format(time.RFC3339)))
	}
	if !now.Before(e.until) {
		c.entries.Remove(key)
		return domain.Claims{}, false, nil
	}
	return e.claims, true, nil
}

// add remembers claims that just passed the full check at now.
func (c *verifiedCache) add(key [sha256.Size]byte, claims domain.Claims, now time.Time) {
	c.entries.Add(key, verified{claims: claims, until: now.Add(c.ttl)})
}
