package app

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/gatehouse/gatehouse/domain/profile"
	"github.com/gatehouse/gatehouse/internal/config"
)

// seedEntry is one account of GATEHOUSE_SEED_FILE.
type seedEntry struct {
	Email    string `yaml:"email"`
	Password string `yaml:"password"`
	Name     string `yaml:"name"`
	Phone    string `yaml:"phone"`
}

// seedAccounts lists the accounts to create at start: the bootstrap pair,
// then the seed file's entries.
func seedAccounts(cfg config.Config) ([]profile.NewAccount, error) {
	var out []profile.NewAccount
	if cfg.BootstrapEmail != "" || cfg.BootstrapPassword != "" {
		if cfg.BootstrapEmail == "" || cfg.BootstrapPassword == "" {
			return nil, fmt.Errorf("set both GATEHOUSE_BOOTSTRAP_EMAIL and GATEHOUSE_BOOTSTRAP_PASSWORD")
		}
		out = append(out, profile.NewAccount{Email: cfg.BootstrapEmail, Password: cfg.BootstrapPassword, Name: "admin"})
	}
	if cfg.SeedFile == "" {
		return out, nil
	}
	raw, err := os.ReadFile(cfg.SeedFile)
	if err != nil {
		return nil, fmt.Errorf("read seed file: %w", err)
	}
	var entries []seedEntry
	if err := yaml.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("parse seed file %s: %w", cfg.SeedFile, err)
	}
	for i, e := range entries {
		if e.Email == "" || e.Password == "" {
			return nil, fmt.Errorf("seed file %s: entry %d needs email and password", cfg.SeedFile, i+1)
		}
		out = append(out, profile.NewAccount(e))
	}
	return out, nil
}
