package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/app"
	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/cart"
	"github.com/minimart/minimart/internal/cart/cartclient"
	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/catalog/catalogclient"
	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/inventory/inventoryclient"
	"github.com/minimart/minimart/internal/order"
	"github.com/minimart/minimart/internal/order/orderclient"
	"github.com/minimart/minimart/internal/order/orderevents"
	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/peer"
	"github.com/minimart/minimart/internal/user"
	"github.com/minimart/minimart/internal/user/userclient"
)

const serviceToken = "port-suite-service-token-0123456789"

// ports is every port one module needs of another, as the composition root builds it.
type ports struct {
	orderCatalog order.Catalog
	cartCatalog  cart.Catalog
	stock        order.Stock
	addresses    order.Addresses
	cart         order.Cart
	payOrders    payment.Orders
	buyers       payment.Buyers
	skuOwners    inventory.Catalog
	skuNames     inventory.SKUNames
	holds        inventory.Orders
	available    catalog.StockReader
	staff        auth.StaffStatus
}

// world is a running shop with what the suite reads: SKUs with stock, buyers with
// addresses, a cart and orders.
type world struct {
	s                    *apptest.Server
	product, offProduct  ids.ID
	black, white, offSKU ids.ID
	deletedSKU           ids.ID
	buyer, other         ids.ID
	address, otherAddr   ids.ID
	operator, disabled   ids.ID
	pending, paid        order.Order
}

func newWorld(t *testing.T) *world {
	s := apptest.Start(t, map[string]string{"MINIMART_DEMO": "0", "MINIMART_SERVICE_TOKEN": serviceToken})
	w := &world{s: s}
	staff := s.StaffToken("ops", "operator")
	w.operator = mustID(t, s.Expect(200, "GET", "/api/v1/admin/me", staff, nil, nil)["id"])
	cat := s.Expect(201, "POST", "/api/v1/admin/categories", staff, map[string]any{"name": "手机"}, nil)
	p := s.Expect(201, "POST", "/api/v1/admin/products", staff, map[string]any{
		"category_id": cat["id"], "title": "测试手机", "specs": []map[string]any{{"name": "颜色", "values": []string{"黑", "白"}}},
		"skus": []map[string]any{{"specs": map[string]string{"颜色": "黑"}, "price": 1999, "code": "PHONE-BLACK"},
			{"specs": map[string]string{"颜色": "白"}, "price": 2999}}, "on_shelf": true}, nil)
	off := s.Expect(201, "POST", "/api/v1/admin/products", staff, map[string]any{
		"category_id": cat["id"], "title": "下架手机", "skus": []map[string]any{{"price": 500}}}, nil)
	w.product, w.offProduct = mustID(t, p["id"]), mustID(t, off["id"])
	w.black = mustID(t, p["skus"].([]any)[0].(map[string]any)["id"])
	w.white = mustID(t, p["skus"].([]any)[1].(map[string]any)["id"])
	w.offSKU = mustID(t, off["skus"].([]any)[0].(map[string]any)["id"])
	deleted := s.Expect(201, "POST", "/api/v1/admin/products", staff, map[string]any{
		"category_id": cat["id"], "title": "删除手机", "skus": []map[string]any{{"price": 700}}}, nil)
	w.deletedSKU = mustID(t, deleted["skus"].([]any)[0].(map[string]any)["id"])
	s.Expect(204, "DELETE", "/api/v1/admin/products/"+deleted["id"].(string), staff, nil, nil)
	for sku, n := range map[ids.ID]int{w.black: 10, w.white: 3} {
		s.Expect(200, "PUT", "/api/v1/admin/skus/"+sku.String()+"/stock", staff, map[string]any{"stock": n}, nil)
	}

	ctx := context.Background()
	newBuyer := func(name string) (ids.ID, ids.ID) {
		u, _, err := s.App.Users.Register(ctx, user.RegisterInput{Username: name, Password: "passw0rd-ok"})
		if err != nil {
			t.Fatal(err)
		}
		a, err := s.App.Users.CreateAddress(ctx, u.ID, user.AddressInput{Recipient: "张三", Phone: "13800000000",
			Province: "广东省", City: "深圳市", District: "南山区", Detail: name + " 路 1 号"})
		if err != nil {
			t.Fatal(err)
		}
		return u.ID, a.ID
	}
	gone, err := s.App.Users.CreateStaff(ctx, "gone", "Spring-2026", "operator")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.Users.DisableStaff(ctx, w.operator, gone.ID); err != nil {
		t.Fatal(err)
	}
	w.disabled = gone.ID
	w.buyer, w.address = newBuyer("alice")
	w.other, w.otherAddr = newBuyer("bob")
	for _, key := range []string{"pending", "paid"} {
		o, _, err := s.App.Orders.Create(ctx, order.CreateInput{UserID: w.buyer, Items: []order.LineRef{{SKUID: w.white, Quantity: 1}},
			AddressID: w.address, IdempotencyKey: key, RequestHash: key})
		if err != nil {
			t.Fatal(err)
		}
		if key == "paid" {
			apptest.PayOrder(t, s.App, o.ID.String())
		}
		// As stored (times to the microsecond), which is what both shapes read.
		if o, err = s.App.Orders.Order(ctx, 0, o.ID); err != nil {
			t.Fatal(err)
		}
		if key == "paid" {
			w.paid = o
		} else {
			w.pending = o
		}
	}
	if err := s.App.Cart.Add(ctx, w.buyer, w.black, 2); err != nil {
		t.Fatal(err)
	}
	return w
}

func mustID(t *testing.T, v any) ids.ID {
	t.Helper()
	s, _ := v.(string)
	id, err := ids.Parse(s)
	if err != nil {
		t.Fatalf("id %v: %v", v, err)
	}
	return id
}

func (w *world) local() ports {
	a := w.s.App
	return ports{orderCatalog: app.OrderCatalog(a.Catalog), cartCatalog: app.CartCatalog(a.Catalog), stock: app.OrderStock(a.Inventory),
		addresses: app.OrderAddresses(a.Users), cart: app.OrderCart(a.Cart), payOrders: app.PaymentOrders(a.Orders), buyers: a.Users,
		skuOwners: a.Catalog, skuNames: app.InventorySKUNames(a.Catalog), holds: a.Orders, available: a.Inventory, staff: a.Users}
}

// remote builds the same ports over each module's HTTP client, talking to the same app's
// internal API.
func (w *world) remote(t *testing.T) ports {
	client := func(module string, known []*errs.Error) *peer.Client {
		p, err := peer.New(peer.Options{Module: module, Target: w.s.URL, Token: serviceToken, Known: known})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	cat := catalogclient.New(client("catalog", catalogclient.Errors))
	inv := inventoryclient.New(client("inventory", inventoryclient.Errors))
	users := userclient.New(client("user", userclient.Errors))
	orders := orderclient.New(client("order", orderclient.Errors))
	return ports{orderCatalog: app.OrderCatalog(cat), cartCatalog: app.CartCatalog(cat), stock: app.OrderStock(inv),
		addresses: app.OrderAddresses(users), cart: app.OrderCart(cartclient.New(client("cart", cartclient.Errors))),
		payOrders: app.PaymentOrders(orders), buyers: users, skuOwners: cat, skuNames: app.InventorySKUNames(cat), holds: orders,
		available: inv, staff: users}
}

// TestPorts runs one suite per port over the module in process and over its HTTP client
// talking to the real module: both must give the same answers and the same errors.
func TestPorts(t *testing.T) {
	w := newWorld(t)
	for _, shape := range []struct {
		name string
		p    ports
	}{{"local", w.local()}, {"remote", w.remote(t)}} {
		t.Run(shape.name, func(t *testing.T) { portSuite(t, w, shape.name, shape.p) })
	}
}

func wantCode(t *testing.T, err error, sentinel *errs.Error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("err = %v, want %s", err, sentinel.Code)
	}
	if e, ok := errs.As(err); !ok || e.Kind != sentinel.Kind {
		t.Fatalf("err = %#v, want kind %v", err, sentinel.Kind)
	}
}

func portSuite(t *testing.T, w *world, shape string, p ports) {
	ctx := context.Background()
	unknown := ids.ID(42)

	t.Run("order.Catalog prices SKUs", func(t *testing.T) {
		items, err := p.orderCatalog.Items(ctx, []ids.ID{w.black, w.offSKU, unknown})
		if err != nil {
			t.Fatal(err)
		}
		b, off := items[w.black], items[w.offSKU]
		if len(items) != 2 || b.Price != 1999 || b.Title != "测试手机" || b.Specs["颜色"] != "黑" || !b.OnSale || b.ProductID != w.product {
			t.Fatalf("items = %+v", items)
		}
		if off.OnSale || off.Price != 500 {
			t.Fatalf("an off-shelf SKU is not on sale: %+v", off)
		}
		if items, err := p.orderCatalog.Items(ctx, nil); err != nil || len(items) != 0 {
			t.Fatalf("no SKUs: %v %v", items, err)
		}
	})

	t.Run("cart.Catalog describes SKUs", func(t *testing.T) {
		items, err := p.cartCatalog.Items(ctx, []ids.ID{w.white, unknown})
		if err != nil || len(items) != 1 || items[w.white].Price != 2999 || !items[w.white].OnSale || items[w.white].Deleted {
			t.Fatalf("items = %+v, %v", items, err)
		}
	})

	t.Run("catalog.StockReader gives available stock", func(t *testing.T) {
		got, err := p.available.Available(ctx, []ids.ID{w.black, unknown})
		if err != nil || got[w.black] < 1 || len(got) != 1 {
			t.Fatalf("available = %v, %v", got, err)
		}
	})

	t.Run("order.Stock holds all or nothing, once per order number", func(t *testing.T) {
		ref := "PORT" + shape
		before, _ := p.available.Available(ctx, []ids.ID{w.black})
		lines := []order.LineRef{{SKUID: w.black, Quantity: 2}}
		exp := time.Now().Add(time.Hour)
		if err := p.stock.Reserve(ctx, ref, lines, exp); err != nil {
			t.Fatal(err)
		}
		if err := p.stock.Reserve(ctx, ref, lines, exp); err != nil {
			t.Fatalf("a repeated hold is the first one: %v", err)
		}
		after, _ := p.available.Available(ctx, []ids.ID{w.black})
		if after[w.black] != before[w.black]-2 {
			t.Fatalf("available %d → %d, want 2 held once", before[w.black], after[w.black])
		}

		err := p.stock.Reserve(ctx, ref+"-short", []order.LineRef{{SKUID: w.black, Quantity: 1}, {SKUID: w.white, Quantity: 99}}, exp)
		wantCode(t, err, inventory.ErrOutOfStock)
		e, _ := errs.As(err)
		raw, _ := json.Marshal(e.Details["skus"])
		var short []inventory.Shortage
		if json.Unmarshal(raw, &short) != nil || len(short) != 1 || short[0].SKUID != w.white || short[0].Requested != 99 {
			t.Fatalf("details.skus = %s, want the white SKU short", raw)
		}
		if again, _ := p.available.Available(ctx, []ids.ID{w.black}); again[w.black] != after[w.black] {
			t.Fatalf("a refused hold held something: %d → %d", after[w.black], again[w.black])
		}

		wantCode(t, p.stock.Reserve(ctx, "bad ref!", lines, exp), errs.ErrValidation)

		if err := p.stock.Release(ctx, ref, "test"); err != nil {
			t.Fatal(err)
		}
		if err := p.stock.Release(ctx, ref, "test"); err != nil {
			t.Fatalf("a repeated release changes nothing: %v", err)
		}
		if err := p.stock.Release(ctx, ref+"-never", "test"); err != nil {
			t.Fatalf("releasing what was never held is nothing to do: %v", err)
		}
		if end, _ := p.available.Available(ctx, []ids.ID{w.black}); end[w.black] != before[w.black] {
			t.Fatalf("released stock did not come back: %d, want %d", end[w.black], before[w.black])
		}
	})

	t.Run("order.Addresses snapshots the buyer's own address only", func(t *testing.T) {
		a, err := p.addresses.Address(ctx, w.buyer, w.address)
		if err != nil || a.Recipient != "张三" || a.Detail != "alice 路 1 号" {
			t.Fatalf("address = %+v, %v", a, err)
		}
		_, err = p.addresses.Address(ctx, w.buyer, w.otherAddr)
		wantCode(t, err, user.ErrAddressNotFound)
	})

	t.Run("order.Cart gives and removes selected lines", func(t *testing.T) {
		lines, err := p.cart.Selected(ctx, w.buyer)
		if err != nil || !slices.Equal(lines, []order.LineRef{{SKUID: w.black, Quantity: 2}}) {
			t.Fatalf("selected = %+v, %v", lines, err)
		}
		if lines, err := p.cart.Selected(ctx, w.other); err != nil || len(lines) != 0 {
			t.Fatalf("another buyer's cart = %+v, %v", lines, err)
		}
		if err := p.cart.Remove(ctx, w.other, []ids.ID{w.black}); err != nil {
			t.Fatalf("removing what is not there: %v", err)
		}
		if lines, _ := p.cart.Selected(ctx, w.buyer); len(lines) != 1 {
			t.Fatalf("another buyer's remove touched this cart: %+v", lines)
		}
	})

	t.Run("payment.Orders reads payable orders and starts refunds", func(t *testing.T) {
		o, err := p.payOrders.Order(ctx, w.buyer, w.pending.ID)
		if err != nil || o.OrderNo != w.pending.OrderNo || o.Payable != w.pending.Payable || o.Status != orderevents.PendingPayment ||
			o.UserID != w.buyer || o.Description != "测试手机" || !o.PayDeadline.Equal(w.pending.PayDeadline) {
			t.Fatalf("order = %+v, %v", o, err)
		}
		if o, err := p.payOrders.Order(ctx, 0, w.pending.ID); err != nil || o.ID != w.pending.ID {
			t.Fatalf("staff read: %+v %v", o, err)
		}
		_, err = p.payOrders.Order(ctx, w.other, w.pending.ID)
		wantCode(t, err, order.ErrOrderNotFound)
		wantCode(t, p.payOrders.StartFullRefund(ctx, w.pending.ID, "test", "why"), payment.ErrNotRefundable)
		if err := p.payOrders.StartFullRefund(ctx, w.paid.ID, "test", "why"); err != nil {
			t.Fatal(err)
		}
		if err := p.payOrders.StartFullRefund(ctx, w.paid.ID, "test", "again"); err != nil {
			t.Fatalf("a refunding order stays refunding: %v", err)
		}
	})

	t.Run("payment.Buyers gives the openid", func(t *testing.T) {
		if id, err := p.buyers.OpenID(ctx, w.buyer); err != nil || id != "" {
			t.Fatalf("openid = %q, %v", id, err)
		}
		_, err := p.buyers.OpenID(ctx, unknown)
		wantCode(t, err, user.ErrUserNotFound)
	})

	t.Run("inventory.Catalog finds SKUs and products", func(t *testing.T) {
		if pid, err := p.skuOwners.ProductOfSKU(ctx, w.black); err != nil || pid != w.product {
			t.Fatalf("product of SKU = %v, %v", pid, err)
		}
		_, err := p.skuOwners.ProductOfSKU(ctx, unknown)
		wantCode(t, err, inventory.ErrSKUNotFound)
		if id, err := p.skuOwners.SKUByCode(ctx, "PHONE-BLACK"); err != nil || id != w.black {
			t.Fatalf("SKU by code = %v, %v", id, err)
		}
		for _, code := range []string{"", "NOPE", "phone-black"} {
			_, err := p.skuOwners.SKUByCode(ctx, code)
			wantCode(t, err, inventory.ErrSKUNotFound)
		}
		if list, err := p.skuOwners.LiveSKUsOfProduct(ctx, w.product); err != nil || len(list) != 2 || list[0] > list[1] {
			t.Fatalf("live SKUs = %v, %v", list, err)
		}
		_, err = p.skuOwners.LiveSKUsOfProduct(ctx, unknown)
		wantCode(t, err, inventory.ErrProductNotFound)
	})

	t.Run("inventory.SKUNames names the SKUs that still exist", func(t *testing.T) {
		names, err := p.skuNames.SKUNames(ctx, []ids.ID{w.black, w.offSKU, w.deletedSKU, unknown})
		if err != nil {
			t.Fatal(err)
		}
		want := map[ids.ID]inventory.SKUName{
			w.black:  {ProductID: w.product, Title: "测试手机", Specs: map[string]string{"颜色": "黑"}},
			w.offSKU: {ProductID: w.offProduct, Title: "下架手机", Specs: map[string]string{}},
		}
		if !reflect.DeepEqual(names, want) {
			t.Fatalf("names = %+v, want %+v (the deleted and the unknown SKU absent)", names, want)
		}
	})

	t.Run("auth.StaffStatus gives the current role of active accounts only", func(t *testing.T) {
		for id, want := range map[ids.ID]string{w.operator: "operator", w.disabled: "", unknown: ""} {
			if role, err := p.staff.StaffRole(ctx, id); err != nil || role != want {
				t.Fatalf("role of %s = %q, %v; want %q", id, role, err, want)
			}
		}
	})

	t.Run("inventory.Orders says which holds have orders", func(t *testing.T) {
		got, err := p.holds.Placed(ctx, []string{w.pending.OrderNo, "20260101000000000000000001", w.paid.OrderNo})
		slices.Sort(got)
		want := []string{w.pending.OrderNo, w.paid.OrderNo}
		slices.Sort(want)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("placed = %v, %v; want %v", got, err, want)
		}
		if got, err := p.holds.Placed(ctx, nil); err != nil || len(got) != 0 {
			t.Fatalf("none asked: %v %v", got, err)
		}
	})
}
