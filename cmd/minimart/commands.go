package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/minimart/minimart/internal/app"
	"github.com/minimart/minimart/internal/catalog/demo"
	"github.com/minimart/minimart/internal/platform/config"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/logging"
	"github.com/minimart/minimart/internal/platform/telemetry"
)

func printHelp(w io.Writer) {
	fmt.Fprint(w, usage)
	fmt.Fprintln(w, "\nenvironment:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, v := range config.Vars {
		def := v.Default
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.Name, def, v.Help)
	}
	tw.Flush()
}

// buildVersion is set with -ldflags "-X main.buildVersion=v1.2.3" by release builds.
var buildVersion = ""

func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// loadConfig parses the common flags and the environment. Flags override variables.
func loadConfig(fs *flag.FlagSet, args []string, getenv func(string) string) (config.Config, error) {
	var o config.Overrides
	fs.StringVar(&o.DataDir, "data-dir", "", "data directory (env MINIMART_DATA_DIR, default ./data)")
	if fs.Lookup("addr") == nil {
		fs.StringVar(&o.Addr, "addr", "", "listen address (env MINIMART_ADDR, default :8080)")
	}
	fs.StringVar(&o.Modules, "modules", "", "modules this process serves (env MINIMART_MODULES, default all)")
	if err := fs.Parse(args); err != nil {
		return config.Config{}, &usageError{err}
	}
	cfg, err := config.Load(getenv, o)
	if err != nil {
		return config.Config{}, &usageError{fmt.Errorf("configuration: %w", err)}
	}
	return cfg, nil
}

// newLogger is the JSON logger of cfg's process: ECS field names, the service named as
// tracing names it, request and trace ids from the context, secrets redacted (logging).
func newLogger(w io.Writer, cfg config.Config, getenv func(string) string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		l = slog.LevelInfo
	}
	return logging.New(w, l, telemetry.ServiceName(getenv, cfg.Modules, config.Modules))
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg, getenv)
	tracing, err := telemetry.Setup(ctx, getenv, telemetry.ServiceName(getenv, cfg.Modules, config.Modules))
	if err != nil {
		return &usageError{err}
	}
	defer func() {
		// After Run: the last requests' and events' spans are exported before the exit.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := tracing.Shutdown(sctx); err != nil {
			log.Warn("spans not exported at stop", slog.String("error", err.Error()))
		}
	}()
	a, err := app.New(ctx, cfg, log, app.WithTracer(tracing.Tracer()))
	if err != nil {
		var cfgErr *config.Error
		if errors.As(err, &cfgErr) {
			return &usageError{err}
		}
		return err
	}
	defer a.Close()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return &usageError{fmt.Errorf("MINIMART_ADDR: cannot listen on %s: %w", cfg.Addr, err)}
	}
	// Serve closes it when it stops; this covers a failure before serving starts.
	defer ln.Close()
	ops, err := listenOps(cfg)
	if err != nil {
		return err
	}
	if ops != nil {
		defer ops.Close()
	}
	if cfg.Embedded() && cfg.BootstrapAdminAuto && a.Users != nil {
		name, password, created, err := a.Users.EnsureAdmin(ctx)
		if err != nil {
			return fmt.Errorf("create first admin: %w", err)
		}
		if created {
			fmt.Fprintf(stdout, "Created admin account %q with password %s\n"+
				"  (shown only now; log in to the console at /admin/ or POST /api/v1/admin/auth/login)\n", name, password)
		}
	}
	if cfg.Embedded() && cfg.Demo && a.Catalog != nil && a.Inventory != nil {
		res, err := loadDemo(ctx, a.Catalog, a.Inventory, demo.DefaultProducts, io.Discard)
		switch {
		case errors.Is(err, demo.ErrNotEmpty):
		case err != nil:
			return fmt.Errorf("load the demo catalog: %w", err)
		default:
			fmt.Fprintf(stdout, "Loaded the demo catalog: %d products in %d categories (MINIMART_DEMO=0 starts empty)\n", res.Products, res.Categories)
		}
	}

	scheme := "http"
	if cfg.TLS() {
		scheme = "https"
	}
	base := scheme + "://" + displayAddr(ln.Addr())
	fmt.Fprintf(stdout, "Minimart %s serving (%s)\n  shop     %s/\n  console  %s/admin/\n  API      %s/api/v1\n  docs     %s/docs\n",
		version(), a.DB.Target, base, base, base, base)
	opsAddr := "off"
	if ops != nil {
		opsAddr = ops.Addr().String()
		// The operator listener (MINIMART_OPS_ADDR) speaks plain HTTP, even when the API is HTTPS.
		fmt.Fprintf(stdout, "  metrics  http://%s/metrics\n", displayAddr(ops.Addr()))
	}
	log.Info("serving", slog.String("addr", ln.Addr().String()), slog.String("ops_addr", opsAddr), slog.String("database", a.DB.Target))
	if err := a.Run(ctx, ln, ops); err != nil {
		return err
	}
	log.Info("stopped cleanly")
	return nil
}

// displayAddr turns a wildcard listen address into one a person can open.
func displayAddr(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	action := "up"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		action, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	if action != "up" && action != "status" {
		return usagef("migrate: unknown action %q (want up or status)", action)
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if action == "up" {
		if err := db.Migrate(ctx, app.Migrations(cfg.Modules...)...); err != nil {
			return err
		}
	}
	states, err := db.MigrationStatus(ctx, app.Migrations(cfg.Modules...)...)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODULE\tVERSION\tSTATE\tFILE")
	for _, s := range states {
		state := "pending"
		if s.Applied {
			state = "applied"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", s.Module, s.Version, state, s.Name)
	}
	return tw.Flush()
}

func admin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usagef("usage: minimart admin create --username U --password-file F --role admin|operator")
	}
	fs := flag.NewFlagSet("admin create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	username := fs.String("username", "", "staff username")
	passwordFile := fs.String("password-file", "", "file holding the password (- for standard input)")
	role := fs.String("role", "admin", "admin or operator")
	cfg, err := loadConfig(fs, args[1:], getenv)
	if err != nil {
		return err
	}
	if *username == "" || *passwordFile == "" {
		return usagef("admin create: --username and --password-file are required")
	}
	password, err := readPassword(*passwordFile)
	if err != nil {
		return &usageError{err}
	}
	if err := needModules(cfg, "admin create", config.ModuleUser); err != nil {
		return err
	}
	base, err := openBase(ctx, cfg, getenv, stderr)
	if err != nil {
		return err
	}
	defer base.Close()
	users, err := base.Users()
	if err != nil {
		return err
	}
	st, err := users.CreateStaff(ctx, *username, password, *role)
	if err != nil {
		if e, ok := errs.As(err); ok && e.Kind != errs.Internal {
			return usagef("admin create: %s", e.Describe())
		}
		return err
	}
	fmt.Fprintf(stdout, "created %s account %q (id %s)\n", st.Role, st.Username, st.ID)
	return nil
}

func readPassword(path string) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(os.Stdin, 1024))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("--password-file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// needModules refuses a command that works on modules this process's configuration does
// not serve (a split service's settings name only its own modules).
func needModules(cfg config.Config, command string, modules ...string) error {
	for _, m := range modules {
		if !cfg.Serves(m) {
			return usagef("%s works on the %s module(s): run it with the settings of the service that serves them (MINIMART_MODULES including %s)",
				command, strings.Join(modules, " and "), strings.Join(modules, ","))
		}
	}
	return nil
}
