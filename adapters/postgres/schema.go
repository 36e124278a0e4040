package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pressly/goose/v3"

	"github.com/gatehouse/gatehouse/migrations"
)

// ErrSchemaBehind means the database lacks migrations this binary carries:
// run `gatehouse migrate up`.
var ErrSchemaBehind = errors.New("postgres: the database schema is behind the binary (run `gatehouse migrate up`)")

// codeUndefinedTable is the SQLSTATE of a missing table: goose's version
// table before the first migration.
const codeUndefinedTable = "42P01"

// knownVersions are the versions of every embedded migration, SQL and Go,
// read once.
var knownVersions = sync.OnceValues(func() ([]int64, error) {
	names, err := fs.Glob(migrations.FS, "*")
	if err != nil {
		return nil, err
	}
	var versions []int64
	for _, name := range names {
		v, err := goose.NumericComponent(name)
		if err != nil {
			return nil, fmt.Errorf("postgres: migration %s: %w", name, err)
		}
		versions = append(versions, v)
	}
	for _, m := range migrations.Go() {
		versions = append(versions, m.Version)
	}
	slices.Sort(versions)
	return slices.Compact(versions), nil
})

// SchemaCurrent reports whether every migration of the binary is applied:
// nil when it is, ErrSchemaBehind (naming the missing versions) when not,
// and a store error when the database cannot say. It only reads goose's
// version table (whose latest row per version says whether that version is
// applied), so readiness probes never write or take the migration lock.
func (db *DB) SchemaCurrent(ctx context.Context) error {
	want, err := knownVersions()
	if err != nil {
		return err
	}
	ctx, cancel := db.withTimeout(ctx)
	defer cancel()
	rows, err := db.pool.Query(ctx, `SELECT version_id FROM (
		SELECT DISTINCT ON (version_id) version_id, is_applied FROM goose_db_version ORDER BY version_id, id DESC
	) latest WHERE is_applied`)
	var applied []int64
	if err == nil {
		for rows.Next() {
			var v int64
			if err = rows.Scan(&v); err != nil {
				break
			}
			applied = append(applied, v)
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == codeUndefinedTable {
		applied, err = nil, nil
	}
	if err != nil {
		return dbError("read schema version", err)
	}
	var missing []int64
	for _, v := range want {
		if v != 0 && !slices.Contains(applied, v) {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %d pending, from version %d", ErrSchemaBehind, len(missing), missing[0])
	}
	return nil
}
