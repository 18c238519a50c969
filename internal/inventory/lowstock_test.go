package inventory_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// skuNames names every SKU it was told about except the deleted ones, as the catalog does.
type skuNames struct {
	names   map[ids.ID]inventory.SKUName
	deleted map[ids.ID]bool
	calls   int
	fail    error
}

func (n *skuNames) SKUNames(_ context.Context, skuIDs []ids.ID) (map[ids.ID]inventory.SKUName, error) {
	n.calls++
	if n.fail != nil {
		return nil, n.fail
	}
	out := map[ids.ID]inventory.SKUName{}
	for _, id := range skuIDs {
		if name, ok := n.names[id]; ok && !n.deleted[id] {
			out[id] = name
		}
	}
	return out, nil
}

// TestLowStock: SKUs at or under the threshold, lowest first, named by the catalog; deleted
// SKUs are skipped and the list still fills up to its limit from the rows after them, reading
// the stock rows in pages of 200 whatever the limit, so deleted SKUs ahead of the live ones
// cost a catalog call per 200 of them, not one each.
func TestLowStock(t *testing.T) {
	e := newEnv(t, sqldbtest.SQLite(t, sets...))
	names := &skuNames{names: map[ids.ID]inventory.SKUName{}, deleted: map[ids.ID]bool{}}
	e.svc.NameSKUsWith(names)
	sku := func(available int64, deleted bool, specs map[string]string) ids.ID {
		id := e.stocked(available)
		names.names[id] = inventory.SKUName{ProductID: ids.ID(900), Title: "手机 " + id.String(), Specs: specs}
		names.deleted[id] = deleted
		return id
	}
	for range 250 {
		sku(0, true, nil)
	}
	empty := sku(0, false, map[string]string{"颜色": "黑", "容量": "128G"})
	sku(1, true, nil)
	one := sku(1, false, nil)
	sku(2, true, nil)
	seven := sku(7, false, map[string]string{"尺码": "XL"})
	sku(50, false, nil)
	if _, err := e.svc.Reserve(e.ctx, "LOW1", []inventory.ReserveLine{{SKUID: seven, Quantity: 2}}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	item := func(id ids.ID, spec string, available, reserved int64) inventory.LowStockItem {
		return inventory.LowStockItem{SKUID: id, ProductID: 900, Title: "手机 " + id.String(), Spec: spec,
			Available: available, Reserved: reserved}
	}
	all := []inventory.LowStockItem{item(empty, "容量:128G / 颜色:黑", 0, 0), item(one, "", 1, 0), item(seven, "尺码:XL", 5, 2)}

	cases := []struct {
		name      string
		threshold int64
		limit     int
		want      []inventory.LowStockItem
		calls     int
	}{
		{"every low SKU", 10, 200, all, 2},
		{"past the deleted SKUs", 10, 2, all[:2], 2},
		{"one behind 250 deleted", 10, 1, all[:1], 2},
		{"out of stock only", 0, 50, all[:1], 2},
		{"up to five", 5, 3, all, 2},
		{"none that low", -1, 50, []inventory.LowStockItem{}, 0},
	}
	for _, c := range cases {
		names.calls = 0
		got, err := e.svc.LowStock(e.ctx, c.threshold, c.limit)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(got, c.want) || names.calls != c.calls {
			t.Errorf("%s: got %+v after %d catalog calls\nwant %+v after %d", c.name, got, names.calls, c.want, c.calls)
		}
	}

	names.fail = errors.New("catalog down")
	if _, err := e.svc.LowStock(e.ctx, 10, 50); !errors.Is(err, names.fail) {
		t.Fatalf("a failing catalog: err = %v, want its error", err)
	}
}

// TestLowStockBound: a request reads at most five pages of 200 stock rows, so a thousand
// deleted SKUs ahead of the live ones cost five catalog calls and hide those live ones.
func TestLowStockBound(t *testing.T) {
	e := newEnv(t, sqldbtest.SQLite(t, sets...))
	names := &skuNames{names: map[ids.ID]inventory.SKUName{}, deleted: map[ids.ID]bool{}}
	e.svc.NameSKUsWith(names)
	for range 1000 {
		names.deleted[e.stocked(0)] = true
	}
	hidden := e.stocked(0)
	names.names[hidden] = inventory.SKUName{ProductID: ids.ID(900), Title: "手机"}
	got, err := e.svc.LowStock(e.ctx, 0, 1)
	if err != nil || len(got) != 0 || names.calls != 5 {
		t.Fatalf("got %+v, %v after %d catalog calls; want an empty list after 5", got, err, names.calls)
	}
}

// TestLowStockUnnamed: a service never told how to name SKUs says so instead of panicking.
func TestLowStockUnnamed(t *testing.T) {
	e := newEnv(t, sqldbtest.SQLite(t, sets...))
	e.stocked(0)
	if _, err := e.svc.LowStock(e.ctx, 10, 50); err == nil || !strings.Contains(err.Error(), "NameSKUsWith") {
		t.Fatalf("err = %v, want one naming NameSKUsWith", err)
	}
}
