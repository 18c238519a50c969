package order_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/order"
	"github.com/minimart/minimart/internal/order/orderdb"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

const (
	payTimeout   = 30 * time.Minute
	autoComplete = 7 * 24 * time.Hour
)

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// clock is the time a service reads, moved by the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// newService is one process's order service over db, reading the time from c. Several may
// share a database, as instances (or a restarted process) do.
func newService(t *testing.T, db *sqldb.DB, node int64, c *clock) *order.Service {
	t.Helper()
	gen, err := ids.NewGenerator(node)
	if err != nil {
		t.Fatal(err)
	}
	svc := order.NewService(orderdb.New(db, events.NewOutbox()), shelf{}, &slowStock{}, anyAddress{}, emptyCart{}, gen,
		order.Config{PayTimeout: payTimeout, AutoComplete: autoComplete, ReservationGrace: time.Minute},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	order.SetNow(svc, c.now)
	return svc
}

func placeOrder(t *testing.T, svc *order.Service, key string) order.Order {
	t.Helper()
	o, _, err := svc.Create(context.Background(), order.CreateInput{UserID: 9, Items: []order.LineRef{{SKUID: 5, Quantity: 1}},
		AddressID: 2, IdempotencyKey: key, RequestHash: "h-" + key})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return o
}

func outboxCount(t *testing.T, db *sqldb.DB, typ string) int {
	t.Helper()
	var n int
	if err := db.Read().QueryRow("SELECT COUNT(*) FROM outbox_events WHERE type = ?", typ).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSchedules: the schedules cancel unpaid orders past their payment deadline and
// complete shipped ones past their auto-complete time, and nothing else. The sweep runs in
// a service started after the order was taken, as after a restart: the schedule is the
// orders table, not the memory of the process that took the order.
func TestSchedules(t *testing.T) {
	ctx := context.Background()
	nothing := func(*testing.T, *order.Service, order.Order) {}
	pay := func(t *testing.T, svc *order.Service, o order.Order) {
		if rejected, reason, err := svc.PaymentSucceeded(ctx, o.ID, 77, o.Payable); err != nil || rejected {
			t.Fatalf("pay: rejected %v (%s), %v", rejected, reason, err)
		}
	}
	ship := func(t *testing.T, svc *order.Service, o order.Order) {
		pay(t, svc, o)
		if _, err := svc.Ship(ctx, "staff:1", o.ID, "顺丰", "SF1"); err != nil {
			t.Fatalf("ship: %v", err)
		}
	}
	cancelOverdue := (*order.Service).CancelOverdue
	completeDue := (*order.Service).CompleteDue
	tests := []struct {
		name    string
		prepare func(*testing.T, *order.Service, order.Order) // at t0, when the order was placed
		after   time.Duration                                 // from t0 to the sweep
		sweep   func(*order.Service, context.Context) (int, error)
		want    order.Status
		event   string // published by the sweep
	}{
		{"unpaid at its deadline", nothing, payTimeout, cancelOverdue, order.PendingPayment, ""},
		{"unpaid past its deadline", nothing, payTimeout + time.Second, cancelOverdue, order.Cancelled, "order.cancelled"},
		{"paid, past the payment deadline", pay, payTimeout + time.Hour, cancelOverdue, order.Paid, ""},
		{"unpaid past its deadline, completion sweep", nothing, payTimeout + time.Hour, completeDue, order.PendingPayment, ""},
		{"shipped, at its auto-complete time", ship, autoComplete, completeDue, order.Shipped, ""},
		{"shipped, past its auto-complete time", ship, autoComplete + time.Second, completeDue, order.Completed, "order.completed"},
		{"shipped, past its auto-complete time, cancel sweep", ship, autoComplete + time.Hour, cancelOverdue, order.Shipped, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := sqldbtest.SQLite(t, events.OutboxMigrations, orderdb.Migrations)
			taken := &clock{t: t0}
			first := newService(t, db, 1, taken)
			o := placeOrder(t, first, "k1")
			tt.prepare(t, first, o)

			later := newService(t, db, 2, &clock{t: t0.Add(tt.after)})
			n, err := tt.sweep(later, ctx)
			if err != nil {
				t.Fatalf("sweep: %v", err)
			}
			got, history, err := later.StaffOrder(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.want {
				t.Fatalf("status %s, want %s", got.Status, tt.want)
			}
			if tt.event == "" {
				if n != 0 {
					t.Fatalf("the sweep reports %d orders, want none", n)
				}
				return
			}
			last := history[len(history)-1]
			if n != 1 || last.Actor != "system" || last.To != tt.want || !last.CreatedAt.Equal(t0.Add(tt.after)) {
				t.Fatalf("sweep reports %d orders, last transition %+v; want 1, by system at the sweep's time", n, last)
			}
			if c := outboxCount(t, db, tt.event); c != 1 {
				t.Fatalf("%d %s events, want 1", c, tt.event)
			}
			// A second pass finds nothing more to do.
			if n, err := tt.sweep(later, ctx); err != nil || n != 0 {
				t.Fatalf("second sweep: %d, %v", n, err)
			}
		})
	}
}

// TestTwoSchedulersCancelEachOrderOnce: two instances sweeping one database at the same
// moment cancel each overdue order exactly once, with one event and one history row each.
func TestTwoSchedulersCancelEachOrderOnce(t *testing.T) {
	sqldbtest.ForEachEngine(t, []sqldb.Migrations{events.OutboxMigrations, orderdb.Migrations}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		c := &clock{t: t0}
		one, two := newService(t, db, 1, c), newService(t, db, 2, c)
		const orders = 30
		for i := range orders {
			placeOrder(t, one, fmt.Sprintf("k%02d", i))
		}
		c.set(t0.Add(payTimeout + time.Second))
		start := make(chan struct{})
		counts := make([]int, 2)
		var wg sync.WaitGroup
		for i, svc := range []*order.Service{one, two} {
			wg.Go(func() {
				<-start
				n, err := svc.CancelOverdue(ctx)
				if err != nil {
					t.Errorf("cancel overdue: %v", err)
				}
				counts[i] = n
			})
		}
		close(start)
		wg.Wait()
		if counts[0]+counts[1] != orders {
			t.Fatalf("the two schedulers cancelled %v orders, want each of %d once", counts, orders)
		}
		var history int
		if err := db.Read().QueryRow("SELECT COUNT(*) FROM order_history WHERE to_status = 'cancelled'").Scan(&history); err != nil {
			t.Fatal(err)
		}
		if events := outboxCount(t, db, "order.cancelled"); events != orders || history != orders {
			t.Fatalf("%d cancel events and %d history rows, want %d each", events, history, orders)
		}
	})
}
