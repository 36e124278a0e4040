//go:build wireinject

package app

import (
	"context"
	"log/slog"

	"github.com/google/wire"

	"github.com/gatehouse/gatehouse/adapters/argon2"
	"github.com/gatehouse/gatehouse/adapters/delivery"
	"github.com/gatehouse/gatehouse/adapters/historyqueue"
	"github.com/gatehouse/gatehouse/adapters/httpapi"
	"github.com/gatehouse/gatehouse/adapters/jwt"
	"github.com/gatehouse/gatehouse/adapters/memory"
	"github.com/gatehouse/gatehouse/adapters/postgres"
	"github.com/gatehouse/gatehouse/adapters/redis"
	"github.com/gatehouse/gatehouse/domain/auth"
	"github.com/gatehouse/gatehouse/domain/history"
	"github.com/gatehouse/gatehouse/domain/mfa"
	"github.com/gatehouse/gatehouse/domain/profile"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/ports"
)

// coreSet is everything that does not depend on where data is stored.
var coreSet = wire.NewSet(
	provideObserver,
	provideSecrets,
	provideRandom,
	provideGuard,
	provideCodes,
	provideAuthPolicy,
	provideProfilePolicy,
	provideMFAPolicy,
	provideHasher,
	wire.Bind(new(ports.PasswordHasher), new(*argon2.Hasher)),
	provideIssuer,
	wire.Bind(new(ports.TokenIssuer), new(*jwt.Issuer)),
	provideDelivery,
	wire.Bind(new(ports.SMSSender), new(*delivery.Async)),
	wire.Bind(new(ports.Mailer), new(*delivery.Async)),
	provideHistory,
	wire.Bind(new(ports.LoginRecorder), new(*historyqueue.Recorder)),
	provideLark,
	wire.Struct(new(auth.Deps), "*"),
	auth.New,
	wire.Struct(new(profile.Deps), "*"),
	profile.New,
	wire.Struct(new(mfa.Deps), "*"),
	mfa.New,
	provideGeo,
	provideHistoryPolicy,
	wire.Struct(new(history.Deps), "*"),
	provideHistoryService,
	wire.Struct(new(httpapi.Services), "*"),
	provideHTTPConfig,
	provideHTTP,
	newApp,
)

var memorySet = wire.NewSet(
	memory.NewUserStore,
	wire.Bind(new(ports.UserStore), new(*memory.UserStore)),
	wire.Bind(new(ports.LoginHistory), new(*memory.UserStore)),
	memory.NewSessionStore,
	wire.Bind(new(ports.SessionStore), new(*memory.SessionStore)),
	memory.NewCodeStore,
	wire.Bind(new(ports.CodeStore), new(*memory.CodeStore)),
	memory.NewThrottle,
	wire.Bind(new(ports.Throttle), new(*memory.Throttle)),
	memory.NewAttemptCounter,
	wire.Bind(new(ports.AttemptCounter), new(*memory.AttemptCounter)),
	memory.NewTOTPStore,
	wire.Bind(new(ports.TOTPStore), new(*memory.TOTPStore)),
	memory.NewRecoveryCodeStore,
	wire.Bind(new(ports.RecoveryCodeStore), new(*memory.RecoveryCodeStore)),
	memory.NewLarkStateStore,
	wire.Bind(new(ports.LarkStateStore), new(*memory.LarkStateStore)),
	memoryKinds,
	memoryReadiness,
)

var persistentSet = wire.NewSet(
	providePostgresConfig,
	openPostgres,
	provideKeyring,
	postgres.NewUserStore,
	wire.Bind(new(ports.UserStore), new(*postgres.UserStore)),
	postgres.NewRecoveryCodeStore,
	wire.Bind(new(ports.RecoveryCodeStore), new(*postgres.RecoveryCodeStore)),
	wire.Bind(new(ports.LoginHistory), new(*postgres.UserStore)),
	provideRedisConfig,
	openRedis,
	redis.NewSessionStore,
	wire.Bind(new(ports.SessionStore), new(*redis.SessionStore)),
	redis.NewCodeStore,
	wire.Bind(new(ports.CodeStore), new(*redis.CodeStore)),
	redis.NewThrottle,
	wire.Bind(new(ports.Throttle), new(*redis.Throttle)),
	redis.NewAttemptCounter,
	wire.Bind(new(ports.AttemptCounter), new(*redis.AttemptCounter)),
	redis.NewTOTPStore,
	wire.Bind(new(ports.TOTPStore), new(*redis.TOTPStore)),
	redis.NewLarkStateStore,
	wire.Bind(new(ports.LarkStateStore), new(*redis.LarkStateStore)),
	persistentKinds,
	persistentReadiness,
)

// InMemory assembles the service with every store in memory: what `go run`
// gives with no configuration, and what the integration tests drive with a
// fake clock. Telemetry follows the configuration and the OTEL_*
// environment.
func InMemory(cfg config.Config, log *slog.Logger, clock ports.Clock) (*App, func(), error) {
	wire.Build(coreSet, memorySet, provideTelemetry)
	return nil, nil, nil
}

// Persistent assembles the service on PostgreSQL and Redis.
func Persistent(ctx context.Context, cfg config.Config, log *slog.Logger, clock ports.Clock) (*App, func(), error) {
	wire.Build(coreSet, persistentSet, provideTelemetry)
	return nil, nil, nil
}

// InMemoryWithTelemetry is InMemory with telemetry made by the caller (a
// test's in-memory span exporter); the caller shuts it down.
func InMemoryWithTelemetry(cfg config.Config, log *slog.Logger, clock ports.Clock, t Telemetry) (*App, func(), error) {
	wire.Build(coreSet, memorySet)
	return nil, nil, nil
}

// PersistentWithTelemetry is Persistent with telemetry made by the caller.
func PersistentWithTelemetry(ctx context.Context, cfg config.Config, log *slog.Logger, clock ports.Clock, t Telemetry) (*App, func(), error) {
	wire.Build(coreSet, persistentSet)
	return nil, nil, nil
}
