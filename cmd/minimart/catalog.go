package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/minimart/minimart/internal/app"
	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/catalog/catalogdb"
	"github.com/minimart/minimart/internal/catalog/catalogsearch"
	"github.com/minimart/minimart/internal/catalog/demo"
	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/platform/config"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
)

// demoCommand loads the demo catalog into any shape: `minimart demo load [--products N]`.
func demoCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "load" {
		return usagef("usage: minimart demo load [--products N]")
	}
	fs := flag.NewFlagSet("demo load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("products", demo.DefaultProducts, "how many products to generate")
	cfg, err := loadConfig(fs, args[1:], getenv)
	if err != nil {
		return err
	}
	if *n < 1 || *n > 1_000_000 {
		return usagef("demo load: --products must be between 1 and 1000000")
	}
	if err := needModules(cfg, "demo load", config.ModuleCatalog, config.ModuleInventory); err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, newLogger(stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := loadDemo(ctx, a, *n, stdout)
	if errors.Is(err, demo.ErrNotEmpty) {
		return usagef("demo load: the catalog already has categories; the demo only loads into an empty catalog")
	}
	if err != nil {
		return err
	}
	// Index now, so search works even before the server's relay has delivered the events.
	if _, err := a.Indexer.Rebuild(ctx, nil); err != nil {
		return fmt.Errorf("index the demo catalog: %w", err)
	}
	fmt.Fprintf(stdout, "loaded the demo catalog: %d categories, %d products, %d SKUs\n", res.Categories, res.Products, res.SKUs)
	return nil
}

func loadDemo(ctx context.Context, a *app.App, n int, progress io.Writer) (demo.Result, error) {
	return demo.Load(ctx, a.Catalog, demoStock{a.Inventory}, n, func(done int) {
		fmt.Fprintf(progress, "\rloading demo products: %d/%d", done, n)
		if done == n {
			fmt.Fprintln(progress)
		}
	})
}

// reindex rebuilds the search index from the database into a new directory and swaps it in,
// so a half-built index is never left in place.
func reindex(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reindex", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := needModules(cfg, "reindex", config.ModuleCatalog); err != nil {
		return err
	}
	if err := db.Migrate(ctx, app.Migrations(cfg.Modules...)...); err != nil {
		return err
	}
	store := catalogdb.New(db, events.NewOutbox())
	_, total, err := store.Products(ctx, catalog.ListFilter{Status: catalog.OnShelf, Limit: 1})
	if err != nil {
		return err
	}
	dir := filepath.Join(cfg.DataDir, "search")
	fresh := dir + ".new"
	if err := os.RemoveAll(fresh); err != nil {
		return err
	}
	index, err := catalogsearch.Open(fresh)
	if err != nil {
		return err
	}
	done, err := catalog.NewIndexer(store, index, newLogger(stderr, cfg.LogLevel), nil).Rebuild(ctx, func(done int) {
		fmt.Fprintf(stdout, "\rindexed %d/%d products", done, total)
	})
	fmt.Fprintln(stdout)
	if closeErr := index.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		os.RemoveAll(fresh)
		return fmt.Errorf("reindex: %w", err)
	}
	old := dir + ".old"
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	if err := os.Rename(dir, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(fresh, dir); err != nil {
		return err
	}
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "search index rebuilt: %d products in %s (restart a running server to use it)\n", done, dir)
	return nil
}

// demoStock sets the demo's stock through the inventory module.
type demoStock struct{ inv *inventory.Service }

func (d demoStock) SetStock(ctx context.Context, actor string, skuID ids.ID, stock int64, reason string) error {
	_, err := d.inv.SetStock(ctx, actor, skuID, stock, reason)
	return err
}
