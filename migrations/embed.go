// Package migrations holds Gatehouse's PostgreSQL schema as plain SQL goose
// migrations, embedded so the binary migrates a database without shipping
// loose files. The postgres adapter runs them; nothing else should.
package migrations

import "embed"

// FS holds every migration, named NNNNN_what.sql so goose orders them by the
// number.
//
//go:embed *.sql
var FS embed.FS
