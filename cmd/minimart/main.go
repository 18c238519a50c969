// Command minimart is the whole shop backend in one binary: `minimart serve` (the default)
// runs every module; other subcommands manage the schema and accounts.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "minimart:", err)
		var u *usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake in the command line or the configuration: exit status 2.
type usageError struct{ err error }

func (u *usageError) Error() string { return u.err.Error() }
func (u *usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error { return &usageError{fmt.Errorf(format, args...)} }

const usage = `usage: minimart [command] [flags]

commands:
  serve                 run the shop (default)      --addr :8080 --data-dir ./data
  migrate [up|status]   apply or list schema migrations
  admin create          create a staff account      --username U --password-file F --role admin|operator
  demo load             load the demo catalog       --products 200
  reindex               rebuild the search index from the database
  sandbox pay PAY-URL   pay an order at the sandbox cashier (the pay_url of a sandbox payment)  [--fail]
  payments reconcile    compare each provider's bill with ours  --date YYYY-MM-DD
  backup                back up the database and uploaded files while the shop runs  --to FILE|FOLDER [--keep N]
  restore               restore a backup into an empty database, then rebuild search  --from FILE [--force]
  check                 check the live invariants (stock, holds, payments, outbox); exit 1 on a violation
                        [--outbox-age 5m] [--grace 5m] [--db MODULE=URL ...]
  version               print the version
  help                  this text and the environment variables
`

// run is the whole program, with its inputs passed in so tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || (args[0] != "" && args[0][0] != '-')) {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "admin":
		return admin(ctx, args, getenv, stdout, stderr)
	case "demo":
		return demoCommand(ctx, args, getenv, stdout, stderr)
	case "reindex":
		return reindex(ctx, args, getenv, stdout, stderr)
	case "sandbox":
		return sandboxCommand(ctx, args, stdout, stderr)
	case "payments":
		return paymentsCommand(ctx, args, getenv, stdout, stderr)
	case "backup":
		return backupCommand(ctx, args, getenv, stdout, stderr)
	case "restore":
		return restoreCommand(ctx, args, getenv, stdout, stderr)
	case "check":
		return checkCommand(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "minimart", version())
		return nil
	case "help", "-h", "--help":
		printHelp(stdout)
		return nil
	default:
		printHelp(stderr)
		return usagef("unknown command %q", cmd)
	}
}
