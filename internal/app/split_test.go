package app_test

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/servicetest"
	"github.com/minimart/minimart/internal/user"
)

// split is the shop as two services in this process: product (catalog, inventory) and the
// rest (user, cart, order, payment), each with its own SQLite database, calling each other
// over HTTP and sharing events over RabbitMQ.
type split struct {
	t               *testing.T
	product, orders *apptest.Server
	productEnv      map[string]string
	productAddr     string
	staff           string
	productID       ids.ID
	sku             ids.ID
	buyerN          int
	buyerMu         sync.Mutex
	productDir      string
}

// newSplit starts the two services. Holds of orders never recorded are released once
// MINIMART_ORPHAN_HOLD_AFTER old, the default unless orphanAfter is given; a short one also
// shortens the time an order may take to be recorded (a third of it), which a loaded
// machine can exceed, so only the test about orphan holds shortens it.
func newSplit(t *testing.T, orphanAfter ...time.Duration) *split {
	amqpURL := servicetest.AMQPURL(t)
	prefix := servicetest.AMQPPrefix(t, amqpURL)
	shared := map[string]string{
		"MINIMART_DEMO": "0", "MINIMART_SERVICE_TOKEN": serviceToken, "MINIMART_JWT_SECRET": "split-test-jwt-secret-0123456789abcdef",
		"MINIMART_AMQP_URL": amqpURL, "MINIMART_AMQP_PREFIX": prefix, "MINIMART_INVENTORY_QUEUE": prefix + ".inventory_update",
		"MINIMART_SCHEDULE_INTERVAL": "50ms",
	}
	if len(orphanAfter) > 0 {
		shared["MINIMART_ORPHAN_HOLD_AFTER"] = orphanAfter[0].String()
	}
	productLn, ordersLn := apptest.Listen(t), apptest.Listen(t)
	sp := &split{t: t, productAddr: productLn.Addr().String(), productDir: t.TempDir()}
	sp.productEnv = maps.Clone(shared)
	maps.Copy(sp.productEnv, map[string]string{"MINIMART_MODULES": "catalog,inventory", "MINIMART_NODE_ID": "1",
		"MINIMART_PEER_ORDER": "http://" + ordersLn.Addr().String(), "MINIMART_PEER_USER": "http://" + ordersLn.Addr().String(),
		"MINIMART_DATA_DIR": sp.productDir})
	ordersEnv := maps.Clone(shared)
	maps.Copy(ordersEnv, map[string]string{"MINIMART_MODULES": "user,cart,order,payment", "MINIMART_NODE_ID": "2",
		"MINIMART_PEER_CATALOG": "http://" + sp.productAddr, "MINIMART_PEER_INVENTORY": "http://" + sp.productAddr})
	// Both start at once: each one's peer is the other.
	var wg sync.WaitGroup
	wg.Go(func() { sp.product = apptest.StartOn(t, productLn, sp.productEnv) })
	sp.orders = apptest.StartOn(t, ordersLn, ordersEnv)
	wg.Wait()

	if sp.product.App.Users != nil || sp.product.App.Orders != nil || sp.orders.App.Catalog != nil || sp.orders.App.Inventory != nil {
		t.Fatal("a service built a module it does not serve")
	}
	sp.staff = sp.orders.StaffToken("ops", "operator")
	cat := sp.product.Expect(201, "POST", "/api/v1/admin/categories", sp.staff, map[string]any{"name": "手机"}, nil)
	p := sp.product.Expect(201, "POST", "/api/v1/admin/products", sp.staff, map[string]any{
		"category_id": cat["id"], "title": "拆分测试手机", "skus": []map[string]any{{"price": 1999}}, "on_shelf": true}, nil)
	sp.productID = mustID(t, p["id"])
	sp.sku = mustID(t, p["skus"].([]any)[0].(map[string]any)["id"])
	return sp
}

// setStock sets the SKU's available stock through the product service.
func (sp *split) setStock(n int) {
	sp.product.Expect(200, "PUT", "/api/v1/admin/skus/"+sp.sku.String()+"/stock", sp.staff, map[string]any{"stock": n}, nil)
}

func (sp *split) level() inventory.Level {
	sp.t.Helper()
	l, err := sp.product.App.Inventory.Level(context.Background(), sp.sku)
	if err != nil {
		sp.t.Fatal(err)
	}
	return l
}

// buyer registers through the order service and adds an address there.
func (sp *split) buyer() (token, addressID string) {
	sp.t.Helper()
	sp.buyerMu.Lock()
	sp.buyerN++
	name := fmt.Sprintf("buyer%d", sp.buyerN)
	sp.buyerMu.Unlock()
	ctx := context.Background()
	u, tok, err := sp.orders.App.Users.Register(ctx, user.RegisterInput{Username: name, Password: "passw0rd-ok"})
	if err != nil {
		sp.t.Fatal(err)
	}
	a, err := sp.orders.App.Users.CreateAddress(ctx, u.ID, user.AddressInput{Recipient: "张三", Phone: "13800000000",
		Province: "广东省", City: "深圳市", District: "南山区", Detail: "科技园 1 号"})
	if err != nil {
		sp.t.Fatal(err)
	}
	return tok.AccessToken, a.ID.String()
}

func (sp *split) order(token, address, key string, qty int) apptest.Response {
	return sp.orders.DoWith("POST", "/api/v1/orders", token, map[string]any{"address_id": address,
		"items": []map[string]any{{"sku_id": sp.sku.String(), "quantity": qty}}}, map[string]string{"Idempotency-Key": key})
}

func TestSplitJourney(t *testing.T) {
	sp := newSplit(t)
	sp.setStock(5)
	token, address := sp.buyer()

	// The cart (order service) shows the catalog's price and inventory's stock (product service).
	sp.orders.Expect(200, "POST", "/api/v1/cart/items", token, map[string]any{"sku_id": sp.sku.String(), "quantity": 2}, nil)
	cart := sp.orders.Expect(200, "GET", "/api/v1/cart", token, nil, nil)
	line := cart["lines"].([]any)[0].(map[string]any)
	if line["title"] != "拆分测试手机" || line["price"] != float64(1999) {
		t.Fatalf("cart line = %v", line)
	}

	o := sp.orders.Expect(201, "POST", "/api/v1/orders", token, map[string]any{"address_id": address, "from_cart": true},
		map[string]string{"Idempotency-Key": "journey-1"})
	if l := sp.level(); l.Available != 3 || l.Reserved != 2 {
		t.Fatalf("after the order: %+v, want 3 available and 2 held", l)
	}
	if got := sp.orders.Expect(200, "GET", "/api/v1/cart", token, nil, nil)["lines"]; got != nil && len(got.([]any)) != 0 {
		t.Fatalf("ordered lines stay in the cart: %v", got)
	}

	// Paid on the order service; inventory (product service) sells the stock on order.paid.
	apptest.PayOrder(t, sp.orders.App, o["id"].(string))
	apptest.Eventually(t, "stock sold through the broker", func() bool { l := sp.level(); return l.Sold == 2 && l.Reserved == 0 })

	// Out of stock crosses the wire with its details.
	r := sp.order(token, address, "journey-2", 4)
	if r.Status != http.StatusConflict || r.ErrorCode() != "out_of_stock" {
		t.Fatalf("order over stock: %d %s", r.Status, r.Body)
	}
	var refusal struct {
		Error struct {
			Details struct {
				SKUs []inventory.Shortage `json:"skus"`
			} `json:"details"`
		} `json:"error"`
	}
	r.Decode(t, &refusal)
	if s := refusal.Error.Details.SKUs; len(s) != 1 || s[0].SKUID != sp.sku || s[0].Requested != 4 || s[0].Available != 3 {
		t.Fatalf("details.skus = %+v", s)
	}
}

// TestSplitNoOversell: many buyers, little stock, every hold through the HTTP client.
func TestSplitNoOversell(t *testing.T) {
	sp := newSplit(t)
	const stock, buyers = 20, 60
	sp.setStock(stock)
	type buyer struct{ token, address string }
	list := make([]buyer, buyers)
	for i := range list {
		list[i].token, list[i].address = sp.buyer()
	}
	codes := make([]int, buyers)
	var wg sync.WaitGroup
	for i, b := range list {
		wg.Go(func() { codes[i] = sp.order(b.token, b.address, fmt.Sprintf("rush-%d", i), 1).Status })
	}
	wg.Wait()
	placed := 0
	for i, c := range codes {
		switch c {
		case http.StatusCreated:
			placed++
		case http.StatusConflict:
		default:
			t.Fatalf("buyer %d got %d", i, c)
		}
	}
	l := sp.level()
	if placed != stock || l.Available != 0 || l.Reserved != stock || l.Available+l.Reserved+l.Sold != stock {
		t.Fatalf("%d orders placed, level %+v; want %d held and nothing oversold", placed, l, stock)
	}
}

// TestSplitPeerDown: with the product service gone, orders are refused with a clear 503 and
// nothing is held; once it is back, orders work without restarting the order service.
func TestSplitPeerDown(t *testing.T) {
	sp := newSplit(t)
	sp.setStock(5)
	token, address := sp.buyer()
	sp.product.Stop()

	r := sp.order(token, address, "down-1", 1)
	if r.Status != http.StatusServiceUnavailable || r.ErrorCode() != "dependency_unavailable" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("order with inventory down: %d %s %v", r.Status, r.Body, r.Header)
	}

	ln, err := net.Listen("tcp", sp.productAddr)
	if err != nil {
		t.Fatalf("listen again on the product service's address: %v", err)
	}
	sp.product = apptest.StartOn(t, ln, sp.productEnv)
	if l := sp.level(); l.Available != 5 || l.Reserved != 0 {
		t.Fatalf("a refused order held stock: %+v", l)
	}
	apptest.Eventually(t, "orders work again", func() bool { return sp.order(token, address, "down-2", 1).Status == http.StatusCreated })
	if l := sp.level(); l.Available != 4 || l.Reserved != 1 {
		t.Fatalf("after the peer came back: %+v", l)
	}
}

// TestSplitOrphanHold: stock held for an order that was never recorded (the order service
// died between the hold and the write) is released once the hold is older than
// MINIMART_ORPHAN_HOLD_AFTER; a hold whose order exists is kept.
func TestSplitOrphanHold(t *testing.T) {
	const orphanAfter = 6 * time.Second
	sp := newSplit(t, orphanAfter)
	sp.setStock(5)
	token, address := sp.buyer()
	sp.orders.Expect(201, "POST", "/api/v1/orders", token, map[string]any{"address_id": address,
		"items": []map[string]any{{"sku_id": sp.sku.String(), "quantity": 1}}}, map[string]string{"Idempotency-Key": "real"})
	ghost := "20261207" + fmt.Sprintf("%019d", 12345)
	if _, err := sp.product.App.Inventory.Reserve(context.Background(), ghost,
		[]inventory.ReserveLine{{SKUID: sp.sku, Quantity: 2}}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if l := sp.level(); l.Reserved != 3 {
		t.Fatalf("held: %+v", l)
	}
	apptest.EventuallyWithin(t, 4*orphanAfter, "the orphan hold released", func() bool {
		r, err := sp.product.App.Inventory.Reservation(context.Background(), ghost)
		return err == nil && r.Status == inventory.Released
	})
	if l := sp.level(); l.Available != 4 || l.Reserved != 1 {
		t.Fatalf("after the sweep: %+v, want only the real order's unit held", l)
	}
}
