package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/catalog/catalogdb"
	"github.com/minimart/minimart/internal/catalog/catalogsearch"
	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/inventory/inventorydb"
	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/config"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/user"
	"github.com/minimart/minimart/internal/user/userdb"
)

// Base is what every process of the shop opens first: the migrated database, the id
// generator and the outbox. New builds the whole app on it; the one-shot commands build on
// it only the modules they work on, so they open no cache, broker, listener or (unless
// they can take it) search index, and run beside a server using the same data. Events
// they cause are outbox rows like any other write: the server's relay publishes them.
type Base struct {
	Config  config.Config
	DB      *sqldb.DB
	IDs     *ids.Generator
	Outbox  *events.Outbox
	log     *slog.Logger
	closers []func() error
}

// OpenBase opens and migrates the database of cfg (the schemas of the modules cfg serves).
// Close releases it and everything built on it.
func OpenBase(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...Option) (_ *Base, err error) {
	b := &Base{Config: cfg, Outbox: events.NewOutbox(), log: log}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	if b.IDs, err = ids.NewGenerator(cfg.NodeID); err != nil {
		return nil, err
	}
	if b.DB, err = sqldb.Open(ctx, cfg.DBURL, cfg.DataDir, sqldb.WithLogger(log),
		sqldb.WithTracer(optionsOf(opts).tracer)); err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	b.closers = append(b.closers, b.DB.Close)
	if err := b.DB.Migrate(ctx, Migrations(cfg.Modules...)...); err != nil {
		return nil, err
	}
	return b, nil
}

// Close releases what the base and everything built on it opened, the database last.
func (b *Base) Close() error {
	var errs []error
	for i := len(b.closers) - 1; i >= 0; i-- {
		errs = append(errs, b.closers[i]())
	}
	b.closers = nil
	return errors.Join(errs...)
}

// Users builds the user module for a command: staff accounts and the like. It counts no
// login attempts and offers no mini-program login, since a command logs nobody in.
func (b *Base) Users() (*user.Service, error) {
	key, err := signingKey(b.Config)
	if err != nil {
		return nil, err
	}
	tokens, err := auth.NewTokens(key, b.Config.AccessTokenTTL)
	if err != nil {
		return nil, err
	}
	return b.users(tokens, nil, nil)
}

func (b *Base) users(tokens *auth.Tokens, exchanger user.CodeExchanger, attempts user.AttemptCounter) (*user.Service, error) {
	cfg := b.Config
	return user.NewService(userdb.New(b.DB, b.Outbox), tokens, b.IDs, exchanger, attempts, user.Config{
		RefreshTTL: cfg.RefreshTokenTTL, PasswordCost: cfg.PasswordCost,
		LoginMaxFailures: cfg.LoginMaxFailures, LoginMaxPerIP: cfg.LoginMaxPerIP, LoginWindow: cfg.LoginWindow,
	}, b.log)
}

// CatalogStore is the catalog module's store over the database.
func (b *Base) CatalogStore() *catalogdb.Store { return catalogdb.New(b.DB, b.Outbox) }

// Catalog builds the catalog module.
func (b *Base) Catalog(store *catalogdb.Store) *catalog.Service {
	return catalog.NewService(store, b.IDs, b.log)
}

// Inventory builds the inventory module; owners tells it which product a SKU belongs to
// (the catalog, here or at its peer).
func (b *Base) Inventory(owners inventory.Catalog) *inventory.Service {
	return inventory.NewService(inventorydb.New(b.DB, b.Outbox), owners, b.IDs, b.log)
}

// Payments builds the payment module with the configured providers, for a command that
// neither takes payments nor refunds them (reconciliation): it reaches no order or user
// module and runs none of the server's background work.
func (b *Base) Payments(ctx context.Context) (*payment.Service, error) {
	key, err := signingKey(b.Config)
	if err != nil {
		return nil, err
	}
	publicURL := b.Config.PublicURL
	if publicURL == "" {
		publicURL = defaultPublicURL(b.Config.Addr, b.Config.TLS())
	}
	svc, _, err := b.payments(ctx, key, func() string { return publicURL }, nil, nil, prometheus.NewRegistry())
	return svc, err
}

// SearchDir is where the data dir keeps the search index.
func SearchDir(cfg config.Config) string { return filepath.Join(cfg.DataDir, "search") }

// OpenSearchIndex opens the data dir's search index for the catalog of store, with the
// indexer that keeps it (changed, if not nil, runs after each change to the index). An
// index that nothing in may be served (made with an earlier mapping, from another
// database, or by a build that did not finish) is started anew, empty; an outdated one is
// kept and serves until a rebuild replaces its documents (see catalog.Indexer.State).
// catalogsearch.ErrInUse means another process, a running server, has it open.
func (b *Base) OpenSearchIndex(ctx context.Context, store catalog.Storer, changed func(ctx context.Context) error) (*catalogsearch.Index, *catalog.Indexer, error) {
	dir := SearchDir(b.Config)
	index, err := catalogsearch.Open(dir)
	if errors.Is(err, catalogsearch.ErrSchemaVersion) {
		b.log.Warn("search index must be rebuilt", slog.String("dir", dir), slog.String("reason", err.Error()))
		index, err = reopenEmpty(nil, dir)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("search index: %w", err)
	}
	indexer := catalog.NewIndexer(store, index, b.log, changed)
	state, err := indexer.State(ctx)
	if err == nil && state == catalog.IndexForeign {
		var n int
		if n, err = index.Count(ctx); err == nil && n > 0 {
			b.log.Warn("search index is started anew", slog.String("dir", dir), slog.String("reason", state.String()),
				slog.Int("documents", n))
			if index, err = reopenEmpty(index, dir); err == nil {
				indexer = catalog.NewIndexer(store, index, b.log, changed)
			}
		}
	}
	if err != nil {
		if index != nil {
			index.Close()
		}
		return nil, nil, fmt.Errorf("search index: %w", err)
	}
	b.closers = append(b.closers, index.Close)
	return index, indexer, nil
}

// reopenEmpty closes index (if open), deletes dir and opens a new, empty index there.
func reopenEmpty(index *catalogsearch.Index, dir string) (*catalogsearch.Index, error) {
	if index != nil {
		if err := index.Close(); err != nil {
			return nil, err
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	return catalogsearch.Open(dir)
}
