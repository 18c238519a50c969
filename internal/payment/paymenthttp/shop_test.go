package paymenthttp_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/user"
)

// shop is a running app with one product (stock 10, price 2500 fen, so orders pay 3500
// with shipping), staff, and a buyer.
type shop struct {
	s       *apptest.Server
	t       testing.TB
	staff   string
	admin   string
	sku     string
	buyer   string
	address string
	seq     int
}

const initialStock = 10

func newShop(t testing.TB, env map[string]string) *shop {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	env["MINIMART_DEMO"] = "0"
	s := apptest.Start(t, env)
	sh := &shop{s: s, t: t, staff: s.StaffToken("ops", "operator"), admin: s.StaffToken("boss", "admin")}
	cat := sh.must(201, "POST", "/api/v1/admin/categories", sh.staff, map[string]any{"name": "茶叶"})
	p := sh.must(201, "POST", "/api/v1/admin/products", sh.staff, map[string]any{
		"category_id": cat["id"], "title": "西湖龙井", "specs": []map[string]any{{"name": "规格", "values": []string{"250g"}}},
		"skus": []map[string]any{{"specs": map[string]string{"规格": "250g"}, "price": 2500}}, "on_shelf": true})
	sh.sku = p["skus"].([]any)[0].(map[string]any)["id"].(string)
	sh.must(200, "PUT", "/api/v1/admin/skus/"+sh.sku+"/stock", sh.staff, map[string]any{"stock": initialStock})
	sh.buyer, sh.address = sh.newBuyer("buyer")
	return sh
}

func (sh *shop) must(status int, method, path, token string, body any) map[string]any {
	sh.t.Helper()
	return sh.mustWith(status, method, path, token, body, nil)
}

func (sh *shop) mustWith(status int, method, path, token string, body any, headers map[string]string) map[string]any {
	sh.t.Helper()
	return sh.s.Expect(status, method, path, token, body, headers)
}

func (sh *shop) newBuyer(name string) (token, addressID string) {
	sh.t.Helper()
	ctx := context.Background()
	u, tok, err := sh.s.App.Users.Register(ctx, user.RegisterInput{Username: name, Password: "passw0rd-ok"})
	if err != nil {
		sh.t.Fatal(err)
	}
	yes := true
	a, err := sh.s.App.Users.CreateAddress(ctx, u.ID, user.AddressInput{Recipient: "张三", Phone: "13800000000",
		Province: "浙江省", City: "杭州市", District: "西湖区", Detail: "龙井路 1 号", IsDefault: &yes})
	if err != nil {
		sh.t.Fatal(err)
	}
	return tok.AccessToken, a.ID.String()
}

// order places an order for qty of the SKU and returns its id and number.
func (sh *shop) order(qty int) (id, orderNo string) {
	sh.t.Helper()
	sh.seq++
	o := sh.mustWith(201, "POST", "/api/v1/orders", sh.buyer, map[string]any{
		"items": []map[string]any{{"sku_id": sh.sku, "quantity": qty}}, "address_id": sh.address},
		map[string]string{"Idempotency-Key": fmt.Sprintf("order-%d", sh.seq)})
	return o["id"].(string), o["order_no"].(string)
}

// pay starts a payment of an order.
func (sh *shop) pay(orderID, method, key string) apptest.Response {
	sh.t.Helper()
	body := map[string]any{}
	if method != "" {
		body["method"] = method
	}
	return sh.s.DoWith("POST", "/api/v1/orders/"+orderID+"/payments", sh.buyer, body, map[string]string{"Idempotency-Key": key})
}

func (sh *shop) orderStatus(id string) string {
	sh.t.Helper()
	return sh.must(200, "GET", "/api/v1/orders/"+id, sh.buyer, nil)["status"].(string)
}

func (sh *shop) level() inventory.Level {
	sh.t.Helper()
	id, _ := ids.Parse(sh.sku)
	l, err := sh.s.App.Inventory.Level(context.Background(), id)
	if err != nil {
		sh.t.Fatal(err)
	}
	if l.Available < 0 || l.Available+l.Reserved+l.Sold != initialStock {
		sh.t.Fatalf("stock invariant broken: %+v, initial %d", l, initialStock)
	}
	return l
}

func (sh *shop) db() *sql.DB { return sh.s.App.DB.Write() }

// count runs a COUNT(*) query.
func (sh *shop) count(query string, args ...any) int {
	sh.t.Helper()
	var n int
	if err := sh.db().QueryRow(query, args...).Scan(&n); err != nil {
		sh.t.Fatal(err)
	}
	return n
}

// paymentStatus is the order's payment through a provider, as staff see it.
func (sh *shop) payments(orderID string) (pays, refunds []map[string]any) {
	sh.t.Helper()
	out := sh.must(200, "GET", "/api/v1/admin/orders/"+orderID+"/payments", sh.staff, nil)
	for _, p := range out["payments"].([]any) {
		pays = append(pays, p.(map[string]any))
	}
	for _, r := range out["refunds"].([]any) {
		refunds = append(refunds, r.(map[string]any))
	}
	return pays, refunds
}

func pathOf(url string) string {
	i := strings.Index(url, "/sandbox/")
	return url[i:]
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
