package catalogdb_test

import (
	"context"
	"errors"
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

var ctx = context.Background()

func TestStoreConformance(t *testing.T) {
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

		// Categories: create, move, refuse deleting a non-empty one.
		root := catalog.Category{ID: gen.New(), Name: "数码", Level: 1, CreatedAt: now, UpdatedAt: now}
		child := catalog.Category{ID: gen.New(), ParentID: root.ID, Name: "手机", Level: 2, CreatedAt: now, UpdatedAt: now}
		leaf := catalog.Category{ID: gen.New(), ParentID: child.ID, Name: "5G手机", Level: 3, CreatedAt: now, UpdatedAt: now}
		for _, c := range []catalog.Category{root, child, leaf} {
			if _, err := s.CreateCategory(ctx, c, nil, ev()); err != nil {
				t.Fatal(err)
			}
		}
		other := catalog.Category{ID: gen.New(), Name: "家电", Level: 1, CreatedAt: now, UpdatedAt: now}
		if _, err := s.CreateCategory(ctx, other, nil, ev()); err != nil {
			t.Fatal(err)
		}
		// Moving child (with its leaf) under other keeps levels right.
		if _, err := s.UpdateCategory(ctx, child.ID, func(c *catalog.Category, _ []catalog.Category) error {
			c.ParentID, c.Level = other.ID, 2
			return nil
		}, ev()); err != nil {
			t.Fatal(err)
		}
		// Now move child to the top: it and its leaf go up one level.
		if _, err := s.UpdateCategory(ctx, child.ID, func(c *catalog.Category, _ []catalog.Category) error {
			c.ParentID, c.Level = 0, 1
			return nil
		}, ev()); err != nil {
			t.Fatal(err)
		}
		all, _ := s.Categories(ctx)
		levels := map[ids.ID]int{}
		for _, c := range all {
			levels[c.ID] = c.Level
		}
		if levels[child.ID] != 1 || levels[leaf.ID] != 2 {
			t.Fatalf("levels after move: child %d leaf %d", levels[child.ID], levels[leaf.ID])
		}
		if err := s.DeleteCategory(ctx, child.ID, ev()); !errors.Is(err, catalog.ErrCategoryNotEmpty) {
			t.Fatalf("delete with a child: %v", err)
		}
		if err := s.DeleteCategory(ctx, 42, ev()); !errors.Is(err, catalog.ErrCategoryNotFound) {
			t.Fatalf("delete unknown: %v", err)
		}

		// Products with SKUs.
		p := catalog.Product{ID: gen.New(), CategoryID: leaf.ID, Title: "华为 Mate 60 手机", Images: []string{"/media/a.jpg"},
			Specs: []catalog.SpecDef{{Name: "颜色", Values: []string{"黑", "白"}}}, Status: catalog.OnShelf,
			PriceMin: 500000, PriceMax: 600000, CreatedAt: now, UpdatedAt: now}
		p.SKUs = []catalog.SKU{
			{ID: gen.New(), ProductID: p.ID, Specs: map[string]string{"颜色": "黑"}, Price: 500000, Code: "HW-1"},
			{ID: gen.New(), ProductID: p.ID, Specs: map[string]string{"颜色": "白"}, Price: 600000, Code: "HW-2"},
		}
		if err := s.CreateProduct(ctx, p, ev()); err != nil {
			t.Fatal(err)
		}
		got, err := s.Product(ctx, p.ID)
		if err != nil || len(got.SKUs) != 2 || got.SKUs[0].Specs["颜色"] != "黑" || got.Images[0] != "/media/a.jpg" || got.Specs[0].Values[1] != "白" {
			t.Fatalf("product round trip: %+v %v", got, err)
		}
		if err := s.DeleteCategory(ctx, leaf.ID, ev()); !errors.Is(err, catalog.ErrCategoryNotEmpty) {
			t.Fatalf("delete a category with products: %v", err)
		}

		// A second product may not reuse a SKU code.
		q := catalog.Product{ID: gen.New(), CategoryID: leaf.ID, Title: "小米 14", Specs: []catalog.SpecDef{}, Images: []string{},
			Status: catalog.OffShelf, CreatedAt: now, UpdatedAt: now.Add(time.Second)}
		q.SKUs = []catalog.SKU{{ID: gen.New(), ProductID: q.ID, Specs: map[string]string{}, Price: 399900, Code: "HW-1"}}
		if err := s.CreateProduct(ctx, q, ev()); !errors.Is(err, catalog.ErrSKUCodeTaken) {
			t.Fatalf("duplicate code: %v", err)
		}
		q.SKUs[0].Code = "MI-1"
		if err := s.CreateProduct(ctx, q, ev()); err != nil {
			t.Fatal(err)
		}

		// Update: drop the white SKU, add a new white one with the freed spec values and code.
		newWhite := catalog.SKU{ID: gen.New(), ProductID: p.ID, Specs: map[string]string{"颜色": "白"}, Price: 550000, Code: "HW-2"}
		upd, err := s.UpdateProduct(ctx, p.ID, func(pr *catalog.Product) (events.Event, error) {
			pr.SKUs = []catalog.SKU{pr.SKUs[0], newWhite}
			pr.Title = "华为 Mate 60 Pro 手机"
			return ev(), nil
		})
		if err != nil || upd.Title != "华为 Mate 60 Pro 手机" {
			t.Fatalf("update: %v", err)
		}
		refs, err := s.SKURefs(ctx, []ids.ID{p.SKUs[1].ID, newWhite.ID})
		if err != nil || len(refs) != 2 {
			t.Fatalf("sku refs: %v %v", refs, err)
		}
		for _, r := range refs {
			if (r.ID == p.SKUs[1].ID) != r.Deleted || r.ProductTitle != "华为 Mate 60 Pro 手机" || r.ProductImage != "/media/a.jpg" {
				t.Fatalf("ref %+v", r)
			}
		}
		// Duplicate spec values inside one update are refused by the database too.
		_, err = s.UpdateProduct(ctx, p.ID, func(pr *catalog.Product) (events.Event, error) {
			pr.SKUs = append(pr.SKUs, catalog.SKU{ID: gen.New(), ProductID: p.ID, Specs: map[string]string{"颜色": "黑"}, Price: 1})
			return ev(), nil
		})
		if !errors.Is(err, catalog.ErrDuplicateSpecs) {
			t.Fatalf("duplicate specs: %v", err)
		}
		// A failed fn changes nothing.
		boom := errors.New("boom")
		if _, err := s.UpdateProduct(ctx, p.ID, func(pr *catalog.Product) (events.Event, error) {
			pr.Title = "changed"
			return events.Event{}, boom
		}); !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if got, _ := s.Product(ctx, p.ID); got.Title != "华为 Mate 60 Pro 手机" || len(got.SKUs) != 2 {
			t.Fatalf("failed update leaked: %+v", got)
		}

		// Lists: status filter, category filter, sort orders, counts.
		list, total, err := s.Products(ctx, catalog.ListFilter{Status: catalog.OnShelf, Limit: 10})
		if err != nil || total != 1 || len(list) != 1 || list[0].ID != p.ID {
			t.Fatalf("on-shelf list: %v %d %v", list, total, err)
		}
		list, total, _ = s.Products(ctx, catalog.ListFilter{Limit: 10, Sort: catalog.SortPriceAsc})
		if total != 2 || list[0].ID != q.ID {
			t.Fatalf("price order: %+v", list)
		}
		list, _, _ = s.Products(ctx, catalog.ListFilter{Limit: 10, TitleLike: "mate"})
		if len(list) != 1 {
			t.Fatalf("title search: %+v", list)
		}
		_, total, _ = s.Products(ctx, catalog.ListFilter{Limit: 10, CategoryIDs: []ids.ID{other.ID}})
		if total != 0 {
			t.Fatalf("category filter: %d", total)
		}
		page, _ := s.OnShelfAfter(ctx, 0, 10)
		if len(page) != 1 || len(page[0].SKUs) != 2 {
			t.Fatalf("on shelf after: %+v", page)
		}

		// Delete: gone from reads, SKUs marked deleted, codes freed.
		if err := s.DeleteProduct(ctx, q.ID, ev()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Product(ctx, q.ID); !errors.Is(err, catalog.ErrProductNotFound) {
			t.Fatalf("deleted product: %v", err)
		}
		if err := s.DeleteProduct(ctx, q.ID, ev()); !errors.Is(err, catalog.ErrProductNotFound) {
			t.Fatalf("delete twice: %v", err)
		}
		refs, _ = s.SKURefs(ctx, []ids.ID{q.SKUs[0].ID})
		if len(refs) != 1 || !refs[0].Deleted {
			t.Fatalf("deleted product's SKU: %+v", refs)
		}
		var outbox int
		db.Read().QueryRow("SELECT COUNT(*) FROM outbox_events").Scan(&outbox)
		if outbox != 10 {
			t.Fatalf("outbox rows = %d, want one per successful change (10)", outbox)
		}
	})
}
