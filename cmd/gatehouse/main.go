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

	"github.com/gatehouse/gatehouse/adapters/accesslog"
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
  keys check                              list accounts whose TOTP secret does not open
                                          with the configured keys (exit 1 if any)
  history prune                           delete login attempts older than the retention, now
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
		err = keysCommand(*configPath, args, stdout)
	case "migrate":
		err = migrateCommand(*configPath, args, stdout)
	case "history":
		err = historyCommand(*configPath, args, stdout)
	case "version":
		if err = parseFlags(flag.NewFlagSet("version", flag.ContinueOnError), args); err == nil {
			fmt.Fprintln(stdout, "gatehouse", app.Version)
		}
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

// parseFlags parses a command's arguments with fs: flags it does not define
// and positional arguments (no command takes any after its name) are usage
// errors, so a mistyped flag never runs a command with a default instead.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return usageError{fmt.Sprintf("%s: %v", fs.Name(), err)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return nil
}

// subcommand splits off the subcommand name of a command that has them
// (user, keys, migrate) and checks it is one of known.
func subcommand(cmd string, args []string, known ...string) (string, []string, error) {
	want := usageError{fmt.Sprintf("usage: gatehouse %s %s", cmd, strings.Join(known, "|"))}
	if len(args) == 0 {
		return "", nil, want
	}
	for _, k := range known {
		if args[0] == k {
			return args[0], args[1:], nil
		}
	}
	want.msg = fmt.Sprintf("unknown %s command %q; %s", cmd, args[0], want.msg)
	return "", nil, want
}

func loadConfig(flagPath string) (config.Config, error) {
	return config.Load(config.Path(flagPath), os.Environ())
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: logLevel(cfg)}))
}

func logLevel(cfg config.Config) slog.Level {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	return level
}

// newServeLogger is newLogger with the asynchronous access log on the same
// output (see adapters/accesslog); the returned function writes out the
// lines still waiting.
func newServeLogger(cfg config.Config, w io.Writer) (*slog.Logger, func()) {
	log, access := accesslog.NewLogger(w, logLevel(cfg), accesslog.Options{
		Buffer: cfg.AccessLogBuffer, FlushInterval: cfg.AccessLogFlushInterval,
	})
	return log, func() {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		_ = access.Close(ctx)
		if n := access.Dropped(); n > 0 {
			log.Warn("access log lines dropped since start: the log output was slower than the requests", "dropped", n)
		}
	}
}

// assemble builds the service on the configured stores.
func assemble(ctx context.Context, cfg config.Config, log *slog.Logger) (*app.App, func(), error) {
	if cfg.DatabaseURL == "" {
		return app.InMemory(cfg, log, clock.System{})
	}
	return app.Persistent(ctx, cfg, log, clock.System{})
}

func serve(configPath string, args []string, logOut io.Writer) error {
	if err := parseFlags(flag.NewFlagSet("serve", flag.ContinueOnError), args); err != nil {
		return err
	}
	cfg, err := loadConfig(configPath)
	if err != nil {
		return err
	}
	log, flushLog := newServeLogger(cfg, logOut)
	defer flushLog()
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
	// SIGHUP is caught before any listener answers: uncaught, it would
	// end the process.
	stopReload := reloadOnHangup(a)
	defer stopReload()
	srv := a.Server()
	errc := make(chan error, 2)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("gatehouse listening", "addr", cfg.HTTPAddr, "mode", cfg.Mode, "version", app.Version)
	metricsSrv := a.MetricsServer()
	if metricsSrv != nil {
		go func() { errc <- metricsSrv.ListenAndServe() }()
		log.Info("metrics listening", "addr", cfg.MetricsAddr)
	}
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
	// The metrics listener goes last, so a scrape during the drain still
	// answers.
	if metricsSrv != nil {
		if merr := metricsSrv.Shutdown(shutdownCtx); merr != nil && err == nil {
			err = merr
		}
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// reloadOnHangup reloads the signing keys on every SIGHUP, and nothing
// else; a reload that fails keeps the keys in force and logs why (see
// App.ReloadKeys). The returned function stops listening.
func reloadOnHangup(a *app.App) func() {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				_ = a.ReloadKeys() // logged there
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
	}
}

func keysCommand(configPath string, args []string, stdout io.Writer) error {
	sub, args, err := subcommand("keys", args, "generate", "check")
	if err != nil {
		return err
	}
	if err := parseFlags(flag.NewFlagSet("keys "+sub, flag.ContinueOnError), args); err != nil {
		return err
	}
	if sub == "check" {
		return withPersistentApp(configPath, "keys check", func(ctx context.Context, a *app.App) error {
			return keysCheck(ctx, a, stdout)
		})
	}
	pem, err := jwt.GenerateKeyPEM()
	if err != nil {
		return err
	}
	_, err = stdout.Write(pem)
	return err
}

// keysCheck lists the accounts whose bound TOTP secret does not open with
// the configured keys (GATEHOUSE_TOTP_ENCRYPTION_KEYS, else the one derived
// from GATEHOUSE_SECRET), so an operator finds them before their owners
// do. Those accounts cannot log in by TOTP until the key that sealed the
// secret is configured again or they bind TOTP anew.
func keysCheck(ctx context.Context, a *app.App, stdout io.Writer) error {
	users, err := a.Profile.ListAccounts(ctx)
	if err != nil {
		return err
	}
	var bound, bad int
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, u := range users {
		switch a.Profile.TOTPState(&u) {
		case profile.TOTPBound:
			bound++
		case profile.TOTPUnreadable:
			bound++
			if bad == 0 {
				fmt.Fprintln(tw, "ID\tEMAIL\tKEY")
			}
			bad++
			fmt.Fprintf(tw, "%s\t%s\t%s\n", u.ID, u.Email, u.TOTP.KeyID)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d TOTP secrets do not open with the configured keys: configure the key named in KEY again, or have those accounts bind TOTP anew", bad, bound)
	}
	fmt.Fprintf(stdout, "all %d TOTP secrets open with the configured keys\n", bound)
	return nil
}

// historyCommand runs `gatehouse history prune`: the background retention,
// once, now. Another replica pruning at the same moment makes it fail
// (exit 1) rather than wait: that one is doing the same work.
func historyCommand(configPath string, args []string, stdout io.Writer) error {
	sub, args, err := subcommand("history", args, "prune")
	if err != nil {
		return err
	}
	if err := parseFlags(flag.NewFlagSet("history "+sub, flag.ContinueOnError), args); err != nil {
		return err
	}
	cfg, err := loadConfig(configPath)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return errors.New("history prune needs the persistent store: set GATEHOUSE_DATABASE_URL and GATEHOUSE_REDIS_URL (the in-memory history lives only inside a running server, which prunes it itself)")
	}
	// A large backlog is many batches with pauses: allow far more than the
	// minute of the other commands, and stop cleanly on Ctrl-C.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, time.Hour)
	defer cancel()
	a, cleanup, err := app.Persistent(ctx, cfg, newLogger(cfg, io.Discard), clock.System{})
	if err != nil {
		return err
	}
	defer cleanup()
	n, cutoff, err := a.History.Prune(ctx)
	if err != nil {
		return fmt.Errorf("history prune: %d deleted, then: %w", n, err)
	}
	fmt.Fprintf(stdout, "deleted %d login attempts older than %s\n", n, cutoff.UTC().Format(time.RFC3339))
	return nil
}

func migrateCommand(configPath string, args []string, stdout io.Writer) error {
	sub, args, err := subcommand("migrate", args, "up", "down", "status")
	if err != nil {
		return err
	}
	if err := parseFlags(flag.NewFlagSet("migrate "+sub, flag.ContinueOnError), args); err != nil {
		return err
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
	return db.Migrate(ctx, sub, stdout)
}

// userCommands are the user subcommands: the flags each takes, and which
// of them it needs.
var userCommands = map[string]struct{ takes, needs []string }{
	"create":       {takes: []string{"email", "password", "name", "phone"}, needs: []string{"email", "password"}},
	"list":         {},
	"disable":      {takes: []string{"email"}, needs: []string{"email"}},
	"enable":       {takes: []string{"email"}, needs: []string{"email"}},
	"set-password": {takes: []string{"email", "password"}, needs: []string{"email", "password"}},
}

var userFlagHelp = map[string]string{"email": "account email", "password": "password", "name": "display name", "phone": "phone number"}

// userCommand runs `gatehouse user ...` against the persistent store.
func userCommand(configPath string, args []string, stdout io.Writer) error {
	sub, args, err := subcommand("user", args, "create", "list", "disable", "enable", "set-password")
	if err != nil {
		return err
	}
	spec := userCommands[sub]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	values := make(map[string]*string, len(spec.takes))
	for _, name := range spec.takes {
		values[name] = fs.String(name, "", userFlagHelp[name])
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	flagValue := func(name string) string { return *values[name] }
	for _, f := range spec.needs {
		if flagValue(f) == "" {
			return usageError{fmt.Sprintf("user %s needs --%s", sub, f)}
		}
	}
	return withPersistentApp(configPath, "user "+sub, func(ctx context.Context, a *app.App) error {
		switch sub {
		case "create":
			u, err := a.Profile.CreateAccount(ctx, profile.NewAccount{Email: flagValue("email"), Password: flagValue("password"), Name: flagValue("name"), Phone: flagValue("phone")})
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "created %s %s\n", u.ID, u.Email)
		case "list":
			return userList(ctx, a, stdout)
		case "disable", "enable":
			if err := a.Profile.SetActive(ctx, flagValue("email"), sub == "enable"); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%sd %s\n", sub, flagValue("email"))
		case "set-password":
			if err := a.Profile.SetPassword(ctx, flagValue("email"), flagValue("password")); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "password set for %s\n", flagValue("email"))
		}
		return nil
	})
}

// userList prints every account. TOTP is true or false, or "unreadable"
// when a secret is bound but does not open with the configured keys (see
// `gatehouse keys check`).
func userList(ctx context.Context, a *app.App, stdout io.Writer) error {
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
		totp := "false"
		switch a.Profile.TOTPState(&u) {
		case profile.TOTPBound:
			totp = "true"
		case profile.TOTPUnreadable:
			totp = "unreadable"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Name, u.Phone, totp, status, u.CreatedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

// withPersistentApp assembles the service on the configured PostgreSQL and
// Redis for an administrative command (what names it in the error when no
// database is configured), runs fn, and lets notices it caused go out.
func withPersistentApp(configPath, what string, fn func(ctx context.Context, a *app.App) error) error {
	cfg, err := loadConfig(configPath)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return fmt.Errorf("%s needs the persistent store: set GATEHOUSE_DATABASE_URL and GATEHOUSE_REDIS_URL (in-memory accounts live only inside a running server; use GATEHOUSE_BOOTSTRAP_* or GATEHOUSE_SEED_FILE for them)", what)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, cleanup, err := app.Persistent(ctx, cfg, newLogger(cfg, io.Discard), clock.System{})
	if err != nil {
		return err
	}
	defer cleanup()
	defer a.Drain(ctx) //nolint:errcheck // best effort: notices of a CLI action
	return fn(ctx, a)
}
