package app

import (
	"fmt"
	"os"
	"regexp"

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
		return nil, fmt.Errorf("parse seed file %s: %s", cfg.SeedFile, withoutValues(err))
	}
	for i, e := range entries {
		if e.Email == "" || e.Password == "" {
			return nil, fmt.Errorf("seed file %s: entry %d needs email and password", cfg.SeedFile, i+1)
		}
		out = append(out, profile.NewAccount(e))
	}
	return out, nil
}

// yamlQuoted is how yaml.v3 quotes a value in its errors.
var yamlQuoted = regexp.MustCompile("`[^`]*`")

// withoutValues is a YAML error with the values it quotes left out: yaml.v3
// quotes a misplaced scalar (whole up to 10 bytes), which in a seed file may
// be a password, and the error is logged at start (found by FuzzSeedFile).
// The line numbers and types it keeps say enough to fix the file.
func withoutValues(err error) string {
	return yamlQuoted.ReplaceAllString(err.Error(), "a value")
}
