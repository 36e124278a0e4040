package app

import (
	"context"
	"log/slog"
	"os"

	"go.opentelemetry.io/otel/trace"

	"github.com/gatehouse/gatehouse/adapters/metrics"
	"github.com/gatehouse/gatehouse/adapters/tracing"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/ports"
)

// Telemetry is what watches the running service (API.md "Operations").
// Either part may be nil, and then costs nothing: no collector is updated,
// no middleware or driver hook is installed.
type Telemetry struct {
	// Metrics are on when GATEHOUSE_METRICS_ADDR is set.
	Metrics *metrics.Metrics
	// Tracer is on when the OTEL_* environment names an OTLP endpoint;
	// tests hand in one with an in-memory exporter.
	Tracer trace.TracerProvider
}

// provideTelemetry builds the telemetry the configuration and the standard
// OTEL_* environment ask for. Its cleanup flushes the spans still batched,
// within the shutdown timeout.
func provideTelemetry(cfg config.Config, log *slog.Logger) (Telemetry, func(), error) {
	var t Telemetry
	if cfg.MetricsAddr != "" {
		t.Metrics = metrics.New()
	}
	if !tracing.Enabled(os.Getenv) {
		return t, func() {}, nil
	}
	tp, err := tracing.NewProvider(context.Background(), Version)
	if err != nil {
		return Telemetry{}, nil, err
	}
	t.Tracer = tp
	log.Info("tracing on: exporting spans over OTLP/HTTP")
	return t, func() {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if err := tp.Shutdown(ctx); err != nil {
			log.Warn("flush traces at shutdown", "err", err)
		}
	}, nil
}

// provideObserver is the observer of business events: the metrics, or
// nothing when they are off.
func provideObserver(t Telemetry) ports.Observer {
	if t.Metrics == nil {
		return ports.NopObserver{}
	}
	return t.Metrics
}

// storeErrorCounter returns the callback that counts failed calls of store,
// or nil when metrics are off.
func storeErrorCounter(t Telemetry, store string) func() {
	if t.Metrics == nil {
		return nil
	}
	return func() { t.Metrics.StoreError(store) }
}
