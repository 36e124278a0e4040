package domain

import (
	"crypto/rand"
	"encoding/base64"
)

// LarkPlatform names one of the two Lark clouds. An app id belongs to one of
// them, and open_ids are per app, so the platform is part of the binding key.
type LarkPlatform string

// The Lark platforms.
const (
	LarkFeishu LarkPlatform = "feishu" // open.feishu.cn, mainland China
	LarkSuite  LarkPlatform = "lark"   // open.larksuite.com, elsewhere
)

// ParseLarkPlatform reads a configured platform name.
func ParseLarkPlatform(s string) (LarkPlatform, error) {
	switch p := LarkPlatform(s); p {
	case LarkFeishu, LarkSuite:
		return p, nil
	}
	return "", Invalid("Lark platform must be feishu or lark")
}

// LarkKey is what names a Lark identity for binding: Lark's open_id is
// unique only within one app on one platform. No two accounts ever hold the
// same key.
type LarkKey struct {
	Platform LarkPlatform
	AppID    string
	OpenID   string
}

// Valid reports whether every part of the key is set: a key with a blank
// part names nobody.
func (k LarkKey) Valid() bool {
	return k.Platform != "" && k.AppID != "" && k.OpenID != ""
}

// Key returns the binding key of the profile.
func (p LarkProfile) Key() LarkKey {
	return LarkKey{Platform: p.Platform, AppID: p.AppID, OpenID: p.OpenID}
}

// LarkAction is what a Lark sign-in is for.
type LarkAction string

// The Lark actions.
const (
	// LarkLogin logs in the account bound to the Lark identity.
	LarkLogin LarkAction = "login"
	// LarkLink binds the Lark identity to the signed-in account.
	LarkLink LarkAction = "link"
)

// ParseLarkAction reads an action; the empty string is a login.
func ParseLarkAction(s string) (LarkAction, error) {
	switch a := LarkAction(s); a {
	case "":
		return LarkLogin, nil
	case LarkLogin, LarkLink:
		return a, nil
	}
	return "", Invalid("action must be login or link")
}

// LarkState is what the server keeps of a Lark sign-in in progress, under
// its random state, until the callback uses it once: the action and, for a
// link, the session that started it. The PKCE verifier is not kept here: it
// stays in the browser's signed cookie, so a stolen state alone can never
// redeem a code.
type LarkState struct {
	Action    LarkAction
	UserID    UserID    // link only
	SessionID SessionID // link only
}

// NewLarkSecret returns 256 random bits in base64url without padding (43
// characters): the form of a Lark state and of a PKCE verifier (RFC 7636
// asks for 43 to 128 characters of [A-Za-z0-9-._~]).
func NewLarkSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b[:])
}
