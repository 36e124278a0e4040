package app

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"os"

	"github.com/gatehouse/gatehouse/adapters/jwt"
	"github.com/gatehouse/gatehouse/internal/config"
)

// loadSigningKey reads the signing key of GATEHOUSE_JWT_KEY, else of
// GATEHOUSE_JWT_KEY_FILE, or returns nil when neither is set.
func loadSigningKey(cfg config.Config) (ed25519.PrivateKey, error) {
	pemBytes := []byte(cfg.JWTKey)
	if cfg.JWTKey == "" && cfg.JWTKeyFile != "" {
		b, err := os.ReadFile(cfg.JWTKeyFile)
		if err != nil {
			return nil, fmt.Errorf("read GATEHOUSE_JWT_KEY_FILE: %w", err)
		}
		pemBytes = b
	}
	if len(pemBytes) == 0 {
		return nil, nil
	}
	key, err := jwt.ParsePrivateKeyPEM(oneLinePEM(pemBytes))
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return key, nil
}

// oneLinePEM restores the newlines of a PEM that one-line environments
// (.env files, CI secrets) carry written as \n.
func oneLinePEM(b []byte) []byte {
	if bytes.Contains(b, []byte("\n")) {
		return b
	}
	return bytes.ReplaceAll(b, []byte(`\n`), []byte("\n"))
}

// loadVerifyKeys reads the keys of GATEHOUSE_JWT_VERIFY_KEY_FILES. An error
// names the file, never its content.
func loadVerifyKeys(cfg config.Config) ([]ed25519.PublicKey, error) {
	keys := make([]ed25519.PublicKey, 0, len(cfg.JWTVerifyKeyFiles))
	for _, path := range cfg.JWTVerifyKeyFiles {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read GATEHOUSE_JWT_VERIFY_KEY_FILES: %w", err)
		}
		k, err := jwt.ParseVerifyKeyPEM(oneLinePEM(b))
		if err != nil {
			return nil, fmt.Errorf("verify key %s: %w", path, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// ReloadKeys reads the signing key and the verify-only keys again, as
// SIGHUP asks, and puts them in force at once for every request, forgetting
// every verified token (so a key removed from both lists stops verifying
// now). Nothing else is reloaded. When any file cannot be read or parsed,
// the keys in force stay and the error says why; a process that made a
// throwaway signing key (debug mode, no key configured) keeps it.
func (a *App) ReloadKeys() error {
	key, err := loadSigningKey(a.Config)
	if err == nil && key == nil {
		key = a.secrets.SigningKey
	}
	var verify []ed25519.PublicKey
	if err == nil {
		verify, err = loadVerifyKeys(a.Config)
	}
	if err == nil {
		err = a.issuer.SetKeys(key, verify)
	}
	if err != nil {
		a.log.Error("signing keys not reloaded: the keys in force stay", "err", err)
		return err
	}
	a.log.Info("signing keys reloaded", "kid", a.issuer.KeyID(), "verify_only", len(verify))
	return nil
}
