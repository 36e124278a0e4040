package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// secretKeys are the keys of the settings tagged secret:"true".
func secretKeys() []string {
	var keys []string
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("secret") == "true" {
			keys = append(keys, t.Field(i).Tag.Get("koanf"))
		}
	}
	return keys
}

// FuzzLoad loads arbitrary YAML files with one secret set in the
// environment (possibly a wrong value, which the file may also set). Loading
// never panics, a configuration it accepts is valid, and neither its error
// nor the values GET / shows in debug mode ever carry the secret: the
// secret's occurrences there are compared with those of a run where the
// secret is replaced by a filler of the same length, so text that merely
// contains the secret by chance does not count.
func FuzzLoad(f *testing.F) {
	for _, doc := range []string{
		"",
		"http_addr: \":9000\"\nlogin_failures: 3\n",
		"secret: short\n",
		"secret: [a, b]\n",
		"smtp_password: {a: b}\n",
		"mode: release\n",
		"login_failures: many\n",
		"sms_code_ttl: forever\n",
		"jwt_key: |\n  -----BEGIN PRIVATE KEY-----\n",
		"totp_encryption_keys: \"1:not-base64\"\n",
		"- a\n- b\n",
		"\t: :\n",
		"a: &a [*a]\n",
	} {
		f.Add(doc, uint8(0), "hunter2-correct-horse-battery")
	}
	keys := secretKeys()
	for i, key := range keys {
		f.Add("mode: release\n", uint8(i), "bad:"+key+":value:!!")
		f.Add("", uint8(i), "9:"+strings.Repeat("x", 40))
	}
	f.Fuzz(func(t *testing.T, doc string, which uint8, secret string) {
		key := keys[int(which)%len(keys)]
		load := func(secret string) (Config, error) {
			path := filepath.Join(t.TempDir(), "gatehouse.yaml")
			if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			return Load(path, []string{EnvPrefix + strings.ToUpper(key) + "=" + secret})
		}
		c, err := load(secret)
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("Load accepted an invalid configuration: %v", verr)
			}
		}
		if len(secret) < 8 {
			return
		}
		filler := strings.Repeat("Q", len(secret))
		c2, err2 := load(filler)
		if n, base := strings.Count(fmt.Sprint(err), secret), strings.Count(fmt.Sprint(err2), secret); n > base {
			t.Fatalf("the error of a bad configuration carries the %s value: %v", key, err)
		}
		if err == nil && err2 == nil {
			if n, base := strings.Count(fmt.Sprint(c.Values()), secret), strings.Count(fmt.Sprint(c2.Values()), secret); n > base {
				t.Fatalf("Values shows the %s value", key)
			}
		}
	})
}
