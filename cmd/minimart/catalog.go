package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/minimart/minimart/internal/app"
	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/catalog/catalogsearch"
	"github.com/minimart/minimart/internal/catalog/demo"
	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/platform/config"
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
	base, err := openBase(ctx, cfg, getenv, stderr)
	if err != nil {
		return err
	}
	defer base.Close()
	products := base.Catalog(base.CatalogStore())
	res, err := loadDemo(ctx, products, base.Inventory(products), *n, stdout)
	if errors.Is(err, demo.ErrNotEmpty) {
		return usagef("demo load: the catalog already has categories; the demo only loads into an empty catalog")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "loaded the demo catalog: %d categories, %d products, %d SKUs\n", res.Categories, res.Products, res.SKUs)
	// The search index belongs to the server: this command never opens it. Its events are
	// in the outbox like any other write's.
	fmt.Fprintln(stdout, "search finds the products once a server indexes them from their events: a running server does so now, else the next start")
	return nil
}

func loadDemo(ctx context.Context, products *catalog.Service, stock *inventory.Service, n int, progress io.Writer) (demo.Result, error) {
	return demo.Load(ctx, products, demoStock{stock}, n, func(done int) {
		fmt.Fprintf(progress, "\rloading demo products: %d/%d", done, n)
		if done == n {
			fmt.Fprintln(progress)
		}
	})
}

// reindex rebuilds the search index from the database. It first raises the catalog's index
// version, which makes every index built before out of date: a server holding its index
// open (this data dir's, or any other instance's) rebuilds it in place within
// MINIMART_SCHEDULE_INTERVAL while it keeps answering searches. When no server holds this
// data dir's index, the command rebuilds it itself.
func reindex(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reindex", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	if err := needModules(cfg, "reindex", config.ModuleCatalog); err != nil {
		return err
	}
	return rebuildSearchIndex(ctx, cfg, getenv, stdout, stderr)
}

// rebuildSearchIndex is reindex after its flags: restore runs it too.
func rebuildSearchIndex(ctx context.Context, cfg config.Config, getenv func(string) string, stdout, stderr io.Writer) error {
	base, err := openBase(ctx, cfg, getenv, stderr)
	if err != nil {
		return err
	}
	defer base.Close()
	store := base.CatalogStore()
	version, err := store.RaiseIndexVersion(ctx)
	if err != nil {
		return err
	}
	_, indexer, err := base.OpenSearchIndex(ctx, store, nil)
	if errors.Is(err, catalogsearch.ErrInUse) {
		fmt.Fprintf(stdout, "reindex requested (index version %d): the server that has %s open rebuilds it within %s, "+
			"searching the old one until then; so does every other running instance of this catalog\n",
			version, app.SearchDir(cfg), cfg.ScheduleInterval)
		return nil
	}
	if err != nil {
		return err
	}
	_, total, err := store.Products(ctx, catalog.ListFilter{Status: catalog.OnShelf, Limit: 1})
	if err != nil {
		return err
	}
	done, err := indexer.Rebuild(ctx, func(done int) {
		fmt.Fprintf(stdout, "\rindexed %d/%d products", done, total)
	})
	fmt.Fprintln(stdout)
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	fmt.Fprintf(stdout, "search index rebuilt: %d products in %s (index version %d)\n", done, app.SearchDir(cfg), version)
	if !cfg.Embedded() {
		fmt.Fprintf(stdout, "running instances with their own index rebuild theirs within %s\n", cfg.ScheduleInterval)
	}
	return nil
}

// demoStock sets the demo's stock through the inventory module.
type demoStock struct{ inv *inventory.Service }

func (d demoStock) SetStock(ctx context.Context, actor string, skuID ids.ID, stock int64, reason string) error {
	_, err := d.inv.SetStock(ctx, actor, skuID, stock, reason)
	return err
}
