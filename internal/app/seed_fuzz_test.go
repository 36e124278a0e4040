package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/config"
)

// FuzzSeedFile parses arbitrary seed files, with $PW standing for a
// password. Parsing never panics, every account it returns has an email and
// a password, and an error never carries the password: its occurrences are
// compared with those of the same file with a filler of the same length in
// place of the password, so a message that contains it by chance does not
// count. The error is logged at start, so a password in it would be too.
func FuzzSeedFile(f *testing.F) {
	for _, doc := range []string{
		"- email: a@example.com\n  password: $PW\n",
		"- email: a@example.com\n  password: $PW\n  name: A\n  phone: \"+8613800138000\"\n",
		"- email: a@example.com\n  password: [$PW]\n",
		"- email: a@example.com\n  password: {x: $PW}\n",
		"- email: a@example.com\n  password: $PW\n  extra: $PW\n",
		"- email: a@example.com\n  password: $PW\n- $PW\n",
		"- email: a@example.com\n  password: $PW\n-\n  email: [\n",
		"email: a@example.com\npassword: $PW\n",
		"- {email: a@example.com, password: \"$PW\", name: !!binary aGk=}\n",
		"- email: \"\"\n  password: $PW\n",
		"- &a {email: a@example.com, password: $PW}\n- *a\n",
		"",
		"null",
	} {
		f.Add(doc, "hunter2-correct-horse")
	}
	// yaml.v3 quotes a misplaced scalar of up to 10 bytes whole.
	f.Add("- $PW\n", "hunter22")
	f.Fuzz(func(t *testing.T, doc, password string) {
		parse := func(pw string) ([]string, error) {
			path := filepath.Join(t.TempDir(), "seed.yaml")
			if err := os.WriteFile(path, []byte(strings.ReplaceAll(doc, "$PW", pw)), 0o600); err != nil {
				t.Fatal(err)
			}
			accounts, err := seedAccounts(config.Config{SeedFile: path})
			var emails []string
			for _, a := range accounts {
				if a.Email == "" || a.Password == "" {
					t.Fatalf("seed file %q gave an account without email or password: %+v", doc, a)
				}
				emails = append(emails, a.Email)
			}
			return emails, err
		}
		_, err := parse(password)
		if err == nil || len(password) < 8 || !strings.Contains(doc, "$PW") {
			return
		}
		_, base := parse(strings.Repeat("Q", len(password)))
		if strings.Count(err.Error(), password) > strings.Count(fmt.Sprint(base), password) {
			t.Fatalf("parsing the seed file failed with the password in the error: %v", err)
		}
	})
}
