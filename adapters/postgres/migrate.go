package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"path"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/gatehouse/gatehouse/migrations"
)

// Migrate runs a goose command against the embedded migrations and writes
// what it did to out: "up" applies every pending migration, "down" rolls
// back the latest one, "status" lists each migration as applied or pending.
// Migrations and goose's version table live in the configured schema,
// because they run on the pool's own connections and so its search_path.
// Replicas that migrate at once take turns behind an advisory lock.
//
// Migrate is not bounded by the query timeout: a migration may rightly take
// longer. Bound it with ctx.
func (db *DB) Migrate(ctx context.Context, command string, out io.Writer) error {
	switch command {
	case "up", "down", "status":
	default:
		return fmt.Errorf("postgres: unknown migrate command %q (want up, down or status)", command)
	}
	locker, err := lock.NewPostgresSessionLocker(
		// One lock per schema: deployments in different schemas of one
		// database do not wait for each other.
		lock.WithLockID(migrationLockID(db.schema)),
		lock.WithLockTimeout(1, 300),
	)
	if err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	// Fail fast, as an outage, before goose starts taking locks.
	if err := db.Ping(ctx); err != nil {
		return err
	}
	sqlDB := stdlib.OpenDBFromPool(db.pool)
	defer sqlDB.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS, goose.WithSessionLocker(locker),
		goose.WithGoMigrations(migrations.Go()...))
	if err != nil {
		return fmt.Errorf("postgres: load migrations: %w", err)
	}
	switch command {
	case "up":
		results, err := provider.Up(ctx)
		for _, r := range results {
			fmt.Fprintln(out, r)
		}
		if err != nil {
			return migrateError("migrate up", err)
		}
		if len(results) == 0 {
			fmt.Fprintln(out, "no pending migrations")
		}
	case "down":
		result, err := provider.Down(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			fmt.Fprintln(out, "no migration to roll back")
			return nil
		}
		if result != nil {
			fmt.Fprintln(out, result)
		}
		if err != nil {
			return migrateError("migrate down", err)
		}
	case "status":
		statuses, err := provider.Status(ctx)
		if err != nil {
			return migrateError("migrate status", err)
		}
		for _, s := range statuses {
			applied := ""
			if s.State == goose.StateApplied {
				applied = s.AppliedAt.UTC().Format("2006-01-02T15:04:05Z")
			}
			fmt.Fprintf(out, "%-8s %-20s %s\n", s.State, applied, path.Base(s.Source.Path))
		}
	}
	return nil
}

// migrateError classifies an error out of goose. Goose's own errors (a
// missing or malformed migration) are plain; errors from the database are
// classified like any query's.
func migrateError(op string, err error) error {
	var pgErr *pgconn.PgError
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &pgErr) || errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || pgconn.Timeout(err) {
		return dbError(op, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// migrationLockID derives the advisory lock key of a schema's migrations.
func migrationLockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("gatehouse migrations\x00" + schema))
	return int64(h.Sum64())
}
