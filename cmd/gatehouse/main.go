// Command gatehouse runs the Gatehouse authentication service and its
// administrative commands. Run `gatehouse help` for the list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/gatehouse/gatehouse/adapters/clock"
	"github.com/gatehouse/gatehouse/adapters/jwt"
	"github.com/gatehouse/gatehouse/adapters/postgres"
	"github.com/gatehouse/gatehouse/domain/profile"
	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/config"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

const usage = `Usage: gatehouse [--config FILE] COMMAND

Commands:
  serve                                   run the service (the default)
  user create --email E --password P [--name N] [--phone P]
  user list
  user disable --email E                  disable an account and end its sessions
  user enable --email E
  user set-password --email E --password P
  keys generate                           print a new Ed25519 signing key (PKCS#8 PEM)
  migrate up|down|status                  manage the PostgreSQL schema
  version                                 print the version

Configuration comes from FILE (or GATEHOUSE_CONFIG) and GATEHOUSE_* variables.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// usageError is a command line that cannot be understood (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(args []string, stdout, stderr io.Writer) int {
	global := flag.NewFlagSet("gatehouse", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	configPath := global.String("config", "", "YAML configuration file")
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		fmt.Fprintf(stderr, "gatehouse: %v\n\n%s", err, usage)
		return exitUsage
	}
	args = global.Args()
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(*configPath, args, stderr)
	case "user":
		err = userCommand(*configPath, args, stdout)
	case "keys":
		err = keysCommand(args, stdout)
	case "migrate":
		err = migrateCommand(*configPath, args, stdout)
	case "version":
		fmt.Fprintln(stdout, "gatehouse", app.Version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		err = usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "gatehouse: %v\n\n%s", err, usage)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "gatehouse: %v\n", err)
		return exitFailed
	}
}

func loadConfig(flagPath string) (config.Config, error) {
	return config.Load(config.Path(flagPath), os.Environ())
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// assemble builds the service on the configured stores.
func assemble(ctx context.Context, cfg config.Config, log *slog.Logger) (*app.App, func(), error) {
	if cfg.DatabaseURL == "" {
		return app.InMemory(cfg, log, clock.System{})
	}
	return app.Persistent(ctx, cfg, log, clock.System{})
}

func serve(configPath string, args []string, logOut io.Writer) error {
	if len(args) > 0 {
		return usageError{"serve takes no arguments"}
	}
	cfg, err := loadConfig(configPath)
	if err != nil {
		return err
	}
	log := newLogger(cfg, logOut)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	a, cleanup, err := assemble(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer cleanup()
	if err := a.Seed(ctx); err != nil {
		return fmt.Errorf("seed accounts: %w", err)
	}
	if cfg.Mode == config.ModeDebug {
		log.Warn("debug mode: the log SMS sender and mailer print codes, and GET / shows the configuration; use GATEHOUSE_MODE=release in production")
	}
	srv := a.Server()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("gatehouse listening", "addr", cfg.HTTPAddr, "mode", cfg.Mode, "version", app.Version)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if derr := a.Drain(shutdownCtx); derr != nil {
		log.Warn("deliveries still in flight at shutdown", "err", derr)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func keysCommand(args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "generate" {
		return usageError{"usage: gatehouse keys generate"}
	}
	pem, err := jwt.GenerateKeyPEM()
	if err != nil {
		return err
	}
	_, err = stdout.Write(pem)
	return err
}

func migrateCommand(configPath string, args []string, stdout io.Writer) error {
	if len(args) != 1 || (args[0] != "up" && args[0] != "down" && args[0] != "status") {
		return usageError{"usage: gatehouse migrate up|down|status"}
	}
	cfg, err := loadConfig(configPath)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return errors.New("migrate needs GATEHOUSE_DATABASE_URL: the in-memory store has no schema")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	db, err := postgres.Open(ctx, postgres.Config{URL: cfg.DatabaseURL, Timeout: cfg.StoreTimeout})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Migrate(ctx, args[0], stdout)
}

// userCommand runs `gatehouse user ...` against the persistent store.
func userCommand(configPath string, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"usage: gatehouse user create|list|disable|enable|set-password"}
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	email := fs.String("email", "", "account email")
	password := fs.String("password", "", "password")
	name := fs.String("name", "", "display name")
	phone := fs.String("phone", "", "phone number")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	need := map[string][]string{
		"create": {"email", "password"}, "list": nil, "disable": {"email"},
		"enable": {"email"}, "set-password": {"email", "password"},
	}
	required, known := need[sub]
	if !known {
		return usageError{fmt.Sprintf("unknown user command %q", sub)}
	}
	values := map[string]string{"email": *email, "password": *password}
	for _, f := range required {
		if values[f] == "" {
			return usageError{fmt.Sprintf("user %s needs --%s", sub, f)}
		}
	}

	cfg, err := loadConfig(configPath)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return errors.New("user commands need the persistent store: set GATEHOUSE_DATABASE_URL and GATEHOUSE_REDIS_URL (in-memory accounts live only inside a running server; use GATEHOUSE_BOOTSTRAP_* or GATEHOUSE_SEED_FILE for them)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, cleanup, err := app.Persistent(ctx, cfg, newLogger(cfg, io.Discard), clock.System{})
	if err != nil {
		return err
	}
	defer cleanup()
	defer a.Drain(ctx) //nolint:errcheck // best effort: notices of a CLI action

	switch sub {
	case "create":
		u, err := a.Profile.CreateAccount(ctx, profile.NewAccount{Email: *email, Password: *password, Name: *name, Phone: *phone})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s %s\n", u.ID, u.Email)
	case "list":
		users, err := a.Profile.ListAccounts(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tPHONE\tTOTP\tSTATUS\tCREATED")
		for _, u := range users {
			status := "active"
			if !u.Active {
				status = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%t\t%s\t%s\n", u.ID, u.Email, u.Name, u.Phone, u.TOTPSecret != "", status, u.CreatedAt.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	case "disable", "enable":
		if err := a.Profile.SetActive(ctx, *email, sub == "enable"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%sd %s\n", strings.TrimSuffix(sub, "e"), *email)
	case "set-password":
		if err := a.Profile.SetPassword(ctx, *email, *password); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password set for %s\n", *email)
	}
	return nil
}
