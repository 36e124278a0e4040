package test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/adapters/postgres"
	"github.com/gatehouse/gatehouse/internal/config"
	"github.com/gatehouse/gatehouse/internal/storetest"
)

// readiness reads GET /readyz.
func readiness(t *testing.T, c *client) (int, string, map[string]string) {
	t.Helper()
	r := c.get("/readyz")
	var body struct {
		Message string            `json:"message"`
		Stores  map[string]string `json:"stores"`
	}
	r.json(t, &body)
	return r.status, body.Message, body.Stores
}

// migrate runs a goose command on the service's database, as `gatehouse
// migrate` does.
func migrate(t *testing.T, dbURL, command string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := postgres.Open(ctx, postgres.Config{URL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, command, io.Discard); err != nil {
		t.Fatalf("migrate %s: %v", command, err)
	}
}

// TestReadinessWaitsForMigrations: a service started on a schema behind the
// binary answers /readyz 503 naming migrations, and turns ready without a
// restart once the migrations have run; rolling the last one (a Go
// migration) back makes it not ready again.
func TestReadinessWaitsForMigrations(t *testing.T) {
	storetest.DatabaseURL(t)
	storetest.RedisURL(t)
	e := newEnv(t, persistentMode, func(c *config.Config) { c.MigrateOnStart = false })
	c := e.bare()

	status, msg, stores := readiness(t, c)
	if status != http.StatusServiceUnavailable || stores["migrations"] != "pending" || !strings.Contains(msg, "migrations") {
		t.Fatalf("readyz on an empty schema = %d %q %v, want 503 naming migrations", status, msg, stores)
	}
	if stores["postgres"] != "ok" || stores["redis"] != "ok" {
		t.Fatalf("the stores themselves are up: %v", stores)
	}

	migrate(t, e.cfg.DatabaseURL, "up")
	status, msg, stores = readiness(t, c)
	if status != http.StatusOK || stores["migrations"] != "ok" {
		t.Fatalf("readyz after migrate up = %d %q %v, want 200", status, msg, stores)
	}

	migrate(t, e.cfg.DatabaseURL, "down")
	if status, msg, _ := readiness(t, c); status != http.StatusServiceUnavailable || !strings.Contains(msg, "migrations") {
		t.Fatalf("readyz with the last migration rolled back = %d %q, want 503 naming migrations", status, msg)
	}
}
