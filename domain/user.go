package domain

import "time"

// User is an account. Email keeps the address as typed; EmailKey is its
// case-folded form, the one uniqueness and look-ups use.
type User struct {
	ID           UserID
	Email        string
	EmailKey     EmailKey
	Name         string
	Avatar       string
	Phone        Phone  // empty when not bound
	PasswordHash string // PHC string
	// TOTP is the bound TOTP secret as the store keeps it, sealed; nil when
	// none is bound. Reading an account never opens it, so an account whose
	// secret this process cannot open (its key rotated away, another
	// service secret) still reads, lists and logs in by other routes. Code
	// checks open it with UserStore.OpenTOTP; binding seals a new one with
	// UserStore.SealTOTP.
	TOTP       *SealedTOTP
	Lark       *LarkProfile
	Active     bool
	LoginCount int64
	LastLogin  *LoginRecord // latest successful login, nil before the first
	CreatedAt  time.Time
	UpdatedAt  time.Time

	// CredentialEpoch counts the revocations of the account's sessions: a
	// new password and every change of status bump it (SetPassword,
	// SetActive) in the same atomic update that makes the change. A login
	// notes it when it checks the credentials and gives up its new session
	// when it has moved meanwhile (see auth's startSession).
	CredentialEpoch int64
}

// SetPassword replaces the password hash and revokes every session made
// with the old one. A rehash of the same password at login is not a new
// password: it sets PasswordHash alone.
func (u *User) SetPassword(hash string) {
	u.PasswordHash = hash
	u.CredentialEpoch++
}

// SetActive enables or disables the account and revokes its sessions. Any
// change of status revokes, so that a login that checked the account before
// a disable cannot outlive it by finishing after a quick enable.
func (u *User) SetActive(active bool) {
	u.Active = active
	u.CredentialEpoch++
}

// SealedTOTP is a TOTP secret encrypted by a UserStore for one account. The
// domain passes it along unopened; only the store that sealed it (with the
// key named by KeyID) can open it.
type SealedTOTP struct {
	KeyID string
	Data  []byte
}

// Clone returns a copy of u that shares no pointer with it, so a store can
// hand out and keep accounts without a caller's edit reaching its copy.
// Clone of nil is nil.
func (u *User) Clone() *User {
	if u == nil {
		return nil
	}
	c := *u
	if u.Lark != nil {
		lark := *u.Lark
		c.Lark = &lark
	}
	if u.LastLogin != nil {
		last := *u.LastLogin
		c.LastLogin = &last
	}
	if u.TOTP != nil {
		c.TOTP = &SealedTOTP{KeyID: u.TOTP.KeyID, Data: append([]byte(nil), u.TOTP.Data...)}
	}
	return &c
}

// LarkProfile is what a Lark (Feishu) binding stores about the Lark account:
// the binding key (Platform, AppID, OpenID; see Key) and what GET /user
// shows. It never holds an access token, email or phone of the Lark account.
type LarkProfile struct {
	Platform  LarkPlatform
	AppID     string
	Name      string
	EnName    string
	AvatarURL string
	OpenID    string
	UnionID   string
	TenantKey string
}

// LoginMethod names the route a login came through. It is a closed set:
// the constants below are the only methods, and ParseLoginMethod refuses
// any other text.
type LoginMethod string

// The login methods reported in a user's history.
const (
	LoginEmail LoginMethod = "email"
	LoginSMS   LoginMethod = "sms"
	LoginTOTP  LoginMethod = "totp"
	LoginLark  LoginMethod = "lark"
	// LoginRecovery is a login by a TOTP recovery code at /login/totp.
	LoginRecovery LoginMethod = "recovery"
)

// ParseLoginMethod reads a login method by its name.
func ParseLoginMethod(s string) (LoginMethod, error) {
	if m := LoginMethod(s); m.Valid() {
		return m, nil
	}
	return "", Invalid("login method must be one of email, sms, totp, lark")
}

// Valid reports whether m is one of the login methods.
func (m LoginMethod) Valid() bool {
	switch m {
	case LoginEmail, LoginSMS, LoginTOTP, LoginLark:
		return true
	}
	return false
}

// String returns the method's name, the form history keeps.
func (m LoginMethod) String() string { return string(m) }

// LoginRecord is one line of a user's login history.
type LoginRecord struct {
	Time      time.Time
	IP        string
	UserAgent string
	Method    LoginMethod
	Success   bool
	// Locked marks an attempt refused by the lockout (any 429 answer to a
	// login attempt) before its credentials were checked. Success is false
	// then.
	Locked bool
}

// LoginResult is how a login attempt ended, as login history reports it.
type LoginResult string

// The results of login attempts.
const (
	LoginSucceeded LoginResult = "success"
	LoginFailed    LoginResult = "failure"
	LoginRefused   LoginResult = "locked"
)

// Result tells how the attempt ended.
func (r LoginRecord) Result() LoginResult {
	switch {
	case r.Success:
		return LoginSucceeded
	case r.Locked:
		return LoginRefused
	default:
		return LoginFailed
	}
}

// LoginAttempt is a LoginRecord as a store keeps it: Seq orders attempts
// of the same instant, so that (Time, Seq) names one attempt for paging.
type LoginAttempt struct {
	LoginRecord
	Seq int64
}

// HistoryPosition is where a page of login history starts: attempts
// strictly older than (Time, Seq). The zero position is before none, that
// is, the page starts at the newest attempt.
type HistoryPosition struct {
	Time time.Time
	Seq  int64
}

// IsZero reports whether p is the start of the history.
func (p HistoryPosition) IsZero() bool { return p.Time.IsZero() && p.Seq == 0 }

// Position is the place just after a in a newest-first history, the start
// of the next page.
func (a LoginAttempt) Position() HistoryPosition { return HistoryPosition{Time: a.Time, Seq: a.Seq} }
