// Package onetime issues and checks the 6-digit one-time codes that log in by
// SMS, bind a phone, reset a password and refresh a token, and throttles how
// often codes are sent to one target. Stores only ever see digests.
package onetime

import (
	"context"
	"io"

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
}

// New returns a code issuer. secret keys the code digests.
func New(store ports.CodeStore, throttle ports.Throttle, random io.Reader, secret []byte, resend domain.ResendPolicy) *Codes {
	return &Codes{store: store, throttle: throttle, random: random, secret: secret, resend: resend}
}

// Throttle records one send of purpose to target, or returns
// CODE_TOO_FREQUENT with the time to wait. Callers ask before they know
// whether the target is registered, so the answer is the same either way.
func (c *Codes) Throttle(ctx context.Context, purpose domain.CodePurpose, target string) error {
	wait, err := c.throttle.Allow(ctx, "send:"+string(purpose)+":"+target, c.resend.Interval, c.resend.HourlyLimit)
	if err != nil {
		return err
	}
	if wait > 0 {
		return domain.TooFrequent(wait)
	}
	return nil
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
