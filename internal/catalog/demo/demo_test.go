package demo_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/catalog/catalogdb"
	"github.com/minimart/minimart/internal/catalog/demo"
	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/inventory/inventorydb"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

type env struct {
	svc *catalog.Service
	inv *inventory.Service
}

func newEnv(t testing.TB) env {
	t.Helper()
	db := sqldbtest.SQLite(t, events.OutboxMigrations, catalogdb.Migrations, inventorydb.Migrations)
	outbox := events.NewOutbox()
	gen, err := ids.NewGenerator(1)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	svc := catalog.NewService(catalogdb.New(db, outbox), gen, log)
	inv := inventory.NewService(inventorydb.New(db, outbox), svc, gen, log)
	return env{svc: svc, inv: inv}
}

func (e env) load(t testing.TB, n int) demo.Result {
	t.Helper()
	res, err := demo.Load(context.Background(), e.svc, stock{e.inv}, n, nil)
	if err != nil {
		t.Fatalf("Load(%d): %v", n, err)
	}
	return res
}

// loaded is a catalog as read back: categories and products with SKUs and stock.
type loaded struct {
	categories []catalog.Category
	byID       map[ids.ID]catalog.Category
	list       []catalog.Product // StaffProducts order (newest first), with SKUs
	stock      map[ids.ID]int64
}

func read(t testing.TB, e env) loaded {
	t.Helper()
	ctx := context.Background()
	var l loaded
	var walk func([]*catalog.Category)
	walk = func(cs []*catalog.Category) {
		for _, c := range cs {
			l.categories = append(l.categories, *c)
			walk(c.Children)
		}
	}
	tree, err := e.svc.Categories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	walk(tree)
	l.byID = map[ids.ID]catalog.Category{}
	for _, c := range l.categories {
		l.byID[c.ID] = c
	}
	list, total, err := e.svc.StaffProducts(ctx, catalog.ListFilter{Limit: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	if total != len(list) {
		t.Fatalf("StaffProducts: %d items, total %d", len(list), total)
	}
	var skuIDs []ids.ID
	for _, p := range list {
		full, err := e.svc.Product(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range full.SKUs {
			skuIDs = append(skuIDs, k.ID)
		}
		l.list = append(l.list, full)
	}
	l.stock, err = e.inv.Available(ctx, skuIDs)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func (l loaded) path(id ids.ID) string {
	var names []string
	for c, ok := l.byID[id]; ok; c, ok = l.byID[c.ParentID] {
		names = append([]string{c.Name}, names...)
	}
	return strings.Join(names, " › ")
}

// lines renders every product with its SKUs, prices and stock, without ids, by product number.
func (l loaded) lines() map[string]string {
	out := map[string]string{}
	for _, p := range l.list {
		var b strings.Builder
		fmt.Fprintf(&b, "%s | %s | %s | %s | %v | %v | %s", p.Title, p.Status, l.path(p.CategoryID), p.Subtitle, p.Images, p.Specs, p.Description)
		for _, k := range p.SKUs {
			stock, ok := l.stock[k.ID]
			fmt.Fprintf(&b, "\n  %s %s %d/%d stock=%d(%v)", k.Code, catalog.SpecKey(k.Specs), k.Price, k.ListPrice, stock, ok)
		}
		number, _, _ := strings.Cut(strings.TrimPrefix(p.SKUs[0].Code, "DEMO-"), "-")
		out[number] = b.String()
	}
	return out
}

func (l loaded) tree() []string {
	var out []string
	for _, c := range l.categories {
		out = append(out, fmt.Sprintf("%d %s %d %q %v", c.Level, l.path(c.ID), c.SortOrder, c.IconURL, c.Hidden))
	}
	return out
}

func (l loaded) titles() []string {
	out := make([]string, len(l.list))
	for i, p := range l.list {
		out[i] = p.Title
	}
	return out
}

func TestLoadDefaultCatalog(t *testing.T) {
	e := newEnv(t)
	var calls []int
	t0 := time.Now()
	res, err := demo.Load(context.Background(), e.svc, stock{e.inv}, demo.DefaultProducts, func(done int) { calls = append(calls, done) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Load(%d) took %s: %+v", demo.DefaultProducts, time.Since(t0).Round(time.Millisecond), res)
	if len(calls) != demo.DefaultProducts || calls[0] != 1 || calls[len(calls)-1] != demo.DefaultProducts {
		t.Errorf("progress called %d times (%v…), want 1..%d", len(calls), calls[:min(3, len(calls))], demo.DefaultProducts)
	}
	l := read(t, e)

	levels := map[int]int{}
	leafIDs := map[ids.ID]bool{}
	hasChildren := map[ids.ID]bool{}
	for _, c := range l.categories {
		levels[c.Level]++
		hasChildren[c.ParentID] = true
		if c.IconURL != "" || c.Hidden || c.SortOrder <= 0 {
			t.Errorf("category %s: icon %q, hidden %v, sort order %d", l.path(c.ID), c.IconURL, c.Hidden, c.SortOrder)
		}
	}
	for _, c := range l.categories {
		switch {
		case c.Level == 3:
			leafIDs[c.ID] = true
		case !hasChildren[c.ID]:
			t.Errorf("category %s at level %d has no children", l.path(c.ID), c.Level)
		}
	}
	if res.Categories != len(l.categories) || levels[1] < 8 || levels[2] < 30 || levels[3] < 60 {
		t.Errorf("Result %+v, categories per level %v; want ≥8 / ≥30 / ≥60", res, levels)
	}

	if res.Products != demo.DefaultProducts || len(l.list) != demo.DefaultProducts {
		t.Fatalf("Result %+v, %d products listed; want %d", res, len(l.list), demo.DefaultProducts)
	}
	skus, onShelf, zero, codes := 0, 0, 0, map[string]bool{}
	usedLeaves := map[ids.ID]bool{}
	for _, p := range l.list {
		if !leafIDs[p.CategoryID] {
			t.Errorf("%q is filed under %s, not a leaf", p.Title, l.path(p.CategoryID))
		}
		usedLeaves[p.CategoryID] = true
		if p.Status == catalog.OnShelf {
			onShelf++
		}
		if len(p.SKUs) < 1 || len(p.SKUs) > 6 || len(p.Specs) < 1 || len(p.Specs) > 2 {
			t.Errorf("%q: %d SKUs, %d specs; want 1–6 SKUs of 1–2 specs", p.Title, len(p.SKUs), len(p.Specs))
		}
		if len(p.Images) < 1 || len(p.Images) > 3 || !strings.HasPrefix(p.Images[0], "https://img.example.com/demo/") {
			t.Errorf("%q: images %v", p.Title, p.Images)
		}
		if p.Subtitle == "" || !strings.HasPrefix(p.Description, "<p>") || !strings.Contains(p.Description, "<li>") {
			t.Errorf("%q: subtitle %q, description %q", p.Title, p.Subtitle, p.Description)
		}
		for _, k := range p.SKUs {
			skus++
			if k.Price <= 0 || k.ListPrice <= k.Price || k.Price < p.PriceMin || k.Price > p.PriceMax {
				t.Errorf("%q %s: price %d, list price %d, span %d–%d", p.Title, k.Code, k.Price, k.ListPrice, p.PriceMin, p.PriceMax)
			}
			if codes[k.Code] || !strings.HasPrefix(k.Code, "DEMO-") {
				t.Errorf("SKU code %q repeated or malformed", k.Code)
			}
			codes[k.Code] = true
			stock, ok := l.stock[k.ID]
			switch {
			case !ok:
				t.Errorf("%q %s: no stock set", p.Title, k.Code)
			case stock < 0 || stock > 500:
				t.Errorf("%q %s: stock %d, want 0–500", p.Title, k.Code, stock)
			case stock == 0:
				zero++
			}
		}
	}
	if res.SKUs != skus || skus < demo.DefaultProducts*2 {
		t.Errorf("Result.SKUs %d, %d SKUs listed; want equal and about 3 per product", res.SKUs, skus)
	}
	if zero == 0 || zero > skus/5 {
		t.Errorf("%d of %d SKUs sold out; want a few", zero, skus)
	}
	if onShelf < demo.DefaultProducts*80/100 || onShelf > demo.DefaultProducts*97/100 {
		t.Errorf("%d of %d on shelf; want about 90%%", onShelf, demo.DefaultProducts)
	}
	if len(usedLeaves) != len(leafIDs) {
		t.Errorf("products in %d of %d leaves; want every leaf", len(usedLeaves), len(leafIDs))
	}

	for _, word := range []string{"手机", "耳机", "蓝牙", "连衣裙", "咖啡", "iphone", "零食", "充电器"} {
		found, n, err := e.svc.StaffProducts(context.Background(), catalog.ListFilter{TitleLike: word, Status: catalog.OnShelf, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("no product on shelf has %q in its title", word)
			continue
		}
		t.Logf("%-6s %3d on shelf, e.g. %q", word, n, found[0].Title)
	}

	// The stock ledger says who set the stock and why.
	ledger, err := e.inv.Ledger(context.Background(), l.list[0].SKUs[0].ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ledger) != 1 || ledger[0].Actor != demo.Actor || ledger[0].Reason != demo.Reason {
		t.Errorf("ledger %+v; want one entry by %q for %q", ledger, demo.Actor, demo.Reason)
	}
}

func TestLoadIsDeterministic(t *testing.T) {
	a, b, c := newEnv(t), newEnv(t), newEnv(t)
	a.load(t, demo.DefaultProducts)
	b.load(t, demo.DefaultProducts)
	c.load(t, demo.DefaultProducts+60)
	la, lb, lc := read(t, a), read(t, b), read(t, c)

	if !slices.Equal(la.tree(), lb.tree()) {
		t.Errorf("category trees differ:\n%v\n%v", la.tree(), lb.tree())
	}
	if !slices.Equal(la.titles(), lb.titles()) {
		t.Errorf("titles in list order differ:\n%v\n%v", la.titles(), lb.titles())
	}
	ma, mb, mc := la.lines(), lb.lines(), lc.lines()
	if len(ma) != demo.DefaultProducts || len(mc) != demo.DefaultProducts+60 {
		t.Fatalf("%d and %d products by number", len(ma), len(mc))
	}
	for number, want := range ma {
		if got := mb[number]; got != want {
			t.Errorf("product %s differs between two loads:\n%s\n%s", number, want, got)
		}
		// A larger catalog starts with the same products.
		if got := mc[number]; got != want {
			t.Errorf("product %s differs in a larger load:\n%s\n%s", number, want, got)
		}
	}
	// Same titles, prices and stock in title order too.
	sortedA, sortedB := slices.Sorted(func(yield func(string) bool) {
		for _, s := range ma {
			if !yield(s) {
				return
			}
		}
	}), slices.Sorted(func(yield func(string) bool) {
		for _, s := range mb {
			if !yield(s) {
				return
			}
		}
	})
	if !slices.Equal(sortedA, sortedB) {
		t.Error("products sorted by title differ")
	}
}

func TestSecondLoadRefusesAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	e.load(t, 20)
	before := read(t, e)
	res, err := demo.Load(context.Background(), e.svc, stock{e.inv}, demo.DefaultProducts, nil)
	if !errors.Is(err, demo.ErrNotEmpty) || res != (demo.Result{}) {
		t.Fatalf("second Load = %+v, %v; want ErrNotEmpty and nothing created", res, err)
	}
	after := read(t, e)
	if !slices.Equal(before.tree(), after.tree()) || len(before.list) != len(after.list) {
		t.Fatalf("second Load changed the catalog: %d → %d categories, %d → %d products",
			len(before.categories), len(after.categories), len(before.list), len(after.list))
	}
	mb, ma := before.lines(), after.lines()
	for number, want := range mb {
		if ma[number] != want {
			t.Errorf("product %s changed:\n%s\n%s", number, want, ma[number])
		}
	}

	// Any category at all, even one made by staff, counts.
	other := newEnv(t)
	if _, err := other.svc.CreateCategory(context.Background(), catalog.CategoryInput{Name: "自建分类"}); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Load(context.Background(), other.svc, stock{other.inv}, 5, nil); !errors.Is(err, demo.ErrNotEmpty) {
		t.Errorf("Load into a catalog with a staff category: %v; want ErrNotEmpty", err)
	}
}

func TestLoadBounds(t *testing.T) {
	e := newEnv(t)
	for _, n := range []int{-1, demo.MaxProducts + 1} {
		if _, err := demo.Load(context.Background(), e.svc, stock{e.inv}, n, nil); err == nil {
			t.Errorf("Load(%d) succeeded", n)
		}
	}
	res := e.load(t, 0)
	l := read(t, e)
	if res.Categories == 0 || res.Products != 0 || res.SKUs != 0 || len(l.categories) != res.Categories || len(l.list) != 0 {
		t.Errorf("Load(0) = %+v, %d categories and %d products stored; want the tree only", res, len(l.categories), len(l.list))
	}
}

func TestLoadStopsWhenCancelled(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	res, err := demo.Load(ctx, e.svc, stock{e.inv}, 100, func(done int) {
		if done == 5 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || res.Products != 5 {
		t.Errorf("Load cancelled after 5 = %+v, %v; want 5 products and context.Canceled", res, err)
	}
}

// stock sets the demo's stock through the inventory module, as the command does.
type stock struct{ inv *inventory.Service }

func (s stock) SetStock(ctx context.Context, actor string, skuID ids.ID, n int64, reason string) error {
	_, err := s.inv.SetStock(ctx, actor, skuID, n, reason)
	return err
}
