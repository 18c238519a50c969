package inventorydb

import (
	"context"
	"fmt"
	"time"

	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

// StockMismatch is a SKU whose level breaks the stock invariant: available below zero, or
// available + reserved + sold not what its ledger adds up to.
type StockMismatch struct {
	SKUID                     ids.ID
	Available, Reserved, Sold int64
	// LedgerTotal is the sum over the SKU's ledger rows of what each changed
	// available + reserved + sold by.
	LedgerTotal int64
}

// StockMismatches lists every SKU that breaks the stock invariant (`minimart check`).
func (s *Store) StockMismatches(ctx context.Context) ([]StockMismatch, error) {
	rows, err := s.db.Read().QueryContext(ctx, `
SELECT st.sku_id, st.available, st.reserved, st.sold, COALESCE(l.total, 0)
FROM stock st
LEFT JOIN (
    SELECT sku_id, SUM((available_after + reserved_after + sold_after) - (available_before + reserved_before + sold_before)) AS total
    FROM stock_ledger GROUP BY sku_id
) l ON l.sku_id = st.sku_id
WHERE st.available < 0 OR st.available + st.reserved + st.sold <> COALESCE(l.total, 0)
ORDER BY st.sku_id`)
	if err != nil {
		return nil, fmt.Errorf("stock mismatches: %w", err)
	}
	defer rows.Close()
	var out []StockMismatch
	for rows.Next() {
		var m StockMismatch
		if err := rows.Scan(&m.SKUID, &m.Available, &m.Reserved, &m.Sold, &m.LedgerTotal); err != nil {
			return nil, fmt.Errorf("stock mismatches: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// HeldReservation is a reservation still holding stock.
type HeldReservation struct {
	Ref       string
	ExpiresAt time.Time
}

// HeldExpiredBefore lists the reservations still held whose expiry is before t.
func (s *Store) HeldExpiredBefore(ctx context.Context, t time.Time) ([]HeldReservation, error) {
	rows, err := s.db.Read().QueryContext(ctx,
		"SELECT ref, expires_at FROM reservations WHERE status = 'held' AND expires_at < ? ORDER BY expires_at, ref", sqldb.Time(t))
	if err != nil {
		return nil, fmt.Errorf("held reservations: %w", err)
	}
	defer rows.Close()
	var out []HeldReservation
	for rows.Next() {
		var r HeldReservation
		if err := rows.Scan(&r.Ref, &r.ExpiresAt); err != nil {
			return nil, fmt.Errorf("held reservations: %w", err)
		}
		r.ExpiresAt = r.ExpiresAt.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
