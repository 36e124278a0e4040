// Package postgres keeps Gatehouse's accounts in PostgreSQL: the connection
// pool, the embedded schema migrations, and postgres.UserStore behind
// ports.UserStore. TOTP secrets are sealed before they reach the database
// (see Keyring), and driver errors become domain errors at this boundary, so
// an outage reads as domain.ErrUnavailable and never as a wrong password.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse/gatehouse/domain"
)

// DefaultTimeout bounds every query when Config.Timeout is zero: long enough
// for a loaded database, short enough that an outage answers 503 quickly
// instead of holding requests open.
const DefaultTimeout = 2 * time.Second

// Config says where the database is and how to use it.
type Config struct {
	// URL is a libpq connection string or postgres:// URL.
	URL string
	// Schema, when set, is created if missing and becomes every connection's
	// search_path, so several deployments (or test runs) can share one
	// database without seeing each other's tables.
	Schema string
	// Timeout bounds each query; zero means DefaultTimeout.
	Timeout time.Duration
	// MigrateOnStart applies pending migrations in Open.
	MigrateOnStart bool
	// Tracer, when set, traces every query (see queryTracer).
	Tracer trace.TracerProvider
	// OnError, when set, is called once per failed call (see errorCounter).
	OnError func()
}

// DB is a connection pool bound to one schema. It is safe for concurrent use.
type DB struct {
	pool    *pgxpool.Pool
	schema  string
	timeout time.Duration
}

// Open builds the pool. It connects only when it must create the schema or
// migrate; otherwise a database that is down at start shows up as
// domain.ErrUnavailable from each call, which readiness checks report.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		// The error may quote the URL, password included: keep it out.
		return nil, errors.New("postgres: the database URL is not valid")
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	pc.ConnConfig.ConnectTimeout = timeout
	if t := queryTracer(cfg); t != nil {
		pc.ConnConfig.Tracer = t
	}
	if cfg.Schema != "" {
		pc.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{cfg.Schema}.Sanitize()
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: open pool: %w", err)
	}
	db := &DB{pool: pool, schema: cfg.Schema, timeout: timeout}
	if cfg.Schema != "" {
		if err := db.createSchema(ctx); err != nil {
			pool.Close()
			return nil, err
		}
	}
	if cfg.MigrateOnStart {
		if err := db.Migrate(ctx, "up", io.Discard); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return db, nil
}

// createSchema makes the configured schema unless it exists. Replicas that
// start together may race here; losing the race is not an error.
func (db *DB) createSchema(ctx context.Context) error {
	ctx, cancel := db.withTimeout(ctx)
	defer cancel()
	_, err := db.pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{db.schema}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == codeUniqueViolation || pgErr.Code == codeDuplicateSchema) {
		return nil
	}
	if err != nil {
		return dbError("create schema", err)
	}
	return nil
}

// Close waits for borrowed connections to come back and closes the pool.
func (db *DB) Close() { db.pool.Close() }

// Ping reports whether the database answers within the query timeout.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := db.withTimeout(ctx)
	defer cancel()
	if err := db.pool.Ping(ctx); err != nil {
		return dbError("ping", err)
	}
	return nil
}

// withTimeout bounds one query, or one transaction, by the configured
// timeout.
func (db *DB) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, db.timeout)
}

// SQLSTATE codes this package tells apart.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeDuplicateSchema     = "42P06"
	codeQueryCanceled       = "57014"
)

// dbError turns a driver error into what the services understand. Anything
// that is not a reply from the server (refused or dropped connections,
// timeouts, an exhausted pool) is an outage, and so are the server's own
// "cannot serve you now" replies; other server errors are plain errors that
// the edge answers with 500.
func dbError(op string, err error) error {
	var connectErr *pgconn.ConnectError
	var pgErr *pgconn.PgError
	var scanErr pgx.ScanArgError
	switch {
	case errors.As(err, &connectErr):
		// A failed connection attempt may carry a server reply (bad password,
		// unknown database, too many clients); either way nobody is served.
		return fmt.Errorf("postgres: %s: %w: %w", op, domain.ErrUnavailable, err)
	case errors.As(err, &pgErr):
		if serverUnavailable(pgErr.Code) {
			return fmt.Errorf("postgres: %s: %w: %w", op, domain.ErrUnavailable, err)
		}
		return fmt.Errorf("postgres: %s: %w", op, err)
	case errors.As(err, &scanErr):
		// A value that does not fit its Go type is a bug, not an outage.
		return fmt.Errorf("postgres: %s: %w", op, err)
	default:
		return fmt.Errorf("postgres: %s: %w: %w", op, domain.ErrUnavailable, err)
	}
}

// serverUnavailable reports whether a server error means the database cannot
// serve right now rather than that the request was wrong: connection
// exceptions (class 08), insufficient resources (53), shutdown or start-up
// (57P01 to 57P05) and a statement cancelled by a server-side timeout.
func serverUnavailable(code string) bool {
	switch {
	case len(code) < 2:
		return false
	case code[:2] == "08", code[:2] == "53":
		return true
	case code == codeQueryCanceled:
		return true
	case len(code) == 5 && code[:4] == "57P0":
		return true
	}
	return false
}
