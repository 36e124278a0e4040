package domain

// LimitKey names one counter of a limiter (ports.Throttle,
// ports.AttemptCounter): what is counted and for whom. It is a struct so
// that the only way to make one is a constructor below, one per kind of
// counter: a key cannot be mistaken for the target, IP or member it was
// built from, and each kind is composed in one place.
//
// Every key is its kind, a text without ':' that no other kind uses,
// followed by ':' and what the kind counts by (except the one global
// counter, which is its kind alone). The text up to the first ':' thus
// tells the kinds apart, and within a kind the rest differs whenever the
// inputs do, so two constructors never name the same counter. The texts are
// the ones stores have always kept (Redis keys are built from them), so
// changing one would orphan the counts already stored: do not.
//
// The zero LimitKey is made by no constructor and names no counter.
type LimitKey struct{ key string }

// String returns the key as text, the form stores build their keys from.
func (k LimitKey) String() string { return k.key }

// SendLimitKey counts the codes of purpose sent to target (an email key or
// a phone): the resend throttle. No purpose (see CodePurpose.Valid) holds
// ':', so the target is whatever follows the second one.
func SendLimitKey(purpose CodePurpose, target string) LimitKey {
	return LimitKey{"send:" + purpose.String() + ":" + target}
}

// MailPerIPLimitKey counts the reset mails asked for from one client,
// bucket being its IPBucket.
func MailPerIPLimitKey(bucket string) LimitKey {
	return LimitKey{"send-ip:mail:" + bucket}
}

// SMSPerIPLimitKey counts the SMS codes asked for from one client, bucket
// being its IPBucket.
func SMSPerIPLimitKey(bucket string) LimitKey {
	return LimitKey{"send-ip:sms:" + bucket}
}

// SMSRangeLimitKey counts the SMS codes sent to one number range: the E.164
// number without its last digits.
func SMSRangeLimitKey(prefix string) LimitKey {
	return LimitKey{"sms-range:" + prefix}
}

// SMSRegionLimitKey counts the SMS codes sent to the numbers of one region
// (ISO 3166 alpha-2, empty when the number has none).
func SMSRegionLimitKey(region string) LimitKey {
	return LimitKey{"sms-region:" + region}
}

// SMSGlobalLimitKey counts the SMS codes the whole service sends.
func SMSGlobalLimitKey() LimitKey {
	return LimitKey{"sms-global"}
}

// EmailChangeLimitKey counts the email changes of an account.
func EmailChangeLimitKey(id UserID) LimitKey {
	return LimitKey{"email-change:" + id.String()}
}

// BindNumbersLimitKey counts the distinct phone numbers an account asked
// binding codes for.
func BindNumbersLimitKey(id UserID) LimitKey {
	return LimitKey{"bind-numbers:" + id.String()}
}

// LockoutUserLimitKey counts the failed logins of an existing account.
func LockoutUserLimitKey(id UserID) LimitKey {
	return LimitKey{"user:" + id.String()}
}

// LockoutIdentifierLimitKey counts the failed logins naming identifier
// when no account has it, so that a lockout says nothing about whether an
// account exists.
func LockoutIdentifierLimitKey(identifier string) LimitKey {
	return LimitKey{"id:" + identifier}
}

// LockoutIPLimitKey counts the failed logins, and wrong codes, of one
// client, bucket being its IPBucket.
func LockoutIPLimitKey(bucket string) LimitKey {
	return LimitKey{"ip:" + bucket}
}
