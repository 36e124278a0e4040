package httpapi

import (
	"net"
	"net/http"
	"net/netip"

	"github.com/labstack/echo/v5"
	"golang.org/x/text/language"

	"github.com/gatehouse/gatehouse/domain"
)

// clientIPExtractor finds the client's real IP. X-Forwarded-For counts only
// when the peer is a trusted proxy, and then the right-most address that is
// not itself a trusted proxy wins; X-Real-IP counts only from a trusted proxy
// that sent no X-Forwarded-For. Echo trusts loopback and private ranges by
// default; here only the configured CIDRs are trusted.
func clientIPExtractor(trusted []netip.Prefix) echo.IPExtractor {
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	fromXFF := echo.ExtractIPFromXFFHeader(opts...)
	fromRealIP := echo.ExtractIPFromRealIPHeader(opts...)
	return func(r *http.Request) string {
		if len(r.Header.Values(echo.HeaderXForwardedFor)) > 0 {
			return fromXFF(r)
		}
		return fromRealIP(r)
	}
}

var langMatcher = language.NewMatcher([]language.Tag{language.English, language.Chinese})

// client describes the caller for the domain: IP, user agent and the
// language of any mail or SMS the request causes.
func (h *handler) client(c *echo.Context) domain.Client {
	r := c.Request()
	return domain.NewClient(c.RealIP(), r.UserAgent(), h.lang(r))
}

func (h *handler) lang(r *http.Request) domain.Lang {
	header := r.Header.Get("Accept-Language")
	if header == "" {
		return domain.Lang(h.cfg.DefaultLang)
	}
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil || len(tags) == 0 {
		return domain.Lang(h.cfg.DefaultLang)
	}
	_, idx, conf := langMatcher.Match(tags...)
	if conf == language.No {
		return domain.Lang(h.cfg.DefaultLang)
	}
	if idx == 1 {
		return domain.LangChinese
	}
	return domain.LangEnglish
}
