package catalog_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/catalog/catalogdb"
	"github.com/minimart/minimart/internal/catalog/catalogsearch"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// TestIndexerStateAndRebuild: an index is foreign until a rebuild stamps it with the
// catalog's source; a rebuild leaves exactly the on-shelf products, whatever was in the
// index before; a reindex request makes it outdated; another database's catalog finds it
// foreign.
func TestIndexerStateAndRebuild(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	gen, err := ids.NewGenerator(6)
	if err != nil {
		t.Fatal(err)
	}
	store := catalogdb.New(sqldbtest.SQLite(t, events.OutboxMigrations, catalogdb.Migrations), events.NewOutbox())
	svc := catalog.NewService(store, gen, log)
	index, err := catalogsearch.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { index.Close() })
	ix := catalog.NewIndexer(store, index, log, nil)
	state := func() catalog.IndexState {
		t.Helper()
		s, err := ix.State(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := state(); s != catalog.IndexForeign {
		t.Fatalf("new index: %v, want foreign", s)
	}

	cat, err := svc.CreateCategory(ctx, catalog.CategoryInput{Name: "茶叶"})
	if err != nil {
		t.Fatal(err)
	}
	product := func(title string, onShelf bool) catalog.Product {
		p, err := svc.CreateProduct(ctx, catalog.ProductInput{CategoryID: cat.ID, Title: title}, []catalog.SKUInput{{Price: 100}}, onShelf)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	green, black, shelved := product("龙井 绿茶", true), product("正山小种 红茶", true), product("普洱 茶饼", false)
	// Left over from before: a product that went off shelf and one that is gone.
	if err := index.Put(ctx, catalog.SearchDoc{ProductID: shelved.ID, Title: "普洱 茶饼"},
		catalog.SearchDoc{ProductID: 424242, Title: "消失的 茶"}); err != nil {
		t.Fatal(err)
	}
	var progress []int
	done, err := ix.Rebuild(ctx, func(n int) { progress = append(progress, n) })
	if err != nil || done != 2 || !slices.Equal(progress, []int{2}) {
		t.Fatalf("Rebuild = %d, %v (progress %v); want the 2 on-shelf products", done, err, progress)
	}
	got, err := index.ProductIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []ids.ID{green.ID, black.ID}; !slices.Equal(got, want) {
		t.Fatalf("after the rebuild the index holds %v, want %v", got, want)
	}
	if s := state(); s != catalog.IndexCurrent {
		t.Fatalf("after the rebuild: %v, want current", s)
	}

	if _, err := store.RaiseIndexVersion(ctx); err != nil {
		t.Fatal(err)
	}
	if s := state(); s != catalog.IndexOutdated {
		t.Fatalf("after a reindex request: %v, want outdated", s)
	}
	if _, err := ix.Rebuild(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if s := state(); s != catalog.IndexCurrent {
		t.Fatalf("after the second rebuild: %v, want current", s)
	}

	other := catalogdb.New(sqldbtest.SQLite(t, events.OutboxMigrations, catalogdb.Migrations), events.NewOutbox())
	if s, err := catalog.NewIndexer(other, index, log, nil).State(ctx); err != nil || s != catalog.IndexForeign {
		t.Fatalf("the index seen from another database: %v, %v; want foreign", s, err)
	}
}
