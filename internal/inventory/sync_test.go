package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	catalogmod "github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/catalog/catalogdb"
	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/inventory/inventorydb"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

func ptr[T any](v T) *T { return &v }

// TestSync runs external updates through the real catalog: how they name their SKU, what
// is refused and why, and that stale ones change nothing.
func TestSync(t *testing.T) {
	sets := []sqldb.Migrations{events.OutboxMigrations, catalogdb.Migrations, inventorydb.Migrations}
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		gen, _ := ids.NewGenerator(8)
		log := slog.New(slog.DiscardHandler)
		outbox := events.NewOutbox()
		cat := catalogmod.NewService(catalogdb.New(db, outbox), gen, log)
		svc := inventory.NewService(inventorydb.New(db, outbox), cat, gen, log)
		category, err := cat.CreateCategory(ctx, catalogmod.CategoryInput{Name: "零食"})
		if err != nil {
			t.Fatal(err)
		}
		product := func(n int, code string) catalogmod.Product {
			t.Helper()
			var values []string
			var skus []catalogmod.SKUInput
			for i := range n {
				values = append(values, fmt.Sprint(i))
				skus = append(skus, catalogmod.SKUInput{Specs: map[string]string{"口味": fmt.Sprint(i)}, Price: 990,
					Code: fmt.Sprintf("%s-%d", code, i+1)})
			}
			in := catalogmod.ProductInput{CategoryID: category.ID, Title: "薯片"}
			if n > 0 {
				in.Specs = []catalogmod.SpecDef{{Name: "口味", Values: values}}
			}
			p, err := cat.CreateProduct(ctx, in, skus, false)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		one, three, empty := product(1, "ONE"), product(3, "THREE"), product(0, "")
		sku := one.SKUs[0].ID
		level := func(id ids.ID) inventory.Level {
			t.Helper()
			l, err := svc.Level(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		apply := func(u inventory.SyncUpdate, wantApplied bool, wantAvailable int64) {
			t.Helper()
			applied, err := svc.Sync(ctx, u)
			if err != nil || applied != wantApplied {
				t.Fatalf("Sync(%+v) = %v, %v; want applied %v", u, applied, err, wantApplied)
			}
			if l := level(sku); l.Available != wantAvailable {
				t.Fatalf("after Sync(%+v): available %d, want %d", u, l.Available, wantAvailable)
			}
		}

		// Three ways to name the SKU.
		apply(inventory.SyncUpdate{ProductID: one.ID, Set: ptr[int64](42)}, true, 42)
		apply(inventory.SyncUpdate{SKUCode: "ONE-1", Delta: -2, Version: ptr[int64](1), Source: "erp"}, true, 40)
		apply(inventory.SyncUpdate{SKUID: sku, Set: ptr[int64](7), Version: ptr[int64](2)}, true, 7)
		// Stale: ignored without an error.
		apply(inventory.SyncUpdate{SKUID: sku, Set: ptr[int64](8), Version: ptr[int64](2)}, false, 7)
		apply(inventory.SyncUpdate{SKUCode: "ONE-1", Delta: 5, Version: ptr[int64](1)}, false, 7)

		entries, err := svc.Ledger(ctx, sku, 0, 10)
		if err != nil || len(entries) != 3 {
			t.Fatalf("ledger: %+v %v", entries, err)
		}
		for i, wantSource := range []string{"inventory_update", "erp", "inventory_update"} {
			e := entries[len(entries)-1-i]
			if e.Actor != "sync" || e.Reason != "inventory_update" || e.Source != wantSource {
				t.Errorf("ledger row %d: %+v, want source %s", i, e, wantSource)
			}
		}

		// What names nothing the catalog knows, or too much.
		deleted := product(1, "GONE")
		if err := cat.DeleteProduct(ctx, deleted.ID); err != nil {
			t.Fatal(err)
		}
		refused := []struct {
			name string
			u    inventory.SyncUpdate
			want error
			says string
		}{
			{"unknown SKU", inventory.SyncUpdate{SKUID: 12345, Set: ptr[int64](1)}, inventory.ErrSKUNotFound, "no live SKU has id 12345"},
			{"deleted SKU", inventory.SyncUpdate{SKUID: deleted.SKUs[0].ID, Set: ptr[int64](1)}, inventory.ErrSKUNotFound, "no live SKU"},
			{"unknown code", inventory.SyncUpdate{SKUCode: "ONE-2", Set: ptr[int64](1)}, inventory.ErrSKUNotFound, `no live SKU has code "ONE-2"`},
			{"code of a deleted SKU", inventory.SyncUpdate{SKUCode: "GONE-1", Set: ptr[int64](1)}, inventory.ErrSKUNotFound, "GONE-1"},
			{"unknown product", inventory.SyncUpdate{ProductID: 12345, Set: ptr[int64](1)}, inventory.ErrProductNotFound, "no live product has id 12345"},
			{"deleted product", inventory.SyncUpdate{ProductID: deleted.ID, Set: ptr[int64](1)}, catalogmod.ErrProductNotFound, "no live product"},
			{"product without SKUs", inventory.SyncUpdate{ProductID: empty.ID, Set: ptr[int64](1)}, inventory.ErrSKUNotFound, "has no live SKU"},
			{"product with three SKUs", inventory.SyncUpdate{ProductID: three.ID, Set: ptr[int64](1)}, inventory.ErrProductHasSeveralSKUs,
				fmt.Sprintf("product %s has 3 live SKUs and stock is kept per SKU; name the one to update with sku_id or sku_code", three.ID)},
			{"below zero", inventory.SyncUpdate{SKUID: sku, Delta: -8}, inventory.ErrInsufficientStock,
				fmt.Sprintf("delta -8 would take the available stock of SKU %s below zero", sku)},
		}
		for _, r := range refused {
			applied, err := svc.Sync(ctx, r.u)
			if applied || !errors.Is(err, r.want) || !strings.Contains(err.Error(), r.says) {
				t.Errorf("%s: %v, %v; want %v saying %q", r.name, applied, err, r.want, r.says)
			}
		}
		if l := level(sku); l.Available != 7 {
			t.Fatalf("refused updates changed the stock: %+v", l)
		}
		// Another SKU of the three still takes an update by its code.
		if applied, err := svc.Sync(ctx, inventory.SyncUpdate{SKUCode: "THREE-2", Set: ptr[int64](3)}); err != nil || !applied {
			t.Fatalf("THREE-2: %v %v", applied, err)
		}
		if l := level(three.SKUs[1].ID); l.Available != 3 || l.ProductID != three.ID {
			t.Fatalf("THREE-2: %+v", l)
		}

		// Validation names each bad field.
		future := time.Now().Add(25 * time.Hour)
		invalid := []struct {
			name   string
			u      inventory.SyncUpdate
			fields []string
		}{
			{"names nothing", inventory.SyncUpdate{Set: ptr[int64](1)}, []string{"sku_id"}},
			{"names twice", inventory.SyncUpdate{SKUID: sku, SKUCode: "ONE-1", Set: ptr[int64](1)}, []string{"sku_id"}},
			{"negative id", inventory.SyncUpdate{SKUID: -1, Set: ptr[int64](1)}, []string{"sku_id"}},
			{"long code", inventory.SyncUpdate{SKUCode: strings.Repeat("c", 65), Set: ptr[int64](1)}, []string{"sku_code"}},
			{"does nothing", inventory.SyncUpdate{SKUID: sku}, []string{"new_inventory"}},
			{"set and delta", inventory.SyncUpdate{SKUID: sku, Set: ptr[int64](1), Delta: 1}, []string{"delta"}},
			{"negative stock", inventory.SyncUpdate{SKUID: sku, Set: ptr[int64](-1)}, []string{"new_inventory"}},
			{"too much stock", inventory.SyncUpdate{SKUID: sku, Set: ptr[int64](inventory.MaxStock + 1)}, []string{"new_inventory"}},
			{"huge delta", inventory.SyncUpdate{SKUID: sku, Delta: inventory.MaxStock + 1}, []string{"delta"}},
			{"negative version", inventory.SyncUpdate{SKUID: sku, Set: ptr[int64](1), Version: ptr[int64](-1)}, []string{"version"}},
			{"ancient", inventory.SyncUpdate{SKUID: sku, Set: ptr[int64](1), UpdatedAt: ptr(time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC))}, []string{"updated_at"}},
			{"from the future", inventory.SyncUpdate{SKUID: sku, Set: ptr[int64](1), UpdatedAt: &future}, []string{"updated_at"}},
			{"long source", inventory.SyncUpdate{SKUID: sku, Set: ptr[int64](1), Source: strings.Repeat("源", 65)}, []string{"source"}},
			{"control in source", inventory.SyncUpdate{SKUID: sku, Set: ptr[int64](1), Source: "a\x00b"}, []string{"source"}},
		}
		for _, v := range invalid {
			_, err := svc.Sync(ctx, v.u)
			e, ok := errs.As(err)
			if !ok || !errors.Is(err, errs.ErrValidation) {
				t.Errorf("%s: %v, want a validation error", v.name, err)
				continue
			}
			fields, _ := e.Details["fields"].([]errs.FieldError)
			if len(fields) != len(v.fields) {
				t.Errorf("%s: fields %+v, want %v", v.name, fields, v.fields)
				continue
			}
			for i, f := range fields {
				if f.Field != v.fields[i] || f.Reason == "" {
					t.Errorf("%s: field %+v, want %s with a reason", v.name, f, v.fields[i])
				}
			}
		}
		// Just under the clock-skew bound is fine.
		if applied, err := svc.Sync(ctx, inventory.SyncUpdate{SKUID: sku, Set: ptr[int64](9), UpdatedAt: ptr(time.Now().Add(23 * time.Hour))}); err != nil || !applied {
			t.Fatalf("updated_at within the skew bound: %v %v", applied, err)
		}
	})
}
