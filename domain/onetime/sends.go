package onetime

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// Caps bound how many codes one client may have sent, across all targets
// (API.md "Abuse limits"). Without them every distinct target a client
// names leaves an hour of throttle state behind, and a client could make
// the service send mail and SMS without end. A non-positive cap is off.
type Caps struct {
	// MailPerIP is how many reset mails one client IP may ask for per hour.
	MailPerIP int
	// SMSPerIP is how many SMS codes one client IP may ask for per hour.
	SMSPerIP int
	// IPv6Prefix is how many leading bits of an IPv6 address name one
	// client (see domain.IPBucket).
	IPv6Prefix int
	// Whitelist holds the networks that skip the per-IP caps, and only them.
	Whitelist []netip.Prefix
	// SMS is the rest of the SMS toll-fraud guard: regions, number types,
	// and the caps per range, per region and for the whole service.
	SMS SMSGuard
	// Observer is told of every SMS code a cap refuses (by reason); nil
	// observes nothing.
	Observer ports.Observer
}

// Send is one code about to be sent, checked against the limits of code
// sending in the order of API.md: the per-target resend throttle
// (CODE_TOO_FREQUENT, CheckTarget), then whatever the caller checks itself
// (PHONE_TAKEN at phone binding), then the caps (RATE_LIMITED, Record). The
// first that fails answers. Nothing is recorded until every check has
// passed, so that a refused request counts toward no cap and, above all, a
// request refused by a cap leaves no per-target state: otherwise one client
// naming ever new targets would still grow the store without bound.
//
// Checking first and recording after is not one atomic step. Parallel
// requests may pass the checks together; the records are atomic themselves,
// so the loser of a race for one target is refused with nothing recorded,
// and a cap still never lets more through than its limit. What a race can
// leave is the record of a request that a parallel one pushed over a cap in
// the moment between its check and its record: its per-target record and
// its count in the caps recorded before that one. That is at most one per
// request in flight when a cap fills, since after that the check refuses,
// and it only ever refuses more, never lets more through.
type Send struct {
	codes  *Codes
	target limit
	caps   []limit
	// number is the phone of an SMS send, for the toll-fraud guard; nil
	// for mail.
	number *smsNumber
}

// limit is one throttle a send must pass.
type limit struct {
	key domain.LimitKey
	// member, when set, makes the limit count distinct members of key
	// rather than events (Throttle.AllowDistinct).
	member   string
	interval time.Duration
	hourly   int
	refuse   func(retryAfter time.Duration) error
	// reason marks a cap of the SMS toll-fraud guard, which record mode
	// logs instead of answering.
	reason RefusalReason
}

// NewSend prepares a send of a purpose code to target (an email key or a
// phone) asked for by client.
func (c *Codes) NewSend(purpose domain.CodePurpose, target string, client domain.Client) *Send {
	s := &Send{codes: c, target: limit{
		key:      domain.SendLimitKey(purpose, target),
		interval: c.resend.Interval,
		hourly:   c.resend.HourlyLimit,
		refuse:   func(wait time.Duration) error { return domain.TooFrequent(wait) },
	}}
	sms := purpose != domain.PurposeMailReset
	if bucket, ok := c.ipBucket(client.IP); ok {
		switch {
		case sms && c.caps.SMSPerIP > 0:
			ipCap := rateLimit(domain.SMSPerIPLimitKey(bucket), "", c.caps.SMSPerIP)
			ipCap.reason = RefuseIP
			s.caps = append(s.caps, ipCap)
		case !sms && c.caps.MailPerIP > 0:
			s.caps = append(s.caps, rateLimit(domain.MailPerIPLimitKey(bucket), "", c.caps.MailPerIP))
		}
	}
	if sms {
		// The toll-fraud guard (API.md "SMS delivery for production"): its
		// region and number-type checks run in CheckTarget, its caps
		// after the per-IP cap.
		s.addSMSGuard(target)
	}
	return s
}

// CapDistinct adds a cap: at most hourly distinct members under key per
// hour (a member already counted is always allowed). It is checked after
// the caps of NewSend.
func (s *Send) CapDistinct(key domain.LimitKey, member string, hourly int) *Send {
	if hourly > 0 {
		s.caps = append(s.caps, rateLimit(key, member, hourly))
	}
	return s
}

// CheckTarget returns PHONE_UNSUPPORTED when the SMS guard refuses the
// phone's region or number type, then CODE_TOO_FREQUENT, with the time to
// wait, when a code went to the target too recently or too often. It
// records nothing.
func (s *Send) CheckTarget(ctx context.Context) error {
	if err := s.checkNumber(ctx); err != nil {
		return err
	}
	return s.codes.check(ctx, s.target)
}

// Record checks every cap, returning RATE_LIMITED for the first that is
// full, and then records the send against the target and every cap. Call
// it after every other check of the request has passed. In the SMS guard's
// record mode a full cap of the guard is logged and passed: the send is
// counted in the caps that still have room.
func (s *Send) Record(ctx context.Context) error {
	for _, l := range s.caps {
		if err := s.codes.check(ctx, l); err != nil {
			if s.refused(ctx, l, err) {
				return err
			}
		}
	}
	// The target goes first: of parallel requests for one target only one
	// gets through, and the others then count toward no cap.
	for _, l := range append([]limit{s.target}, s.caps...) {
		if err := s.codes.record(ctx, l); err != nil {
			// A guard cap that a parallel request filled since the
			// check: record mode logged it at that request's check.
			if s.codes.caps.SMS.RecordOnly && s.guardCap(l, err) {
				continue
			}
			s.refused(ctx, l, err)
			return err
		}
	}
	return nil
}

// refused reports whether err, from limit l, answers the request. A store
// error always does; a refusal of a guard cap is logged, and stands unless
// the guard only records.
func (s *Send) refused(ctx context.Context, l limit, err error) bool {
	if !s.guardCap(l, err) {
		return true
	}
	return s.codes.guardRefuses(ctx, l.reason, *s.number)
}

// guardCap reports whether err is a full cap of the SMS guard.
func (s *Send) guardCap(l limit, err error) bool {
	return l.reason != "" && s.number != nil && errors.Is(err, domain.ErrRateLimited)
}

// Throttle checks and records a send that needs no check of its own
// between the resend throttle and the caps: CODE_TOO_FREQUENT or
// RATE_LIMITED with the time to wait, or nil and the send is counted.
// Callers ask before they know whether the target is registered, so the
// answer is the same either way.
func (c *Codes) Throttle(ctx context.Context, purpose domain.CodePurpose, target string, client domain.Client) error {
	s := c.NewSend(purpose, target, client)
	if err := s.CheckTarget(ctx); err != nil {
		return err
	}
	return s.Record(ctx)
}

func rateLimit(key domain.LimitKey, member string, hourly int) limit {
	return limit{key: key, member: member, hourly: hourly, refuse: func(wait time.Duration) error { return domain.RateLimited(wait) }}
}

func (c *Codes) check(ctx context.Context, l limit) error {
	var (
		wait time.Duration
		err  error
	)
	if l.member != "" {
		wait, err = c.throttle.WaitDistinct(ctx, l.key, l.member, l.hourly)
	} else {
		wait, err = c.throttle.Wait(ctx, l.key, l.interval, l.hourly)
	}
	return c.refusal(l, wait, err)
}

func (c *Codes) record(ctx context.Context, l limit) error {
	var (
		wait time.Duration
		err  error
	)
	if l.member != "" {
		wait, err = c.throttle.AllowDistinct(ctx, l.key, l.member, l.hourly)
	} else {
		wait, err = c.throttle.Allow(ctx, l.key, l.interval, l.hourly)
	}
	return c.refusal(l, wait, err)
}

// refusal turns a throttle's answer into the limit's error. (An SMS cap's
// refusal is counted and observed in guardRefuses.)
func (c *Codes) refusal(l limit, wait time.Duration, err error) error {
	if err != nil {
		return err
	}
	if wait > 0 {
		return l.refuse(wait)
	}
	return nil
}

// ipBucket is the key under which the per-IP caps count ip, or false when
// ip is whitelisted or not an address.
func (c *Codes) ipBucket(ip string) (string, bool) {
	addr, bucket, ok := domain.IPBucket(ip, c.caps.IPv6Prefix)
	if !ok {
		return "", false
	}
	for _, p := range c.caps.Whitelist {
		if p.Contains(addr) {
			return "", false
		}
	}
	return bucket, true
}
