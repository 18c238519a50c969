package orderhttp_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/order"
	"github.com/minimart/minimart/internal/order/orderdb"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
	"github.com/minimart/minimart/internal/user"
)

// shop is a running app with one product and staff.
type shop struct {
	s     *apptest.Server
	t     testing.TB
	staff string
	skus  []string
}

func newShop(t testing.TB, env map[string]string, stock ...int64) *shop {
	if env == nil {
		env = map[string]string{}
	}
	env["MINIMART_DEMO"] = "0"
	s := apptest.Start(t, env)
	sh := &shop{s: s, t: t, staff: s.StaffToken("ops", "operator")}
	cat := sh.must(201, "POST", "/api/v1/admin/categories", sh.staff, map[string]any{"name": "手机"})
	var skus []map[string]any
	colors := []string{"黑", "白", "蓝", "红"}
	for i := range stock {
		skus = append(skus, map[string]any{"specs": map[string]string{"颜色": colors[i]}, "price": 100 * (i + 1)})
	}
	p := sh.must(201, "POST", "/api/v1/admin/products", sh.staff, map[string]any{
		"category_id": cat["id"], "title": "测试手机", "specs": []map[string]any{{"name": "颜色", "values": colors}},
		"skus": skus, "on_shelf": true})
	for i, k := range p["skus"].([]any) {
		id := k.(map[string]any)["id"].(string)
		sh.skus = append(sh.skus, id)
		sh.must(200, "PUT", "/api/v1/admin/skus/"+id+"/stock", sh.staff, map[string]any{"stock": stock[i]})
	}
	return sh
}

func (sh *shop) must(status int, method, path, token string, body any) map[string]any {
	sh.t.Helper()
	return sh.s.Expect(status, method, path, token, body, nil)
}

// buyer makes an account with one address, through the services (faster than HTTP when
// hundreds are needed).
func (sh *shop) buyer(name string) (token, addressID string) {
	sh.t.Helper()
	ctx := context.Background()
	u, tok, err := sh.s.App.Users.Register(ctx, user.RegisterInput{Username: name, Password: "passw0rd-ok"})
	if err != nil {
		sh.t.Fatal(err)
	}
	yes := true
	a, err := sh.s.App.Users.CreateAddress(ctx, u.ID, user.AddressInput{Recipient: "张三", Phone: "13800000000",
		Province: "广东省", City: "深圳市", District: "南山区", Detail: "科技园 1 号", IsDefault: &yes})
	if err != nil {
		sh.t.Fatal(err)
	}
	return tok.AccessToken, a.ID.String()
}

func (sh *shop) order(token, key string, body map[string]any) apptest.Response {
	return sh.s.DoWith("POST", "/api/v1/orders", token, body, map[string]string{"Idempotency-Key": key})
}

func (sh *shop) level(sku string) inventory.Level {
	sh.t.Helper()
	id, _ := ids.Parse(sku)
	l, err := sh.s.App.Inventory.Level(context.Background(), id)
	if err != nil {
		sh.t.Fatal(err)
	}
	return l
}

// checkInvariant: initial = available + reserved + sold, and the ledger tells the same story.
func (sh *shop) checkInvariant(sku string, initial int64) inventory.Level {
	sh.t.Helper()
	l := sh.level(sku)
	if l.Available < 0 || l.Available+l.Reserved+l.Sold != initial {
		sh.t.Fatalf("invariant broken for %s: %+v, initial %d", sku, l, initial)
	}
	id, _ := ids.Parse(sku)
	entries, err := sh.s.App.Inventory.Ledger(context.Background(), id, 0, 100000)
	if err != nil {
		sh.t.Fatal(err)
	}
	var avail, res, sold int64
	for _, e := range entries {
		avail += e.AvailableAfter - e.AvailableBefore
		res += e.ReservedAfter - e.ReservedBefore
		sold += e.SoldAfter - e.SoldBefore
	}
	if avail != l.Available || res != l.Reserved || sold != l.Sold {
		sh.t.Fatalf("ledger sums (%d, %d, %d) disagree with the level %+v", avail, res, sold, l)
	}
	return l
}

func item(sku string, qty int) []map[string]any {
	return []map[string]any{{"sku_id": sku, "quantity": qty}}
}

// 500 buyers at once, through the real HTTP API, on a SKU with stock 50.
func flashSale(t *testing.T, env map[string]string) {
	sh := newShop(t, env, 50)
	const buyers = 500
	type b struct{ token, address string }
	all := make([]b, buyers)
	for i := range all {
		all[i].token, all[i].address = sh.buyer(fmt.Sprintf("buyer%03d", i))
	}
	var ok, out atomic.Int64
	var wg sync.WaitGroup
	for i, by := range all {
		wg.Go(func() {
			r := sh.order(by.token, fmt.Sprintf("key-%d", i), map[string]any{"items": item(sh.skus[0], 1), "address_id": by.address})
			switch {
			case r.Status == 201:
				ok.Add(1)
			case r.Status == 409 && r.ErrorCode() == "out_of_stock" && strings.Contains(string(r.Body), sh.skus[0]):
				out.Add(1)
			default:
				t.Errorf("unexpected answer %d %s", r.Status, r.Body)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 50 || out.Load() != 450 {
		t.Fatalf("%d orders, %d out_of_stock; want 50 and 450", ok.Load(), out.Load())
	}
	if l := sh.checkInvariant(sh.skus[0], 50); l.Available != 0 || l.Reserved != 50 {
		t.Fatalf("after the sale: %+v", l)
	}
}

func TestFlashSaleSQLite(t *testing.T) { flashSale(t, nil) }

func TestFlashSaleMariaDB(t *testing.T) {
	flashSale(t, map[string]string{"MINIMART_DB_URL": sqldbtest.MySQLDatabaseURL(t),
		"MINIMART_JWT_SECRET": "flash-sale-secret-flash-sale-secret"})
}

func TestSameKeyTwentyTimesMakesOneOrder(t *testing.T) {
	sh := newShop(t, nil, 10)
	token, addr := sh.buyer("dup")
	body := map[string]any{"items": item(sh.skus[0], 2), "address_id": addr, "remark": "同一个请求"}
	ids := make([]string, 20)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			r := sh.order(token, "same-key", body)
			if r.Status != 201 {
				t.Errorf("attempt %d: %d %s", i, r.Status, r.Body)
				return
			}
			var o struct{ ID string }
			r.Decode(t, &o)
			ids[i] = o.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("one key made several orders: %v", ids)
		}
	}
	if l := sh.checkInvariant(sh.skus[0], 10); l.Reserved != 2 {
		t.Fatalf("stock reserved %d times over: %+v", l.Reserved/2, l)
	}
	// The same key with another body is refused.
	r := sh.order(token, "same-key", map[string]any{"items": item(sh.skus[0], 3), "address_id": addr})
	if r.Status != 422 || r.ErrorCode() != "idempotency_key_reused" {
		t.Fatalf("same key, other body: %d %s", r.Status, r.Body)
	}
	var list struct{ Total int }
	sh.s.Do("GET", "/api/v1/orders", token, nil).Decode(t, &list)
	if list.Total != 1 {
		t.Fatalf("buyer has %d orders", list.Total)
	}
}

func TestOrderLifecycle(t *testing.T) {
	sh := newShop(t, map[string]string{"MINIMART_SHIPPING_FEE": "800", "MINIMART_FREE_SHIPPING_OVER": "500"}, 10, 10)
	token, addr := sh.buyer("life")
	other, _ := sh.buyer("other")
	var o struct {
		ID          string
		OrderNo     string `json:"order_no"`
		Status      string
		ItemsTotal  int64 `json:"items_total"`
		ShippingFee int64 `json:"shipping_fee"`
		Payable     int64
		PayDeadline time.Time `json:"pay_deadline"`
		Address     struct{ Recipient string }
		Lines       []struct {
			Title     string
			Specs     map[string]string
			UnitPrice int64 `json:"unit_price"`
			Quantity  int
		}
	}
	r := sh.order(token, "k1", map[string]any{"items": item(sh.skus[0], 1), "address_id": addr, "remark": "请尽快发货"})
	r.Decode(t, &o)
	if r.Status != 201 || o.Status != "pending_payment" || o.ItemsTotal != 100 || o.ShippingFee != 800 || o.Payable != 900 ||
		o.Address.Recipient != "张三" || len(o.Lines) != 1 || o.Lines[0].Title != "测试手机" || o.Lines[0].Specs["颜色"] != "黑" ||
		o.Lines[0].UnitPrice != 100 || time.Until(o.PayDeadline) < 29*time.Minute || len(o.OrderNo) != 27 {
		t.Fatalf("order: %d %s", r.Status, r.Body)
	}
	first := o.ID
	if l := sh.level(sh.skus[0]); l.Reserved != 1 || l.Available != 9 {
		t.Fatalf("reserved after order: %+v", l)
	}
	// Free shipping at the threshold.
	r = sh.order(token, "k2", map[string]any{"items": item(sh.skus[1], 3), "address_id": addr})
	r.Decode(t, &o)
	if o.ItemsTotal != 600 || o.ShippingFee != 0 || o.Payable != 600 {
		t.Fatalf("free shipping: %s", r.Body)
	}
	second := o.ID

	if r := sh.s.Do("GET", "/api/v1/orders/"+first, other, nil); r.Status != 404 || r.ErrorCode() != "order_not_found" {
		t.Fatalf("someone else's order: %d %s", r.Status, r.Body)
	}
	if r := sh.s.Do("POST", "/api/v1/orders/"+first+"/cancel", other, nil); r.Status != 404 {
		t.Fatalf("cancelling someone else's order: %d", r.Status)
	}
	sh.must(200, "GET", "/api/v1/orders/"+first, token, nil)

	// Cancel: stock comes back (inventory applies order.cancelled).
	if c := sh.must(200, "POST", "/api/v1/orders/"+first+"/cancel", token, nil); c["status"] != "cancelled" {
		t.Fatalf("cancel: %v", c)
	}
	apptest.Eventually(t, "cancelled order's stock released", func() bool { return sh.level(sh.skus[0]).Available == 10 })
	if r := sh.s.Do("POST", "/api/v1/orders/"+first+"/cancel", token, nil); r.Status != 409 || r.ErrorCode() != "invalid_order_state" {
		t.Fatalf("cancel twice: %d %s", r.Status, r.Body)
	}

	// Paid (through the service call the payment module's event leads to): the reservation is sold.
	apptest.PayOrder(t, sh.s.App, o.ID)
	apptest.Eventually(t, "paid order's stock sold", func() bool {
		l := sh.level(sh.skus[1])
		return l.Sold == 3 && l.Reserved == 0 && l.Available == 7
	})
	sh.checkInvariant(sh.skus[1], 10)
	for _, path := range []string{"/cancel", "/confirm-receipt"} {
		if r := sh.s.Do("POST", "/api/v1/orders/"+second+path, token, nil); r.Status != 409 || r.ErrorCode() != "invalid_order_state" {
			t.Fatalf("%s on a paid order: %d %s", path, r.Status, r.Body)
		}
	}
	if r := sh.s.Do("POST", "/api/v1/admin/orders/"+second+"/ship", sh.staff, map[string]any{"carrier": "", "tracking_no": "SF1"}); r.Status != 400 {
		t.Fatalf("ship without carrier: %d", r.Status)
	}
	if s := sh.must(200, "POST", "/api/v1/admin/orders/"+second+"/ship", sh.staff, map[string]any{"carrier": "顺丰", "tracking_no": "SF123456"}); s["status"] != "shipped" || s["auto_complete_at"] == nil {
		t.Fatalf("ship: %v", s)
	}
	sh.must(200, "POST", "/api/v1/admin/orders/"+second+"/note", sh.staff, map[string]any{"note": "客户要求周末送达"})
	if c := sh.must(200, "POST", "/api/v1/orders/"+second+"/confirm-receipt", token, nil); c["status"] != "completed" {
		t.Fatalf("confirm: %v", c)
	}
	detail := sh.must(200, "GET", "/api/v1/admin/orders/"+second, sh.staff, nil)
	var steps []string
	for _, h := range detail["history"].([]any) {
		m := h.(map[string]any)
		steps = append(steps, fmt.Sprint(m["to"], "/", strings.SplitN(m["actor"].(string), ":", 2)[0]))
	}
	if strings.Join(steps, " ") != "pending_payment/user paid/payment shipped/staff completed/user" || detail["staff_note"] != "客户要求周末送达" {
		t.Fatalf("history: %v, note %v", steps, detail["staff_note"])
	}
	if r := sh.s.Do("GET", "/api/v1/orders/"+second, token, nil); strings.Contains(string(r.Body), "staff_note") {
		t.Fatalf("the staff note reached the buyer: %s", r.Body)
	}
	var page struct {
		Total int
		Items []map[string]any
	}
	sh.s.Do("GET", "/api/v1/admin/orders?status=completed", sh.staff, nil).Decode(t, &page)
	if page.Total != 1 || page.Items[0]["id"] != second {
		t.Fatalf("staff list by status: %+v", page)
	}
	sh.s.Do("GET", "/api/v1/admin/orders?order_no="+o.OrderNo, sh.staff, nil).Decode(t, &page)
	if page.Total != 1 {
		t.Fatalf("staff list by order number: %+v", page)
	}
	sh.s.Do("GET", "/api/v1/orders?status=cancelled", token, nil).Decode(t, &page)
	if page.Total != 1 || page.Items[0]["id"] != first {
		t.Fatalf("buyer list by status: %+v", page)
	}
}

func TestBadInput(t *testing.T) {
	sh := newShop(t, nil, 5)
	token, addr := sh.buyer("bad")
	_, otherAddr := sh.buyer("neighbour")
	// An off-shelf product.
	cat := sh.must(201, "POST", "/api/v1/admin/categories", sh.staff, map[string]any{"name": "下架"})
	off := sh.must(201, "POST", "/api/v1/admin/products", sh.staff, map[string]any{"category_id": cat["id"], "title": "下架商品",
		"skus": []map[string]any{{"specs": map[string]string{}, "price": 100}}})
	offSKU := off["skus"].([]any)[0].(map[string]any)["id"].(string)
	long := strings.Repeat("长", 201)
	cases := []struct {
		name   string
		key    string
		body   any
		status int
		code   string
	}{
		{"missing Idempotency-Key", "", map[string]any{"items": item(sh.skus[0], 1), "address_id": addr}, 400, "idempotency_key_required"},
		{"quantity zero", "a", map[string]any{"items": item(sh.skus[0], 0), "address_id": addr}, 400, "validation_failed"},
		{"quantity negative", "b", map[string]any{"items": item(sh.skus[0], -1), "address_id": addr}, 400, "validation_failed"},
		{"quantity over the limit", "c", map[string]any{"items": item(sh.skus[0], 100), "address_id": addr}, 400, "validation_failed"},
		{"unknown SKU", "d", map[string]any{"items": item("123", 1), "address_id": addr}, 409, "sku_unavailable"},
		{"off-shelf SKU", "e", map[string]any{"items": item(offSKU, 1), "address_id": addr}, 409, "sku_unavailable"},
		{"someone else's address", "f", map[string]any{"items": item(sh.skus[0], 1), "address_id": otherAddr}, 404, "address_not_found"},
		{"no address", "g", map[string]any{"items": item(sh.skus[0], 1)}, 400, "validation_failed"},
		{"empty order", "h", map[string]any{"items": []any{}, "address_id": addr}, 400, "empty_order"},
		{"empty cart", "i", map[string]any{"from_cart": true, "address_id": addr}, 400, "empty_order"},
		{"remark over 200 characters", "j", map[string]any{"items": item(sh.skus[0], 1), "address_id": addr, "remark": long}, 400, "validation_failed"},
		{"not enough stock", "k", map[string]any{"items": item(sh.skus[0], 6), "address_id": addr}, 409, "out_of_stock"},
		{"sku id not a number", "l", `{"items":[{"sku_id":"abc","quantity":1}],"address_id":"` + addr + `"}`, 400, "wrong_type"},
		{"unknown field", "m", map[string]any{"items": item(sh.skus[0], 1), "address_id": addr, "coupon": "FREE"}, 400, "unknown_field"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			headers := map[string]string{}
			if c.key != "" {
				headers["Idempotency-Key"] = c.key
			}
			r := sh.s.DoWith("POST", "/api/v1/orders", token, c.body, headers)
			if r.Status != c.status || r.ErrorCode() != c.code {
				t.Fatalf("got %d %q, want %d %q: %s", r.Status, r.ErrorCode(), c.status, c.code, r.Body)
			}
		})
	}
	// Nothing was reserved by any refused request, and a refused key can be used again.
	if l := sh.checkInvariant(sh.skus[0], 5); l.Available != 5 || l.Reserved != 0 {
		t.Fatalf("a refused order held stock: %+v", l)
	}
	if r := sh.order(token, "k", map[string]any{"items": item(sh.skus[0], 5), "address_id": addr}); r.Status != 201 {
		t.Fatalf("retrying a refused key: %d %s", r.Status, r.Body)
	}
	for _, path := range []string{"/api/v1/orders/abc", "/api/v1/orders?status=lost", "/api/v1/orders?page=0"} {
		if r := sh.s.Do("GET", path, token, nil); r.Status != 400 {
			t.Errorf("%s: %d %s", path, r.Status, r.Body)
		}
	}
	if r := sh.s.Do("GET", "/api/v1/admin/orders?from=yesterday", sh.staff, nil); r.Status != 400 {
		t.Errorf("bad from: %d", r.Status)
	}
	if r := sh.s.Do("GET", "/api/v1/admin/orders", token, nil); r.Status != 403 {
		t.Errorf("buyer on staff orders: %d", r.Status)
	}
}

// A key claimed by a request whose process died (never completed, never dropped) does not
// block the buyer for good: after a while another request takes it over.
func TestAbandonedKeyIsTakenOver(t *testing.T) {
	sh := newShop(t, nil, 5)
	token, addr := sh.buyer("crashy")
	var me struct{ ID string }
	sh.s.Do("GET", "/api/v1/me", token, nil).Decode(t, &me)
	uid, _ := ids.Parse(me.ID)
	store := orderdb.New(sh.s.App.DB, events.NewOutbox())
	if _, claimed, err := store.ClaimKey(context.Background(), order.Idempotency{UserID: uid, Key: "stuck",
		RequestHash: "from-a-dead-process", CreatedAt: time.Now().Add(-3 * time.Minute)}); err != nil || !claimed {
		t.Fatalf("plant claim: %v %v", claimed, err)
	}
	if r := sh.order(token, "stuck", map[string]any{"items": item(sh.skus[0], 1), "address_id": addr}); r.Status != 201 {
		t.Fatalf("an abandoned key must be taken over: %d %s", r.Status, r.Body)
	}
}
