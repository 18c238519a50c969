package inventory_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/inventory/inventorydb"
	"github.com/minimart/minimart/internal/inventory/inventoryevents"
	"github.com/minimart/minimart/internal/order"
	"github.com/minimart/minimart/internal/order/orderevents"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// catalog knows every SKU it was told about.
type catalog struct {
	mu       sync.Mutex
	products map[ids.ID]ids.ID
}

func (c *catalog) ProductOfSKU(_ context.Context, sku ids.ID) (ids.ID, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.products[sku]; ok {
		return p, nil
	}
	return 0, inventory.ErrSKUNotFound
}

// SKUByCode knows no codes: reservations name SKUs by id.
func (c *catalog) SKUByCode(context.Context, string) (ids.ID, error) {
	return 0, inventory.ErrSKUNotFound
}

func (c *catalog) LiveSKUsOfProduct(_ context.Context, product ids.ID) ([]ids.ID, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []ids.ID
	for sku, p := range c.products {
		if p == product {
			out = append(out, sku)
		}
	}
	if len(out) == 0 {
		return nil, inventory.ErrProductNotFound
	}
	slices.Sort(out)
	return out, nil
}

// logBuffer collects JSON log lines from concurrent writers.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the logged records that have msg.
func (l *logBuffer) lines(msg string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(l.b.String()) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

type env struct {
	t    *testing.T
	ctx  context.Context
	db   *sqldb.DB
	svc  *inventory.Service
	gen  *ids.Generator
	cat  *catalog
	logs *logBuffer
}

func newEnv(t *testing.T, db *sqldb.DB) *env {
	gen, err := ids.NewGenerator(6)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	cat := &catalog{products: map[ids.ID]ids.ID{}}
	svc := inventory.NewService(inventorydb.New(db, events.NewOutbox()), cat, gen, slog.New(slog.NewJSONHandler(logs, nil)))
	return &env{t: t, ctx: context.Background(), db: db, svc: svc, gen: gen, cat: cat, logs: logs}
}

// stocked makes a SKU with n available.
func (e *env) stocked(n int64) ids.ID {
	e.t.Helper()
	sku := e.gen.New()
	e.cat.mu.Lock()
	e.cat.products[sku] = e.gen.New()
	e.cat.mu.Unlock()
	if _, err := e.svc.SetStock(e.ctx, "staff:1", sku, n, "count"); err != nil {
		e.t.Fatalf("set stock: %v", err)
	}
	return sku
}

func (e *env) wantLevel(sku ids.ID, available, reserved, sold int64) {
	e.t.Helper()
	l, err := e.svc.Level(e.ctx, sku)
	if err != nil || l.Available != available || l.Reserved != reserved || l.Sold != sold {
		e.t.Fatalf("SKU %s: %+v %v; want available/reserved/sold %d/%d/%d", sku, l, err, available, reserved, sold)
	}
}

func (e *env) wantStatus(ref string, want inventory.ReservationStatus) {
	e.t.Helper()
	r, err := e.svc.Reservation(e.ctx, ref)
	if err != nil || r.Status != want {
		e.t.Fatalf("reservation %s: %+v %v; want %s", ref, r, err, want)
	}
}

func (e *env) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Read().QueryRowContext(e.ctx, query, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func line(sku ids.ID, q int64) inventory.ReserveLine {
	return inventory.ReserveLine{SKUID: sku, Quantity: q}
}

var sets = []sqldb.Migrations{events.OutboxMigrations, inventorydb.Migrations}

func TestReserveValidation(t *testing.T) {
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		sku := e.stocked(10)
		later := time.Now().Add(time.Hour)
		many := func(n int) []inventory.ReserveLine {
			out := make([]inventory.ReserveLine, n)
			for i := range out {
				out[i] = line(e.gen.New(), 1)
			}
			return out
		}
		for _, tc := range []struct {
			name      string
			ref       string
			lines     []inventory.ReserveLine
			expiresAt time.Time
			field     string // "" when the input is valid
		}{
			{"empty ref", "", []inventory.ReserveLine{line(sku, 1)}, later, "ref"},
			{"ref too long", strings.Repeat("1", 65), []inventory.ReserveLine{line(sku, 1)}, later, "ref"},
			{"ref with space", "A 1", []inventory.ReserveLine{line(sku, 1)}, later, "ref"},
			{"ref not ascii", "单号1", []inventory.ReserveLine{line(sku, 1)}, later, "ref"},
			{"no lines", "V1", nil, later, "lines"},
			{"51 lines", "V1", many(51), later, "lines"},
			{"zero quantity", "V1", []inventory.ReserveLine{line(sku, 0)}, later, "lines[0].quantity"},
			{"negative quantity", "V1", []inventory.ReserveLine{line(sku, 1), line(sku, -1)}, later, "lines[1].quantity"},
			{"quantity too big", "V1", []inventory.ReserveLine{line(sku, 100_000)}, later, "lines[0].quantity"},
			{"merged quantity too big", "V1", []inventory.ReserveLine{line(sku, 99_999), line(sku, 1)}, later, "lines"},
			{"no sku", "V1", []inventory.ReserveLine{line(0, 1)}, later, "lines[0].sku_id"},
			{"expired", "V1", []inventory.ReserveLine{line(sku, 1)}, time.Now().Add(-time.Second), "expires_at"},
			{"no expiry", "V1", []inventory.ReserveLine{line(sku, 1)}, time.Time{}, "expires_at"},
			// Valid but unstocked: the store's answer, out of stock, shows validation let it pass.
			{"64-char ref, 50 lines", strings.Repeat("9", 62) + "-_", many(50), later, ""},
		} {
			_, err := e.svc.Reserve(e.ctx, tc.ref, tc.lines, tc.expiresAt)
			if tc.field == "" {
				if !errors.Is(err, inventory.ErrOutOfStock) {
					t.Errorf("%s: %v, want out_of_stock", tc.name, err)
				}
				continue
			}
			if !hasField(err, tc.field) {
				t.Errorf("%s: %v, want a validation error on %s", tc.name, err, tc.field)
			}
		}
		e.wantLevel(sku, 10, 0, 0)

		if _, err := e.svc.Release(e.ctx, "V 1", ""); !hasField(err, "ref") {
			t.Errorf("release with a bad ref: %v", err)
		}
		if _, err := e.svc.Release(e.ctx, "V1", strings.Repeat("x", 201)); !hasField(err, "reason") {
			t.Errorf("release with a long reason: %v", err)
		}
		if _, err := e.svc.Commit(e.ctx, ""); !hasField(err, "ref") {
			t.Errorf("commit with no ref: %v", err)
		}
	})
}

func hasField(err error, field string) bool {
	e, ok := errs.As(err)
	if !ok || !errors.Is(err, errs.ErrValidation) {
		return false
	}
	fields, _ := e.Details["fields"].([]errs.FieldError)
	return slices.ContainsFunc(fields, func(f errs.FieldError) bool { return f.Field == field })
}

func TestReserveReleaseCommit(t *testing.T) {
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		a, b := e.stocked(10), e.stocked(3)
		later := time.Now().Add(time.Hour)

		r, err := e.svc.Reserve(e.ctx, "20260101000001", []inventory.ReserveLine{line(b, 1), line(a, 2), line(b, 1)}, later)
		if err != nil || r.Status != inventory.Held || !slices.Equal(r.Lines, []inventory.ReserveLine{line(a, 2), line(b, 2)}) {
			t.Fatalf("reserve: %+v %v", r, err)
		}
		e.wantLevel(a, 8, 2, 0)
		e.wantLevel(b, 1, 2, 0)
		// The event says what happened, with the product the SKU belongs to.
		var payload string
		if err := db.Read().QueryRowContext(e.ctx, "SELECT payload FROM outbox_events WHERE event_key = ? ORDER BY id DESC LIMIT 1", a.String()).Scan(&payload); err != nil {
			t.Fatal(err)
		}
		ev, err := events.Decode([]byte(payload))
		var sc inventoryevents.StockChanged
		if err != nil || ev.Type != inventoryevents.TypeStockChanged || json.Unmarshal(ev.Payload, &sc) != nil {
			t.Fatalf("event %s: %v", payload, err)
		}
		if want := (inventoryevents.StockChanged{SKUID: a, ProductID: e.cat.products[a], Available: 8, Reserved: 2, DeltaAvailable: -2,
			Reason: "reserve 20260101000001", Source: "order"}); sc != want {
			t.Fatalf("event payload %+v, want %+v", sc, want)
		}

		// A repeat is the first outcome, even with other lines.
		if again, err := e.svc.Reserve(e.ctx, "20260101000001", []inventory.ReserveLine{line(a, 5)}, later); err != nil ||
			!slices.Equal(again.Lines, r.Lines) || !again.CreatedAt.Equal(r.CreatedAt) {
			t.Fatalf("repeat reserve: %+v %v", again, err)
		}
		e.wantLevel(a, 8, 2, 0)

		// Out of stock names the short SKU; nothing is held.
		_, err = e.svc.Reserve(e.ctx, "20260101000002", []inventory.ReserveLine{line(a, 1), line(b, 2)}, later)
		if !errors.Is(err, inventory.ErrOutOfStock) {
			t.Fatalf("short reserve: %v", err)
		}
		if ae, _ := errs.As(err); !slices.Equal(ae.Details["skus"].([]inventory.Shortage), []inventory.Shortage{{SKUID: b, Requested: 2, Available: 1}}) {
			t.Fatalf("short reserve details: %+v", ae.Details)
		}
		e.wantLevel(a, 8, 2, 0)
		if _, err := e.svc.Reservation(e.ctx, "20260101000002"); !errors.Is(err, inventory.ErrReservationNotFound) {
			t.Fatalf("refused reservation is stored: %v", err)
		}

		// Release, twice; then it cannot be committed.
		if r, err := e.svc.Release(e.ctx, "20260101000001", "buyer cancelled"); err != nil || r.Status != inventory.Released {
			t.Fatalf("release: %+v %v", r, err)
		}
		if r, err := e.svc.Release(e.ctx, "20260101000001", ""); err != nil || r.Status != inventory.Released {
			t.Fatalf("repeat release: %+v %v", r, err)
		}
		e.wantLevel(a, 10, 0, 0)
		e.wantLevel(b, 3, 0, 0)
		if _, err := e.svc.Commit(e.ctx, "20260101000001"); !errors.Is(err, inventory.ErrReservationReleased) {
			t.Fatalf("commit after release: %v", err)
		}

		// Commit, twice; then it cannot be released.
		if _, err := e.svc.Reserve(e.ctx, "20260101000003", []inventory.ReserveLine{line(a, 4)}, later); err != nil {
			t.Fatal(err)
		}
		if r, err := e.svc.Commit(e.ctx, "20260101000003"); err != nil || r.Status != inventory.Committed {
			t.Fatalf("commit: %+v %v", r, err)
		}
		if r, err := e.svc.Commit(e.ctx, "20260101000003"); err != nil || r.Status != inventory.Committed {
			t.Fatalf("repeat commit: %+v %v", r, err)
		}
		e.wantLevel(a, 6, 0, 4)
		if _, err := e.svc.Release(e.ctx, "20260101000003", "late"); !errors.Is(err, inventory.ErrReservationCommitted) {
			t.Fatalf("release after commit: %v", err)
		}
		e.wantLevel(a, 6, 0, 4)

		if _, err := e.svc.Commit(e.ctx, "20269999999999"); !errors.Is(err, inventory.ErrReservationNotFound) {
			t.Fatalf("commit unknown: %v", err)
		}
		if _, err := e.svc.Release(e.ctx, "20269999999999", "x"); !errors.Is(err, inventory.ErrReservationNotFound) {
			t.Fatalf("release unknown: %v", err)
		}
		if n := e.count("SELECT COUNT(*) FROM stock_ledger WHERE sku_id = ?", a); n != 5 {
			t.Fatalf("SKU a has %d ledger rows, want 5 (set, reserve, release, reserve, commit)", n)
		}
	})
}

// orders answers the unplaced sweep as the order module would: the order numbers it has
// recorded, or an error when it cannot be reached.
type orders struct {
	recorded []string
	err      error
	asked    [][]string
}

func (o *orders) Placed(_ context.Context, nos []string) ([]string, error) {
	o.asked = append(o.asked, slices.Clone(nos))
	if o.err != nil {
		return nil, o.err
	}
	var out []string
	for _, n := range nos {
		if slices.Contains(o.recorded, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

func TestSweepUnplaced(t *testing.T) {
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		sku := e.stocked(10)
		for _, ref := range []string{"P1", "GHOST", "P2"} {
			if _, err := e.svc.Reserve(e.ctx, ref, []inventory.ReserveLine{line(sku, 1)}, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		later := time.Now().Add(time.Second)

		down := &orders{err: errors.New("order service down")}
		if n, err := e.svc.SweepUnplaced(e.ctx, down, later); err == nil || n != 0 {
			t.Fatalf("with orders unreachable: released %d, %v; want nothing and the error", n, err)
		}
		e.wantLevel(sku, 7, 3, 0)

		o := &orders{recorded: []string{"P1", "P2"}}
		if n, err := e.svc.SweepUnplaced(e.ctx, o, time.Now().Add(-time.Minute)); err != nil || n != 0 || len(o.asked) != 0 {
			t.Fatalf("young holds: released %d, asked %v, %v", n, o.asked, err)
		}
		if n, err := e.svc.SweepUnplaced(e.ctx, o, later); err != nil || n != 1 {
			t.Fatalf("sweep: released %d, %v; want the ghost", n, err)
		}
		e.wantStatus("GHOST", inventory.Released)
		e.wantStatus("P1", inventory.Held)
		e.wantLevel(sku, 8, 2, 0)
		o.asked = nil
		if n, err := e.svc.SweepUnplaced(e.ctx, o, later); err != nil || n != 0 || len(o.asked) != 0 {
			t.Fatalf("placed holds are not asked about again: released %d, asked %v, %v", n, o.asked, err)
		}
	})
}

func TestSweepExpired(t *testing.T) {
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		sku := e.stocked(10)
		now := time.Now()
		for _, r := range []struct {
			ref string
			in  time.Duration
		}{{"X1", time.Hour}, {"X2", time.Hour}, {"X3", 3 * time.Hour}} {
			if _, err := e.svc.Reserve(e.ctx, r.ref, []inventory.ReserveLine{line(sku, 2)}, now.Add(r.in)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.svc.Commit(e.ctx, "X2"); err != nil {
			t.Fatal(err)
		}
		e.wantLevel(sku, 4, 4, 2)
		if n, err := e.svc.SweepExpired(e.ctx, now); err != nil || n != 0 {
			t.Fatalf("sweep before any expiry: %d %v", n, err)
		}
		if n, err := e.svc.SweepExpired(e.ctx, now.Add(2*time.Hour)); err != nil || n != 1 {
			t.Fatalf("sweep: released %d, %v; want 1", n, err)
		}
		e.wantStatus("X1", inventory.Released)
		e.wantStatus("X2", inventory.Committed)
		e.wantStatus("X3", inventory.Held)
		e.wantLevel(sku, 6, 2, 2)
		if n, err := e.svc.SweepExpired(e.ctx, now.Add(2*time.Hour)); err != nil || n != 0 {
			t.Fatalf("second sweep: %d %v", n, err)
		}
		var reason string
		db.Read().QueryRowContext(e.ctx, "SELECT reason FROM stock_ledger WHERE reason LIKE 'release X1%'").Scan(&reason)
		if reason != "release X1: reservation expired" {
			t.Fatalf("ledger reason %q", reason)
		}

		// Two sweeps at once, over more reservations than one batch, release each once.
		p, q := e.stocked(1000), e.stocked(1000)
		const n = 130
		for i := range n {
			if _, err := e.svc.Reserve(e.ctx, fmt.Sprintf("S%03d", i), []inventory.ReserveLine{line(q, 1), line(p, 2)}, now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		released := make([]int, 3)
		for i := range released {
			wg.Go(func() {
				r, err := e.svc.SweepExpired(e.ctx, now.Add(2*time.Hour))
				if err != nil {
					t.Errorf("concurrent sweep: %v", err)
				}
				released[i] = r
			})
		}
		wg.Wait()
		if total := released[0] + released[1] + released[2]; total != n {
			t.Fatalf("sweeps released %v, %d in all; want %d", released, total, n)
		}
		e.wantLevel(p, 1000, 0, 0)
		e.wantLevel(q, 1000, 0, 0)
		e.wantStatus("X3", inventory.Held)
		for _, sku := range []ids.ID{p, q} {
			if got := e.count("SELECT COUNT(DISTINCT reason) FROM stock_ledger WHERE sku_id = ? AND reason LIKE 'release S%'", sku); got != n {
				t.Fatalf("SKU %s: %d reservations released, want %d", sku, got, n)
			}
			if got := e.count("SELECT COUNT(*) FROM stock_ledger WHERE sku_id = ? AND reason LIKE 'release S%'", sku); got != n {
				t.Fatalf("SKU %s: %d release rows for %d reservations", sku, got, n)
			}
		}
	})
}

func TestRunSweeper(t *testing.T) {
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		sku := e.stocked(5)
		if _, err := e.svc.Reserve(e.ctx, "Y1", []inventory.ReserveLine{line(sku, 5)}, time.Now().Add(200*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.RunSweeper(e.ctx, inventory.Sweeps{}); err == nil {
			t.Fatal("a sweeper with no interval started")
		}
		ctx, cancel := context.WithCancel(e.ctx)
		done := make(chan error, 1)
		go func() { done <- e.svc.RunSweeper(ctx, inventory.Sweeps{Every: 20 * time.Millisecond}) }()
		deadline := time.Now().Add(10 * time.Second)
		for {
			r, err := e.svc.Reservation(e.ctx, "Y1")
			if err != nil {
				t.Fatal(err)
			}
			if r.Status == inventory.Released {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the sweeper did not release an expired reservation")
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("sweeper stopped with %v, want nil on cancel", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the sweeper did not stop when its context ended")
		}
		e.wantLevel(sku, 5, 0, 0)
	})
}

func TestHandleEvent(t *testing.T) {
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		sku := e.stocked(10)
		later := time.Now().Add(time.Hour)
		for _, ref := range []string{"H1", "H2", "H3", "H4"} {
			if _, err := e.svc.Reserve(e.ctx, ref, []inventory.ReserveLine{line(sku, 1)}, later); err != nil {
				t.Fatal(err)
			}
		}
		orderEvent := func(typ, orderNo, reason string) events.Event {
			ev, err := events.New(e.gen.New(), typ, orderNo, orderevents.Changed{OrderID: e.gen.New(), OrderNo: orderNo, UserID: e.gen.New(),
				Status: order.Paid, Payable: 1999, Lines: []order.LineRef{{SKUID: sku, ProductID: e.cat.products[sku], Quantity: 1}}, Reason: reason})
			if err != nil {
				t.Fatal(err)
			}
			return ev
		}
		handle := func(ev events.Event) {
			t.Helper()
			if err := e.svc.HandleEvent(e.ctx, ev); err != nil {
				t.Fatalf("%s %s: %v", ev.Type, ev.Key, err)
			}
		}

		paid := orderEvent(orderevents.TypePaid, "H1", "")
		handle(paid)
		handle(paid) // redelivered
		e.wantStatus("H1", inventory.Committed)
		cancelled := orderEvent(orderevents.TypeCancelled, "H2", "buyer cancelled")
		handle(cancelled)
		handle(cancelled)
		e.wantStatus("H2", inventory.Released)
		handle(orderEvent(orderevents.TypeCancelled, "H3", ""))
		e.wantStatus("H3", inventory.Released)
		e.wantLevel(sku, 8, 1, 1)
		if got := e.count("SELECT COUNT(*) FROM stock_ledger WHERE reason IN ('commit H1', 'release H2: buyer cancelled', 'release H3: order cancelled')"); got != 3 {
			t.Fatalf("%d ledger rows for three settlements", got)
		}

		// A payment for a released reservation: acknowledged, logged as an error for the refund.
		handle(orderEvent(orderevents.TypePaid, "H2", ""))
		e.wantStatus("H2", inventory.Released)
		logged := e.logs.lines("payment for released reservation")
		if len(logged) != 1 || logged[0]["level"] != "ERROR" || logged[0]["order_no"] != "H2" {
			t.Fatalf("log lines: %v", logged)
		}
		// A cancellation of a committed one, an unknown order, an unreadable payload and
		// other event types are acknowledged and change nothing.
		handle(orderEvent(orderevents.TypeCancelled, "H1", ""))
		handle(orderEvent(orderevents.TypePaid, "H404", ""))
		handle(orderEvent(orderevents.TypeCancelled, "H404", ""))
		handle(orderEvent(orderevents.TypeCreated, "H4", ""))
		handle(events.Event{ID: e.gen.New(), Type: orderevents.TypePaid, Key: "H4", Version: 1, OccurredAt: time.Now(), Payload: json.RawMessage(`{"order_no": 4}`)})
		e.wantStatus("H1", inventory.Committed)
		e.wantStatus("H4", inventory.Held)
		e.wantLevel(sku, 8, 1, 1)
		if len(e.logs.lines("order event for an unknown reservation ignored")) != 2 || len(e.logs.lines("unreadable order event ignored")) != 1 {
			t.Fatalf("unknown and unreadable events were not logged")
		}

		// A storage failure asks for the event again; the redelivery then succeeds.
		gone, cancel := context.WithCancel(e.ctx)
		cancel()
		if err := e.svc.HandleEvent(gone, orderEvent(orderevents.TypePaid, "H4", "")); err == nil {
			t.Fatal("a failed commit was acknowledged")
		}
		e.wantStatus("H4", inventory.Held)
		handle(orderEvent(orderevents.TypePaid, "H4", ""))
		e.wantStatus("H4", inventory.Committed)
		e.wantLevel(sku, 8, 0, 2)
	})
}
