package domain

import "time"

// User is an account. Email keeps the address as typed; EmailKey is its
// case-folded form, the one uniqueness and look-ups use.
type User struct {
	ID           string
	Email        string
	EmailKey     string
	Name         string
	Avatar       string
	Phone        string // E.164, empty when not bound
	PasswordHash string // PHC string
	TOTPSecret   string // base32, empty when not bound; stores encrypt it at rest
	Lark         *LarkProfile
	Active       bool
	LoginCount   int64
	LastLogin    *LoginRecord // latest successful login, nil before the first
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// LarkProfile is what a Lark (Feishu) binding stores about the Lark account.
type LarkProfile struct {
	Name      string
	EnName    string
	AvatarURL string
	OpenID    string
	UnionID   string
}

// LoginMethod names the route a login came through.
type LoginMethod string

// The login methods reported in a user's history.
const (
	LoginEmail LoginMethod = "email"
	LoginSMS   LoginMethod = "sms"
	LoginTOTP  LoginMethod = "totp"
	LoginLark  LoginMethod = "lark"
)

// LoginRecord is one line of a user's login history.
type LoginRecord struct {
	Time      time.Time
	IP        string
	UserAgent string
	Method    LoginMethod
	Success   bool
}
