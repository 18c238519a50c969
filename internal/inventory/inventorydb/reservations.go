package inventorydb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/platform/clip"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

// reservationParty is the actor and source of every ledger row a reservation writes: the
// stock moves on behalf of an order.
const reservationParty = "order"

// maxLedgerReason is the size of stock_ledger.reason on MySQL (characters).
const maxLedgerReason = 200

// errRefTaken ends a Reserve transaction whose ref another transaction committed first.
var errRefTaken = errors.New("inventorydb: reservation ref committed by a concurrent reserve")

// shortLines ends a Reserve transaction in which some lines found too little stock.
type shortLines []inventory.ReserveLine

func (s shortLines) Error() string {
	return fmt.Sprintf("inventorydb: %d lines short of stock", len(s))
}

// Reserve holds every line of r for r.Ref, or nothing. The reservation row is inserted
// first: a repeated or concurrent Reserve of the same ref fails on its primary key (waiting
// for the first to commit) instead of touching stock, and returns the stored reservation.
// Order numbers are new, so the common case costs no read before the write.
func (s *Store) Reserve(ctx context.Context, r inventory.Reservation, newID func() ids.ID,
	event func(before, after inventory.Level, reason string) (events.Event, error)) (inventory.Reservation, error) {
	lines := inventory.MergeLines(r.Lines)
	if r.Ref == "" || len(lines) == 0 {
		return inventory.Reservation{}, errors.New("inventorydb: reserve needs a ref and at least one line")
	}
	for _, l := range lines {
		if l.Quantity <= 0 {
			return inventory.Reservation{}, fmt.Errorf("inventorydb: reserve %s: quantity %d of SKU %s is not positive", r.Ref, l.Quantity, l.SKUID)
		}
	}
	now := sqldb.Time(time.Now())
	out := inventory.Reservation{Ref: r.Ref, Status: inventory.Held, Lines: lines, ExpiresAt: sqldb.Time(r.ExpiresAt),
		CreatedAt: now, UpdatedAt: now}
	reason := clip.Runes("reserve "+r.Ref, maxLedgerReason)
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO reservations (ref, status, expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			out.Ref, string(out.Status), out.ExpiresAt, now, now); err != nil {
			if sqldb.IsUniqueViolation(err) {
				return errRefTaken
			}
			return fmt.Errorf("insert reservation: %w", err)
		}
		var short shortLines
		for _, l := range lines {
			res, err := tx.ExecContext(ctx, "UPDATE stock SET available = available - ?, reserved = reserved + ?, seq = seq + 1, updated_at = ?"+
				" WHERE sku_id = ? AND available >= ?", l.Quantity, l.Quantity, now, l.SKUID, l.Quantity)
			if err != nil {
				return fmt.Errorf("reserve stock: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n == 0 {
				short = append(short, l)
			}
		}
		if len(short) > 0 {
			return short
		}
		evs := make([]events.Event, 0, len(lines))
		for _, l := range lines {
			after, err := level(ctx, tx, l.SKUID, tx.ForUpdate())
			if err != nil {
				return err
			}
			before := after.Level
			before.Available += l.Quantity
			before.Reserved -= l.Quantity
			if err := insertLedger(ctx, tx, newID(), after.seq, reservationParty, reason, reservationParty, before, after.Level, now); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO reservation_lines (ref, sku_id, quantity) VALUES (?, ?, ?)",
				out.Ref, l.SKUID, l.Quantity); err != nil {
				return fmt.Errorf("insert reservation line: %w", err)
			}
			e, err := event(before, after.Level, reason)
			if err != nil {
				return err
			}
			evs = append(evs, e)
		}
		return s.outbox.Write(ctx, tx, evs...)
	})
	var short shortLines
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, errRefTaken):
		return s.Reservation(ctx, r.Ref)
	case errors.As(err, &short):
		return inventory.Reservation{}, s.outOfStock(ctx, short)
	default:
		return inventory.Reservation{}, err
	}
}

// outOfStock is ErrOutOfStock naming each short line with the stock available now, read
// after the reserving transaction rolled back.
func (s *Store) outOfStock(ctx context.Context, short shortLines) error {
	skuIDs := make([]ids.ID, len(short))
	for i, l := range short {
		skuIDs[i] = l.SKUID
	}
	levels, err := s.Levels(ctx, skuIDs)
	if err != nil {
		return errors.Join(inventory.ErrOutOfStock, err)
	}
	available := make(map[ids.ID]int64, len(levels))
	for _, l := range levels {
		available[l.SKUID] = l.Available
	}
	shortages := make([]inventory.Shortage, len(short))
	for i, l := range short {
		shortages[i] = inventory.Shortage{SKUID: l.SKUID, Requested: l.Quantity, Available: available[l.SKUID]}
	}
	return inventory.ErrOutOfStock.With(map[string]any{"skus": shortages})
}

// settleSQL moves one line's quantity out of reserved; the condition only fails if the
// stock row lost reserved stock it was holding, which no operation does.
var settleSQL = map[inventory.ReservationStatus]string{
	inventory.Released: "UPDATE stock SET available = available + ?, reserved = reserved - ?, seq = seq + 1, updated_at = ?" +
		" WHERE sku_id = ? AND reserved >= ?",
	inventory.Committed: "UPDATE stock SET sold = sold + ?, reserved = reserved - ?, seq = seq + 1, updated_at = ?" +
		" WHERE sku_id = ? AND reserved >= ?",
}

// Settle releases or commits a held reservation, with the reservation row locked so that
// concurrent settles of one ref run one after the other and only the first moves stock.
func (s *Store) Settle(ctx context.Context, ref string, to inventory.ReservationStatus, reason string, newID func() ids.ID,
	event func(before, after inventory.Level, reason string) (events.Event, error)) (inventory.Reservation, error) {
	stockSQL, ok := settleSQL[to]
	if !ok {
		return inventory.Reservation{}, fmt.Errorf("inventorydb: a reservation cannot be settled to %q", to)
	}
	why := "release " + ref
	if to == inventory.Committed {
		why = "commit " + ref
	}
	if reason != "" {
		why += ": " + reason
	}
	why = clip.Runes(why, maxLedgerReason)
	var out inventory.Reservation
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		r, err := reservation(ctx, tx, ref, tx.ForUpdate())
		if err != nil {
			return err
		}
		out = r
		switch {
		case r.Status == to:
			return nil
		case r.Status == inventory.Released:
			return inventory.ErrReservationReleased
		case r.Status == inventory.Committed:
			return inventory.ErrReservationCommitted
		}
		now := sqldb.Time(time.Now())
		evs := make([]events.Event, 0, len(r.Lines))
		for _, l := range r.Lines { // in SKU order
			res, err := tx.ExecContext(ctx, stockSQL, l.Quantity, l.Quantity, now, l.SKUID, l.Quantity)
			if err != nil {
				return fmt.Errorf("settle stock: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return fmt.Errorf("inventorydb: settle %s: SKU %s holds less reserved stock than the reservation's %d", ref, l.SKUID, l.Quantity)
			}
			after, err := level(ctx, tx, l.SKUID, tx.ForUpdate())
			if err != nil {
				return err
			}
			before := after.Level
			before.Reserved += l.Quantity
			if to == inventory.Released {
				before.Available -= l.Quantity
			} else {
				before.Sold -= l.Quantity
			}
			if err := insertLedger(ctx, tx, newID(), after.seq, reservationParty, why, reservationParty, before, after.Level, now); err != nil {
				return err
			}
			e, err := event(before, after.Level, why)
			if err != nil {
				return err
			}
			evs = append(evs, e)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE reservations SET status = ?, updated_at = ? WHERE ref = ?", string(to), now, ref); err != nil {
			return fmt.Errorf("update reservation: %w", err)
		}
		out.Status, out.UpdatedAt = to, now
		return s.outbox.Write(ctx, tx, evs...)
	})
	if err != nil {
		return inventory.Reservation{}, err
	}
	return out, nil
}

// Reservation returns the reservation for ref with its lines in SKU order.
func (s *Store) Reservation(ctx context.Context, ref string) (inventory.Reservation, error) {
	return reservation(ctx, s.db.Read(), ref, "")
}

func reservation(ctx context.Context, q sqldb.Querier, ref, suffix string) (inventory.Reservation, error) {
	var r inventory.Reservation
	err := q.QueryRowContext(ctx, "SELECT ref, status, expires_at, created_at, updated_at FROM reservations WHERE ref = ?"+suffix, ref).
		Scan(&r.Ref, &r.Status, &r.ExpiresAt, &r.CreatedAt, &r.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return inventory.Reservation{}, inventory.ErrReservationNotFound
	}
	if err != nil {
		return inventory.Reservation{}, fmt.Errorf("select reservation: %w", err)
	}
	r.ExpiresAt, r.CreatedAt, r.UpdatedAt = r.ExpiresAt.UTC(), r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	rows, err := q.QueryContext(ctx, "SELECT sku_id, quantity FROM reservation_lines WHERE ref = ? ORDER BY sku_id", ref)
	if err != nil {
		return inventory.Reservation{}, fmt.Errorf("select reservation lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l inventory.ReserveLine
		if err := rows.Scan(&l.SKUID, &l.Quantity); err != nil {
			return inventory.Reservation{}, err
		}
		r.Lines = append(r.Lines, l)
	}
	if err := rows.Err(); err != nil {
		return inventory.Reservation{}, fmt.Errorf("select reservation lines: %w", err)
	}
	return r, nil
}

// Expired lists refs of held reservations that expired before now, earliest first.
func (s *Store) Expired(ctx context.Context, now time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.refs(ctx, "expired", "SELECT ref FROM reservations WHERE status = ? AND expires_at < ?"+
		" ORDER BY expires_at, ref LIMIT ?", string(inventory.Held), sqldb.Time(now), limit)
}

// refs runs a query listing reservation refs.
func (s *Store) refs(ctx context.Context, what, query string, args ...any) ([]string, error) {
	rows, err := s.db.Read().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("select %s reservations: %w", what, err)
	}
	defer rows.Close()
	var refs []string
	for rows.Next() {
		var ref string
		if err := rows.Scan(&ref); err != nil {
			return nil, err
		}
		refs = append(refs, ref)
	}
	return refs, rows.Err()
}

// Unplaced lists held reservations made before `before` whose order is not yet known to be
// recorded, oldest first.
func (s *Store) Unplaced(ctx context.Context, before time.Time, limit int) ([]string, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.refs(ctx, "unplaced", "SELECT ref FROM reservations WHERE status = ? AND placed = ? AND created_at < ?"+
		" ORDER BY created_at, ref LIMIT ?", string(inventory.Held), false, sqldb.Time(before), limit)
}

// MarkPlaced records that refs belong to recorded orders.
func (s *Store) MarkPlaced(ctx context.Context, refs []string) error {
	if len(refs) == 0 {
		return nil
	}
	in, args := sqldb.InList(refs)
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE reservations SET placed = ? WHERE ref IN ("+in+")", append([]any{true}, args...)...)
		if err != nil {
			return fmt.Errorf("mark reservations placed: %w", err)
		}
		return nil
	})
}
