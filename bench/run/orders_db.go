package main

// The orders group's own databases: the raw-writes baseline, and the MariaDB databases
// created for one run.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/minimart/minimart/internal/platform/sqldb"
)

// rawDB is the baseline's own database: the writes an order needs, at their simplest.
type rawDB struct {
	db   *sqldb.DB
	next atomic.Int64 // order ids
	now  func() time.Time
}

// openRawDB opens the fresh database at rawURL and creates and fills the tables.
func openRawDB(ctx context.Context, rawURL string) (*rawDB, error) {
	db, err := sqldb.Open(ctx, rawURL, "")
	if err != nil {
		return nil, err
	}
	suffix := ""
	if db.Dialect == sqldb.MySQL {
		suffix = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
	}
	ddl := []string{
		`CREATE TABLE stock (
			sku_id BIGINT NOT NULL PRIMARY KEY,
			available BIGINT NOT NULL,
			reserved BIGINT NOT NULL
		)` + suffix,
		`CREATE TABLE orders (
			id BIGINT NOT NULL PRIMARY KEY,
			order_no VARCHAR(32) NOT NULL UNIQUE,
			user_id BIGINT NOT NULL,
			payable BIGINT NOT NULL,
			created_at DATETIME(6) NOT NULL
		)` + suffix,
		`CREATE TABLE order_lines (
			order_id BIGINT NOT NULL,
			line_no INT NOT NULL,
			sku_id BIGINT NOT NULL,
			quantity INT NOT NULL,
			unit_price BIGINT NOT NULL,
			PRIMARY KEY (order_id, line_no)
		)` + suffix,
	}
	for _, q := range ddl {
		if _, err := db.Write().ExecContext(ctx, q); err != nil {
			db.Close()
			return nil, fmt.Errorf("%s: create tables: %w", db.Target, err)
		}
	}
	err = db.InTx(ctx, func(tx *sqldb.Tx) error {
		for id := 1; id <= ordersSKUs; id++ {
			if _, err := tx.ExecContext(ctx, "INSERT INTO stock (sku_id, available, reserved) VALUES (?, ?, 0)", id, rawStock); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: fill stock: %w", db.Target, err)
	}
	return &rawDB{db: db, now: func() time.Time { return time.Now().UTC() }}, nil
}

var errRawOutOfStock = errors.New("raw writes: stock row not updated")

// order is one iteration: reserve one unit of sku and write the order and its line.
func (r *rawDB) order(ctx context.Context, w int, sku int64) error {
	id := r.next.Add(1)
	orderNo := fmt.Sprintf("B%019d", id)
	return r.db.InTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE stock SET available = available - 1, reserved = reserved + 1 WHERE sku_id = ? AND available >= 1", sku)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return errRawOutOfStock
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO orders (id, order_no, user_id, payable, created_at) VALUES (?, ?, ?, ?, ?)",
			id, orderNo, w+1, ordersPrice, r.now()); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO order_lines (order_id, line_no, sku_id, quantity, unit_price) VALUES (?, 1, ?, 1, ?)",
			id, sku, ordersPrice)
		return err
	})
}

// ---- MariaDB databases for one run ----

type runDatabases struct {
	admin   *sqldb.DB
	names   []string
	urls    []string
	version string
}

// createDatabases creates two empty databases on the server: mmbench_<random> for minimart
// and mmbench_<random>_raw for the baseline.
func createDatabases(ctx context.Context, serverURL string) (*runDatabases, error) {
	return createDatabasesWith(ctx, serverURL, "", "_raw")
}

// createDatabasesWith creates one empty database mmbench_<random><suffix> per suffix.
func createDatabasesWith(ctx context.Context, serverURL string, suffixes ...string) (*runDatabases, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return nil, errors.New("not a valid URL")
	}
	admin, err := sqldb.Open(ctx, serverURL, "")
	if err != nil {
		return nil, err
	}
	d := &runDatabases{admin: admin}
	if err := admin.Read().QueryRowContext(ctx, "SELECT VERSION()").Scan(&d.version); err != nil {
		admin.Close()
		return nil, err
	}
	base := "mmbench_" + randomHex(6)
	for _, suffix := range suffixes {
		name := base + suffix
		if _, err := admin.Write().ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
			return nil, errors.Join(fmt.Errorf("create database %s: %w", name, err), d.drop())
		}
		d.names = append(d.names, name)
		du := *u
		du.Path = "/" + name
		d.urls = append(d.urls, du.String())
	}
	return d, nil
}

// drop drops the databases and closes the server connection; it runs on Ctrl-C too.
func (d *runDatabases) drop() error {
	ctx, cancel := context.WithTimeout(context.Background(), dropTimeout)
	defer cancel()
	var errs []error
	for _, name := range d.names {
		if _, err := d.admin.Write().ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			errs = append(errs, fmt.Errorf("drop database %s: %w", name, err))
		}
	}
	d.names = nil
	return errors.Join(append(errs, d.admin.Close())...)
}

// redactedHost is a server URL's host and port, for the report.
func redactedHost(serverURL string) string {
	u, err := url.Parse(serverURL)
	if err != nil || u.Host == "" {
		return "(unparsable URL)"
	}
	return u.Host
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
