package app

import (
	"context"

	"github.com/gatehouse/gatehouse/adapters/httpapi"
	"github.com/gatehouse/gatehouse/adapters/memory"
	"github.com/gatehouse/gatehouse/adapters/postgres"
	"github.com/gatehouse/gatehouse/adapters/redis"
	"github.com/gatehouse/gatehouse/internal/config"
)

func memoryKinds() StoreKinds { return StoreKinds{Users: "memory", Sessions: "memory"} }

func memoryReadiness(users *memory.UserStore) httpapi.Readiness {
	return readiness(map[string]pinger{"memory": users})
}

func persistentKinds() StoreKinds { return StoreKinds{Users: "postgres", Sessions: "redis"} }

func persistentReadiness(db *postgres.DB, rc *redis.Client) httpapi.Readiness {
	return readiness(map[string]pinger{"postgres": db, "redis": rc})
}

func providePostgresConfig(cfg config.Config) postgres.Config {
	return postgres.Config{URL: cfg.DatabaseURL, Timeout: cfg.StoreTimeout, MigrateOnStart: cfg.MigrateOnStart}
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

func provideRedisConfig(cfg config.Config) redis.Config {
	return redis.Config{URL: cfg.RedisURL, KeyPrefix: cfg.RedisKeyPrefix, Timeout: cfg.StoreTimeout}
}

func openRedis(rc redis.Config) (*redis.Client, func(), error) {
	c, err := redis.NewClient(rc)
	if err != nil {
		return nil, nil, err
	}
	return c, c.Close, nil
}
