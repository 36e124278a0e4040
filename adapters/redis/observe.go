package redis

import (
	"context"
	"strings"

	"github.com/redis/rueidis"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// observedClient watches every command the stores send: a client span per
// command when tracing is on, and a count of failed commands when onError
// is set. Every store call, scripts included (rueidis.Lua.Exec sends
// EVALSHA through the client it is given), goes through Do, DoMulti or,
// for the session check, DoMultiCache, so this is the one place that sees
// them all. Spans name the command only: keys and arguments hold emails,
// phones and code digests.
type observedClient struct {
	rueidis.Client
	tracer  trace.Tracer // nil when tracing is off
	onError func()       // nil when not counting
}

// observe wraps rdb when cfg asks for tracing or an error count.
func observe(rdb rueidis.Client, cfg Config) rueidis.Client {
	if cfg.Tracer == nil && cfg.OnError == nil {
		return rdb
	}
	o := observedClient{Client: rdb, onError: cfg.OnError}
	if cfg.Tracer != nil {
		o.tracer = cfg.Tracer.Tracer("github.com/gatehouse/gatehouse/adapters/redis")
	}
	return o
}

var commandAttrs = []attribute.KeyValue{attribute.String("db.system.name", "redis")}

// Do sends one command.
func (o observedClient) Do(ctx context.Context, cmd rueidis.Completed) rueidis.RedisResult {
	var span trace.Span
	if o.tracer != nil {
		name := commandName(cmd.Commands())
		ctx, span = o.start(ctx, name, attribute.String("db.operation.name", name))
	}
	res := o.Client.Do(ctx, cmd)
	o.settle(span, res.Error())
	return res
}

// DoMulti sends commands in one pipeline.
func (o observedClient) DoMulti(ctx context.Context, multi ...rueidis.Completed) []rueidis.RedisResult {
	var span trace.Span
	if o.tracer != nil {
		ctx, span = o.start(ctx, "pipeline", attribute.Int("db.operation.batch.size", len(multi)))
	}
	res := o.Client.DoMulti(ctx, multi...)
	o.settle(span, firstFailure(res))
	return res
}

// DoMultiCache reads through the client-side cache (the session check).
// A read answered from the cache makes no command, but it gets its span
// like any other, so that a trace shows the check either way.
func (o observedClient) DoMultiCache(ctx context.Context, multi ...rueidis.CacheableTTL) []rueidis.RedisResult {
	var span trace.Span
	if o.tracer != nil {
		ctx, span = o.start(ctx, "cached read", attribute.Int("db.operation.batch.size", len(multi)))
	}
	res := o.Client.DoMultiCache(ctx, multi...)
	o.settle(span, firstFailure(res))
	return res
}

// start opens the client span of one call: the attributes every command
// carries, and the one that tells this call apart.
func (o observedClient) start(ctx context.Context, name string, attr attribute.KeyValue) (context.Context, trace.Span) {
	return o.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(append(commandAttrs, attr)...))
}

// firstFailure is the first failure among res, or nil.
func firstFailure(res []rueidis.RedisResult) error {
	for _, r := range res {
		if e := r.Error(); failed(e) {
			return e
		}
	}
	return nil
}

// settle counts a failure and ends the span.
func (o observedClient) settle(span trace.Span, err error) {
	bad := failed(err)
	if bad && o.onError != nil {
		o.onError()
	}
	if span != nil {
		if bad {
			span.SetStatus(codes.Error, "redis command failed")
		}
		span.End()
	}
}

// failed reports whether err is a failure rather than an answer: a nil
// reply means "not found", and NOSCRIPT only makes rueidis send the script
// itself.
func failed(err error) bool {
	if err == nil || rueidis.IsRedisNil(err) {
		return false
	}
	if rerr, ok := rueidis.IsRedisErr(err); ok && strings.HasPrefix(rerr.Error(), "NOSCRIPT") {
		return false
	}
	return true
}

// commandName is the command's name, upper-cased, without any argument.
func commandName(args []string) string {
	if len(args) == 0 {
		return "redis"
	}
	return strings.ToUpper(args[0])
}
