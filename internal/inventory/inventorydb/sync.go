package inventorydb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

func ensureSyncRowSQL(d sqldb.Dialect) string {
	if d == sqldb.MySQL {
		return "INSERT INTO sku_sync (sku_id, source, applied_at) VALUES (?, '', ?) ON DUPLICATE KEY UPDATE sku_id = sku_id"
	}
	return "INSERT INTO sku_sync (sku_id, source, applied_at) VALUES (?, '', ?) ON CONFLICT (sku_id) DO NOTHING"
}

// syncMarks is where a SKU stands in the external update stream: the newest version and
// updated_at applied so far (either may be unknown).
type syncMarks struct {
	version   sql.NullInt64
	updatedAt sql.NullTime
}

// stale reports whether an update with these marks is not newer than what was applied.
func (m syncMarks) stale(version *int64, updatedAt *time.Time) bool {
	if version != nil && m.version.Valid && *version <= m.version.Int64 {
		return true
	}
	return updatedAt != nil && m.updatedAt.Valid && !updatedAt.After(m.updatedAt.Time)
}

// ApplySync applies an external update unless it is stale, all in one transaction. The
// SKU's stock row is locked first, as by every other change of its stock, so updates of one
// SKU check and write their marks one after the other; its sku_sync row exists before it
// is read, so the read locks that row alone and never a gap other SKUs insert into.
func (s *Store) ApplySync(ctx context.Context, c inventory.Change, version *int64, updatedAt *time.Time, entryID ids.ID,
	event func(before, after inventory.Level) (events.Event, error)) (bool, inventory.Level, error) {
	if updatedAt != nil {
		t := sqldb.Time(*updatedAt)
		updatedAt = &t
	}
	var applied bool
	var out row
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		applied = false
		before, err := lockStock(ctx, tx, c.SKUID, c.ProductID)
		if err != nil {
			return err
		}
		now := sqldb.Time(time.Now())
		if _, err := tx.ExecContext(ctx, ensureSyncRowSQL(tx.Dialect), c.SKUID, now); err != nil {
			return fmt.Errorf("ensure sync row: %w", err)
		}
		var marks syncMarks
		if err := tx.QueryRowContext(ctx, "SELECT version, updated_at FROM sku_sync WHERE sku_id = ?"+tx.ForUpdate(), c.SKUID).
			Scan(&marks.version, &marks.updatedAt); err != nil {
			return fmt.Errorf("select sync marks: %w", err)
		}
		if marks.stale(version, updatedAt) {
			out = before
			return nil
		}
		if out, err = s.change(ctx, tx, c, before, entryID, event); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sku_sync SET version = COALESCE(?, version),
			updated_at = COALESCE(?, updated_at), source = ?, applied_at = ? WHERE sku_id = ?`,
			nullInt(version), nullTime(updatedAt), c.Source, now, c.SKUID); err != nil {
			return fmt.Errorf("update sync marks: %w", err)
		}
		applied = true
		return nil
	})
	return applied, out.Level, err
}

func nullInt(v *int64) sql.NullInt64 {
	if v == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *v, Valid: true}
}

func nullTime(t *time.Time) sql.NullTime {
	if t == nil {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: *t, Valid: true}
}
