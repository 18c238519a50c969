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

// ClaimKey inserts k as an in-progress claim. If (user, key) is already there it returns
// the stored row and claimed = false. The insert's duplicate-key check decides between
// concurrent claims, so exactly one of them wins.
func (s *Store) ClaimKey(ctx context.Context, k order.Idempotency) (order.Idempotency, bool, error) {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now()
	}
	k.CreatedAt = sqldb.Time(k.CreatedAt)
	k.OrderID = 0
	var out order.Idempotency
	var claimed bool
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO order_idempotency (user_id, idem_key, request_hash, order_id, created_at, claimed_by)
			VALUES (?, ?, ?, NULL, ?, ?)`, k.UserID, k.Key, k.RequestHash, k.CreatedAt, sqldb.NullString(k.ClaimedBy))
		if err == nil {
			out, claimed = k, true
			return nil
		}
		if !sqldb.IsUniqueViolation(err) {
			return fmt.Errorf("insert idempotency key: %w", err)
		}
		// The failed insert holds a shared lock on the existing row (MySQL) or the write
		// lock (SQLite), so the row cannot be dropped before it is read here.
		out, err = keyByID(ctx, tx, k.UserID, k.Key)
		claimed = false
		return err
	})
	if err != nil {
		return order.Idempotency{}, false, err
	}
	return out, claimed, nil
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
	var k order.Idempotency
	var orderID sql.NullInt64
	var claimedBy sql.NullString
	err := q.QueryRowContext(ctx, `SELECT user_id, idem_key, request_hash, order_id, created_at, claimed_by
		FROM order_idempotency WHERE user_id = ? AND idem_key = ?`, userID, key).
		Scan(&k.UserID, &k.Key, &k.RequestHash, &orderID, &k.CreatedAt, &claimedBy)
	if err != nil {
		// ErrNoRows included: the duplicate that made the caller look must exist.
		return order.Idempotency{}, fmt.Errorf("select idempotency key: %w", err)
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

// Create stores o, its lines, its first history row and ev, and completes the claim of key
// (when key is not "") with o.ID, in one transaction. A claim that does not exist or is
// already completed fails the whole create. A taken order number fails with an error that
// sqldb.IsUniqueViolation recognises, so the caller can draw a new number.
func (s *Store) Create(ctx context.Context, o order.Order, t order.Transition, key string, ev events.Event) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO orders ("+orderColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.ID, o.OrderNo, o.UserID, o.Status, o.ItemsTotal, o.ShippingFee, o.Payable, o.Remark, mustJSON(o.Address),
			sqldb.Time(o.PayDeadline), sqldb.NullTime(o.PaidAt), sqldb.NullTime(o.ShippedAt), sqldb.NullTime(o.CompletedAt), sqldb.NullTime(o.CancelledAt),
			sqldb.NullTime(o.AutoCompleteAt), o.Carrier, o.TrackingNo, o.StaffNote, sqldb.Time(o.CreatedAt), sqldb.Time(o.UpdatedAt),
			nullID(o.PaymentID))
		if sqldb.IsUniqueViolation(err) {
			return fmt.Errorf("insert order %d: order id or number %q already exists: %w", o.ID, o.OrderNo, err)
		}
		if err != nil {
			return fmt.Errorf("insert order: %w", err)
		}
		if err := insertLines(ctx, tx, o.ID, o.Lines); err != nil {
			return err
		}
		if t.CreatedAt.IsZero() {
			t.CreatedAt = o.CreatedAt
		}
		if err := insertHistory(ctx, tx, o.ID, t); err != nil {
			return err
		}
		if err := s.outbox.Write(ctx, tx, ev); err != nil {
			return err
		}
		if key == "" {
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE order_idempotency SET order_id = ?
			WHERE user_id = ? AND idem_key = ? AND order_id IS NULL`, o.ID, o.UserID, key)
		if err != nil {
			return fmt.Errorf("complete idempotency key: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return fmt.Errorf("complete idempotency key %q of user %d: no claim in progress", key, o.UserID)
		}
		return nil
	})
}

func insertLines(ctx context.Context, tx *sqldb.Tx, orderID ids.ID, lines []order.Line) error {
	if len(lines) == 0 {
		return nil
	}
	// order.MaxLines bounds an order, so one statement carries every line.
	var q strings.Builder
	q.WriteString("INSERT INTO order_lines (" + lineColumns + ") VALUES ")
	args := make([]any, 0, len(lines)*10)
	for i, l := range lines {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, orderID, i+1, l.SKUID, l.ProductID, l.Title, mustJSON(l.Specs), l.Image, l.UnitPrice,
			l.Quantity, l.LineTotal)
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("insert order lines: %w", err)
	}
	return nil
}

func insertHistory(ctx context.Context, tx *sqldb.Tx, orderID ids.ID, t order.Transition) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO order_history (order_id, from_status, to_status, actor, reason, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, orderID, t.From, t.To, t.Actor, t.Reason, sqldb.Time(t.CreatedAt))
	if err != nil {
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
