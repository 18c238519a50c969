package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"

	"github.com/pressly/goose/v3"
)

// Migrations is one module's forward-only schema history. FS (under Dir, if set) holds a
// folder per dialect ("sqlite", "mysql") of goose SQL files. Each module keeps its own version table, so a
// module can move to its own database when the shop is split into services.
type Migrations struct {
	Module string
	FS     fs.FS
	Dir    string
}

// MigrationState is one migration file and whether it has been applied.
type MigrationState struct {
	Module  string
	Version int64
	Name    string
	Applied bool
}

func (db *DB) provider(m Migrations) (*goose.Provider, error) {
	sub, err := fs.Sub(m.FS, path.Join(m.Dir, string(db.Dialect)))
	if err != nil {
		return nil, fmt.Errorf("migrations for %s/%s: %w", m.Module, db.Dialect, err)
	}
	dialect := goose.DialectSQLite3
	if db.Dialect == MySQL {
		dialect = goose.DialectMySQL
	}
	return goose.NewProvider(dialect, db.write, sub,
		goose.WithTableName("schema_"+m.Module),
		goose.WithDisableGlobalRegistry(true))
}

// Migrate applies every pending migration of each set, in order. On MySQL a named lock
// keeps instances starting at the same time from migrating at once.
func (db *DB) Migrate(ctx context.Context, sets ...Migrations) error {
	return db.migrate(ctx, nil, sets)
}

// migrate applies each set's migrations up to the version versions names for its module
// (nil: all of them; 0: none), under the migration lock.
func (db *DB) migrate(ctx context.Context, versions map[string]int64, sets []Migrations) error {
	if db.Dialect == MySQL {
		unlock, err := db.namedLock(ctx, "minimart_migrate")
		if err != nil {
			return err
		}
		defer unlock()
	}
	for _, m := range sets {
		p, err := db.provider(m)
		if err != nil {
			return err
		}
		if versions == nil {
			_, err = p.Up(ctx)
		} else if v := versions[m.Module]; v > 0 {
			_, err = p.UpTo(ctx, v)
		}
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.Module, err)
		}
	}
	return nil
}

// MigrationStatus lists every migration of each set and whether it is applied.
func (db *DB) MigrationStatus(ctx context.Context, sets ...Migrations) ([]MigrationState, error) {
	var out []MigrationState
	for _, m := range sets {
		p, err := db.provider(m)
		if err != nil {
			return nil, err
		}
		st, err := p.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("status %s: %w", m.Module, err)
		}
		for _, s := range st {
			out = append(out, MigrationState{Module: m.Module, Version: s.Source.Version,
				Name: s.Source.Path, Applied: s.State == goose.StateApplied})
		}
	}
	return out, nil
}

func (db *DB) namedLock(ctx context.Context, name string) (func(), error) {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return nil, err
	}
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 120)", name).Scan(&got); err != nil {
		conn.Close()
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	if got.Int64 != 1 {
		conn.Close()
		return nil, fmt.Errorf("migration lock %q not granted within 120s", name)
	}
	return func() {
		// Closing the session releases the lock even if RELEASE_LOCK fails.
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK(?)", name)
		conn.Close()
	}, nil
}

// SchemaVersions is the applied version of each set's schema, by module, as its version
// table records it (0: nothing applied).
func (db *DB) SchemaVersions(ctx context.Context, sets ...Migrations) (map[string]int64, error) {
	out := make(map[string]int64, len(sets))
	for _, m := range sets {
		p, err := db.provider(m)
		if err != nil {
			return nil, err
		}
		v, err := p.GetDBVersion(ctx)
		if err != nil {
			return nil, fmt.Errorf("schema version of %s: %w", m.Module, err)
		}
		out[m.Module] = v
	}
	return out, nil
}

// KnownVersions is the newest version of each set's schema this binary embeds, by module.
func (db *DB) KnownVersions(sets ...Migrations) (map[string]int64, error) {
	out := make(map[string]int64, len(sets))
	for _, m := range sets {
		p, err := db.provider(m)
		if err != nil {
			return nil, err
		}
		var newest int64
		for _, s := range p.ListSources() {
			newest = max(newest, s.Version)
		}
		out[m.Module] = newest
	}
	return out, nil
}

// MigrateTo applies each set's migrations up to the version versions names for its module,
// under the same lock as Migrate (a restore recreates the schema its rows were taken from;
// the next start migrates on).
func (db *DB) MigrateTo(ctx context.Context, versions map[string]int64, sets ...Migrations) error {
	return db.migrate(ctx, versions, sets)
}
