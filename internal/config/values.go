package config

import (
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"time"
)

// Redacted is the placeholder shown instead of a secret.
const Redacted = "[redacted]"

// Values returns every setting by key, for GET / outside release mode, with
// secrets replaced by Redacted and credentials removed from every URL-valued
// setting (store URLs, the SMS webhook, the upload target, OAuth URLs...):
// a URL's user information and its query parameters named like keys,
// tokens, secrets, passwords or signatures.
func (c Config) Values() map[string]any {
	out := map[string]any{}
	v := reflect.ValueOf(c)
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		key := f.Tag.Get("koanf")
		val := v.Field(i).Interface()
		switch tag := f.Tag.Get("secret"); {
		case tag == "true":
			if !v.Field(i).IsZero() {
				val = Redacted
			}
		case f.Type.Kind() == reflect.String:
			val = redactURL(v.Field(i).String(), tag == "dsn")
		}
		if d, ok := val.(time.Duration); ok {
			val = d.String()
		}
		out[key] = val
	}
	return out
}

// dsnPassword finds the password settings of a key=value connection string
// (host=db user=app password='s e c'), which libpq and pgx accept too.
var dsnPassword = regexp.MustCompile(`(?i)\b((?:ssl)?password)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// credentialName matches query parameter names that carry a credential:
// api_key, access_token, client_secret, X-Amz-Signature, sig, password,
// auth... Matching too much only hides a harmless value.
var credentialName = regexp.MustCompile(`(?i)key|token|secret|sig|pass|pwd|auth|credential`)

// hidden replaces a credential inside a URL; it needs no escaping.
const hidden = "xxxxx"

// redactURL hides the credentials of a URL, keeping the rest readable: the
// password of its user information, or a bare user part (https://TOKEN@host
// is how many services take a token) unless dsn says the URL is a store's,
// whose user is a database role; and the values of credential-named query
// and fragment parameters. A store setting may also be a key=value
// connection string. Other settings that are not URLs are returned as
// they are.
func redactURL(s string, dsn bool) string {
	if !strings.Contains(s, "://") {
		if dsn {
			return dsnPassword.ReplaceAllString(s, "${1}="+hidden)
		}
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return Redacted // cannot tell where a credential would be
	}
	if u.User != nil {
		_, hasPassword := u.User.Password()
		switch {
		case hasPassword:
			u.User = url.UserPassword(u.User.Username(), hidden)
		case !dsn:
			u.User = url.User(hidden)
		}
	}
	u.RawQuery = redactParams(u.RawQuery)
	if u.Fragment != "" {
		u.Fragment, u.RawFragment = "", redactParams(u.EscapedFragment())
		if f, err := url.PathUnescape(u.RawFragment); err == nil {
			u.Fragment = f
		}
	}
	return u.String()
}

// redactParams hides the values of credential-named parameters of a raw
// query, keeping the others and their order exactly as written.
func redactParams(raw string) string {
	if raw == "" {
		return raw
	}
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		name, _, hasValue := strings.Cut(p, "=")
		if unescaped, err := url.QueryUnescape(name); err == nil {
			name = unescaped
		}
		if hasValue && credentialName.MatchString(name) {
			parts[i] = p[:strings.IndexByte(p, '=')+1] + hidden
		}
	}
	return strings.Join(parts, "&")
}
