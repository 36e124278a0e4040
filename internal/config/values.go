package config

import (
	"net/url"
	"reflect"
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

// redactURL hides the password of a store URL, keeping the rest readable.
func redactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return Redacted
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}
