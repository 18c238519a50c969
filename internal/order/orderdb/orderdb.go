// Package orderdb stores orders, their line and address snapshots, their state history and
// the Idempotency-Key claims of order creation, in SQLite or MySQL with explicit SQL. The
// statements are the same on both engines; only the DDL and row locking differ.
package orderdb

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/order"
	"github.com/minimart/minimart/internal/platform/batch"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations is the order module's schema.
var Migrations = sqldb.Migrations{Module: "order", FS: migrationFiles, Dir: "migrations"}

// Store implements order.Storer.
type Store struct {
	db     *sqldb.DB
	outbox *events.Outbox
}

var _ order.Storer = (*Store)(nil)

// New returns a store over db writing events to outbox.
func New(db *sqldb.DB, outbox *events.Outbox) *Store { return &Store{db: db, outbox: outbox} }

func nullID(id ids.ID) any {
	if id == 0 {
		return nil
	}
	return id
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only strings and maps of strings reach here
	}
	return string(b)
}

// ---- idempotency keys ----

// ClaimKey claims one key: ClaimKeys of one.
func (s *Store) ClaimKey(ctx context.Context, k order.Idempotency) (order.Idempotency, bool, error) {
	res, err := s.ClaimKeys(ctx, []order.Idempotency{k})
	if err != nil {
		return order.Idempotency{}, false, err
	}
	return res[0].Value.Existing, res[0].Value.Claimed, res[0].Err
}

// keyRaces bounds how often a claim batch is run again after a concurrent claim of one of
// its keys committed between its read and its insert.
const keyRaces = 3

var errKeyTaken = errors.New("orderdb: idempotency key claimed by a concurrent request")

// ClaimKeys inserts each key of ks as an in-progress claim, in one transaction. A key that
// is already stored (or appears earlier in ks) answers the stored claim and Claimed = false.
// The keys are read first and only the new ones inserted; a concurrent claim that commits
// in between makes the insert fail on the primary key, and the batch runs again and finds it.
func (s *Store) ClaimKeys(ctx context.Context, ks []order.Idempotency) ([]batch.Result[order.KeyClaim], error) {
	var out []batch.Result[order.KeyClaim]
	var err error
	for range keyRaces {
		err = s.db.InTx(ctx, func(tx *sqldb.Tx) error {
			out, err = claimKeys(ctx, tx, ks)
			return err
		})
		if !errors.Is(err, errKeyTaken) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// userKey names one claim: a buyer's Idempotency-Key.
type userKey struct {
	user ids.ID
	key  string
}

// keysWhere is the condition matching the claims of keys, with its arguments.
func keysWhere(keys []userKey) (string, []any) {
	var where strings.Builder
	args := make([]any, 0, 2*len(keys))
	for i, k := range keys {
		if i > 0 {
			where.WriteString(" OR ")
		}
		where.WriteString("(user_id = ? AND idem_key = ?)")
		args = append(args, k.user, k.key)
	}
	return where.String(), args
}

func claimKeys(ctx context.Context, tx *sqldb.Tx, ks []order.Idempotency) ([]batch.Result[order.KeyClaim], error) {
	wanted := make([]userKey, len(ks))
	for i, k := range ks {
		wanted[i] = userKey{k.UserID, k.Key}
	}
	where, args := keysWhere(wanted)
	rows, err := tx.QueryContext(ctx, "SELECT "+keyColumns+" FROM order_idempotency WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("select idempotency keys: %w", err)
	}
	stored := map[userKey]order.Idempotency{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		stored[userKey{k.UserID, k.Key}] = k
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("select idempotency keys: %w", err)
	}
	out := make([]batch.Result[order.KeyClaim], len(ks))
	var inserts [][]any
	for i, k := range ks {
		id := userKey{k.UserID, k.Key}
		if existing, ok := stored[id]; ok {
			out[i].Value = order.KeyClaim{Existing: existing}
			continue
		}
		if k.CreatedAt.IsZero() {
			k.CreatedAt = time.Now()
		}
		k.CreatedAt, k.OrderID = sqldb.Time(k.CreatedAt), 0
		stored[id] = k
		out[i].Value = order.KeyClaim{Existing: k, Claimed: true}
		inserts = append(inserts, []any{k.UserID, k.Key, k.RequestHash, nil, k.CreatedAt, sqldb.NullString(k.ClaimedBy)})
	}
	err = sqldb.InsertRows(ctx, tx, "INSERT INTO order_idempotency (user_id, idem_key, request_hash, order_id, created_at, claimed_by) VALUES ", inserts)
	if sqldb.IsUniqueViolation(err) {
		return nil, errKeyTaken
	}
	if err != nil {
		return nil, fmt.Errorf("insert idempotency keys: %w", err)
	}
	return out, nil
}

// Key reads a claim from the read pool.
func (s *Store) Key(ctx context.Context, userID ids.ID, key string) (order.Idempotency, bool, error) {
	k, err := keyByID(ctx, s.db.Read(), userID, key)
	if errors.Is(err, sql.ErrNoRows) {
		return order.Idempotency{}, false, nil
	}
	return k, err == nil, err
}

func keyByID(ctx context.Context, q sqldb.Querier, userID ids.ID, key string) (order.Idempotency, error) {
	k, err := scanKey(q.QueryRowContext(ctx, "SELECT "+keyColumns+" FROM order_idempotency WHERE user_id = ? AND idem_key = ?", userID, key))
	if err != nil {
		// ErrNoRows included: the caller's "not found" is decided by Key.
		return order.Idempotency{}, fmt.Errorf("select idempotency key: %w", err)
	}
	return k, nil
}

const keyColumns = "user_id, idem_key, request_hash, order_id, created_at, claimed_by"

func scanKey(r interface{ Scan(...any) error }) (order.Idempotency, error) {
	var k order.Idempotency
	var orderID sql.NullInt64
	var claimedBy sql.NullString
	if err := r.Scan(&k.UserID, &k.Key, &k.RequestHash, &orderID, &k.CreatedAt, &claimedBy); err != nil {
		return order.Idempotency{}, err
	}
	k.OrderID = ids.ID(orderID.Int64)
	k.CreatedAt = k.CreatedAt.UTC()
	k.ClaimedBy = claimedBy.String
	return k, nil
}

// DropKey removes the in-progress claim k; a completed claim (one that created an order), a
// newer claim of the same key and an unknown key are left alone.
func (s *Store) DropKey(ctx context.Context, k order.Idempotency) error {
	_, err := s.db.Write().ExecContext(ctx,
		"DELETE FROM order_idempotency WHERE user_id = ? AND idem_key = ? AND order_id IS NULL AND created_at = ?",
		k.UserID, k.Key, sqldb.Time(k.CreatedAt))
	if err != nil {
		return fmt.Errorf("drop idempotency key: %w", err)
	}
	return nil
}

// ---- orders ----

const orderColumns = `id, order_no, user_id, status, items_total, shipping_fee, payable, remark, address,
	pay_deadline, paid_at, shipped_at, completed_at, cancelled_at, auto_complete_at, carrier, tracking_no, staff_note,
	created_at, updated_at, payment_id`

func scanOrder(row sqldb.Scanner) (order.Order, error) {
	var o order.Order
	var address string
	var paid, shipped, completed, cancelled, autoComplete sql.NullTime
	var paymentID sql.NullInt64
	err := row.Scan(&o.ID, &o.OrderNo, &o.UserID, &o.Status, &o.ItemsTotal, &o.ShippingFee, &o.Payable, &o.Remark, &address,
		&o.PayDeadline, &paid, &shipped, &completed, &cancelled, &autoComplete, &o.Carrier, &o.TrackingNo, &o.StaffNote,
		&o.CreatedAt, &o.UpdatedAt, &paymentID)
	if err != nil {
		return o, err
	}
	if err := json.Unmarshal([]byte(address), &o.Address); err != nil {
		return o, fmt.Errorf("order %d address: %w", o.ID, err)
	}
	o.PayDeadline, o.CreatedAt, o.UpdatedAt = o.PayDeadline.UTC(), o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	o.PaidAt, o.ShippedAt, o.CompletedAt = sqldb.TimePtr(paid), sqldb.TimePtr(shipped), sqldb.TimePtr(completed)
	o.CancelledAt, o.AutoCompleteAt = sqldb.TimePtr(cancelled), sqldb.TimePtr(autoComplete)
	o.PaymentID = ids.ID(paymentID.Int64)
	return o, nil
}

const lineColumns = "order_id, line_no, sku_id, product_id, title, specs, image, unit_price, quantity, line_total"

// orderLines returns the lines of each order, in line order.
func orderLines(ctx context.Context, q sqldb.Querier, orderIDs ...ids.ID) (map[ids.ID][]order.Line, error) {
	out := map[ids.ID][]order.Line{}
	if len(orderIDs) == 0 {
		return out, nil
	}
	in, args := sqldb.InList(orderIDs)
	rows, err := q.QueryContext(ctx, "SELECT "+lineColumns+" FROM order_lines WHERE order_id IN ("+in+") ORDER BY order_id, line_no", args...)
	if err != nil {
		return nil, fmt.Errorf("select order lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l order.Line
		var orderID ids.ID
		var lineNo int
		var specs string
		if err := rows.Scan(&orderID, &lineNo, &l.SKUID, &l.ProductID, &l.Title, &specs, &l.Image, &l.UnitPrice,
			&l.Quantity, &l.LineTotal); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(specs), &l.Specs); err != nil {
			return nil, fmt.Errorf("order %d line %d specs: %w", orderID, lineNo, err)
		}
		out[orderID] = append(out[orderID], l)
	}
	return out, rows.Err()
}

// withLines sets o.Lines, never nil.
func withLines(o *order.Order, lines map[ids.ID][]order.Line) {
	o.Lines = lines[o.ID]
	if o.Lines == nil {
		o.Lines = []order.Line{}
	}
}

func orderWhere(ctx context.Context, q sqldb.Querier, suffix, where string, args ...any) (order.Order, error) {
	o, err := scanOrder(q.QueryRowContext(ctx, "SELECT "+orderColumns+" FROM orders WHERE "+where+suffix, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return order.Order{}, order.ErrOrderNotFound
	}
	if err != nil {
		return order.Order{}, fmt.Errorf("select order: %w", err)
	}
	lines, err := orderLines(ctx, q, o.ID)
	if err != nil {
		return order.Order{}, err
	}
	withLines(&o, lines)
	return o, nil
}

// Create stores one order: CreateBatch of one.
func (s *Store) Create(ctx context.Context, o order.Order, t order.Transition, key string, ev events.Event) error {
	res, err := s.CreateBatch(ctx, []order.NewOrder{{Order: o, Transition: t, Key: key, Event: ev}})
	if err != nil {
		return err
	}
	return res[0].Err
}

// WriteConcurrency is how many group-committed batches may write at once: one on SQLite,
// whose single writer would only queue more, a few on MySQL.
func (s *Store) WriteConcurrency() int {
	if s.db.Dialect == sqldb.MySQL {
		return 4
	}
	return 1
}

// CreateBatch stores the orders of os with their lines, first history rows and events, and
// completes their idempotency claims, in one transaction with one statement per table. An
// order whose claim is no longer in progress (dropped as abandoned) is answered with an
// error and not stored; its neighbours are. An error for the batch stores nothing.
func (s *Store) CreateBatch(ctx context.Context, os []order.NewOrder) ([]batch.Result[struct{}], error) {
	out := make([]batch.Result[struct{}], len(os))
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		clear(out)
		lost, err := lostClaims(ctx, tx, os)
		if err != nil {
			return err
		}
		var orderRows, lineRows, historyRows [][]any
		var evs []events.Event
		var keyed []order.NewOrder
		for i, n := range os {
			o, t := n.Order, n.Transition
			if lost[i] {
				out[i].Err = fmt.Errorf("complete idempotency key %q of user %d: no claim in progress", n.Key, o.UserID)
				continue
			}
			orderRows = append(orderRows, []any{o.ID, o.OrderNo, o.UserID, o.Status, o.ItemsTotal, o.ShippingFee, o.Payable, o.Remark,
				mustJSON(o.Address), sqldb.Time(o.PayDeadline), sqldb.NullTime(o.PaidAt), sqldb.NullTime(o.ShippedAt),
				sqldb.NullTime(o.CompletedAt), sqldb.NullTime(o.CancelledAt), sqldb.NullTime(o.AutoCompleteAt), o.Carrier, o.TrackingNo,
				o.StaffNote, sqldb.Time(o.CreatedAt), sqldb.Time(o.UpdatedAt), nullID(o.PaymentID)})
			for j, l := range o.Lines {
				lineRows = append(lineRows, []any{o.ID, j + 1, l.SKUID, l.ProductID, l.Title, mustJSON(l.Specs), l.Image, l.UnitPrice,
					l.Quantity, l.LineTotal})
			}
			if t.CreatedAt.IsZero() {
				t.CreatedAt = o.CreatedAt
			}
			historyRows = append(historyRows, historyRow(o.ID, t))
			evs = append(evs, n.Event)
			if n.Key != "" {
				keyed = append(keyed, n)
			}
		}
		if len(orderRows) == 0 {
			return nil
		}
		if err := sqldb.InsertRows(ctx, tx, "INSERT INTO orders ("+orderColumns+") VALUES ", orderRows); err != nil {
			return fmt.Errorf("insert orders: %w", err)
		}
		if err := sqldb.InsertRows(ctx, tx, "INSERT INTO order_lines ("+lineColumns+") VALUES ", lineRows); err != nil {
			return fmt.Errorf("insert order lines: %w", err)
		}
		if err := sqldb.InsertRows(ctx, tx, historyInsert, historyRows); err != nil {
			return fmt.Errorf("insert order history: %w", err)
		}
		if err := s.outbox.Write(ctx, tx, evs...); err != nil {
			return err
		}
		return completeClaims(ctx, tx, keyed)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lostClaims locks the in-progress claims of the keyed orders and reports which orders'
// claims are gone.
func lostClaims(ctx context.Context, tx *sqldb.Tx, os []order.NewOrder) (map[int]bool, error) {
	lost := map[int]bool{}
	var wanted []userKey
	for _, n := range os {
		if n.Key != "" {
			wanted = append(wanted, userKey{n.Order.UserID, n.Key})
		}
	}
	if len(wanted) == 0 {
		return lost, nil
	}
	where, args := keysWhere(wanted)
	rows, err := tx.QueryContext(ctx, "SELECT user_id, idem_key FROM order_idempotency WHERE order_id IS NULL AND ("+where+")"+
		tx.ForUpdate(), args...)
	if err != nil {
		return nil, fmt.Errorf("lock idempotency keys: %w", err)
	}
	defer rows.Close()
	held := map[userKey]bool{}
	for rows.Next() {
		var k userKey
		if err := rows.Scan(&k.user, &k.key); err != nil {
			return nil, err
		}
		held[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lock idempotency keys: %w", err)
	}
	for i, n := range os {
		if n.Key != "" && !held[userKey{n.Order.UserID, n.Key}] {
			lost[i] = true
		}
	}
	return lost, nil
}

// completeClaims records each keyed order's id on its claim, in one statement; lostClaims
// locked the claims, so every one is there.
func completeClaims(ctx context.Context, tx *sqldb.Tx, keyed []order.NewOrder) error {
	if len(keyed) == 0 {
		return nil
	}
	var cases strings.Builder
	var caseArgs []any
	keys := make([]userKey, len(keyed))
	for i, n := range keyed {
		cases.WriteString(" WHEN user_id = ? AND idem_key = ? THEN ?")
		caseArgs = append(caseArgs, n.Order.UserID, n.Key, n.Order.ID)
		keys[i] = userKey{n.Order.UserID, n.Key}
	}
	where, whereArgs := keysWhere(keys)
	res, err := tx.ExecContext(ctx, "UPDATE order_idempotency SET order_id = CASE"+cases.String()+" END WHERE order_id IS NULL AND ("+
		where+")", append(caseArgs, whereArgs...)...)
	if err != nil {
		return fmt.Errorf("complete idempotency keys: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != int64(len(keyed)) {
		return fmt.Errorf("orderdb: completed %d of %d locked idempotency claims", n, len(keyed))
	}
	return nil
}

const historyInsert = "INSERT INTO order_history (order_id, from_status, to_status, actor, reason, created_at) VALUES "

func historyRow(orderID ids.ID, t order.Transition) []any {
	return []any{orderID, t.From, t.To, t.Actor, t.Reason, sqldb.Time(t.CreatedAt)}
}

func insertHistory(ctx context.Context, tx *sqldb.Tx, orderID ids.ID, t order.Transition) error {
	if err := sqldb.InsertRows(ctx, tx, historyInsert, [][]any{historyRow(orderID, t)}); err != nil {
		return fmt.Errorf("insert order history: %w", err)
	}
	return nil
}

// Order returns an order with its lines; userID 0 reads any buyer's order, otherwise
// another buyer's order is not found.
func (s *Store) Order(ctx context.Context, id, userID ids.ID) (order.Order, error) {
	if userID != 0 {
		return orderWhere(ctx, s.db.Read(), "", "id = ? AND user_id = ?", id, userID)
	}
	return orderWhere(ctx, s.db.Read(), "", "id = ?", id)
}

// Orders lists the orders matching f newest first, with their lines (one query for the
// whole page), and counts every match.
func (s *Store) Orders(ctx context.Context, f order.ListFilter) ([]order.Order, int, error) {
	where := " WHERE 1 = 1"
	var args []any
	if f.UserID != 0 {
		where += " AND user_id = ?"
		args = append(args, f.UserID)
	}
	if f.Status != "" {
		where += " AND status = ?"
		args = append(args, f.Status)
	}
	if f.OrderNo != "" {
		where += " AND order_no = ?"
		args = append(args, f.OrderNo)
	}
	if !f.From.IsZero() {
		where += " AND created_at >= ?"
		args = append(args, sqldb.Time(f.From))
	}
	if !f.To.IsZero() {
		where += " AND created_at < ?"
		args = append(args, sqldb.Time(f.To))
	}
	q := s.db.Read()
	var total int
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM orders"+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count orders: %w", err)
	}
	out := []order.Order{}
	if f.Limit <= 0 || total == 0 {
		return out, total, nil
	}
	rows, err := q.QueryContext(ctx, "SELECT "+orderColumns+" FROM orders"+where+
		" ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", append(args, f.Limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("list orders: %w", err)
	}
	defer rows.Close()
	var idList []ids.ID
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, o)
		idList = append(idList, o.ID)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	lines, err := orderLines(ctx, q, idList...)
	if err != nil {
		return nil, 0, err
	}
	for i := range out {
		withLines(&out[i], lines)
	}
	return out, total, nil
}

// History lists an order's transitions, oldest first; an unknown order has none.
func (s *Store) History(ctx context.Context, id ids.ID) ([]order.Transition, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT from_status, to_status, actor, reason, created_at
		FROM order_history WHERE order_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("select order history: %w", err)
	}
	defer rows.Close()
	out := []order.Transition{}
	for rows.Next() {
		var t order.Transition
		if err := rows.Scan(&t.From, &t.To, &t.Actor, &t.Reason, &t.CreatedAt); err != nil {
			return nil, err
		}
		t.CreatedAt = t.CreatedAt.UTC()
		out = append(out, t)
	}
	return out, rows.Err()
}

// Update locks the order, lets fn change it, and saves every mutable column, the
// transition (when its To is set) and the event (when not nil) in one transaction. fn
// returning an error changes nothing. The id, order number, buyer, creation time and lines
// are fixed: changes fn makes to them are not saved. If fn leaves UpdatedAt as it was, it
// becomes the current time. A transition without From gets the status the order had
// before fn, and one without CreatedAt gets the order's new UpdatedAt. fn may run more
// than once when the database asks for a retry (deadlock), each time on a fresh copy.
func (s *Store) Update(ctx context.Context, id ids.ID, fn func(*order.Order) (order.Transition, *events.Event, error)) (order.Order, error) {
	var out order.Order
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		before, err := orderWhere(ctx, tx, tx.ForUpdate(), "id = ?", id)
		if err != nil {
			return err
		}
		o := before
		o.Lines = append([]order.Line(nil), before.Lines...)
		t, ev, err := fn(&o)
		if err != nil {
			return err
		}
		o.ID, o.OrderNo, o.UserID, o.CreatedAt, o.Lines = before.ID, before.OrderNo, before.UserID, before.CreatedAt, before.Lines
		if o.UpdatedAt.Equal(before.UpdatedAt) {
			o.UpdatedAt = time.Now()
		}
		o.UpdatedAt = sqldb.Time(o.UpdatedAt)
		_, err = tx.ExecContext(ctx, `UPDATE orders SET status = ?, items_total = ?, shipping_fee = ?, payable = ?,
			remark = ?, address = ?, pay_deadline = ?, paid_at = ?, shipped_at = ?, completed_at = ?, cancelled_at = ?,
			auto_complete_at = ?, carrier = ?, tracking_no = ?, staff_note = ?, updated_at = ?, payment_id = ? WHERE id = ?`,
			o.Status, o.ItemsTotal, o.ShippingFee, o.Payable, o.Remark, mustJSON(o.Address), sqldb.Time(o.PayDeadline),
			sqldb.NullTime(o.PaidAt), sqldb.NullTime(o.ShippedAt), sqldb.NullTime(o.CompletedAt), sqldb.NullTime(o.CancelledAt),
			sqldb.NullTime(o.AutoCompleteAt), o.Carrier, o.TrackingNo, o.StaffNote, o.UpdatedAt, nullID(o.PaymentID), id)
		if err != nil {
			return fmt.Errorf("update order: %w", err)
		}
		if t.To != "" {
			if t.From == "" {
				t.From = before.Status
			}
			if t.CreatedAt.IsZero() {
				t.CreatedAt = o.UpdatedAt
			}
			if err := insertHistory(ctx, tx, id, t); err != nil {
				return err
			}
		}
		if ev != nil {
			if err := s.outbox.Write(ctx, tx, *ev); err != nil {
				return err
			}
		}
		out = o
		return nil
	})
	if err != nil {
		return order.Order{}, err
	}
	return normalise(out), nil
}

// normalise gives a saved order the precision and zone it reads back with.
func normalise(o order.Order) order.Order {
	o.PayDeadline, o.CreatedAt, o.UpdatedAt = sqldb.Time(o.PayDeadline), sqldb.Time(o.CreatedAt), sqldb.Time(o.UpdatedAt)
	for _, p := range []**time.Time{&o.PaidAt, &o.ShippedAt, &o.CompletedAt, &o.CancelledAt, &o.AutoCompleteAt} {
		if *p != nil {
			t := sqldb.Time(**p)
			*p = &t
		}
	}
	return o
}

// Due returns the ids of up to limit orders in status whose deadline has passed: the
// payment deadline of pending_payment orders, the automatic completion time of shipped
// ones; earliest deadline first. Other statuses have no deadline and give none. Instances
// calling it at once may get the same ids; Update re-checks each order under its lock.
func (s *Store) Due(ctx context.Context, status order.Status, now time.Time, limit int) ([]ids.ID, error) {
	var column string
	switch status {
	case order.PendingPayment:
		column = "pay_deadline"
	case order.Shipped:
		column = "auto_complete_at"
	default:
		return []ids.ID{}, nil
	}
	out := []ids.ID{}
	if limit <= 0 {
		return out, nil
	}
	rows, err := s.db.Read().QueryContext(ctx, "SELECT id FROM orders WHERE status = ? AND "+column+" < ? ORDER BY "+
		column+", id LIMIT ?", status, sqldb.Time(now), limit)
	if err != nil {
		return nil, fmt.Errorf("select due orders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id ids.ID
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Placed returns the order numbers among nos that name a recorded order.
func (s *Store) Placed(ctx context.Context, nos []string) ([]string, error) {
	out := []string{}
	if len(nos) == 0 {
		return out, nil
	}
	in, args := sqldb.InList(nos)
	rows, err := s.db.Read().QueryContext(ctx, "SELECT order_no FROM orders WHERE order_no IN ("+in+")", args...)
	if err != nil {
		return nil, fmt.Errorf("select placed orders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var no string
		if err := rows.Scan(&no); err != nil {
			return nil, err
		}
		out = append(out, no)
	}
	return out, rows.Err()
}
