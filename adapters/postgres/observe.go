package postgres

import (
	"context"
	"errors"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// queryTracer is what Open installs on the pool to watch it: OpenTelemetry
// spans for every query, batch and connection acquire when tracing is on,
// and a count of failed calls when cfg.OnError is set; nil when neither is.
// Spans never carry query parameters (emails, phones, hashes live there),
// only the SQL text with its placeholders.
func queryTracer(cfg Config) pgx.QueryTracer {
	var tracers []pgx.QueryTracer
	if cfg.Tracer != nil {
		tracers = append(tracers, otelpgx.NewTracer(otelpgx.WithTracerProvider(cfg.Tracer)))
	}
	if cfg.OnError != nil {
		tracers = append(tracers, errorCounter{cfg.OnError})
	}
	switch len(tracers) {
	case 0:
		return nil
	case 1:
		return tracers[0]
	}
	return multitracer.New(tracers...)
}

// errorCounter calls onError once per failed query, batch or connection
// acquire: the one place every call of this adapter passes, whichever
// store method made it.
type errorCounter struct{ onError func() }

var (
	_ pgx.QueryTracer       = errorCounter{}
	_ pgx.BatchTracer       = errorCounter{}
	_ pgxpool.AcquireTracer = errorCounter{}
)

func (errorCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}

func (e errorCounter) TraceQueryEnd(_ context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	e.check(data.Err)
}

func (errorCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (errorCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (e errorCounter) TraceBatchEnd(_ context.Context, _ *pgx.Conn, data pgx.TraceBatchEndData) {
	e.check(data.Err)
}

func (errorCounter) TraceAcquireStart(ctx context.Context, _ *pgxpool.Pool, _ pgxpool.TraceAcquireStartData) context.Context {
	return ctx
}

func (e errorCounter) TraceAcquireEnd(_ context.Context, _ *pgxpool.Pool, data pgxpool.TraceAcquireEndData) {
	e.check(data.Err)
}

// check counts err unless it is an answer rather than a failure: no rows,
// a constraint that refused a value (an email already taken), or a caller
// that gave up.
func (e errorCounter) check(err error) {
	if err == nil || errors.Is(err, pgx.ErrNoRows) || errors.Is(err, context.Canceled) {
		return
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && len(pgErr.Code) >= 2 && pgErr.Code[:2] == "23" {
		return
	}
	e.onError()
}
