package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/app/check"
	"github.com/minimart/minimart/internal/inventory/inventorydb"
	"github.com/minimart/minimart/internal/order/orderdb"
	"github.com/minimart/minimart/internal/payment/paymentdb"
	"github.com/minimart/minimart/internal/platform/config"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

// moduleDBs is the repeatable --db MODULE=URL flag: the databases of modules another
// service serves, for the comparisons that cross modules.
type moduleDBs map[string]string

func (m moduleDBs) String() string { return "" }

func (m moduleDBs) Set(v string) error {
	module, url, ok := strings.Cut(v, "=")
	if !ok || url == "" {
		return fmt.Errorf("want MODULE=URL, e.g. order=mysql://user:pass@host:3306/order")
	}
	if !slices.Contains([]string{config.ModuleInventory, config.ModuleOrder, config.ModulePayment}, module) {
		return fmt.Errorf("module %q: check reads the inventory, order and payment modules", module)
	}
	m[module] = url
	return nil
}

// checkCommand checks the live invariants and prints each violation with its ids:
// `minimart check [--outbox-age D] [--grace D] [--db MODULE=URL]…`. A violation is exit 1.
func checkCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	eventAge := fs.Duration("outbox-age", 5*time.Minute, "an event unpublished (or unhandled in process) for longer is a violation")
	grace := fs.Duration("grace", 5*time.Minute, "how long modules may take to agree after a change (a payment reaching its order, a hold's release)")
	dbs := moduleDBs{}
	fs.Var(dbs, "db", "MODULE=URL: the database of a module this process's settings do not serve (inventory, order, payment); repeatable")
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	if *eventAge <= 0 || *grace < 0 {
		return usagef("check: --outbox-age must be positive and --grace not negative")
	}
	// Only reads: no migration, so a read-only database user can run it.
	own, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer own.Close()
	src := check.Sources{EventDBs: []*sqldb.DB{own}}
	// Modules given one database (order and payment together, say) share one connection, and
	// its outbox is checked once.
	opened := map[string]*sqldb.DB{cfg.DBURL: own}
	for module, url := range dbs {
		if cfg.Serves(module) {
			return usagef("check: --db %s: this process's own database holds the %s module already", module, module)
		}
		db, ok := opened[url]
		if !ok {
			if db, err = sqldb.Open(ctx, url, cfg.DataDir); err != nil {
				return usagef("check: --db %s: %v", module, err)
			}
			defer db.Close()
			opened[url] = db
			src.EventDBs = append(src.EventDBs, db)
		}
		setSource(&src, module, db)
	}
	for _, module := range []string{config.ModuleInventory, config.ModuleOrder, config.ModulePayment} {
		if cfg.Serves(module) {
			setSource(&src, module, own)
		}
	}
	report, err := check.Run(ctx, src, check.Options{EventAge: *eventAge, Grace: *grace})
	if err != nil {
		return err
	}
	for _, v := range report.Violations {
		fmt.Fprintf(stdout, "VIOLATION %s: %s\n", v.Kind, v.Message)
	}
	for _, s := range report.Skipped {
		fmt.Fprintf(stdout, "skipped: %s\n", s)
	}
	fmt.Fprintf(stdout, "checked: %s; dead letters: %d\n", strings.Join(report.Checked, "; "), report.DeadLetters)
	if n := len(report.Violations); n > 0 {
		return fmt.Errorf("check: %d violation(s)", n)
	}
	fmt.Fprintln(stdout, "ok: no violations")
	return nil
}

func setSource(src *check.Sources, module string, db *sqldb.DB) {
	switch module {
	case config.ModuleInventory:
		src.Inventory = inventorydb.New(db, nil)
	case config.ModuleOrder:
		src.Orders = orderdb.New(db, nil)
	case config.ModulePayment:
		src.Payments = paymentdb.New(db, nil)
	}
}
