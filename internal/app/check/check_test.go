package check_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/app"
	"github.com/minimart/minimart/internal/app/check"
	"github.com/minimart/minimart/internal/inventory/inventorydb"
	"github.com/minimart/minimart/internal/order/orderdb"
	"github.com/minimart/minimart/internal/payment/paymentdb"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func run(t *testing.T, db *sqldb.DB) check.Report {
	t.Helper()
	r, err := check.Run(context.Background(), check.Sources{
		Inventory: inventorydb.New(db, nil), Orders: orderdb.New(db, nil), Payments: paymentdb.New(db, nil),
		EventDBs: []*sqldb.DB{db},
	}, check.Options{EventAge: 5 * time.Minute, Grace: 5 * time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	return r
}

func exec(t *testing.T, db *sqldb.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Write().Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func stock(t *testing.T, db *sqldb.DB, sku, available, reserved, sold int64) {
	exec(t, db, "INSERT INTO stock (sku_id, product_id, available, reserved, sold, seq, updated_at) VALUES (?, 1, ?, ?, ?, 1, ?)",
		sku, available, reserved, sold, sqldb.Time(now))
}

func ledger(t *testing.T, db *sqldb.DB, id, sku, before, after int64) {
	exec(t, db, "INSERT INTO stock_ledger (id, sku_id, seq, actor, reason, source, available_before, available_after,"+
		" reserved_before, reserved_after, sold_before, sold_after, created_at) VALUES (?, ?, ?, 'test', 'test', 'test', ?, ?, 0, 0, 0, 0, ?)",
		id, sku, id, before, after, sqldb.Time(now))
}

func order(t *testing.T, db *sqldb.DB, id int64, no, status string, payable int64, paymentID any) {
	exec(t, db, "INSERT INTO orders (id, order_no, user_id, status, items_total, shipping_fee, payable, remark, address, pay_deadline,"+
		" carrier, tracking_no, staff_note, created_at, updated_at, payment_id) VALUES (?, ?, 7, ?, ?, 0, ?, '', '{}', ?, '', '', '', ?, ?, ?)",
		id, no, status, payable, payable, sqldb.Time(now.Add(30*time.Minute)), sqldb.Time(now), sqldb.Time(now), paymentID)
}

func payment(t *testing.T, db *sqldb.DB, id, orderID int64, no, status string, amount int64, paidAt time.Time) {
	exec(t, db, "INSERT INTO payments (id, order_id, order_no, user_id, provider, method, amount, refunded, status, transaction_id,"+
		" instructions, expires_at, paid_at, query_attempts, created_at, updated_at) VALUES (?, ?, ?, 7, 'sandbox', 'sandbox', ?, 0, ?, '', '{}', ?, ?, 0, ?, ?)",
		id, orderID, no, amount, status, sqldb.Time(now.Add(time.Hour)), sqldb.Time(paidAt), sqldb.Time(paidAt), sqldb.Time(paidAt))
}

func refund(t *testing.T, db *sqldb.DB, id, paymentID int64, no, status string, amount int64) {
	exec(t, db, "INSERT INTO payment_refunds (id, payment_id, order_id, order_no, out_refund_no, amount, reason, status, automatic,"+
		" requested_by, refund_id, created_at) VALUES (?, ?, 1, ?, ?, ?, 'test', ?, 0, 'test', '', ?)",
		id, paymentID, no, "R"+no+string(rune('a'+id%26)), amount, status, sqldb.Time(now))
}

func reservation(t *testing.T, db *sqldb.DB, ref string, expires time.Time) {
	exec(t, db, "INSERT INTO reservations (ref, status, expires_at, created_at, updated_at, placed) VALUES (?, 'held', ?, ?, ?, ?)",
		ref, sqldb.Time(expires), sqldb.Time(now.Add(-time.Hour)), sqldb.Time(now.Add(-time.Hour)), true)
}

// healthy plants a consistent shop: stock with its ledger, a pending order with its hold, a
// paid order with its payment, a payment refunded in full that paid no order.
func healthy(t *testing.T, db *sqldb.DB) {
	stock(t, db, 1, 7, 2, 1)
	ledger(t, db, 1, 1, 0, 10)
	ledger(t, db, 2, 1, 10, 8) // a reservation moving 2 to reserved: the total stays
	exec(t, db, "UPDATE stock_ledger SET reserved_after = 2 WHERE id = 2")
	ledger(t, db, 3, 1, 8, 7)
	exec(t, db, "UPDATE stock_ledger SET sold_after = 1 WHERE id = 3")
	order(t, db, 1, "N1", "pending_payment", 500, nil)
	reservation(t, db, "N1", now.Add(-time.Hour)) // past expiry, but its order still waits for payment
	reservation(t, db, "N-fresh", now.Add(time.Minute))
	order(t, db, 2, "N2", "paid", 900, 20)
	payment(t, db, 20, 2, "N2", "succeeded", 900, now.Add(-time.Hour))
	order(t, db, 3, "N3", "cancelled", 300, nil)
	payment(t, db, 30, 3, "N3", "succeeded", 300, now.Add(-time.Hour))
	refund(t, db, 31, 30, "N3", "succeeded", 300)
	payment(t, db, 40, 4, "N4", "succeeded", 100, now.Add(-time.Minute)) // its order hears of it within the grace
	exec(t, db, "INSERT INTO outbox_events (id, type, event_key, payload, created_at) VALUES (1, 'order.created', 'N1', '{}', ?)",
		sqldb.Time(now.Add(-time.Minute)))
}

func kinds(r check.Report) []string {
	var out []string
	for _, v := range r.Violations {
		out = append(out, v.Kind)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestCheckFindsEachPlantedViolation(t *testing.T) {
	cases := []struct {
		kind  string
		plant func(t *testing.T, db *sqldb.DB)
		ids   string
	}{
		{check.StockMismatch, func(t *testing.T, db *sqldb.DB) { stock(t, db, 5, 4, 0, 0); ledger(t, db, 50, 5, 0, 3) }, "sku 5"},
		{check.StockNegative, func(t *testing.T, db *sqldb.DB) {
			// The schema's CHECK refuses it; plant it past the constraint, as a bug in raw SQL could.
			conn, err := db.Write().Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			off := "PRAGMA ignore_check_constraints = ON"
			if db.Dialect == sqldb.MySQL {
				off = "SET SESSION check_constraint_checks = 0"
			}
			if _, err := conn.ExecContext(context.Background(), off); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.ExecContext(context.Background(), "UPDATE stock SET available = -1, sold = 1 WHERE sku_id = 1"); err != nil {
				t.Fatal(err)
			}
			if db.Dialect == sqldb.SQLite {
				conn.ExecContext(context.Background(), "PRAGMA ignore_check_constraints = OFF")
			}
			conn.Close() // SQLite's write pool has this one connection
			// available + reserved + sold still equals the ledger: only the sign is wrong.
			exec(t, db, "UPDATE stock SET sold = 9 WHERE sku_id = 1")
		}, "sku 1"},
		{check.ReservationOrphaned, func(t *testing.T, db *sqldb.DB) { reservation(t, db, "N9", now.Add(-time.Hour)) }, "reservation N9"},
		{check.OrderPaymentMissing, func(t *testing.T, db *sqldb.DB) { order(t, db, 9, "N9", "shipped", 700, nil) }, "order N9"},
		{check.OrderPaymentMissing, func(t *testing.T, db *sqldb.DB) {
			order(t, db, 9, "N9", "paid", 700, 90)
			payment(t, db, 90, 9, "N9", "succeeded", 600, now.Add(-time.Hour))
			refund(t, db, 91, 90, "N9", "succeeded", 600) // refunded in full, so only the order side is wrong
		}, "order N9"},
		{check.PaymentOrderMissing, func(t *testing.T, db *sqldb.DB) { payment(t, db, 90, 9, "N9", "succeeded", 600, now.Add(-time.Hour)) }, "payment 90"},
		{check.RefundExceeds, func(t *testing.T, db *sqldb.DB) {
			payment(t, db, 90, 9, "N9", "closed", 600, now.Add(-time.Hour))
			refund(t, db, 91, 90, "N9", "succeeded", 400)
			refund(t, db, 92, 90, "N9", "pending", 300)
		}, "payment 90"},
		{check.EventStuck, func(t *testing.T, db *sqldb.DB) {
			exec(t, db, "INSERT INTO outbox_events (id, type, event_key, payload, created_at) VALUES (9, 'order.paid', 'N2', '{}', ?)",
				sqldb.Time(now.Add(-10*time.Minute)))
		}, "event 9"},
		{check.EventStuck, func(t *testing.T, db *sqldb.DB) {
			exec(t, db, "INSERT INTO event_deliveries (consumer, event_id, type, payload, attempts, next_attempt_at, created_at)"+
				" VALUES ('inventory', 8, 'order.paid', '{}', 3, ?, ?)", sqldb.Time(now), sqldb.Time(now.Add(-10*time.Minute)))
		}, "consumer inventory"},
	}
	sqldbtest.ForEachEngine(t, nil, func(t *testing.T, db *sqldb.DB) {
		if err := db.Migrate(context.Background(), app.Migrations()...); err != nil {
			t.Fatal(err)
		}
		healthy(t, db)
		if r := run(t, db); len(r.Violations) != 0 || len(r.Skipped) != 0 {
			t.Fatalf("a consistent shop: %+v", r)
		}
	})
	for i, c := range cases {
		t.Run(fmt.Sprintf("%s_%d", c.kind, i), func(t *testing.T) {
			sqldbtest.ForEachEngine(t, nil, func(t *testing.T, db *sqldb.DB) {
				if err := db.Migrate(context.Background(), app.Migrations()...); err != nil {
					t.Fatal(err)
				}
				healthy(t, db)
				c.plant(t, db)
				r := run(t, db)
				if got := kinds(r); !slices.Equal(got, []string{c.kind}) {
					t.Fatalf("violations %v, want only %s: %+v", got, c.kind, r.Violations)
				}
				if !strings.Contains(r.Violations[0].Message, c.ids) {
					t.Errorf("violation %q does not name %q", r.Violations[0].Message, c.ids)
				}
			})
		})
	}
}

func TestCheckSaysWhatItCannotCompare(t *testing.T) {
	db := sqldbtest.SQLite(t, app.Migrations()...)
	healthy(t, db)
	reservation(t, db, "N9", now.Add(-time.Hour))
	r, err := check.Run(context.Background(), check.Sources{Inventory: inventorydb.New(db, nil)},
		check.Options{EventAge: time.Minute, Grace: time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Skipped) != 2 || !strings.Contains(strings.Join(r.Skipped, "\n"), "--db order=URL") {
		t.Errorf("skipped %q, want the order comparisons named with the flag that enables them", r.Skipped)
	}
	// Without the order module, every hold past its expiry is flagged: N1's too.
	if got := kinds(r); !slices.Equal(got, []string{check.ReservationOrphaned}) || len(r.Violations) != 2 {
		t.Errorf("violations %+v, want the two expired holds", r.Violations)
	}
}
