// Package migrations holds Gatehouse's PostgreSQL schema as goose
// migrations, embedded so the binary migrates a database without shipping
// loose files: plain SQL, and Go where SQL cannot compute what is needed
// (see Go). The postgres adapter runs them; nothing else should.
package migrations

import (
	"embed"

	"github.com/pressly/goose/v3"
)

// FS holds every migration, named NNNNN_what.sql (or .go) so goose orders
// them by the number. The Go migrations' files are embedded only so that
// goose names them by file, as it does the SQL ones, and checks that each
// is registered.
//
//go:embed *.sql 00004_email_key_fold.go
var FS embed.FS

// Go returns the migrations written in Go, to register with goose next to FS.
func Go() []*goose.Migration {
	return []*goose.Migration{emailKeyFold()}
}
