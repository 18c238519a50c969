package inventorydb_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/inventory/inventorydb"
	"github.com/minimart/minimart/internal/inventory/inventoryevents"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// fixture is a migrated database of one engine with an inventory store over it.
type fixture struct {
	t   *testing.T
	ctx context.Context
	db  *sqldb.DB
	s   *inventorydb.Store
	gen *ids.Generator
}

func newFixture(t *testing.T, db *sqldb.DB) *fixture {
	gen, err := ids.NewGenerator(5)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, ctx: context.Background(), db: db, s: inventorydb.New(db, events.NewOutbox()), gen: gen}
}

func (f *fixture) event(before, after inventory.Level, reason string) (events.Event, error) {
	return events.New(f.gen.New(), inventoryevents.TypeStockChanged, after.SKUID.String(), inventoryevents.StockChanged{
		SKUID: after.SKUID, ProductID: after.ProductID, Available: after.Available, Reserved: after.Reserved, Sold: after.Sold,
		DeltaAvailable: after.Available - before.Available, Reason: reason, Source: "order"})
}

// stocked makes a new SKU with n available.
func (f *fixture) stocked(n int64) ids.ID {
	f.t.Helper()
	sku := f.gen.New()
	if _, err := f.s.Apply(f.ctx, inventory.Change{SKUID: sku, ProductID: f.gen.New(), Set: &n, Actor: "staff:1", Reason: "count", Source: "admin"},
		f.gen.New(), func(before, after inventory.Level) (events.Event, error) { return f.event(before, after, "count") }); err != nil {
		f.t.Fatalf("stock %d: %v", n, err)
	}
	return sku
}

func (f *fixture) level(sku ids.ID) inventory.Level {
	f.t.Helper()
	levels, err := f.s.Levels(f.ctx, []ids.ID{sku})
	if err != nil {
		f.t.Fatalf("levels: %v", err)
	}
	if len(levels) == 0 {
		return inventory.Level{SKUID: sku}
	}
	return levels[0]
}

func (f *fixture) wantLevel(sku ids.ID, available, reserved, sold int64) {
	f.t.Helper()
	if l := f.level(sku); l.Available != available || l.Reserved != reserved || l.Sold != sold {
		f.t.Fatalf("SKU %s: available/reserved/sold = %d/%d/%d, want %d/%d/%d", sku, l.Available, l.Reserved, l.Sold, available, reserved, sold)
	}
}

func (f *fixture) reserve(ref string, expiresAt time.Time, lines ...inventory.ReserveLine) (inventory.Reservation, error) {
	return f.s.Reserve(f.ctx, inventory.Reservation{Ref: ref, Lines: lines, ExpiresAt: expiresAt}, f.gen.New, f.event)
}

func (f *fixture) settle(ref string, to inventory.ReservationStatus, reason string) (inventory.Reservation, error) {
	return f.s.Settle(f.ctx, ref, to, reason, f.gen.New, f.event)
}

func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.Read().QueryRowContext(f.ctx, query, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// checkBooks verifies a SKU against the invariant: initial = available + reserved + sold,
// nothing negative, the ledger chains row to row and its changes add up to the level.
func (f *fixture) checkBooks(sku ids.ID, initial int64) {
	f.t.Helper()
	l := f.level(sku)
	if l.Available < 0 || l.Reserved < 0 || l.Sold < 0 || l.Available+l.Reserved+l.Sold != initial {
		f.t.Fatalf("SKU %s breaks the invariant: %+v, initial %d", sku, l, initial)
	}
	entries, err := f.s.Ledger(f.ctx, sku, 0, 100_000)
	if err != nil {
		f.t.Fatalf("ledger: %v", err)
	}
	var da, dr, ds int64
	for i, e := range entries {
		da += e.AvailableAfter - e.AvailableBefore
		dr += e.ReservedAfter - e.ReservedBefore
		ds += e.SoldAfter - e.SoldBefore
		if i+1 < len(entries) {
			prev := entries[i+1]
			if e.Seq != prev.Seq+1 || e.AvailableBefore != prev.AvailableAfter || e.ReservedBefore != prev.ReservedAfter || e.SoldBefore != prev.SoldAfter {
				f.t.Fatalf("SKU %s: ledger breaks between %+v and %+v", sku, prev, e)
			}
		}
	}
	// The first row starts from an empty SKU, so the changes add up to the level itself.
	if first := entries[len(entries)-1]; first.Seq != 1 || first.AvailableBefore != 0 || first.ReservedBefore != 0 || first.SoldBefore != 0 {
		f.t.Fatalf("SKU %s: first ledger row %+v", sku, first)
	}
	if da != l.Available || dr != l.Reserved || ds != l.Sold {
		f.t.Fatalf("SKU %s: ledger sums %d/%d/%d, level %d/%d/%d", sku, da, dr, ds, l.Available, l.Reserved, l.Sold)
	}
	if len(entries) != f.count("SELECT COUNT(*) FROM outbox_events WHERE event_key = ?", sku.String()) {
		f.t.Fatalf("SKU %s: %d ledger rows but a different number of events", sku, len(entries))
	}
}

func shortages(t *testing.T, err error) []inventory.Shortage {
	t.Helper()
	if !errors.Is(err, inventory.ErrOutOfStock) {
		t.Fatalf("want out_of_stock, got %v", err)
	}
	e, _ := errs.As(err)
	s, ok := e.Details["skus"].([]inventory.Shortage)
	if !ok {
		t.Fatalf("out_of_stock details: %#v", e.Details)
	}
	return s
}

func sameReservation(a, b inventory.Reservation) bool {
	return a.Ref == b.Ref && a.Status == b.Status && slices.Equal(a.Lines, b.Lines) &&
		a.ExpiresAt.Equal(b.ExpiresAt) && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

var migrationSets = []sqldb.Migrations{events.OutboxMigrations, inventorydb.Migrations}

func TestReservations(t *testing.T) {
	sqldbtest.ForEachEngine(t, migrationSets, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		a, b, unstocked := f.stocked(10), f.stocked(5), f.gen.New()
		later := time.Now().Add(time.Hour)

		// Lines of one SKU are merged and kept in SKU order.
		r1, err := f.reserve("R1", later, inventory.ReserveLine{SKUID: b, Quantity: 2}, inventory.ReserveLine{SKUID: a, Quantity: 3},
			inventory.ReserveLine{SKUID: a, Quantity: 1})
		if err != nil {
			t.Fatalf("reserve: %v", err)
		}
		wantLines := []inventory.ReserveLine{{SKUID: a, Quantity: 4}, {SKUID: b, Quantity: 2}}
		if r1.Ref != "R1" || r1.Status != inventory.Held || !slices.Equal(r1.Lines, wantLines) ||
			!r1.ExpiresAt.Equal(later.Truncate(time.Microsecond)) || r1.CreatedAt.IsZero() {
			t.Fatalf("reservation: %+v", r1)
		}
		f.wantLevel(a, 6, 4, 0)
		f.wantLevel(b, 3, 2, 0)
		if got, err := f.s.Reservation(f.ctx, "R1"); err != nil || !sameReservation(got, r1) {
			t.Fatalf("stored reservation %+v %v, returned %+v", got, err, r1)
		}
		entries, _ := f.s.Ledger(f.ctx, a, 0, 1)
		if e := entries[0]; e.Actor != "order" || e.Source != "order" || e.Reason != "reserve R1" || e.Seq != 2 ||
			e.AvailableBefore != 10 || e.AvailableAfter != 6 || e.ReservedBefore != 0 || e.ReservedAfter != 4 || e.SoldAfter != 0 {
			t.Fatalf("ledger row of the reserve: %+v", e)
		}

		// The same ref again returns the first outcome, whatever it asks for, and moves nothing.
		ledgerRows := f.count("SELECT COUNT(*) FROM stock_ledger")
		again, err := f.reserve("R1", later.Add(time.Hour), inventory.ReserveLine{SKUID: a, Quantity: 1})
		if err != nil || !sameReservation(again, r1) {
			t.Fatalf("repeat reserve: %+v %v, first %+v", again, err, r1)
		}
		f.wantLevel(a, 6, 4, 0)
		if n := f.count("SELECT COUNT(*) FROM stock_ledger"); n != ledgerRows {
			t.Fatalf("repeat reserve wrote ledger rows: %d → %d", ledgerRows, n)
		}

		// All or nothing: the second line is short, so the first is not held either.
		_, err = f.reserve("R2", later, inventory.ReserveLine{SKUID: a, Quantity: 1}, inventory.ReserveLine{SKUID: b, Quantity: 4})
		if s := shortages(t, err); len(s) != 1 || s[0] != (inventory.Shortage{SKUID: b, Requested: 4, Available: 3}) {
			t.Fatalf("shortages: %+v", s)
		}
		f.wantLevel(a, 6, 4, 0)
		f.wantLevel(b, 3, 2, 0)
		if _, err := f.s.Reservation(f.ctx, "R2"); !errors.Is(err, inventory.ErrReservationNotFound) {
			t.Fatalf("a refused reservation is stored: %v", err)
		}
		if n := f.count("SELECT COUNT(*) FROM stock_ledger"); n != ledgerRows {
			t.Fatalf("refused reserve wrote ledger rows: %d → %d", ledgerRows, n)
		}
		// Every short line is named; a SKU without a stock row has nothing available.
		_, err = f.reserve("R3", later, inventory.ReserveLine{SKUID: unstocked, Quantity: 1}, inventory.ReserveLine{SKUID: a, Quantity: 1},
			inventory.ReserveLine{SKUID: b, Quantity: 100})
		want := []inventory.Shortage{{SKUID: b, Requested: 100, Available: 3}, {SKUID: unstocked, Requested: 1, Available: 0}}
		if s := shortages(t, err); !slices.Equal(s, want) {
			t.Fatalf("shortages %+v, want %+v", s, want)
		}
		f.wantLevel(a, 6, 4, 0)
		// Nothing was kept of the refusal, so the ref can be reserved once there is stock.
		if r2, err := f.reserve("R2", later, inventory.ReserveLine{SKUID: a, Quantity: 1}, inventory.ReserveLine{SKUID: b, Quantity: 3}); err != nil || r2.Status != inventory.Held {
			t.Fatalf("reserve after a refusal: %+v %v", r2, err)
		}
		f.wantLevel(a, 5, 5, 0)
		f.wantLevel(b, 0, 5, 0)

		// Commit R1: reserved becomes sold; again changes nothing; it cannot be released.
		c1, err := f.settle("R1", inventory.Committed, "")
		if err != nil || c1.Status != inventory.Committed || !slices.Equal(c1.Lines, wantLines) || !c1.CreatedAt.Equal(r1.CreatedAt) {
			t.Fatalf("commit: %+v %v", c1, err)
		}
		f.wantLevel(a, 5, 1, 4)
		f.wantLevel(b, 0, 3, 2)
		if e, _ := f.s.Ledger(f.ctx, b, 0, 1); e[0].Reason != "commit R1" || e[0].ReservedBefore != 5 || e[0].ReservedAfter != 3 ||
			e[0].SoldBefore != 0 || e[0].SoldAfter != 2 || e[0].AvailableBefore != 0 || e[0].AvailableAfter != 0 {
			t.Fatalf("ledger row of the commit: %+v", e[0])
		}
		if again, err := f.settle("R1", inventory.Committed, ""); err != nil || !sameReservation(again, c1) {
			t.Fatalf("repeat commit: %+v %v, first %+v", again, err, c1)
		}
		if _, err := f.settle("R1", inventory.Released, "too late"); !errors.Is(err, inventory.ErrReservationCommitted) {
			t.Fatalf("release of a committed reservation: %v", err)
		}
		f.wantLevel(a, 5, 1, 4)

		// Release R2: back to available; again changes nothing; it cannot be committed.
		rel, err := f.settle("R2", inventory.Released, "changed mind")
		if err != nil || rel.Status != inventory.Released {
			t.Fatalf("release: %+v %v", rel, err)
		}
		f.wantLevel(a, 6, 0, 4)
		f.wantLevel(b, 3, 0, 2)
		if e, _ := f.s.Ledger(f.ctx, a, 0, 1); e[0].Reason != "release R2: changed mind" || e[0].AvailableBefore != 5 || e[0].AvailableAfter != 6 ||
			e[0].ReservedBefore != 1 || e[0].ReservedAfter != 0 || e[0].Actor != "order" {
			t.Fatalf("ledger row of the release: %+v", e[0])
		}
		if again, err := f.settle("R2", inventory.Released, "other words"); err != nil || !sameReservation(again, rel) {
			t.Fatalf("repeat release: %+v %v, first %+v", again, err, rel)
		}
		if _, err := f.settle("R2", inventory.Committed, ""); !errors.Is(err, inventory.ErrReservationReleased) {
			t.Fatalf("commit of a released reservation: %v", err)
		}
		if _, err := f.settle("nope", inventory.Committed, ""); !errors.Is(err, inventory.ErrReservationNotFound) {
			t.Fatalf("commit of an unknown ref: %v", err)
		}
		if _, err := f.settle("nope", inventory.Released, ""); !errors.Is(err, inventory.ErrReservationNotFound) {
			t.Fatalf("release of an unknown ref: %v", err)
		}
		if _, err := f.settle("R2", inventory.Held, ""); err == nil {
			t.Fatal("settling back to held was accepted")
		}
		f.wantLevel(a, 6, 0, 4)
		f.wantLevel(b, 3, 0, 2)

		// Ten concurrent reserves of one ref hold the stock once and all get that reservation.
		var wg sync.WaitGroup
		got := make([]inventory.Reservation, 10)
		for i := range got {
			wg.Go(func() {
				r, err := f.reserve("D1", later, inventory.ReserveLine{SKUID: a, Quantity: 2})
				if err != nil {
					t.Errorf("concurrent reserve of one ref: %v", err)
				}
				got[i] = r
			})
		}
		wg.Wait()
		for _, r := range got {
			if !sameReservation(r, got[0]) || r.Status != inventory.Held {
				t.Fatalf("concurrent reserves of one ref disagree: %+v vs %+v", r, got[0])
			}
		}
		f.wantLevel(a, 4, 2, 4)
		if n := f.count("SELECT COUNT(*) FROM stock_ledger WHERE reason = 'reserve D1'"); n != 1 {
			t.Fatalf("%d ledger rows for one reservation", n)
		}
		f.checkBooks(a, 10)
		f.checkBooks(b, 5)
	})
}

func TestExpired(t *testing.T) {
	sqldbtest.ForEachEngine(t, migrationSets, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		sku := f.stocked(100)
		t0 := time.Now().UTC()
		line := inventory.ReserveLine{SKUID: sku, Quantity: 1}
		// Created out of expiry order, so the listing must sort.
		for _, r := range []struct {
			ref string
			in  time.Duration
		}{{"E3", 3 * time.Minute}, {"E1", time.Minute}, {"E4", 10 * time.Minute}, {"E2", 2 * time.Minute}, {"E0", 30 * time.Second}} {
			if _, err := f.reserve(r.ref, t0.Add(r.in), line); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.settle("E3", inventory.Committed, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.settle("E0", inventory.Released, ""); err != nil {
			t.Fatal(err)
		}
		refs, err := f.s.Expired(f.ctx, t0.Add(5*time.Minute), 10)
		if err != nil || !slices.Equal(refs, []string{"E1", "E2"}) {
			t.Fatalf("expired: %v %v; want held ones only, earliest first", refs, err)
		}
		if refs, _ := f.s.Expired(f.ctx, t0.Add(5*time.Minute), 1); !slices.Equal(refs, []string{"E1"}) {
			t.Fatalf("expired with limit 1: %v", refs)
		}
		// Strictly before now.
		if refs, _ := f.s.Expired(f.ctx, t0.Add(time.Minute), 10); len(refs) != 0 {
			t.Fatalf("expired at the expiry instant: %v", refs)
		}
		if refs, _ := f.s.Expired(f.ctx, t0.Add(time.Minute+time.Microsecond), 10); !slices.Equal(refs, []string{"E1"}) {
			t.Fatalf("expired just after: %v", refs)
		}
		if refs, _ := f.s.Expired(f.ctx, t0, 10); len(refs) != 0 {
			t.Fatalf("expired now: %v", refs)
		}
	})
}

func TestUnplaced(t *testing.T) {
	sqldbtest.ForEachEngine(t, migrationSets, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		sku := f.stocked(100)
		line := inventory.ReserveLine{SKUID: sku, Quantity: 1}
		exp := time.Now().Add(time.Hour)
		for _, ref := range []string{"U1", "U2", "U3", "U4"} {
			if _, err := f.reserve(ref, exp, line); err != nil {
				t.Fatal(err)
			}
		}
		after := time.Now().Add(time.Second)
		if refs, err := f.s.Unplaced(f.ctx, after, 10); err != nil || !slices.Equal(refs, []string{"U1", "U2", "U3", "U4"}) {
			t.Fatalf("unplaced: %v %v; want every held one, oldest first", refs, err)
		}
		if refs, _ := f.s.Unplaced(f.ctx, time.Now().Add(-time.Minute), 10); len(refs) != 0 {
			t.Fatalf("holds younger than the bound are not asked about: %v", refs)
		}
		if err := f.s.MarkPlaced(f.ctx, []string{"U2", "nothing-held"}); err != nil {
			t.Fatal(err)
		}
		if err := f.s.MarkPlaced(f.ctx, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := f.settle("U3", inventory.Released, ""); err != nil {
			t.Fatal(err)
		}
		if refs, _ := f.s.Unplaced(f.ctx, after, 10); !slices.Equal(refs, []string{"U1", "U4"}) {
			t.Fatalf("unplaced after marking U2 placed and releasing U3: %v", refs)
		}
		if refs, _ := f.s.Unplaced(f.ctx, after, 1); !slices.Equal(refs, []string{"U1"}) {
			t.Fatalf("unplaced with limit 1: %v", refs)
		}
	})
}

// TestReservationConcurrency: many buyers, little stock. Exactly the stock is held, then
// concurrent repeated releases and commits move it once each, and the books balance.
func TestReservationConcurrency(t *testing.T) {
	sqldbtest.ForEachEngine(t, migrationSets, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		sku := f.stocked(50)
		later := time.Now().Add(time.Hour)
		var mu sync.Mutex
		var held []string
		var refused atomic.Int64
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Go(func() {
				ref := fmt.Sprintf("C%03d", i)
				r, err := f.reserve(ref, later, inventory.ReserveLine{SKUID: sku, Quantity: 1})
				switch {
				case err == nil && r.Status == inventory.Held:
					mu.Lock()
					held = append(held, ref)
					mu.Unlock()
				case errors.Is(err, inventory.ErrOutOfStock):
					e, _ := errs.As(err)
					if s := e.Details["skus"].([]inventory.Shortage); len(s) != 1 || s[0] != (inventory.Shortage{SKUID: sku, Requested: 1}) {
						t.Errorf("shortage: %+v", s)
					}
					refused.Add(1)
				default:
					t.Errorf("reserve %s: %+v %v", ref, r, err)
				}
			})
		}
		wg.Wait()
		if len(held) != 50 || refused.Load() != 150 {
			t.Fatalf("held %d refused %d; want 50 and 150", len(held), refused.Load())
		}
		f.wantLevel(sku, 0, 50, 0)
		f.checkBooks(sku, 50)

		// Release 10 and commit 20, each three times at once.
		slices.Sort(held)
		toRelease, toCommit := held[:10], held[10:30]
		for range 3 {
			for _, ref := range toRelease {
				wg.Go(func() {
					if r, err := f.settle(ref, inventory.Released, "cancelled"); err != nil || r.Status != inventory.Released {
						t.Errorf("release %s: %+v %v", ref, r, err)
					}
				})
			}
			for _, ref := range toCommit {
				wg.Go(func() {
					if r, err := f.settle(ref, inventory.Committed, ""); err != nil || r.Status != inventory.Committed {
						t.Errorf("commit %s: %+v %v", ref, r, err)
					}
				})
			}
		}
		wg.Wait()
		f.wantLevel(sku, 10, 20, 20)
		f.checkBooks(sku, 50)
		if n := f.count("SELECT COUNT(*) FROM stock_ledger WHERE sku_id = ?", sku); n != 1+50+10+20 {
			t.Fatalf("%d ledger rows, want 81: one per change", n)
		}
	})
}

// TestReservationsDoNotDeadlock runs multi-line reservations over overlapping SKUs, each
// listing them in its own order, together with their commits and releases. Stock is
// locked in SKU order, so there is no cycle; any deadlock the engine still reports is
// retried by InTx, and no call may fail.
func TestReservationsDoNotDeadlock(t *testing.T) {
	sqldbtest.ForEachEngine(t, migrationSets, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		const initial = 10_000
		skus := make([]ids.ID, 6)
		for i := range skus {
			skus[i] = f.stocked(initial)
		}
		later := time.Now().Add(time.Hour)
		var wg sync.WaitGroup
		for g := range 24 {
			wg.Go(func() {
				for i := range 6 {
					ref := fmt.Sprintf("M%02d-%d", g, i)
					perm := rand.Perm(len(skus))[:3+rand.IntN(len(skus)-2)]
					if g%2 == 1 {
						slices.Sort(perm)
						slices.Reverse(perm) // descending: the worst order to lock in
					}
					lines := make([]inventory.ReserveLine, len(perm))
					for j, k := range perm {
						lines[j] = inventory.ReserveLine{SKUID: skus[k], Quantity: int64(1 + rand.IntN(3))}
					}
					if _, err := f.reserve(ref, later, lines...); err != nil {
						t.Errorf("reserve %s: %v", ref, err)
						return
					}
					to := inventory.Committed
					if i%2 == 0 {
						to = inventory.Released
					}
					if _, err := f.settle(ref, to, ""); err != nil {
						t.Errorf("settle %s: %v", ref, err)
						return
					}
				}
			})
		}
		wg.Wait()
		for _, sku := range skus {
			if l := f.level(sku); l.Reserved != 0 {
				t.Fatalf("SKU %s still has %d reserved after every reservation was settled", sku, l.Reserved)
			}
			f.checkBooks(sku, initial)
		}
	})
}
