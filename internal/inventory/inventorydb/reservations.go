package inventorydb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/platform/batch"
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

// errRefTaken ends a reserve transaction in which a ref not seen by its first read was
// committed by a concurrent one meanwhile; the batch is run again and finds it.
var errRefTaken = errors.New("inventorydb: reservation ref committed by a concurrent reserve")

// refRaces bounds how often a batch is run again after a concurrent reserve of one of its refs.
const refRaces = 3

// Reserve holds every line of r for r.Ref, or nothing: ReserveBatch of one.
func (s *Store) Reserve(ctx context.Context, r inventory.Reservation, newID func() ids.ID,
	event func(before, after inventory.Level, reason string) (events.Event, error)) (inventory.Reservation, error) {
	res, err := s.ReserveBatch(ctx, []inventory.Reservation{r}, newID, event)
	if err != nil {
		return inventory.Reservation{}, err
	}
	return res[0].Value, res[0].Err
}

// WriteConcurrency is how many group-committed batches may write at once: one on SQLite,
// whose single writer would only queue more, a few on MySQL, where batches of different rows
// overlap and the stock rows are locked in one ascending order.
func (s *Store) WriteConcurrency() int {
	if s.db.Dialect == sqldb.MySQL {
		return 4
	}
	return 1
}

// ReserveBatch holds the reservations of rs in one transaction and answers each its own:
// held; the stored reservation when its ref exists (or appears earlier in rs); or
// ErrOutOfStock naming each short line, with nothing of it held. The stock rows (and the
// parents' rows) the batch needs are locked at once in ascending order and decided in
// memory, then written with one statement per table, so a batch costs about as many round
// trips as a single reservation did. An error for the batch means nothing was held.
func (s *Store) ReserveBatch(ctx context.Context, rs []inventory.Reservation, newID func() ids.ID,
	event func(before, after inventory.Level, reason string) (events.Event, error)) ([]batch.Result[inventory.Reservation], error) {
	for _, r := range rs {
		if r.Ref == "" || len(r.Lines) == 0 {
			return nil, errors.New("inventorydb: reserve needs a ref and at least one line")
		}
		for _, l := range r.Lines {
			if l.Quantity <= 0 {
				return nil, fmt.Errorf("inventorydb: reserve %s: quantity %d of SKU %s is not positive", r.Ref, l.Quantity, l.SKUID)
			}
		}
	}
	var w *reserveWrite
	var err error
	for range refRaces {
		err = s.db.InTx(ctx, func(tx *sqldb.Tx) error {
			w = &reserveWrite{rs: rs, newID: newID, event: event, now: sqldb.Time(time.Now())}
			return w.run(ctx, tx, s.outbox)
		})
		if !errors.Is(err, errRefTaken) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	out := make([]batch.Result[inventory.Reservation], len(rs))
	for i := range rs {
		switch {
		case w.short[i] != nil:
			out[i].Err = outOfStock(w.short[i])
		case w.stored[i]:
			out[i].Value, out[i].Err = s.Reservation(ctx, rs[i].Ref)
		default:
			out[i].Value = w.held[i]
		}
	}
	return out, nil
}

// reserveWrite is one run of a reserve batch: what it read, decided and will write.
type reserveWrite struct {
	rs    []inventory.Reservation
	newID func() ids.ID
	event func(before, after inventory.Level, reason string) (events.Event, error)
	now   time.Time

	held   map[int]inventory.Reservation // made by this batch
	stored map[int]bool                  // the ref existed before, or earlier in the batch
	short  map[int][]inventory.Shortage
	first  map[string]int // the item whose row a new ref got
}

func outOfStock(short []inventory.Shortage) error {
	return inventory.ErrOutOfStock.With(map[string]any{"skus": short})
}

// parentLine is what a held parent reservation still holds of one SKU.
type parentLine struct {
	remaining int64
	moved     int64 // taken by this batch
}

func (w *reserveWrite) run(ctx context.Context, tx *sqldb.Tx, outbox *events.Outbox) error {
	w.held, w.stored, w.short = map[int]inventory.Reservation{}, map[int]bool{}, map[int][]inventory.Shortage{}
	var refs, parents []string
	var skus []ids.ID
	for _, r := range w.rs {
		refs = append(refs, r.Ref)
		if r.From != "" {
			parents = append(parents, r.From)
			continue
		}
		for _, l := range r.Lines {
			skus = append(skus, l.SKUID)
		}
	}
	existing, err := existingRefs(ctx, tx, refs)
	if err != nil {
		return err
	}
	// The new refs' rows come first: the lock order is reservations, then parents, then stock,
	// as in Settle (its reservation, then its parent, then stock), so the two never wait on
	// each other in a cycle. Refs that turn out short are deleted again below.
	if err := w.insertNew(ctx, tx, existing); err != nil {
		return err
	}
	parentLines, err := lockParents(ctx, tx, parents)
	if err != nil {
		return err
	}
	levels, err := lockLevels(ctx, tx, skus)
	if err != nil {
		return err
	}

	var lineRows, ledgerRows [][]any
	var shortRefs []string
	var evs []events.Event
	touched := map[ids.ID]bool{}
	for i, r := range w.rs {
		if existing[r.Ref] {
			w.stored[i] = true
			continue
		}
		if j := w.first[r.Ref]; j != i {
			// A repeat within the batch answers as the first of its ref did.
			if w.short[j] != nil {
				w.short[i] = w.short[j]
			} else {
				w.stored[i] = true
			}
			continue
		}
		lines := inventory.MergeLines(r.Lines)
		var short []inventory.Shortage
		if r.From != "" {
			for _, l := range lines {
				if p := parentLines[r.From][l.SKUID]; p == nil || p.remaining < l.Quantity {
					var left int64
					if p != nil {
						left = p.remaining
					}
					short = append(short, inventory.Shortage{SKUID: l.SKUID, Requested: l.Quantity, Available: left})
				}
			}
		} else {
			for _, l := range lines {
				if lv := levels[l.SKUID]; lv == nil || lv.Available < l.Quantity {
					var left int64
					if lv != nil {
						left = lv.Available
					}
					short = append(short, inventory.Shortage{SKUID: l.SKUID, Requested: l.Quantity, Available: left})
				}
			}
		}
		if len(short) > 0 {
			w.short[i] = short
			shortRefs = append(shortRefs, r.Ref)
			continue
		}
		reason := clip.Runes("reserve "+r.Ref, maxLedgerReason)
		for _, l := range lines {
			lineRows = append(lineRows, []any{r.Ref, l.SKUID, l.Quantity})
			if r.From != "" {
				p := parentLines[r.From][l.SKUID]
				p.remaining -= l.Quantity
				p.moved += l.Quantity
				continue // reserved stock changes hands: no level moves
			}
			lv := levels[l.SKUID]
			before := lv.Level
			lv.Available -= l.Quantity
			lv.Reserved += l.Quantity
			lv.seq++
			lv.UpdatedAt = w.now
			touched[l.SKUID] = true
			ledgerRows = append(ledgerRows, ledgerRow(w.newID(), lv.seq, reservationParty, reason, reservationParty, before, lv.Level, w.now))
			e, err := w.event(before, lv.Level, reason)
			if err != nil {
				return err
			}
			evs = append(evs, e)
		}
		w.held[i] = inventory.Reservation{Ref: r.Ref, Status: inventory.Held, Lines: lines, From: r.From, Placed: r.Placed,
			ExpiresAt: sqldb.Time(r.ExpiresAt), CreatedAt: w.now, UpdatedAt: w.now}
	}
	if len(shortRefs) > 0 {
		in, args := sqldb.InList(shortRefs)
		if _, err := tx.ExecContext(ctx, "DELETE FROM reservations WHERE ref IN ("+in+")", args...); err != nil {
			return fmt.Errorf("delete short reservations: %w", err)
		}
	}
	if err := sqldb.InsertRows(ctx, tx, "INSERT INTO reservation_lines (ref, sku_id, quantity) VALUES ", lineRows); err != nil {
		return fmt.Errorf("insert reservation lines: %w", err)
	}
	if err := updateLevels(ctx, tx, levels, touched, w.now); err != nil {
		return err
	}
	if err := moveFromParents(ctx, tx, parentLines); err != nil {
		return err
	}
	if err := sqldb.InsertRows(ctx, tx, ledgerInsert, ledgerRows); err != nil {
		return fmt.Errorf("insert ledger: %w", err)
	}
	return outbox.Write(ctx, tx, evs...)
}

// insertNew inserts a held row for the first item of each ref that is not stored yet, and
// remembers which item that is.
func (w *reserveWrite) insertNew(ctx context.Context, tx *sqldb.Tx, existing map[string]bool) error {
	w.first = map[string]int{}
	var rows [][]any
	for i, r := range w.rs {
		if _, seen := w.first[r.Ref]; existing[r.Ref] || seen {
			continue
		}
		w.first[r.Ref] = i
		rows = append(rows, []any{r.Ref, string(inventory.Held), sqldb.Time(r.ExpiresAt), w.now, w.now, r.Placed, sqldb.NullString(r.From)})
	}
	err := sqldb.InsertRows(ctx, tx, "INSERT INTO reservations (ref, status, expires_at, created_at, updated_at, placed, parent_ref) VALUES ", rows)
	if sqldb.IsUniqueViolation(err) {
		return errRefTaken
	}
	if err != nil {
		return fmt.Errorf("insert reservations: %w", err)
	}
	return nil
}

// existingRefs returns which of refs name a stored reservation.
func existingRefs(ctx context.Context, tx *sqldb.Tx, refs []string) (map[string]bool, error) {
	found := make(map[string]bool, len(refs))
	in, args := sqldb.InList(refs)
	rows, err := tx.QueryContext(ctx, "SELECT ref FROM reservations WHERE ref IN ("+in+")", args...)
	if err != nil {
		return nil, fmt.Errorf("select reservations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ref string
		if err := rows.Scan(&ref); err != nil {
			return nil, err
		}
		found[ref] = true
	}
	return found, rows.Err()
}

// lockParents locks the held ones among the parent reservations (in ref order) and returns
// what each line of them still holds. A parent that is not held gives nothing.
func lockParents(ctx context.Context, tx *sqldb.Tx, parents []string) (map[string]map[ids.ID]*parentLine, error) {
	out := map[string]map[ids.ID]*parentLine{}
	if len(parents) == 0 {
		return out, nil
	}
	slices.Sort(parents)
	parents = slices.Compact(parents)
	in, args := sqldb.InList(parents)
	rows, err := tx.QueryContext(ctx, "SELECT ref FROM reservations WHERE ref IN ("+in+") AND status = ? ORDER BY ref"+tx.ForUpdate(),
		append(args, string(inventory.Held))...)
	if err != nil {
		return nil, fmt.Errorf("lock parent reservations: %w", err)
	}
	var held []string
	for rows.Next() {
		var ref string
		if err := rows.Scan(&ref); err != nil {
			rows.Close()
			return nil, err
		}
		held = append(held, ref)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("lock parent reservations: %w", err)
	}
	if len(held) == 0 {
		return out, nil
	}
	in, args = sqldb.InList(held)
	lines, err := tx.QueryContext(ctx, "SELECT ref, sku_id, quantity - moved FROM reservation_lines WHERE ref IN ("+in+")", args...)
	if err != nil {
		return nil, fmt.Errorf("select parent reservation lines: %w", err)
	}
	defer lines.Close()
	for lines.Next() {
		var ref string
		var sku ids.ID
		var remaining int64
		if err := lines.Scan(&ref, &sku, &remaining); err != nil {
			return nil, err
		}
		if out[ref] == nil {
			out[ref] = map[ids.ID]*parentLine{}
		}
		out[ref][sku] = &parentLine{remaining: remaining}
	}
	return out, lines.Err()
}

// lockLevels locks the stock rows of skus, in ascending SKU order within one statement so
// that concurrent batches never wait on each other in a cycle, and returns them.
func lockLevels(ctx context.Context, tx *sqldb.Tx, skus []ids.ID) (map[ids.ID]*row, error) {
	out := map[ids.ID]*row{}
	if len(skus) == 0 {
		return out, nil
	}
	slices.Sort(skus)
	skus = slices.Compact(skus)
	in, args := sqldb.InList(skus)
	rows, err := tx.QueryContext(ctx, "SELECT "+levelColumns+" FROM stock WHERE sku_id IN ("+in+") ORDER BY sku_id"+tx.ForUpdate(), args...)
	if err != nil {
		return nil, fmt.Errorf("lock stock: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		l, err := scanLevel(rows)
		if err != nil {
			return nil, err
		}
		out[l.SKUID] = &l
	}
	return out, rows.Err()
}

// updateLevels writes the touched stock rows' new levels in one statement: an upsert whose
// rows all exist, because it finds each row by its key (an UPDATE … WHERE sku_id IN (…) may
// scan, and lock, rows it does not change). The rows are locked by this transaction, so the
// values computed from them are exact.
func updateLevels(ctx context.Context, tx *sqldb.Tx, levels map[ids.ID]*row, touched map[ids.ID]bool, now time.Time) error {
	if len(touched) == 0 {
		return nil
	}
	rows := make([][]any, 0, len(touched))
	for _, sku := range slices.Sorted(maps.Keys(touched)) {
		l := levels[sku]
		rows = append(rows, []any{sku, l.ProductID, l.Available, l.Reserved, l.Sold, l.seq, now})
	}
	head := "INSERT INTO stock (sku_id, product_id, available, reserved, sold, seq, updated_at) VALUES "
	tail := " ON DUPLICATE KEY UPDATE available = VALUES(available), reserved = VALUES(reserved), seq = VALUES(seq), updated_at = VALUES(updated_at)"
	if tx.Dialect == sqldb.SQLite {
		tail = " ON CONFLICT (sku_id) DO UPDATE SET available = excluded.available, reserved = excluded.reserved, seq = excluded.seq," +
			" updated_at = excluded.updated_at"
	}
	if err := sqldb.InsertRowsThen(ctx, tx, head, rows, tail); err != nil {
		return fmt.Errorf("reserve stock: %w", err)
	}
	return nil
}

// moveFromParents records the units this batch's children took out of their parents.
func moveFromParents(ctx context.Context, tx *sqldb.Tx, parents map[string]map[ids.ID]*parentLine) error {
	for _, ref := range slices.Sorted(maps.Keys(parents)) {
		for _, sku := range slices.Sorted(maps.Keys(parents[ref])) {
			p := parents[ref][sku]
			if p.moved == 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, "UPDATE reservation_lines SET moved = moved + ? WHERE ref = ? AND sku_id = ?",
				p.moved, ref, sku); err != nil {
				return fmt.Errorf("move units out of reservation %s: %w", ref, err)
			}
		}
	}
	return nil
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
		if to == inventory.Released && r.From != "" {
			back, err := returnToParent(ctx, tx, r)
			if err != nil || back {
				if err == nil {
					out.Status, out.UpdatedAt = to, now
					err = setStatus(ctx, tx, ref, to, now)
				}
				return err
			}
		}
		evs := make([]events.Event, 0, len(r.Lines))
		for _, l := range r.Lines { // in SKU order
			if l.Quantity == 0 {
				continue // all of it moved on to children
			}
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
		if err := setStatus(ctx, tx, ref, to, now); err != nil {
			return err
		}
		out.Status, out.UpdatedAt = to, now
		return s.outbox.Write(ctx, tx, evs...)
	})
	if err != nil {
		return inventory.Reservation{}, err
	}
	return out, nil
}

func setStatus(ctx context.Context, tx *sqldb.Tx, ref string, to inventory.ReservationStatus, now time.Time) error {
	if _, err := tx.ExecContext(ctx, "UPDATE reservations SET status = ?, updated_at = ? WHERE ref = ?", string(to), now, ref); err != nil {
		return fmt.Errorf("update reservation: %w", err)
	}
	return nil
}

// returnToParent gives a released child's units back to its parent when the parent is
// still held (the stock stays reserved, now for the parent), and reports whether it did. A
// parent released or committed meanwhile takes nothing: the child's units go to available.
func returnToParent(ctx context.Context, tx *sqldb.Tx, child inventory.Reservation) (bool, error) {
	var status string
	err := tx.QueryRowContext(ctx, "SELECT status FROM reservations WHERE ref = ?"+tx.ForUpdate(), child.From).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && status != string(inventory.Held)) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lock parent reservation %s: %w", child.From, err)
	}
	for _, l := range child.Lines {
		res, err := tx.ExecContext(ctx, "UPDATE reservation_lines SET moved = moved - ? WHERE ref = ? AND sku_id = ? AND moved >= ?",
			l.Quantity, child.From, l.SKUID, l.Quantity)
		if err != nil {
			return false, fmt.Errorf("return units to reservation %s: %w", child.From, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return false, err
		} else if n != 1 {
			return false, fmt.Errorf("inventorydb: reservation %s gave SKU %s to %s but has not that many moved out", child.From, l.SKUID, child.Ref)
		}
	}
	return true, nil
}

// Reservation returns the reservation for ref with its lines in SKU order.
func (s *Store) Reservation(ctx context.Context, ref string) (inventory.Reservation, error) {
	return reservation(ctx, s.db.Read(), ref, "")
}

func reservation(ctx context.Context, q sqldb.Querier, ref, suffix string) (inventory.Reservation, error) {
	var r inventory.Reservation
	var from sql.NullString
	err := q.QueryRowContext(ctx, "SELECT ref, status, expires_at, created_at, updated_at, placed, parent_ref FROM reservations WHERE ref = ?"+suffix, ref).
		Scan(&r.Ref, &r.Status, &r.ExpiresAt, &r.CreatedAt, &r.UpdatedAt, &r.Placed, &from)
	r.From = from.String
	if errors.Is(err, sql.ErrNoRows) {
		return inventory.Reservation{}, inventory.ErrReservationNotFound
	}
	if err != nil {
		return inventory.Reservation{}, fmt.Errorf("select reservation: %w", err)
	}
	r.ExpiresAt, r.CreatedAt, r.UpdatedAt = r.ExpiresAt.UTC(), r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	rows, err := q.QueryContext(ctx, "SELECT sku_id, quantity - moved FROM reservation_lines WHERE ref = ? ORDER BY sku_id", ref)
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
