package httpapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// csrfSigner makes and checks XSRF cookie values: a random nonce and its HMAC
// under the service secret. Signing means a value planted by a sibling
// subdomain (cookie tossing) is refused, and any replica can check it.
type csrfSigner struct {
	secret []byte
}

func (s csrfSigner) mint() string {
	var nonce [18]byte
	_, _ = rand.Read(nonce[:])
	n := base64.RawURLEncoding.EncodeToString(nonce[:])
	return n + "." + s.sign(n)
}

func (s csrfSigner) valid(value string) bool {
	nonce, sig, ok := strings.Cut(value, ".")
	return ok && nonce != "" && constantTimeEqual(sig, s.sign(nonce))
}

func (s csrfSigner) sign(nonce string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("xsrf\x00" + nonce))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
