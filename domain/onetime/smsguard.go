package onetime

import (
	"context"
	"log/slog"
	"slices"
	"sync"

	"github.com/nyaruka/phonenumbers"

	"github.com/gatehouse/gatehouse/domain"
	"github.com/gatehouse/gatehouse/ports"
)

// SMSGuard is the policy of the SMS toll-fraud guard (API.md "SMS delivery
// for production"). SMS is the one thing the service does that costs money
// per request, and "SMS pumping" sends codes to premium or attacker-owned
// ranges to collect a share of the fee. The guard refuses regions and number
// types nobody should be paying for, and caps sends per client IP (Caps
// SMSPerIP), per number range, per region and for the whole service. Its
// counts live in the Throttle port, so every replica shares them.
type SMSGuard struct {
	// Regions lists the ISO 3166 alpha-2 regions codes may be sent to;
	// empty means every region.
	Regions []string
	// RangePerHour caps the sends per hour to one number range: the E.164
	// number without its last RangeDigits digits. A pumping attack walks
	// the numbers of one range it owns.
	RangePerHour int
	// RegionPerHour caps the sends per hour to the numbers of one region.
	RegionPerHour int
	// GlobalPerHour caps the sends per hour of the whole service.
	GlobalPerHour int
	// RecordOnly makes the guard count and log what it would refuse, and
	// refuse nothing: for tuning the caps of a new deployment.
	RecordOnly bool
	// Log receives every refusal (and, in record mode, every refusal that
	// was not made), with the reason, the region and the number range,
	// never the full number. Nil discards them.
	Log *slog.Logger
}

// RangeDigits is how many trailing digits a number range leaves out.
const RangeDigits = 4

// RefusalReason says which check of the SMS guard refused a send: the
// observer's closed set, which is the `reason` label of
// gatehouse_sms_refused_total.
type RefusalReason = ports.SMSRefusal

// The reasons, in the order the guard checks them.
const (
	RefuseRegion     = ports.SMSRefusedRegion
	RefuseNumberType = ports.SMSRefusedNumberType
	RefuseIP         = ports.SMSRefusedIP
	RefuseRange      = ports.SMSRefusedRange
	RefuseRegionCap  = ports.SMSRefusedRegionCap
	RefuseGlobalCap  = ports.SMSRefusedGlobalCap
)

// RefusalReasons returns every RefusalReason, so a metrics exporter can
// publish a zero for the ones that never happened.
func RefusalReasons() []RefusalReason {
	return []RefusalReason{RefuseRegion, RefuseNumberType, RefuseIP, RefuseRange, RefuseRegionCap, RefuseGlobalCap}
}

// Refusals counts the SMS guard's refusals by reason since the process
// started. Refusals that record mode only logged are not counted: nothing
// was refused. It is safe for concurrent use.
type Refusals struct {
	mu sync.Mutex
	n  map[RefusalReason]uint64
}

// Count returns how many sends were refused for reason.
func (r *Refusals) Count(reason RefusalReason) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[reason]
}

func (r *Refusals) add(reason RefusalReason) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n = map[RefusalReason]uint64{}
	}
	r.n[reason]++
}

// SMSRefusals returns the counts of the SMS guard's refusals.
func (c *Codes) SMSRefusals() *Refusals { return &c.refusals }

// smsNumber is what the guard knows of the number of an SMS send.
type smsNumber struct {
	region string // ISO 3166 alpha-2, "" when libphonenumber knows none
	prefix string // the range: the E.164 number without its last digits
	costly bool   // a number type that is refused
}

// refusedNumberTypes cost more than an ordinary message or reach a number
// that forwards anywhere; no person needs a login code on them.
var refusedNumberTypes = []phonenumbers.PhoneNumberType{
	phonenumbers.PREMIUM_RATE,
	phonenumbers.SHARED_COST,
	phonenumbers.VOIP,
	phonenumbers.PERSONAL_NUMBER,
	phonenumbers.UAN,
}

// readSMSNumber reads an E.164 phone. A target that does not parse (the
// services always pass E.164) has no region, and so is refused unless every
// region is allowed.
func readSMSNumber(phone string) smsNumber {
	n := smsNumber{prefix: phone}
	if len(phone) > RangeDigits+1 {
		n.prefix = phone[:len(phone)-RangeDigits]
	}
	num, err := phonenumbers.Parse(phone, "")
	if err != nil {
		n.costly = true
		return n
	}
	n.region = phonenumbers.GetRegionCodeForNumber(num)
	n.costly = slices.Contains(refusedNumberTypes, phonenumbers.GetNumberType(num))
	return n
}

// regionAllowed reports whether codes may be sent to region.
func (g SMSGuard) regionAllowed(region string) bool {
	return len(g.Regions) == 0 || slices.Contains(g.Regions, region)
}

// checkNumber applies the region allow-list and the refused number types:
// PHONE_UNSUPPORTED, or nil (always nil in record mode, which logs instead).
func (s *Send) checkNumber(ctx context.Context) error {
	if s.number == nil {
		return nil
	}
	reason := RefusalReason("")
	switch {
	case !s.codes.caps.SMS.regionAllowed(s.number.region):
		reason = RefuseRegion
	case s.number.costly:
		reason = RefuseNumberType
	default:
		return nil
	}
	if s.codes.guardRefuses(ctx, reason, *s.number) {
		return domain.ErrPhoneUnsupported
	}
	return nil
}

// guardRefuses logs a refusal of the guard and reports whether it stands:
// in record mode it is logged with the word record and not made.
func (c *Codes) guardRefuses(ctx context.Context, reason RefusalReason, n smsNumber) bool {
	log := c.caps.SMS.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	attrs := []any{"reason", string(reason), "region", n.region, "range", n.prefix}
	if c.caps.SMS.RecordOnly {
		log.WarnContext(ctx, "sms guard record mode: would refuse this send, sending anyway", attrs...)
		return false
	}
	c.refusals.add(reason)
	if c.caps.Observer != nil {
		c.caps.Observer.SMSRefused(reason)
	}
	log.WarnContext(ctx, "sms guard refused a send", attrs...)
	return true
}

// addSMSGuard adds the guard's caps after the per-IP cap NewSend made, in
// the order of API.md: range, region, global.
func (s *Send) addSMSGuard(phone string) {
	n := readSMSNumber(phone)
	s.number = &n
	g := s.codes.caps.SMS
	if g.RangePerHour > 0 {
		s.caps = append(s.caps, guardCap(domain.SMSRangeLimitKey(n.prefix), g.RangePerHour, RefuseRange))
	}
	if g.RegionPerHour > 0 {
		s.caps = append(s.caps, guardCap(domain.SMSRegionLimitKey(n.region), g.RegionPerHour, RefuseRegionCap))
	}
	if g.GlobalPerHour > 0 {
		s.caps = append(s.caps, guardCap(domain.SMSGlobalLimitKey(), g.GlobalPerHour, RefuseGlobalCap))
	}
}

func guardCap(key domain.LimitKey, hourly int, reason RefusalReason) limit {
	l := rateLimit(key, "", hourly)
	l.reason = reason
	return l
}
