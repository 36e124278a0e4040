// Package onetime issues and checks the 6-digit one-time codes that log in by
// SMS, bind a phone, reset a password and refresh a token, and throttles how
// often codes are sent to one target. Stores only ever see digests.
package onetime

import (
	"context"
	"io"
	"slices"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// Codes issues and checks one-time codes.
type Codes struct {
	store    ports.CodeStore
	throttle ports.Throttle
	random   io.Reader
	secret   []byte
	resend   domain.ResendPolicy
	caps     Caps
	refusals Refusals
}

// New returns a code issuer. secret keys the code digests; resend and caps
// bound how often codes are sent (see Send).
func New(store ports.CodeStore, throttle ports.Throttle, random io.Reader, secret []byte, resend domain.ResendPolicy, caps Caps) *Codes {
	caps.SMS.Regions = slices.Clone(caps.SMS.Regions)
	return &Codes{store: store, throttle: throttle, random: random, secret: secret, resend: resend, caps: caps}
}

// Issue makes a new code for key, bound to bound (a phone, a user id, or
// nothing), replacing the previous one.
func (c *Codes) Issue(ctx context.Context, key domain.CodeKey, bound string, policy domain.CodePolicy) (string, error) {
	code, err := domain.NewCode(c.random)
	if err != nil {
		return "", err
	}
	if err := c.store.Put(ctx, key, domain.CodeDigest(c.secret, key, bound, code), policy.TTL); err != nil {
		return "", err
	}
	return code, nil
}

// Use spends the code of key when code and bound match; otherwise it counts
// a try and returns domain.ErrCodeInvalid.
func (c *Codes) Use(ctx context.Context, key domain.CodeKey, bound, code string, policy domain.CodePolicy) error {
	return c.store.Consume(ctx, key, domain.CodeDigest(c.secret, key, bound, code), policy.MaxAttempts)
}
