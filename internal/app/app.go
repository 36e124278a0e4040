// Package app assembles Gatehouse: provider functions that turn the one
// config.Config into adapter settings, and Wire injectors for the two ways it
// runs (every store in memory; PostgreSQL and Redis). cmd/gatehouse and the
// black-box tests in test/ both start the service through here.
package app

import (
	"context"
	"errors"
	"github.com/gatehouse/gatehouse/domain/onetime"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/gatehouse/gatehouse/adapters/accesslog"
	"github.com/gatehouse/gatehouse/adapters/delivery"
	"github.com/gatehouse/gatehouse/adapters/historyqueue"
	"github.com/gatehouse/gatehouse/adapters/jwt"
	"github.com/gatehouse/gatehouse/domain/history"
	"github.com/gatehouse/gatehouse/domain/profile"
	"github.com/gatehouse/gatehouse/internal/config"
)

// App is an assembled service, ready to serve.
type App struct {
	Config  config.Config
	Handler *echo.Echo
	// Profile is exposed for start-up seeding and the user commands.
	Profile *profile.Service
	// History is exposed for `gatehouse history prune`.
	History *history.Service
	// SMSRefusals counts the SMS toll-fraud guard's refusals by reason.
	SMSRefusals *onetime.Refusals
	delivery    *delivery.Async
	history     *historyqueue.Recorder
	log         *slog.Logger
	issuer      *jwt.Issuer
	secrets     Secrets
	telemetry   Telemetry
}

func newApp(cfg config.Config, h *echo.Echo, p *profile.Service, hs *history.Service, codes *onetime.Codes, d *delivery.Async, recorder *historyqueue.Recorder, log *slog.Logger,
	issuer *jwt.Issuer, s Secrets, t Telemetry) *App {
	if al := accesslog.From(log); al != nil && t.Metrics != nil {
		t.Metrics.WatchAccessLog(al.Dropped)
	}
	return &App{Config: cfg, Handler: h, Profile: p, History: hs, SMSRefusals: codes.SMSRefusals(), delivery: d, history: recorder, log: log,
		issuer: issuer, secrets: s, telemetry: t}
}

// MetricsHandler serves the Prometheus metrics, or is nil when
// GATEHOUSE_METRICS_ADDR is empty.
func (a *App) MetricsHandler() http.Handler {
	if a.telemetry.Metrics == nil {
		return nil
	}
	return a.telemetry.Metrics.Handler()
}

// MetricsServer returns the server of the metrics listener, apart from the
// public one and with timeouts of its own, or nil when metrics are off. It
// serves /metrics and nothing else.
func (a *App) MetricsServer() *http.Server {
	h := a.MetricsHandler()
	if h == nil {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	return &http.Server{
		Addr:              a.Config.MetricsAddr,
		Handler:           mux,
		ReadHeaderTimeout: a.Config.MetricsTimeout,
		ReadTimeout:       a.Config.MetricsTimeout,
		WriteTimeout:      a.Config.MetricsTimeout,
		IdleTimeout:       a.Config.HTTPIdleTimeout,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
}

// Server returns an HTTP server for the app with the configured timeouts and
// header limit. net/http reads up to 4 KiB past MaxHeaderBytes before it
// answers 431 itself; the handler refuses anything over the exact limit
// (see httpapi's headerLimit), and this stops far larger heads unparsed.
func (a *App) Server() *http.Server {
	return &http.Server{
		Addr:              a.Config.HTTPAddr,
		Handler:           a.Handler,
		MaxHeaderBytes:    a.Config.HeaderLimit,
		ReadHeaderTimeout: a.Config.HTTPReadTimeout,
		ReadTimeout:       a.Config.HTTPReadTimeout,
		WriteTimeout:      a.Config.HTTPWriteTimeout,
		IdleTimeout:       a.Config.HTTPIdleTimeout,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
}

// Drain waits for deliveries still in flight (mails and SMS of requests that
// already answered) and for login attempts still to be written to the
// history, up to ctx's deadline.
func (a *App) Drain(ctx context.Context) error {
	return errors.Join(a.delivery.Close(ctx), a.history.Close(ctx))
}

// Seed creates the bootstrap account and the accounts of the seed file,
// each only when absent.
func (a *App) Seed(ctx context.Context) error {
	accounts, err := seedAccounts(a.Config)
	if err != nil {
		return err
	}
	var errs []error
	for _, acc := range accounts {
		created, err := a.Profile.EnsureAccount(ctx, acc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if created {
			a.log.Info("seeded account", "email", acc.Email)
		}
	}
	return errors.Join(errs...)
}
