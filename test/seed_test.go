package test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse/internal/config"
)

// Frontend teams get their test accounts from the bootstrap pair and the seed
// file; seeding twice (a restart, a second replica) must change nothing.
func TestBootstrapAndSeedFile(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		seed := filepath.Join(t.TempDir(), "seed.yaml")
		yaml := "- email: alice@example.com\n  password: alice-Secret-2026\n  name: Alice\n  phone: \"13800000001\"\n" +
			"- email: bob@example.com\n  password: bob-Secret-2026\n"
		if err := os.WriteFile(seed, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, m, func(c *config.Config) {
			c.SeedFile = seed
			c.BootstrapEmail = "admin@example.com"
			c.BootstrapPassword = "admin-Secret-2026"
		})
		if err := e.app.Seed(context.Background()); err != nil {
			t.Fatalf("seeding again: %v", err)
		}
		e.browser().login("admin@example.com", "admin-Secret-2026")
		e.browser().login("bob@example.com", "bob-Secret-2026")
		c := e.browser()
		c.login("alice@example.com", "alice-Secret-2026")
		var u struct {
			Name  string `json:"name"`
			Phone string `json:"phone"`
		}
		c.get("/user").json(t, &u)
		if u.Name != "Alice" || u.Phone != "*" {
			t.Fatalf("seeded alice = %+v", u)
		}
		// The seeded phone was read in the default region (CN).
		expect(t, c.get("/login/sms?phone="+q("+8613800000001")), http.StatusNoContent, "")
		if msg := e.sms.WaitFor(t, "+8613800000001", "login", waitDelivery); msg.Code == "" {
			t.Fatal("no SMS to the seeded phone")
		}
	})
}

func TestSeedFileErrorsAreReported(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.yaml")
	if err := os.WriteFile(seed, []byte("- email: nopass@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, memoryMode, nil)
	e.app.Config.SeedFile = seed
	if err := e.app.Seed(context.Background()); err == nil {
		t.Fatal("a seed entry without a password was accepted")
	}
	e.app.Config.SeedFile = filepath.Join(t.TempDir(), "missing.yaml")
	if err := e.app.Seed(context.Background()); err == nil {
		t.Fatal("a missing seed file was accepted")
	}
}
