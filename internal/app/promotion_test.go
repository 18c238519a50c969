package app_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/platform/servicetest"
	"github.com/minimart/minimart/internal/user"
)

// TestSplitFlashSale runs the promotion module as a service of its own, so every port it has
// goes over HTTP (catalog and inventory in the product service; orders, cart and users in
// the order service) and order cancellations reach it over RabbitMQ: a sale holds its stock
// through inventory's client, accepted attempts become orders through the order client, a
// cancelled order's unit comes back, and the cancelled sale's unsold stock goes back.
func TestSplitFlashSale(t *testing.T) {
	amqpURL := servicetest.AMQPURL(t)
	prefix := servicetest.AMQPPrefix(t, amqpURL)
	shared := map[string]string{
		"MINIMART_DEMO": "0", "MINIMART_SERVICE_TOKEN": serviceToken, "MINIMART_JWT_SECRET": "split-test-jwt-secret-0123456789abcdef",
		"MINIMART_AMQP_URL": amqpURL, "MINIMART_AMQP_PREFIX": prefix, "MINIMART_INVENTORY_QUEUE": prefix + ".inventory_update",
		"MINIMART_SCHEDULE_INTERVAL": "50ms", "MINIMART_RATELIMITS": "0",
	}
	productLn, ordersLn, promotionLn := apptest.Listen(t), apptest.Listen(t), apptest.Listen(t)
	product, orders := "http://"+productLn.Addr().String(), "http://"+ordersLn.Addr().String()
	env := func(modules, node string, peers map[string]string) map[string]string {
		e := maps.Clone(shared)
		e["MINIMART_MODULES"], e["MINIMART_NODE_ID"] = modules, node
		maps.Copy(e, peers)
		return e
	}
	var wg sync.WaitGroup
	var productSrv, ordersSrv *apptest.Server
	wg.Go(func() {
		productSrv = apptest.StartOn(t, productLn, env("catalog,inventory", "1",
			map[string]string{"MINIMART_PEER_ORDER": orders, "MINIMART_PEER_USER": orders}))
	})
	wg.Go(func() {
		ordersSrv = apptest.StartOn(t, ordersLn, env("user,cart,order,payment", "2",
			map[string]string{"MINIMART_PEER_CATALOG": product, "MINIMART_PEER_INVENTORY": product}))
	})
	promo := apptest.StartOn(t, promotionLn, env("promotion", "3", map[string]string{"MINIMART_PEER_CATALOG": product,
		"MINIMART_PEER_INVENTORY": product, "MINIMART_PEER_ORDER": orders, "MINIMART_PEER_USER": orders}))
	wg.Wait()
	if promo.App.Promotions == nil || ordersSrv.App.Promotions != nil || promo.App.Orders != nil || promo.App.Inventory != nil {
		t.Fatal("a service built a module it does not serve")
	}

	staff := ordersSrv.StaffToken("ops", "operator")
	cat := productSrv.Expect(201, "POST", "/api/v1/admin/categories", staff, map[string]any{"name": "手机"}, nil)
	p := productSrv.Expect(201, "POST", "/api/v1/admin/products", staff, map[string]any{
		"category_id": cat["id"], "title": "拆分秒杀手机", "skus": []map[string]any{{"price": 1999}}, "on_shelf": true}, nil)
	sku := mustID(t, p["skus"].([]any)[0].(map[string]any)["id"])
	productSrv.Expect(200, "PUT", "/api/v1/admin/skus/"+sku.String()+"/stock", staff, map[string]any{"stock": 20}, nil)
	level := func() (available, reserved int64) {
		l, err := productSrv.App.Inventory.Level(context.Background(), sku)
		if err != nil {
			t.Fatal(err)
		}
		if l.Available+l.Reserved+l.Sold != 20 {
			t.Fatalf("invariant broken: %+v", l)
		}
		return l.Available, l.Reserved
	}

	now := time.Now().UTC()
	sale := promo.Expect(201, "POST", "/api/v1/admin/flash-sales", staff, map[string]any{"sku_id": sku.String(), "price": 999,
		"quantity": 5, "per_user_limit": 1, "starts_at": now.Format(time.RFC3339Nano), "ends_at": now.Add(time.Hour).Format(time.RFC3339Nano)}, nil)
	saleID := sale["id"].(string)
	if sale["title"] != "拆分秒杀手机" || sale["list_price"] != float64(1999) {
		t.Fatalf("sale %v", sale)
	}
	if a, r := level(); a != 15 || r != 5 {
		t.Fatalf("after the sale's hold: available %d, reserved %d", a, r)
	}
	r := promo.DoWith("POST", "/api/v1/admin/flash-sales", staff, map[string]any{"sku_id": sku.String(), "price": 999,
		"quantity": 50, "per_user_limit": 1, "starts_at": now.Add(2 * time.Hour).Format(time.RFC3339),
		"ends_at": now.Add(3 * time.Hour).Format(time.RFC3339)}, nil)
	if r.Status != http.StatusConflict || r.ErrorCode() != "out_of_stock" {
		t.Fatalf("a sale over the stock: %d %s", r.Status, r.Body)
	}

	type buyer struct{ token, address string }
	buyers := make([]buyer, 12)
	for i := range buyers {
		u, tok, err := ordersSrv.App.Users.Register(context.Background(), user.RegisterInput{Username: fmt.Sprintf("fs%d", i), Password: "passw0rd-ok"})
		if err != nil {
			t.Fatal(err)
		}
		a, err := ordersSrv.App.Users.CreateAddress(context.Background(), u.ID, user.AddressInput{Recipient: "张三", Phone: "13800000000",
			Province: "广东省", City: "深圳市", District: "南山区", Detail: "科技园 1 号"})
		if err != nil {
			t.Fatal(err)
		}
		buyers[i] = buyer{tok.AccessToken, a.ID.String()}
	}
	attempt := func(b buyer, key string) apptest.Response {
		return promo.DoWith("POST", "/api/v1/flash-sales/"+saleID+"/attempts", b.token, map[string]any{"address_id": b.address},
			map[string]string{"Idempotency-Key": key})
	}
	// Another buyer's address is checked in the user module, over HTTP.
	if r := promo.DoWith("POST", "/api/v1/flash-sales/"+saleID+"/attempts", buyers[0].token, map[string]any{"address_id": buyers[1].address},
		map[string]string{"Idempotency-Key": "foreign"}); r.Status != http.StatusNotFound || r.ErrorCode() != "address_not_found" {
		t.Fatalf("another buyer's address: %d %s", r.Status, r.Body)
	}
	answers := make([]apptest.Response, len(buyers))
	var storm sync.WaitGroup
	for i, b := range buyers {
		storm.Go(func() { answers[i] = attempt(b, "k") })
	}
	storm.Wait()
	var won []int
	for i, r := range answers {
		switch {
		case r.Status == http.StatusAccepted:
			won = append(won, i)
		case r.Status != http.StatusConflict || r.ErrorCode() != "sold_out":
			t.Fatalf("buyer %d: %d %s", i, r.Status, r.Body)
		}
	}
	if len(won) != 5 {
		t.Fatalf("%d accepted, want 5", len(won))
	}
	orderOf := func(b buyer, attemptID string) string {
		var v struct {
			Status  string `json:"status"`
			OrderID string `json:"order_id"`
		}
		apptest.EventuallyWithin(t, 15*time.Second, "attempt ordered", func() bool {
			r := promo.Do("GET", "/api/v1/flash-sales/attempts/"+attemptID, b.token, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("attempt %s: %d %s", attemptID, r.Status, r.Body)
			}
			r.Decode(t, &v)
			if v.Status == "failed" {
				t.Fatalf("attempt %s failed", attemptID)
			}
			return v.Status == "ordered"
		})
		return v.OrderID
	}
	var orderIDs []string
	for _, i := range won {
		var a struct {
			AttemptID string `json:"attempt_id"`
		}
		answers[i].Decode(t, &a)
		id := orderOf(buyers[i], a.AttemptID)
		o := ordersSrv.Expect(200, "GET", "/api/v1/orders/"+id, buyers[i].token, nil, nil)
		if line := o["lines"].([]any)[0].(map[string]any); line["unit_price"] != float64(999) || o["status"] != "pending_payment" {
			t.Fatalf("order %v", o)
		}
		orderIDs = append(orderIDs, id)
	}
	if a, r := level(); a != 15 || r != 5 {
		t.Fatalf("after the orders: available %d, reserved %d", a, r)
	}

	// A cancelled order's unit comes back to the sale (order.cancelled over RabbitMQ) and is
	// sold to someone who was refused.
	ordersSrv.Expect(200, "POST", "/api/v1/orders/"+orderIDs[0]+"/cancel", buyers[won[0]].token, nil, nil)
	var late int
	for i := range buyers {
		if !slices.Contains(won, i) {
			late = i
			break
		}
	}
	var second apptest.Response
	apptest.EventuallyWithin(t, 15*time.Second, "the returned unit sold again", func() bool {
		second = attempt(buyers[late], fmt.Sprintf("again-%d", time.Now().UnixNano()))
		return second.Status == http.StatusAccepted
	})
	var a struct {
		AttemptID string `json:"attempt_id"`
	}
	second.Decode(t, &a)
	orderOf(buyers[late], a.AttemptID)
	if a, r := level(); a != 15 || r != 5 {
		t.Fatalf("after the returned unit was sold again: available %d, reserved %d", a, r)
	}

	// A cancelled sale's unsold stock goes back through inventory's client; the orders keep
	// theirs.
	later := promo.Expect(201, "POST", "/api/v1/admin/flash-sales", staff, map[string]any{"sku_id": sku.String(), "price": 999,
		"quantity": 3, "per_user_limit": 1, "starts_at": now.Add(2 * time.Hour).Format(time.RFC3339),
		"ends_at": now.Add(3 * time.Hour).Format(time.RFC3339)}, nil)["id"].(string)
	if a, r := level(); a != 12 || r != 8 {
		t.Fatalf("after a second sale: available %d, reserved %d", a, r)
	}
	for _, id := range []string{saleID, later} {
		promo.Expect(200, "POST", "/api/v1/admin/flash-sales/"+id+"/cancel", staff, nil, nil)
		apptest.EventuallyWithin(t, 15*time.Second, "the cancelled sale settled", func() bool {
			return promo.Expect(200, "GET", "/api/v1/admin/flash-sales/"+id, staff, nil, nil)["settled_at"] != nil
		})
	}
	if a, r := level(); a != 15 || r != 5 {
		t.Fatalf("after the sales were cancelled: available %d, reserved %d", a, r)
	}
}
