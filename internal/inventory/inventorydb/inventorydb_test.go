package inventorydb_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/inventory/inventorydb"
	"github.com/minimart/minimart/internal/inventory/inventoryevents"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

func TestStoreConformance(t *testing.T) {
	sets := []sqldb.Migrations{events.OutboxMigrations, inventorydb.Migrations}
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		gen, _ := ids.NewGenerator(4)
		s := inventorydb.New(db, events.NewOutbox())
		event := func(before, after inventory.Level) (events.Event, error) {
			return events.New(gen.New(), inventoryevents.TypeStockChanged, after.SKUID.String(),
				inventoryevents.StockChanged{SKUID: after.SKUID, Available: after.Available, DeltaAvailable: after.Available - before.Available})
		}
		sku, product := gen.New(), gen.New()
		set := func(n int64) inventory.Change {
			return inventory.Change{SKUID: sku, ProductID: product, Set: &n, Actor: "staff:1", Reason: "count", Source: "admin"}
		}
		l, err := s.Apply(ctx, set(20), gen.New(), event)
		if err != nil || l.Available != 20 || l.ProductID != product {
			t.Fatalf("set on a new SKU: %+v %v", l, err)
		}
		if _, err := s.Apply(ctx, inventory.Change{SKUID: sku, ProductID: product, Delta: -21, Actor: "a", Reason: "r", Source: "admin"}, gen.New(), event); !errors.Is(err, inventory.ErrInsufficientStock) {
			t.Fatalf("below zero: %v", err)
		}

		// 50 concurrent takers of one unit on stock 20: exactly 20 succeed, never below zero.
		var ok, refused atomic.Int64
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				_, err := s.Apply(ctx, inventory.Change{SKUID: sku, ProductID: product, Delta: -1, Actor: "a", Reason: "take", Source: "admin"}, gen.New(), event)
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, inventory.ErrInsufficientStock):
					refused.Add(1)
				default:
					t.Errorf("apply: %v", err)
				}
			})
		}
		wg.Wait()
		levels, err := s.Levels(ctx, []ids.ID{sku, gen.New()})
		if err != nil || len(levels) != 1 {
			t.Fatalf("levels: %+v %v", levels, err)
		}
		if ok.Load() != 20 || refused.Load() != 30 || levels[0].Available != 0 {
			t.Fatalf("ok %d refused %d available %d; want 20, 30, 0", ok.Load(), refused.Load(), levels[0].Available)
		}

		// The ledger tells the same story: every entry chains from the one before it.
		entries, err := s.Ledger(ctx, sku, 0, 100)
		if err != nil || len(entries) != 21 {
			t.Fatalf("ledger: %d entries, %v", len(entries), err)
		}
		for i := 0; i+1 < len(entries); i++ {
			if entries[i].AvailableBefore != entries[i+1].AvailableAfter || entries[i].Seq != entries[i+1].Seq+1 {
				t.Fatalf("ledger break at %d: %+v after %+v", i, entries[i], entries[i+1])
			}
		}
		if last := entries[len(entries)-1]; last.AvailableBefore != 0 || last.AvailableAfter != 20 || last.Actor != "staff:1" {
			t.Fatalf("first entry: %+v", last)
		}
		page, _ := s.Ledger(ctx, sku, entries[9].Seq, 5)
		if len(page) != 5 || page[0].ID != entries[10].ID {
			t.Fatalf("ledger paging: %+v", page)
		}
		var outbox int
		db.Read().QueryRow("SELECT COUNT(*) FROM outbox_events").Scan(&outbox)
		if outbox != 21 {
			t.Fatalf("outbox rows = %d, want one per applied change (21)", outbox)
		}
	})
}
