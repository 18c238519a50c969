package catalogdb_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/catalog/catalogdb"
	"github.com/minimart/minimart/internal/catalog/catalogevents"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// TestSKULookups covers what inventory resolves external stock updates by: a SKU by its
// code, and the live SKUs of a product.
func TestSKULookups(t *testing.T) {
	sets := []sqldb.Migrations{events.OutboxMigrations, catalogdb.Migrations}
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		gen, _ := ids.NewGenerator(3)
		s := catalogdb.New(db, events.NewOutbox())
		ev := func() events.Event {
			e, err := events.New(gen.New(), catalogevents.TypeProductChanged, "k", map[string]int{})
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		cat := catalog.Category{ID: gen.New(), Name: "饮料", Level: 1, CreatedAt: now, UpdatedAt: now}
		if _, err := s.CreateCategory(ctx, cat, nil, ev()); err != nil {
			t.Fatal(err)
		}
		product := func(codes ...string) catalog.Product {
			p := catalog.Product{ID: gen.New(), CategoryID: cat.ID, Title: "矿泉水", Images: []string{},
				Specs: []catalog.SpecDef{{Name: "规格", Values: []string{"a", "b", "c"}}}, Status: catalog.OnShelf,
				CreatedAt: now, UpdatedAt: now}
			for i, code := range codes {
				p.SKUs = append(p.SKUs, catalog.SKU{ID: gen.New(), ProductID: p.ID,
					Specs: map[string]string{"规格": string(rune('a' + i))}, Price: 100, Code: code})
			}
			if err := s.CreateProduct(ctx, p, ev()); err != nil {
				t.Fatal(err)
			}
			return p
		}
		one := product("WATER-1")
		three := product("WATER-3A", "", "water-3c")
		none := product()

		for code, want := range map[string]ids.ID{"WATER-1": one.SKUs[0].ID, "WATER-3A": three.SKUs[0].ID, "water-3c": three.SKUs[2].ID} {
			if got, err := s.SKUByCode(ctx, code); err != nil || got != want {
				t.Errorf("SKUByCode(%q) = %v, %v; want %v", code, got, err, want)
			}
		}
		// Codes match exactly: no case folding, no trimming, no pattern.
		for _, code := range []string{"water-1", "WATER-3C", " WATER-1", "WATER-%", "", "NOPE"} {
			if _, err := s.SKUByCode(ctx, code); !errors.Is(err, catalog.ErrSKUNotFound) {
				t.Errorf("SKUByCode(%q) = %v, want ErrSKUNotFound", code, err)
			}
		}

		live := func(p ids.ID, want ...ids.ID) {
			t.Helper()
			got, err := s.LiveSKUsOfProduct(ctx, p)
			if err != nil || !slices.Equal(got, want) || got == nil {
				t.Fatalf("LiveSKUsOfProduct(%s) = %v, %v; want %v", p, got, err, want)
			}
		}
		live(one.ID, one.SKUs[0].ID)
		live(three.ID, three.SKUs[0].ID, three.SKUs[1].ID, three.SKUs[2].ID)
		live(none.ID)
		if _, err := s.LiveSKUsOfProduct(ctx, gen.New()); !errors.Is(err, catalog.ErrProductNotFound) {
			t.Fatalf("unknown product: %v", err)
		}

		// A deleted SKU is neither found by its code nor listed; a deleted product is gone.
		if _, err := s.UpdateProduct(ctx, three.ID, func(p *catalog.Product) (events.Event, error) {
			p.SKUs = p.SKUs[1:]
			return ev(), nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SKUByCode(ctx, "WATER-3A"); !errors.Is(err, catalog.ErrSKUNotFound) {
			t.Fatalf("code of a deleted SKU: %v", err)
		}
		live(three.ID, three.SKUs[1].ID, three.SKUs[2].ID)
		if err := s.DeleteProduct(ctx, one.ID, ev()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SKUByCode(ctx, "WATER-1"); !errors.Is(err, catalog.ErrSKUNotFound) {
			t.Fatalf("code of a deleted product's SKU: %v", err)
		}
		if _, err := s.LiveSKUsOfProduct(ctx, one.ID); !errors.Is(err, catalog.ErrProductNotFound) {
			t.Fatalf("deleted product: %v", err)
		}
	})
}
