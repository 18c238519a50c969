package main

import (
	"context"
	"fmt"

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
