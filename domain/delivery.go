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
	Phone   string // E.164
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
	MailLarkRemoved     MailKind = "lark_removed"
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
}
