package app

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/adapters/httpapi"
	"github.com/gatehouse/gatehouse/adapters/memory"
	"github.com/gatehouse/gatehouse/adapters/metrics"
	"github.com/gatehouse/gatehouse/adapters/postgres"
	"github.com/gatehouse/gatehouse/adapters/redis"
	"github.com/gatehouse/gatehouse/internal/config"
)

func memoryKinds() StoreKinds { return StoreKinds{Users: "memory", Sessions: "memory"} }

func memoryReadiness(users *memory.UserStore) httpapi.Readiness {
	return readiness(map[string]pinger{"memory": users})
}

func persistentKinds() StoreKinds { return StoreKinds{Users: "postgres", Sessions: "redis"} }

// persistentReadiness also checks, as "migrations", that the schema is
// not behind the binary, once PostgreSQL answers (when it does not, the
// postgres entry already says so). It reads the schema version on every
// probe, so the service turns ready as soon as `gatehouse migrate up` has
// run, without a restart.
func persistentReadiness(db *postgres.DB, rc *redis.Client) httpapi.Readiness {
	stores := readiness(map[string]pinger{"postgres": db, "redis": rc})
	return func(ctx context.Context) map[string]error {
		out := stores(ctx)
		if out["postgres"] == nil {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			out["migrations"] = db.SchemaCurrent(ctx)
		}
		return out
	}
}

func providePostgresConfig(cfg config.Config, t Telemetry) postgres.Config {
	return postgres.Config{URL: cfg.DatabaseURL, Timeout: cfg.StoreTimeout, MigrateOnStart: cfg.MigrateOnStart,
		Tracer: t.Tracer, OnError: storeErrorCounter(t, metrics.StorePostgres)}
}

// openPostgres connects and, when configured, applies migrations (Open does
// that). A database that is down at start is not fatal: the pool reconnects
// on its own and the routes answer 503 until it is back.
func openPostgres(ctx context.Context, pc postgres.Config) (*postgres.DB, func(), error) {
	db, err := postgres.Open(ctx, pc)
	if err != nil {
		return nil, nil, err
	}
	return db, db.Close, nil
}

func provideKeyring(cfg config.Config, s Secrets) (postgres.Keyring, error) {
	return postgres.NewKeyring(cfg.TOTPEncryptionKeys, s.Service)
}

func provideRedisConfig(cfg config.Config, t Telemetry) redis.Config {
	return redis.Config{URL: cfg.RedisURL, KeyPrefix: cfg.RedisKeyPrefix, Timeout: cfg.StoreTimeout,
		Tracer: t.Tracer, OnError: storeErrorCounter(t, metrics.StoreRedis),
		SessionCacheTTL: cfg.SessionCacheTTL, SessionRenewInterval: cfg.SessionRenewInterval}
}

// openRedis makes the Redis client. A Redis that is down at start is not
// fatal either: the client connects once it answers, and until then the
// routes that need it answer 503 and /readyz names it.
func openRedis(rc redis.Config) (*redis.Client, func(), error) {
	c, err := redis.NewClient(rc)
	if err != nil {
		return nil, nil, err
	}
	return c, c.Close, nil
}
