// Package inventorydb stores stock levels and the stock ledger in SQLite or MySQL.
package inventorydb

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations is the inventory module's schema.
var Migrations = sqldb.Migrations{Module: "inventory", FS: migrationFiles, Dir: "migrations"}

// Store implements inventory.Storer.
type Store struct {
	db     *sqldb.DB
	outbox *events.Outbox
}

var _ inventory.Storer = (*Store)(nil)

// New returns a store over db writing events to outbox.
func New(db *sqldb.DB, outbox *events.Outbox) *Store { return &Store{db: db, outbox: outbox} }

func ensureRowSQL(d sqldb.Dialect) string {
	if d == sqldb.MySQL {
		return "INSERT INTO stock (sku_id, product_id, updated_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE sku_id = sku_id"
	}
	return "INSERT INTO stock (sku_id, product_id, updated_at) VALUES (?, ?, ?) ON CONFLICT (sku_id) DO NOTHING"
}

// Apply changes one SKU's stock with its ledger row and event in one transaction. The
// change itself is a conditional UPDATE whose affected-row count decides, so available
// stock cannot go below zero whatever runs concurrently.
func (s *Store) Apply(ctx context.Context, c inventory.Change, entryID ids.ID,
	event func(before, after inventory.Level) (events.Event, error)) (inventory.Level, error) {
	var after row
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		before, err := lockStock(ctx, tx, c.SKUID, c.ProductID)
		if err != nil {
			return err
		}
		after, err = s.change(ctx, tx, c, before, entryID, event)
		return err
	})
	return after.Level, err
}

// lockStock makes sure the SKU has a stock row (a new one starts at zero) and returns it,
// locked until the transaction ends.
func lockStock(ctx context.Context, tx *sqldb.Tx, skuID, productID ids.ID) (row, error) {
	if _, err := tx.ExecContext(ctx, ensureRowSQL(tx.Dialect), skuID, productID, time.Now().UTC()); err != nil {
		return row{}, fmt.Errorf("ensure stock row: %w", err)
	}
	return level(ctx, tx, skuID, tx.ForUpdate())
}

// change performs c on the stock row locked as before, writes its ledger row and its
// event, and returns the row after.
func (s *Store) change(ctx context.Context, tx *sqldb.Tx, c inventory.Change, before row, entryID ids.ID,
	event func(before, after inventory.Level) (events.Event, error)) (row, error) {
	now := time.Now().UTC()
	var res sql.Result
	var err error
	if c.Set != nil {
		res, err = tx.ExecContext(ctx, "UPDATE stock SET available = ?, seq = seq + 1, updated_at = ? WHERE sku_id = ?", *c.Set, now, c.SKUID)
	} else {
		res, err = tx.ExecContext(ctx, "UPDATE stock SET available = available + ?, seq = seq + 1, updated_at = ? WHERE sku_id = ? AND available + ? >= 0",
			c.Delta, now, c.SKUID, c.Delta)
	}
	if err != nil {
		return row{}, fmt.Errorf("update stock: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return row{}, err
	} else if n == 0 {
		return row{}, inventory.ErrInsufficientStock
	}
	after, err := level(ctx, tx, c.SKUID, "")
	if err != nil {
		return row{}, err
	}
	if err := insertLedger(ctx, tx, entryID, after.seq, c.Actor, c.Reason, c.Source, before.Level, after.Level, now); err != nil {
		return row{}, err
	}
	e, err := event(before.Level, after.Level)
	if err != nil {
		return row{}, err
	}
	return after, s.outbox.Write(ctx, tx, e)
}

// insertLedger records one change of a SKU's stock: its seq after the change, who, why,
// and all three levels before and after.
func insertLedger(ctx context.Context, tx *sqldb.Tx, id ids.ID, seq int64, actor, reason, source string,
	before, after inventory.Level, now time.Time) error {
	if err := sqldb.InsertRows(ctx, tx, ledgerInsert, [][]any{ledgerRow(id, seq, actor, reason, source, before, after, now)}); err != nil {
		return fmt.Errorf("insert ledger: %w", err)
	}
	return nil
}

const ledgerInsert = `INSERT INTO stock_ledger (id, sku_id, seq, actor, reason, source,
	available_before, available_after, reserved_before, reserved_after, sold_before, sold_after, created_at) VALUES `

// ledgerRow is the values of one stock_ledger row, in ledgerInsert's order.
func ledgerRow(id ids.ID, seq int64, actor, reason, source string, before, after inventory.Level, now time.Time) []any {
	return []any{id, after.SKUID, seq, actor, reason, source, before.Available, after.Available,
		before.Reserved, after.Reserved, before.Sold, after.Sold, now}
}

const levelColumns = "sku_id, product_id, available, reserved, sold, updated_at, seq"

// row is a stock row: the level and how many changes it has seen.
type row struct {
	inventory.Level
	seq int64
}

func scanLevel(r interface{ Scan(...any) error }) (row, error) {
	var l row
	err := r.Scan(&l.SKUID, &l.ProductID, &l.Available, &l.Reserved, &l.Sold, &l.UpdatedAt, &l.seq)
	l.UpdatedAt = l.UpdatedAt.UTC()
	return l, err
}

func level(ctx context.Context, q sqldb.Querier, skuID ids.ID, suffix string) (row, error) {
	l, err := scanLevel(q.QueryRowContext(ctx, "SELECT "+levelColumns+" FROM stock WHERE sku_id = ?"+suffix, skuID))
	if errors.Is(err, sql.ErrNoRows) {
		return l, inventory.ErrSKUNotFound
	}
	if err != nil {
		return l, fmt.Errorf("select stock: %w", err)
	}
	return l, nil
}

// Levels returns the stock rows among skuIDs.
func (s *Store) Levels(ctx context.Context, skuIDs []ids.ID) ([]inventory.Level, error) {
	if len(skuIDs) == 0 {
		return nil, nil
	}
	in, args := sqldb.InList(skuIDs)
	rows, err := s.db.Read().QueryContext(ctx, "SELECT "+levelColumns+" FROM stock WHERE sku_id IN ("+in+")", args...)
	if err != nil {
		return nil, fmt.Errorf("select stock: %w", err)
	}
	defer rows.Close()
	var out []inventory.Level
	for rows.Next() {
		l, err := scanLevel(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l.Level)
	}
	return out, rows.Err()
}

// Ledger lists a SKU's changes, newest first.
func (s *Store) Ledger(ctx context.Context, skuID ids.ID, beforeSeq int64, limit int) ([]inventory.LedgerEntry, error) {
	q := `SELECT id, sku_id, seq, actor, reason, source, available_before, available_after, reserved_before, reserved_after,
		sold_before, sold_after, created_at FROM stock_ledger WHERE sku_id = ?`
	args := []any{skuID}
	if beforeSeq > 0 {
		q += " AND seq < ?"
		args = append(args, beforeSeq)
	}
	rows, err := s.db.Read().QueryContext(ctx, q+" ORDER BY seq DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("select ledger: %w", err)
	}
	defer rows.Close()
	out := []inventory.LedgerEntry{}
	for rows.Next() {
		var e inventory.LedgerEntry
		if err := rows.Scan(&e.ID, &e.SKUID, &e.Seq, &e.Actor, &e.Reason, &e.Source, &e.AvailableBefore, &e.AvailableAfter,
			&e.ReservedBefore, &e.ReservedAfter, &e.SoldBefore, &e.SoldAfter, &e.CreatedAt); err != nil {
			return nil, err
		}
		e.CreatedAt = e.CreatedAt.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// LowLevels lists up to limit stock rows whose available stock is at most threshold, by
// available then SKU id, after the row `after` of that order (the zero Level: from the
// start). Without an index on available it reads the whole stock table: a staff page
// loaded now and then, where such an index would cost every reservation a second write.
func (s *Store) LowLevels(ctx context.Context, threshold int64, after inventory.Level, limit int) ([]inventory.Level, error) {
	rows, err := s.db.Read().QueryContext(ctx, "SELECT "+levelColumns+` FROM stock
		WHERE available <= ? AND (available > ? OR (available = ? AND sku_id > ?))
		ORDER BY available, sku_id LIMIT ?`, threshold, after.Available, after.Available, after.SKUID, limit)
	if err != nil {
		return nil, fmt.Errorf("select low stock: %w", err)
	}
	defer rows.Close()
	out := []inventory.Level{}
	for rows.Next() {
		l, err := scanLevel(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l.Level)
	}
	return out, rows.Err()
}
