package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minimart/minimart/internal/app"
	"github.com/minimart/minimart/internal/platform/config"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

func openDB(ctx context.Context, cfg config.Config) (*sqldb.DB, error) {
	db, err := sqldb.Open(ctx, cfg.DBURL, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	return db, nil
}

// commandNodeID is the id generator node of a one-shot command whose environment names
// none. Commands often run beside a server on the same database, and the default node 0 is
// the server's: both would hand out the same ids in the same millisecond. Set
// MINIMART_NODE_ID to give a command another node (deploy/compose.yaml gives each its own).
const commandNodeID = 1023

// openBase opens what a one-shot command builds on: the migrated database, and nothing else
// of the app (no cache, broker, listener or search index), so it runs beside a server.
func openBase(ctx context.Context, cfg config.Config, getenv func(string) string, stderr io.Writer) (*app.Base, error) {
	if getenv("MINIMART_NODE_ID") == "" && getenv("MINIMART_NODE_ID_OFFSET") == "" {
		cfg.NodeID = commandNodeID
	}
	base, err := app.OpenBase(ctx, cfg, newLogger(stderr, cfg, getenv))
	return base, configError(err)
}

// configError makes a configuration problem found while building (a key file that cannot
// be read, say) a usage error: exit status 2, like those config.Load finds.
func configError(err error) error {
	var cfgErr *config.Error
	if errors.As(err, &cfgErr) {
		return &usageError{err}
	}
	return err
}
