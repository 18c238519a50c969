package inventorydb_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/inventory/inventorydb"
	"github.com/minimart/minimart/internal/inventory/inventoryevents"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// TestLowLevels: the stock rows at or under a threshold, lowest first and by SKU id among
// equals, paged by the last row seen, the same on both engines.
func TestLowLevels(t *testing.T) {
	sets := []sqldb.Migrations{events.OutboxMigrations, inventorydb.Migrations}
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		gen, err := ids.NewGenerator(4)
		if err != nil {
			t.Fatal(err)
		}
		s := inventorydb.New(db, events.NewOutbox())
		event := func(before, after inventory.Level) (events.Event, error) {
			return events.New(gen.New(), inventoryevents.TypeStockChanged, after.SKUID.String(),
				inventoryevents.StockChanged{SKUID: after.SKUID, Available: after.Available})
		}
		product := gen.New()
		level := map[string]inventory.Level{}
		// Made in this order, so their ids ascend in it.
		for _, sku := range []struct {
			name      string
			available int64
		}{{"a", 3}, {"b", 0}, {"c", 3}, {"d", 10}, {"e", 11}, {"f", 0}} {
			n := sku.available
			l, err := s.Apply(ctx, inventory.Change{SKUID: gen.New(), ProductID: product, Set: &n, Actor: "staff:1",
				Reason: "count", Source: "admin"}, gen.New(), event)
			if err != nil {
				t.Fatal(err)
			}
			level[sku.name] = l
		}
		names := func(list []inventory.Level) string {
			out := ""
			for _, l := range list {
				for name, want := range level {
					if l.SKUID == want.SKUID {
						if l.Available != want.Available || l.ProductID != product || l.Reserved != 0 || l.Sold != 0 {
							t.Errorf("row %s = %+v, want %+v", name, l, want)
						}
						out += name
					}
				}
			}
			return out
		}
		cases := []struct {
			name      string
			threshold int64
			after     inventory.Level
			limit     int
			want      string
		}{
			{"at most 10", 10, inventory.Level{}, 100, "bfacd"},
			{"none in stock", 0, inventory.Level{}, 100, "bf"},
			{"at most 2", 2, inventory.Level{}, 100, "bf"},
			{"every row", 1000, inventory.Level{}, 100, "bfacde"},
			{"first page", 10, inventory.Level{}, 2, "bf"},
			{"after the last zero", 10, level["f"], 2, "ac"},
			{"after a tie's first", 10, level["a"], 2, "cd"},
			{"after the last", 10, level["d"], 2, ""},
		}
		for _, c := range cases {
			got, err := s.LowLevels(ctx, c.threshold, c.after, c.limit)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if n := names(got); n != c.want || got == nil {
				t.Errorf("%s: got %q (%v), want %q", c.name, n, got, c.want)
			}
		}
		got, err := s.LowLevels(ctx, 10, inventory.Level{}, 100)
		if err != nil || len(got) == 0 {
			t.Fatalf("every low row: %v, %v", got, err)
		}
		if !reflect.DeepEqual(got[0], level["b"]) {
			t.Errorf("a listed row reads %+v, the stored level is %+v", got[0], level["b"])
		}
	})
}
