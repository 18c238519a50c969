// Package cartdb stores buyers' cart lines in SQLite or MySQL with explicit SQL; the
// statements are the same on both engines, only the DDL and the upsert that locks a
// buyer's cart differ.
package cartdb

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/minimart/minimart/internal/cart"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations is the cart module's schema.
var Migrations = sqldb.Migrations{Module: "cart", FS: migrationFiles, Dir: "migrations"}

// Store implements cart.Storer.
type Store struct{ db *sqldb.DB }

var _ cart.Storer = (*Store)(nil)

// New returns a store over db.
func New(db *sqldb.DB) *Store { return &Store{db: db} }

const lineColumns = "user_id, sku_id, quantity, selected, created_at, updated_at"

func scanLine(row interface{ Scan(...any) error }) (cart.Line, error) {
	var l cart.Line
	err := row.Scan(&l.UserID, &l.SKUID, &l.Quantity, &l.Selected, &l.AddedAt, &l.UpdatedAt)
	l.AddedAt, l.UpdatedAt = l.AddedAt.UTC(), l.UpdatedAt.UTC()
	return l, err
}

// Lines lists a buyer's lines, newest first.
func (s *Store) Lines(ctx context.Context, userID ids.ID) ([]cart.Line, error) {
	rows, err := s.db.Read().QueryContext(ctx, "SELECT "+lineColumns+
		" FROM cart_lines WHERE user_id = ? ORDER BY created_at DESC, sku_id DESC", userID)
	if err != nil {
		return nil, fmt.Errorf("list cart lines: %w", err)
	}
	defer rows.Close()
	out := []cart.Line{}
	for rows.Next() {
		l, err := scanLine(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// lockCartSQL creates the buyer's cart row or touches it; either way the transaction then
// holds the row's exclusive lock until it ends, so adds of one buyer queue behind each other.
func lockCartSQL(d sqldb.Dialect) string {
	if d == sqldb.MySQL {
		return "INSERT INTO carts (user_id, updated_at) VALUES (?, ?) ON DUPLICATE KEY UPDATE updated_at = ?"
	}
	return "INSERT INTO carts (user_id, updated_at) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET updated_at = ?"
}

func lineByID(ctx context.Context, tx *sqldb.Tx, userID, skuID ids.ID) (cart.Line, error) {
	l, err := scanLine(tx.QueryRowContext(ctx, "SELECT "+lineColumns+
		" FROM cart_lines WHERE user_id = ? AND sku_id = ?"+tx.ForUpdate(), userID, skuID))
	if errors.Is(err, sql.ErrNoRows) {
		return cart.Line{}, cart.ErrLineNotFound
	}
	if err != nil {
		return cart.Line{}, fmt.Errorf("select cart line: %w", err)
	}
	return l, nil
}

func saveLine(ctx context.Context, tx *sqldb.Tx, l cart.Line) error {
	_, err := tx.ExecContext(ctx, "UPDATE cart_lines SET quantity = ?, selected = ?, updated_at = ? WHERE user_id = ? AND sku_id = ?",
		l.Quantity, l.Selected, l.UpdatedAt, l.UserID, l.SKUID)
	if err != nil {
		return fmt.Errorf("update cart line: %w", err)
	}
	return nil
}

// AddLine inserts l, or merges it into the buyer's existing line of the SKU, holding the
// buyer's cart lock so the line count checked is the line count committed.
func (s *Store) AddLine(ctx context.Context, l cart.Line, merge func(existing *cart.Line) error) (cart.Line, error) {
	var out cart.Line
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, lockCartSQL(tx.Dialect), l.UserID, l.UpdatedAt, l.UpdatedAt); err != nil {
			return fmt.Errorf("lock cart: %w", err)
		}
		existing, err := lineByID(ctx, tx, l.UserID, l.SKUID)
		switch {
		case err == nil:
			if err := merge(&existing); err != nil {
				return err
			}
			out = existing
			return saveLine(ctx, tx, existing)
		case !errors.Is(err, cart.ErrLineNotFound):
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM cart_lines WHERE user_id = ?"+tx.ForUpdate(), l.UserID).Scan(&n); err != nil {
			return fmt.Errorf("count cart lines: %w", err)
		}
		if n >= cart.MaxLines {
			return cart.ErrCartFull
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO cart_lines ("+lineColumns+") VALUES (?, ?, ?, ?, ?, ?)",
			l.UserID, l.SKUID, l.Quantity, l.Selected, l.AddedAt, l.UpdatedAt)
		if err != nil {
			return fmt.Errorf("insert cart line: %w", err)
		}
		out = l
		return nil
	})
	return out, err
}

// UpdateLine lets fn change one line and saves it; the line is locked while fn runs.
func (s *Store) UpdateLine(ctx context.Context, userID, skuID ids.ID, fn func(*cart.Line) error) (cart.Line, error) {
	var out cart.Line
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		l, err := lineByID(ctx, tx, userID, skuID)
		if err != nil {
			return err
		}
		if err := fn(&l); err != nil {
			return err
		}
		out = l
		return saveLine(ctx, tx, l)
	})
	return out, err
}

// SetSelected sets the flag of the listed lines (every line for an empty list); lines that
// already have it keep their updated_at.
func (s *Store) SetSelected(ctx context.Context, userID ids.ID, skuIDs []ids.ID, selected bool, now time.Time) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		if len(skuIDs) == 0 {
			_, err := tx.ExecContext(ctx, "UPDATE cart_lines SET selected = ?, updated_at = ? WHERE user_id = ? AND selected <> ?",
				selected, now, userID, selected)
			if err != nil {
				return fmt.Errorf("select all cart lines: %w", err)
			}
			return nil
		}
		in, args := sqldb.InList(skuIDs)
		rows, err := tx.QueryContext(ctx, "SELECT sku_id FROM cart_lines WHERE user_id = ? AND sku_id IN ("+in+")"+tx.ForUpdate(),
			append([]any{userID}, args...)...)
		if err != nil {
			return fmt.Errorf("find cart lines: %w", err)
		}
		found := map[ids.ID]bool{}
		for rows.Next() {
			var id ids.ID
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			found[id] = true
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		if missing := missingIDs(skuIDs, found); len(missing) > 0 {
			return cart.ErrLineNotFound.Withf("%d of the listed SKUs are not in the cart; nothing was changed", len(missing)).
				With(map[string]any{"sku_ids": missing})
		}
		_, err = tx.ExecContext(ctx, "UPDATE cart_lines SET selected = ?, updated_at = ? WHERE user_id = ? AND sku_id IN ("+in+") AND selected <> ?",
			append(append([]any{selected, now, userID}, args...), selected)...)
		if err != nil {
			return fmt.Errorf("select cart lines: %w", err)
		}
		return nil
	})
}

func missingIDs(list []ids.ID, found map[ids.ID]bool) []ids.ID {
	var out []ids.ID
	for _, id := range list {
		if !found[id] {
			out = append(out, id)
		}
	}
	return out
}

// RemoveLines deletes the listed lines of the buyer and returns how many existed.
func (s *Store) RemoveLines(ctx context.Context, userID ids.ID, skuIDs []ids.ID) (int, error) {
	if len(skuIDs) == 0 {
		return 0, nil
	}
	var n int64
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		in, args := sqldb.InList(skuIDs)
		res, err := tx.ExecContext(ctx, "DELETE FROM cart_lines WHERE user_id = ? AND sku_id IN ("+in+")", append([]any{userID}, args...)...)
		if err != nil {
			return fmt.Errorf("delete cart lines: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// Clear deletes every line of the buyer.
func (s *Store) Clear(ctx context.Context, userID ids.ID) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM cart_lines WHERE user_id = ?", userID); err != nil {
			return fmt.Errorf("clear cart: %w", err)
		}
		return nil
	})
}
