// Package app assembles Gatehouse: provider functions that turn the one
// config.Config into adapter settings, and Wire injectors for the two ways it
// runs (every store in memory; PostgreSQL and Redis). cmd/gatehouse and the
// black-box tests in test/ both start the service through here.
package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/gatehouse/gatehouse/adapters/delivery"
	"github.com/gatehouse/gatehouse/domain/profile"
	"github.com/gatehouse/gatehouse/internal/config"
)

// App is an assembled service, ready to serve.
type App struct {
	Config  config.Config
	Handler *echo.Echo
	// Profile is exposed for start-up seeding and the user commands.
	Profile  *profile.Service
	delivery *delivery.Async
	log      *slog.Logger
}

func newApp(cfg config.Config, h *echo.Echo, p *profile.Service, d *delivery.Async, log *slog.Logger) *App {
	return &App{Config: cfg, Handler: h, Profile: p, delivery: d, log: log}
}

// Server returns an HTTP server for the app with the configured timeouts.
func (a *App) Server() *http.Server {
	return &http.Server{
		Addr:              a.Config.HTTPAddr,
		Handler:           a.Handler,
		ReadHeaderTimeout: a.Config.HTTPReadTimeout,
		ReadTimeout:       a.Config.HTTPReadTimeout,
		WriteTimeout:      a.Config.HTTPWriteTimeout,
		IdleTimeout:       a.Config.HTTPIdleTimeout,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
}

// Drain waits for deliveries still in flight (mails and SMS of requests that
// already answered), up to ctx's deadline.
func (a *App) Drain(ctx context.Context) error {
	return a.delivery.Close(ctx)
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
