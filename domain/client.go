package domain

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Client describes who made a request: where from, with what, and in which
// language they read. Services record it in login history and use Lang for
// mails and SMS texts. Build it with NewClient.
type Client struct {
	IP        string
	UserAgent string // valid UTF-8, at most MaxUserAgentBytes
	Lang      Lang
}

// MaxUserAgentBytes is how much of a User-Agent is kept for login history
// and sessions.
const MaxUserAgentBytes = 512

// NewClient describes a caller. The User-Agent is a header anyone can fill
// with anything, and it is stored as text: bytes that are not UTF-8 become
// U+FFFD, NUL (which no text column takes) is dropped, and it is cut to
// MaxUserAgentBytes at a character boundary. So what a client sends there
// can never make storing a login fail, which would change the answer for
// known accounts only and so tell them from unknown ones.
func NewClient(ip, userAgent string, lang Lang) Client {
	return Client{IP: ip, UserAgent: storableUserAgent(userAgent), Lang: lang}
}

func storableUserAgent(s string) string {
	s = strings.ToValidUTF8(s, string(utf8.RuneError))
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) <= MaxUserAgentBytes {
		return s
	}
	cut := MaxUserAgentBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// DefaultIPv6Prefix is how many leading bits of an IPv6 address name one
// client in per-IP limits: a home or office gets a whole /64, so counting
// single addresses would let one client rotate through 2^64 of them.
const DefaultIPv6Prefix = 64

// IPBucket is the key under which per-IP limits and lockouts count ip: the
// address itself for IPv4 (and IPv4-mapped IPv6), the enclosing /v6Prefix
// network for IPv6. It reports false for a value that is not an address.
func IPBucket(ip string, v6Prefix int) (netip.Addr, string, bool) {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.Addr{}, "", false
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is4() {
		return addr, addr.String(), true
	}
	if v6Prefix <= 0 || v6Prefix > 128 {
		v6Prefix = DefaultIPv6Prefix
	}
	p, err := addr.Prefix(v6Prefix)
	if err != nil {
		return netip.Addr{}, "", false
	}
	return addr, p.Addr().String() + "/" + strconv.Itoa(v6Prefix), true
}
