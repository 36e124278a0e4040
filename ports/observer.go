package ports

import "github.com/gatehouse/gatehouse/domain"

// Observer is told of the business events operators count (API.md
// "Operations", metrics). Each event is reported from exactly one place, so
// a counter never counts twice or misses a path. Every argument comes from a
// closed set of values defined here or in domain: nothing an observer sees
// can carry an email, phone, IP, user id or token. Methods must be quick and
// never block: they run on the request path.
type Observer interface {
	// LoginAttempt reports the verdict of one login by method.
	LoginAttempt(method domain.LoginMethod, result LoginResult)
	// Lockout reports that a lock started (once per lock, not per refusal).
	Lockout(scope LockoutScope)
	// CodeSent reports a code or notice handed over for delivery to a real
	// recipient (never for an unknown target).
	CodeSent(channel Channel, purpose SendPurpose)
	// SMSRefused reports an SMS code that the toll-fraud guard or a cap
	// refused to send.
	SMSRefused(reason SMSRefusal)
}

// LoginResult is the verdict of a login attempt.
type LoginResult string

// Login results.
const (
	LoginSuccess LoginResult = "success"
	LoginFailure LoginResult = "failure" // wrong or unknown credentials
	LoginLocked  LoginResult = "locked"  // refused while locked, unchecked
)

// LockoutScope says what a lock applies to.
type LockoutScope string

// Lockout scopes.
const (
	LockoutAccount LockoutScope = "account"
	LockoutIP      LockoutScope = "ip"
)

// Channel is how a message travels.
type Channel string

// Delivery channels.
const (
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "email"
)

// SendPurpose is why a message was sent.
type SendPurpose string

// Send purposes: the codes of each flow, and notices (mails that tell the
// owner of a change and carry no code).
const (
	SendLogin  SendPurpose = "login"
	SendBind   SendPurpose = "bind"
	SendReset  SendPurpose = "reset"
	SendNotice SendPurpose = "notice"
)

// SMSRefusal is why an SMS code was not sent.
type SMSRefusal string

// SMS refusal reasons (API.md "SMS toll-fraud guard").
const (
	SMSRefusedRegion     SMSRefusal = "region"
	SMSRefusedNumberType SMSRefusal = "number_type"
	SMSRefusedIP         SMSRefusal = "ip"
	SMSRefusedRange      SMSRefusal = "range"
	SMSRefusedRegionCap  SMSRefusal = "region_cap"
	SMSRefusedGlobalCap  SMSRefusal = "global_cap"
)

// NopObserver observes nothing: the default when metrics are off.
type NopObserver struct{}

var _ Observer = NopObserver{}

// LoginAttempt does nothing.
func (NopObserver) LoginAttempt(domain.LoginMethod, LoginResult) {}

// Lockout does nothing.
func (NopObserver) Lockout(LockoutScope) {}

// CodeSent does nothing.
func (NopObserver) CodeSent(Channel, SendPurpose) {}

// SMSRefused does nothing.
func (NopObserver) SMSRefused(SMSRefusal) {}
