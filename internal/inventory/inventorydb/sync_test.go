package inventorydb_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/inventory/inventorydb"
	"github.com/minimart/minimart/internal/inventory/inventoryevents"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

func ptr[T any](v T) *T { return &v }

func TestApplySyncConformance(t *testing.T) {
	sets := []sqldb.Migrations{events.OutboxMigrations, inventorydb.Migrations}
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		gen, _ := ids.NewGenerator(5)
		s := inventorydb.New(db, events.NewOutbox())
		event := func(before, after inventory.Level) (events.Event, error) {
			return events.New(gen.New(), inventoryevents.TypeStockChanged, after.SKUID.String(),
				inventoryevents.StockChanged{SKUID: after.SKUID, Available: after.Available, DeltaAvailable: after.Available - before.Available})
		}
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := db.Read().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return n
		}
		sku, product := gen.New(), gen.New()
		set := func(n int64, source string) inventory.Change {
			return inventory.Change{SKUID: sku, ProductID: product, Set: &n, Actor: inventory.SyncActor,
				Reason: inventory.SyncReason, Source: source}
		}
		appliedN := 0
		apply := func(c inventory.Change, version *int64, at *time.Time, wantApplied bool, wantAvailable int64) {
			t.Helper()
			applied, l, err := s.ApplySync(ctx, c, version, at, gen.New(), event)
			if err != nil || applied != wantApplied || l.Available != wantAvailable || l.SKUID != sku {
				t.Fatalf("ApplySync(%+v, version %v, at %v) = %v, %+v, %v; want applied %v, available %d",
					c, version, at, applied, l, err, wantApplied, wantAvailable)
			}
			if applied {
				appliedN++
			}
		}

		// Without version or updated_at an update always applies, repeated or not.
		apply(set(10, "erp"), nil, nil, true, 10)
		apply(set(10, "erp"), nil, nil, true, 10)

		// Stale by version: equal or lower is ignored, higher applies.
		apply(set(20, "erp"), ptr[int64](5), nil, true, 20)
		apply(set(30, "erp"), ptr[int64](5), nil, false, 20)
		apply(set(30, "erp"), ptr[int64](4), nil, false, 20)
		apply(set(25, "erp"), ptr[int64](6), nil, true, 25)
		// An unversioned update still applies and keeps the version it found.
		apply(set(26, "erp"), nil, nil, true, 26)
		apply(set(27, "erp"), ptr[int64](6), nil, false, 26)

		// Stale by updated_at, compared to the microsecond.
		t1 := time.Date(2026, 1, 24, 8, 30, 0, 123456000, time.FixedZone("CST", 8*3600))
		apply(set(40, "erp"), nil, &t1, true, 40)
		apply(set(41, "erp"), nil, ptr(t1.UTC()), false, 40)
		apply(set(41, "erp"), nil, ptr(t1.Add(-time.Second)), false, 40)
		apply(set(41, "erp"), nil, ptr(t1.Add(900*time.Nanosecond)), false, 40) // same microsecond
		apply(set(42, "erp"), nil, ptr(t1.Add(time.Microsecond)), true, 42)
		// The version mark survived the updated_at updates, and both marks count at once.
		apply(set(43, "erp"), ptr[int64](6), ptr(t1.Add(time.Hour)), false, 42)
		apply(set(43, "erp"), ptr[int64](7), ptr(t1), false, 42)
		apply(set(44, "erp"), ptr[int64](7), ptr(t1.Add(time.Hour)), true, 44)

		// Setting stock keeps reserved stock: the invariant holds.
		if _, err := s.Reserve(ctx, inventory.Reservation{Ref: "o-1", Lines: []inventory.ReserveLine{{SKUID: sku, Quantity: 4}},
			ExpiresAt: time.Now().Add(time.Hour)}, gen.New, func(before, after inventory.Level, _ string) (events.Event, error) {
			return event(before, after)
		}); err != nil {
			t.Fatal(err)
		}
		apply(set(5, "warehouse-7"), ptr[int64](8), nil, true, 5)
		levels, err := s.Levels(ctx, []ids.ID{sku})
		if err != nil || len(levels) != 1 || levels[0].Reserved != 4 || levels[0].Available != 5 {
			t.Fatalf("after a sync over a reservation: %+v %v; want available 5, reserved 4", levels, err)
		}

		// The ledger row names actor, reason and the message's source.
		entries, err := s.Ledger(ctx, sku, 0, 1)
		if err != nil || len(entries) != 1 {
			t.Fatalf("ledger: %+v %v", entries, err)
		}
		if e := entries[0]; e.Actor != "sync" || e.Reason != "inventory_update" || e.Source != "warehouse-7" ||
			e.AvailableBefore != 44-4 || e.AvailableAfter != 5 || e.ReservedBefore != 4 || e.ReservedAfter != 4 {
			t.Fatalf("ledger row: %+v", e)
		}

		// A delta that would go below zero is refused and leaves no mark behind: a lower
		// version applies afterwards.
		short := inventory.Change{SKUID: sku, ProductID: product, Delta: -6, Actor: "sync", Reason: "inventory_update", Source: "erp"}
		if applied, _, err := s.ApplySync(ctx, short, ptr[int64](100), nil, gen.New(), event); !errors.Is(err, inventory.ErrInsufficientStock) || applied {
			t.Fatalf("delta below zero: applied %v, %v", applied, err)
		}
		short.Delta = -5
		apply(short, ptr[int64](9), nil, true, 0)
		plus := inventory.Change{SKUID: sku, ProductID: product, Delta: 3, Actor: "sync", Reason: "inventory_update", Source: "erp"}
		apply(plus, ptr[int64](9), nil, false, 0) // a duplicate delta counts once
		apply(plus, ptr[int64](10), nil, true, 3)

		if n := count("SELECT COUNT(*) FROM stock_ledger WHERE sku_id = ? AND actor = 'sync'", sku); n != appliedN {
			t.Fatalf("sync ledger rows = %d, want one per applied update (%d)", n, appliedN)
		}
		if n := count("SELECT COUNT(*) FROM outbox_events"); n != appliedN+1 {
			t.Fatalf("outbox rows = %d, want %d (applied updates and the reservation)", n, appliedN+1)
		}
		if n := count("SELECT COUNT(*) FROM sku_sync WHERE sku_id = ? AND version = 10 AND source = 'erp'", sku); n != 1 {
			t.Fatalf("sku_sync row not at version 10 from erp")
		}

		// Many versions of one SKU at once, in any order: the newest wins, each applied
		// once at most, and the ledger counts exactly the applied ones.
		other := gen.New()
		var applied atomic.Int64
		var wg sync.WaitGroup
		for _, v := range rand.Perm(40) {
			for range 2 { // and each one twice
				wg.Go(func() {
					n := int64(v+1) * 10
					c := inventory.Change{SKUID: other, ProductID: product, Set: &n, Actor: "sync", Reason: "inventory_update", Source: "erp"}
					ok, _, err := s.ApplySync(ctx, c, ptr(int64(v+1)), nil, gen.New(), event)
					if err != nil {
						t.Errorf("concurrent ApplySync: %v", err)
					}
					if ok {
						applied.Add(1)
					}
				})
			}
		}
		wg.Wait()
		levels, err = s.Levels(ctx, []ids.ID{other})
		if err != nil || len(levels) != 1 || levels[0].Available != 400 {
			t.Fatalf("after concurrent syncs: %+v %v; want available 400 (version 40)", levels, err)
		}
		if n := count("SELECT COUNT(*) FROM stock_ledger WHERE sku_id = ?", other); int64(n) != applied.Load() || n < 1 || n > 40 {
			t.Fatalf("ledger rows %d, applied %d", n, applied.Load())
		}
	})
}
