package domain

// Lang is the language of a mail or SMS text.
type Lang string

// The languages Gatehouse writes in.
const (
	LangEnglish Lang = "en"
	LangChinese Lang = "zh"
)

// SMS is a code sent to a phone.
type SMS struct {
	Phone   Phone
	Code    string
	Purpose CodePurpose // PurposeSMSLogin or PurposePhoneBind
	Lang    Lang
}

// MailKind says which message a mail carries.
type MailKind string

// The mails Gatehouse sends.
const (
	MailResetCode       MailKind = "reset_code"
	MailPasswordChanged MailKind = "password_changed"
	MailEmailChanged    MailKind = "email_changed"
	MailPhoneChanged    MailKind = "phone_changed"
	MailPhoneRemoved    MailKind = "phone_removed"
	MailTOTPChanged     MailKind = "totp_changed"
	MailTOTPRemoved     MailKind = "totp_removed"
	MailLarkLinked      MailKind = "lark_linked"
	MailLarkRemoved     MailKind = "lark_removed"
)

// The security notices of TOTP recovery codes.
const (
	// MailRecoveryCodesMade says a new set of recovery codes was made (and
	// any earlier set voided).
	MailRecoveryCodesMade MailKind = "recovery_codes_made"
	// MailRecoveryCodeUsed says a recovery code logged in; Remaining says
	// how many unused codes are left.
	MailRecoveryCodeUsed MailKind = "recovery_code_used"
)

// The notices of sessions ended by their owner (API.md "Sessions"); Mail.Sessions
// says how many other sessions ended.
const (
	// MailSessionsEnded: every other session was ended; the device that
	// asked stays signed in (POST /logout?scope=others, DELETE /user/sessions).
	MailSessionsEnded MailKind = "sessions_ended"
	// MailSignedOutEverywhere: every session was ended, the asking one
	// included (POST /logout?scope=global).
	MailSignedOutEverywhere MailKind = "signed_out_everywhere"
)

// Mail is one message to one address.
type Mail struct {
	To   string
	Kind MailKind
	Lang Lang
	// Code is set for MailResetCode.
	Code string
	// NewEmail is set for MailEmailChanged, which goes to the old address.
	NewEmail string
	// Remaining is set for MailRecoveryCodeUsed: the unused recovery codes
	// left after this use.
	Remaining int
	// Sessions is set for MailSessionsEnded and MailSignedOutEverywhere:
	// how many sessions other than the asking one were ended.
	Sessions int
}
