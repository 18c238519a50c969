package cart_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/minimart/minimart/internal/cart"
	"github.com/minimart/minimart/internal/cart/cartdb"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

var ctx = context.Background()

// catalogMap stands for the catalog module behind the Catalog port.
type catalogMap struct {
	mu    sync.Mutex
	items map[ids.ID]cart.Item
	calls int
}

func (c *catalogMap) Items(_ context.Context, skuIDs []ids.ID) (map[ids.ID]cart.Item, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	out := map[ids.ID]cart.Item{}
	for _, id := range skuIDs {
		if it, ok := c.items[id]; ok {
			out[id] = it
		}
	}
	return out, nil
}

func (c *catalogMap) set(it cart.Item) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items[it.SKUID] = it
}

// stockMap stands for the inventory module behind the Stock port.
type stockMap struct {
	mu     sync.Mutex
	levels map[ids.ID]int64
	calls  int
}

func (s *stockMap) Available(_ context.Context, skuIDs []ids.ID) (map[ids.ID]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	out := map[ids.ID]int64{}
	for _, id := range skuIDs {
		if n, ok := s.levels[id]; ok {
			out[id] = n
		}
	}
	return out, nil
}

type fixture struct {
	svc     *cart.Service
	catalog *catalogMap
	stock   *stockMap
	buyer   ids.ID
}

// SKUs of the fixture catalog.
const (
	skuPhone   ids.ID = 101 // on sale, price 199900
	skuCase    ids.ID = 102 // on sale, price 4900
	skuCable   ids.ID = 103 // on sale, price 2900
	skuOld     ids.ID = 104 // product off shelf
	skuDeleted ids.ID = 105 // SKU deleted
	skuUnknown ids.ID = 999 // not in the catalog
)

func item(sku ids.ID, title string, price money.Fen) cart.Item {
	return cart.Item{SKUID: sku, ProductID: sku * 10, Title: title, Specs: map[string]string{"颜色": "黑色"},
		Image: "https://img.example.com/" + sku.String() + ".jpg", Price: price, OnSale: true}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := sqldbtest.SQLite(t, cartdb.Migrations)
	f := &fixture{catalog: &catalogMap{items: map[ids.ID]cart.Item{}}, stock: &stockMap{levels: map[ids.ID]int64{}}, buyer: 7}
	f.catalog.set(item(skuPhone, "手机", 199900))
	f.catalog.set(item(skuCase, "手机壳", 4900))
	f.catalog.set(item(skuCable, "数据线", 2900))
	old := item(skuOld, "旧款", 9900)
	old.OnSale = false
	f.catalog.set(old)
	gone := item(skuDeleted, "已删除", 100)
	gone.OnSale, gone.Deleted = false, true
	f.catalog.set(gone)
	f.svc = cart.NewService(cartdb.New(db), f.catalog, f.stock)
	return f
}

func (f *fixture) view(t *testing.T) cart.View {
	t.Helper()
	v, err := f.svc.View(ctx, f.buyer)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (f *fixture) must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func code(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestAddRefusesBadInput(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name string
		sku  ids.ID
		qty  int
		code string
	}{
		{"quantity 0", skuPhone, 0, "validation_failed"},
		{"quantity -1", skuPhone, -1, "validation_failed"},
		{"quantity 100", skuPhone, 100, "validation_failed"},
		{"no sku", 0, 1, "validation_failed"},
		{"unknown sku", skuUnknown, 1, "sku_not_found"},
		{"deleted sku", skuDeleted, 1, "sku_not_found"},
		{"off-shelf sku", skuOld, 1, "sku_unavailable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := code(f.svc.Add(ctx, f.buyer, c.sku, c.qty)); got != c.code {
				t.Fatalf("code = %q, want %q", got, c.code)
			}
		})
	}
	if v := f.view(t); v.LineCount != 0 {
		t.Fatalf("refused adds stored lines: %+v", v.Lines)
	}
	f.must(t, f.svc.Add(ctx, f.buyer, skuPhone, 99))
}

func TestAddMergesUpToTheLineLimit(t *testing.T) {
	f := newFixture(t)
	f.must(t, f.svc.Add(ctx, f.buyer, skuCase, 2))
	f.must(t, f.svc.SetSelected(ctx, f.buyer, nil, false))
	f.must(t, f.svc.Add(ctx, f.buyer, skuCase, 3))
	v := f.view(t)
	if v.LineCount != 1 || v.Lines[0].Quantity != 5 || !v.Lines[0].Selected {
		t.Fatalf("after adding 2 then 3: %+v; want one selected line of 5", v.Lines)
	}
	err := f.svc.Add(ctx, f.buyer, skuCase, 95)
	if code(err) != "validation_failed" {
		t.Fatalf("5 + 95: %v, want validation_failed", err)
	}
	f.must(t, f.svc.Add(ctx, f.buyer, skuCase, 94))
	if v := f.view(t); v.Lines[0].Quantity != 99 {
		t.Fatalf("quantity = %d, want 99", v.Lines[0].Quantity)
	}
	// A SKU going off shelf after it was added cannot be added more of.
	old := item(skuCase, "手机壳", 4900)
	old.OnSale = false
	f.catalog.set(old)
	if err := f.svc.Add(ctx, f.buyer, skuCase, 1); !errors.Is(err, cart.ErrSKUUnavailable) {
		t.Fatalf("adding an off-shelf SKU already in the cart: %v", err)
	}
}

func TestCartFull(t *testing.T) {
	f := newFixture(t)
	for i := range cart.MaxLines {
		sku := ids.ID(1000 + i)
		f.catalog.set(item(sku, "商品", 100))
		f.must(t, f.svc.Add(ctx, f.buyer, sku, 1))
	}
	if err := f.svc.Add(ctx, f.buyer, skuPhone, 1); !errors.Is(err, cart.ErrCartFull) {
		t.Fatalf("line 101: %v, want ErrCartFull", err)
	}
	f.must(t, f.svc.Add(ctx, f.buyer, 1000, 1))
	if v := f.view(t); v.LineCount != cart.MaxLines || v.SelectedCount != cart.MaxLines || v.SelectedTotal != 101*100 {
		t.Fatalf("full cart: count %d, selected %d, total %d", v.LineCount, v.SelectedCount, v.SelectedTotal)
	}
}

// TestViewStatesAndTotals puts a line of every state in the cart and checks the live data,
// the states, the totals and that the view asks each port once.
func TestViewStatesAndTotals(t *testing.T) {
	f := newFixture(t)
	if v := f.view(t); v.Lines == nil || v.LineCount != 0 || f.catalog.calls+f.stock.calls != 0 {
		t.Fatalf("empty view = %+v (port calls %d); want empty lines and no port calls", v, f.catalog.calls+f.stock.calls)
	}
	for _, it := range []cart.Item{item(201, "耳机", 29900), item(202, "充电器", 9900), item(203, "贴膜", 1900), item(204, "支架", 500)} {
		f.catalog.set(it)
	}
	adds := []struct {
		sku   ids.ID
		qty   int
		stock int64
	}{{skuPhone, 2, 10}, {skuCase, 3, 1}, {skuCable, 1, 0}, {201, 1, 5}, {202, 1, 5}, {203, 2, 5}, {204, 4, 4}}
	for _, a := range adds {
		f.must(t, f.svc.Add(ctx, f.buyer, a.sku, a.qty))
		if a.stock > 0 {
			f.stock.levels[a.sku] = a.stock
		}
	}
	off := item(201, "耳机", 29900)
	off.OnSale = false // its product went off shelf
	f.catalog.set(off)
	gone := item(202, "充电器", 9900)
	gone.OnSale, gone.Deleted = false, true // the SKU was deleted
	f.catalog.set(gone)
	delete(f.catalog.items, 203) // the catalog forgot it entirely
	f.must(t, f.svc.SetSelected(ctx, f.buyer, []ids.ID{204}, false))
	f.catalog.set(item(skuPhone, "手机", 189900)) // price cut after the add

	f.catalog.calls, f.stock.calls = 0, 0
	v := f.view(t)
	if f.catalog.calls != 1 || f.stock.calls != 1 {
		t.Fatalf("view made %d catalog and %d stock calls; want 1 and 1", f.catalog.calls, f.stock.calls)
	}
	want := []struct {
		sku       ids.ID
		state     cart.State
		available int64
		price     money.Fen
		lineTotal money.Fen
		selected  bool
		title     string
	}{
		{204, cart.StateInStock, 0, 500, 2000, false, "支架"},
		{203, cart.StateUnavailable, 0, 0, 0, true, ""},
		{202, cart.StateUnavailable, 0, 9900, 9900, true, "充电器"},
		{201, cart.StateUnavailable, 0, 29900, 29900, true, "耳机"},
		{skuCable, cart.StateOutOfStock, 0, 2900, 2900, true, "数据线"},
		{skuCase, cart.StateShort, 1, 4900, 14700, true, "手机壳"},
		{skuPhone, cart.StateInStock, 0, 189900, 379800, true, "手机"},
	}
	if len(v.Lines) != len(want) || v.LineCount != len(want) {
		t.Fatalf("%d lines (line_count %d), want %d", len(v.Lines), v.LineCount, len(want))
	}
	for i, w := range want {
		l := v.Lines[i]
		if l.SKUID != w.sku || l.State != w.state || l.Available != w.available || l.Price != w.price ||
			l.LineTotal != w.lineTotal || l.Selected != w.selected || l.Title != w.title || l.Specs == nil {
			t.Errorf("line %d = %+v; want %+v", i, l, w)
		}
	}
	if l := v.Lines[6]; l.ProductID != skuPhone*10 || l.Specs["颜色"] != "黑色" || l.Image == "" || l.Quantity != 2 || l.AddedAt.IsZero() {
		t.Errorf("phone line lacks catalog data: %+v", l)
	}
	// Selected and not unavailable: phone, case and cable (out of stock still counts).
	if v.SelectedCount != 3 || v.SelectedQuantity != 6 || v.SelectedTotal != 379800+14700+2900 {
		t.Fatalf("selected count %d, quantity %d, total %d; want 3, 6, %d",
			v.SelectedCount, v.SelectedQuantity, v.SelectedTotal, 379800+14700+2900)
	}

	// The order module gets the selected lines that can be bought, newest first.
	sel, err := f.svc.Selected(ctx, f.buyer)
	if err != nil {
		t.Fatal(err)
	}
	wantSel := []cart.SelectedLine{{SKUID: skuCable, Quantity: 1}, {SKUID: skuCase, Quantity: 3}, {SKUID: skuPhone, Quantity: 2}}
	if !slices.Equal(sel, wantSel) {
		t.Fatalf("Selected = %+v, want %+v", sel, wantSel)
	}
	f.must(t, f.svc.RemoveSKUs(ctx, f.buyer, []ids.ID{skuCable, skuCase, skuPhone, skuPhone, skuUnknown}))
	f.must(t, f.svc.RemoveSKUs(ctx, f.buyer, []ids.ID{skuCable})) // a retry changes nothing
	f.must(t, f.svc.RemoveSKUs(ctx, f.buyer, nil))
	if sel, err := f.svc.Selected(ctx, f.buyer); err != nil || sel == nil || len(sel) != 0 {
		t.Fatalf("Selected after ordering = %+v, %v; want empty", sel, err)
	}
	v = f.view(t)
	if v.LineCount != 4 || v.SelectedCount != 0 || v.SelectedTotal != 0 {
		t.Fatalf("after RemoveSKUs: %+v", v)
	}
	// With only unavailable lines left selected, the view needs no stock at all.
	f.must(t, f.svc.Remove(ctx, f.buyer, 204))
	f.stock.calls = 0
	if v := f.view(t); v.LineCount != 3 || f.stock.calls != 0 {
		t.Fatalf("view of unavailable lines: %d lines, %d stock calls", v.LineCount, f.stock.calls)
	}
}

func TestUpdateSelectRemoveClear(t *testing.T) {
	f := newFixture(t)
	for _, sku := range []ids.ID{skuPhone, skuCase, skuCable} {
		f.must(t, f.svc.Add(ctx, f.buyer, sku, 1))
	}
	qty := func(n int) *int { return &n }
	no := false
	cases := []struct {
		name string
		err  error
		code string
	}{
		{"no field", f.svc.UpdateLine(ctx, f.buyer, skuPhone, cart.LineUpdate{}), "validation_failed"},
		{"quantity 0", f.svc.SetQuantity(ctx, f.buyer, skuPhone, 0), "validation_failed"},
		{"quantity 100", f.svc.UpdateLine(ctx, f.buyer, skuPhone, cart.LineUpdate{Quantity: qty(100), Selected: &no}), "validation_failed"},
		{"line not in cart", f.svc.SetQuantity(ctx, f.buyer, skuUnknown, 2), "cart_line_not_found"},
		{"another buyer's line", f.svc.SetQuantity(ctx, 8, skuPhone, 2), "cart_line_not_found"},
		{"select a SKU not in the cart", f.svc.SetSelected(ctx, f.buyer, []ids.ID{skuPhone, skuUnknown}, false), "cart_line_not_found"},
		{"select a bad id", f.svc.SetSelected(ctx, f.buyer, []ids.ID{-1}, false), "validation_failed"},
		{"select too many", f.svc.SetSelected(ctx, f.buyer, make101(), false), "validation_failed"},
		{"remove a SKU not in the cart", f.svc.Remove(ctx, f.buyer, skuUnknown), "cart_line_not_found"},
	}
	for _, c := range cases {
		if got := code(c.err); got != c.code {
			t.Errorf("%s: code %q, want %q", c.name, got, c.code)
		}
	}
	if v := f.view(t); v.SelectedCount != 3 || v.Lines[2].Quantity != 1 {
		t.Fatalf("refused changes changed the cart: %+v", v)
	}

	f.must(t, f.svc.UpdateLine(ctx, f.buyer, skuPhone, cart.LineUpdate{Quantity: qty(4), Selected: &no}))
	f.must(t, f.svc.SetSelected(ctx, f.buyer, []ids.ID{skuCase, skuCase}, false))
	v := f.view(t)
	if v.Lines[2].Quantity != 4 || v.Lines[2].Selected || v.Lines[1].Selected || !v.Lines[0].Selected || v.SelectedCount != 1 {
		t.Fatalf("after update and deselect: %+v", v.Lines)
	}
	f.must(t, f.svc.SetSelected(ctx, f.buyer, nil, true))
	if v := f.view(t); v.SelectedCount != 3 || v.SelectedQuantity != 6 {
		t.Fatalf("select all: %+v", v)
	}
	f.must(t, f.svc.Remove(ctx, f.buyer, skuCase))
	if v := f.view(t); v.LineCount != 2 {
		t.Fatalf("after remove: %d lines", v.LineCount)
	}
	f.must(t, f.svc.Clear(ctx, f.buyer))
	f.must(t, f.svc.Clear(ctx, f.buyer))
	if v := f.view(t); v.LineCount != 0 {
		t.Fatalf("after clear: %d lines", v.LineCount)
	}
}

func make101() []ids.ID {
	out := make([]ids.ID, cart.MaxLines+1)
	for i := range out {
		out[i] = ids.ID(i + 1)
	}
	return out
}
