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
// secrets replaced by Redacted and passwords removed from store URLs.
func (c Config) Values() map[string]any {
	out := map[string]any{}
	v := reflect.ValueOf(c)
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		key := f.Tag.Get("koanf")
		val := v.Field(i).Interface()
		switch f.Tag.Get("secret") {
		case "true":
			if !v.Field(i).IsZero() {
				val = Redacted
			}
		case "dsn":
			val = redactURL(v.Field(i).String())
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

// redactURL hides the password of a store URL or key=value connection
// string, keeping the rest readable.
func redactURL(s string) string {
	if s == "" {
		return ""
	}
	if !strings.Contains(s, "://") {
		return dsnPassword.ReplaceAllString(s, "${1}=xxxxx")
	}
	u, err := url.Parse(s)
	if err != nil {
		return Redacted
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	for _, key := range []string{"password", "sslpassword"} {
		if q.Has(key) {
			q.Set(key, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
