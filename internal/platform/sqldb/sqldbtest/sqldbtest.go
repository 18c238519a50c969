// Package sqldbtest runs store tests against every engine: a fresh SQLite file and a fresh
// MariaDB database per test, migrated with the module's own migrations.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/minimart/minimart/internal/platform/servicetest"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

// SQLite opens a migrated SQLite database in a temporary directory.
func SQLite(t testing.TB, sets ...sqldb.Migrations) *sqldb.DB {
	t.Helper()
	db, err := sqldb.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "test.db"), "")
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	migrate(t, db, sets)
	return db
}

// MySQLDatabaseURL creates an empty database on the test server and returns its URL; the
// database is dropped when the test ends.
func MySQLDatabaseURL(t testing.TB) string {
	t.Helper()
	serverURL := servicetest.MySQLURL(t)
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatalf("%s: %v", servicetest.MySQLEnv, err)
	}
	admin, err := sqldb.Open(context.Background(), serverURL, "")
	if err != nil {
		t.Fatalf("open mariadb: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "mmtest_" + hex.EncodeToString(b)
	if _, err := admin.Write().Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Write().Exec("DROP DATABASE " + name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
		admin.Close()
	})
	u.Path = "/" + name
	return u.String()
}

// MySQL opens a migrated, empty MariaDB database, or skips when no server is configured.
func MySQL(t testing.TB, sets ...sqldb.Migrations) *sqldb.DB {
	t.Helper()
	db, err := sqldb.Open(context.Background(), MySQLDatabaseURL(t), "")
	if err != nil {
		t.Fatalf("open mariadb: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	migrate(t, db, sets)
	return db
}

func migrate(t testing.TB, db *sqldb.DB, sets []sqldb.Migrations) {
	t.Helper()
	if err := db.Migrate(context.Background(), sets...); err != nil {
		t.Fatalf("migrate %s: %v", db.Dialect, err)
	}
}

// ForEachEngine runs fn as a subtest on SQLite and on MariaDB, each with a fresh database.
func ForEachEngine(t *testing.T, sets []sqldb.Migrations, fn func(t *testing.T, db *sqldb.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t, sets...)) })
	t.Run("mariadb", func(t *testing.T) { fn(t, MySQL(t, sets...)) })
}
