package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSandboxPaymentJourney runs the whole payment path through the real binary: an order,
// its sandbox payment page, `minimart sandbox pay` clicking Pay over HTTP, the sandbox's
// signed notify to the shop's own notify endpoint, the order paid and its stock sold.
func TestSandboxPaymentJourney(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	s := startServer(t, "MINIMART_DATA_DIR="+dataDir, "MINIMART_DEMO=0")
	name, password := s.bootstrapAdmin(t)
	staff := staffLogin(t, s.base, credentials{name, password}).Tokens.AccessToken

	var cat, product map[string]any
	call(t, "POST", s.base+"/api/v1/admin/categories", staff, map[string]any{"name": "茶叶"}, http.StatusCreated, &cat)
	call(t, "POST", s.base+"/api/v1/admin/products", staff, map[string]any{"category_id": cat["id"], "title": "碧螺春",
		"specs": []map[string]any{{"name": "规格", "values": []string{"100g"}}},
		"skus":  []map[string]any{{"specs": map[string]string{"规格": "100g"}, "price": 12000}}, "on_shelf": true},
		http.StatusCreated, &product)
	sku := product["skus"].([]any)[0].(map[string]any)["id"].(string)
	call(t, "PUT", s.base+"/api/v1/admin/skus/"+sku+"/stock", staff, map[string]any{"stock": 5}, http.StatusOK, nil)

	buyer := register(t, s.base, newBuyer()).Tokens.AccessToken
	var addr, order, pay map[string]any
	call(t, "POST", s.base+"/api/v1/me/addresses", buyer, map[string]any{"recipient": "李四", "phone": "13900000000",
		"province": "江苏省", "city": "苏州市", "district": "吴中区", "detail": "东山镇 8 号"}, http.StatusCreated, &addr)
	callWith(t, "POST", s.base+"/api/v1/orders", buyer, map[string]string{"Idempotency-Key": "o1"},
		map[string]any{"items": []map[string]any{{"sku_id": sku, "quantity": 2}}, "address_id": addr["id"]}, http.StatusCreated, &order)
	orderID, orderNo := order["id"].(string), order["order_no"].(string)
	callWith(t, "POST", s.base+"/api/v1/orders/"+orderID+"/payments", buyer, map[string]string{"Idempotency-Key": "p1"},
		map[string]any{"method": "sandbox"}, http.StatusCreated, &pay)
	payURL := pay["pay_url"].(string)
	if !strings.HasPrefix(payURL, s.base+"/sandbox/pay/") {
		t.Fatalf("pay_url %s is not this shop's cashier (%s)", payURL, s.base)
	}
	if page := string(call(t, "GET", payURL, "", nil, http.StatusOK, nil)); !strings.Contains(page, orderNo) || !strings.Contains(page, "¥240.00") {
		t.Fatalf("cashier page does not show the order and amount:\n%s", page)
	}

	// A failed attempt first: nothing is charged and the order still waits for payment.
	failed := runMinimart(t, t.TempDir(), nil, "sandbox", "pay", payURL, "--fail")
	if failed.code != 0 || !strings.Contains(failed.stdout, "pending") || !strings.Contains(failed.stdout, "failed") {
		t.Fatalf("minimart sandbox pay --fail: exit %d\n%s%s", failed.code, failed.stdout, failed.stderr)
	}
	var still map[string]any
	call(t, "GET", s.base+"/api/v1/orders/"+orderID, buyer, nil, http.StatusOK, &still)
	if still["status"] != "pending_payment" {
		t.Fatalf("after a failed payment the order is %v", still["status"])
	}

	res := runMinimart(t, t.TempDir(), nil, "sandbox", "pay", payURL)
	if res.code != 0 || !strings.Contains(res.stdout, "success") {
		t.Fatalf("minimart sandbox pay: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var o map[string]any
		call(t, "GET", s.base+"/api/v1/orders/"+orderID, buyer, nil, http.StatusOK, &o)
		if o["status"] == "paid" {
			if o["payment_id"] != pay["id"] {
				t.Fatalf("order paid by %v, want payment %v", o["payment_id"], pay["id"])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("order still %v after the sandbox payment\n%s", o["status"], s.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var stock struct {
		Level struct{ Available, Reserved, Sold int64 } `json:"level"`
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		call(t, "GET", s.base+"/api/v1/admin/skus/"+sku+"/stock", staff, nil, http.StatusOK, &stock)
		l := stock.Level
		if l.Available < 0 || l.Available+l.Reserved+l.Sold != 5 {
			t.Fatalf("stock invariant broken: %+v", l)
		}
		if l.Sold == 2 && l.Reserved == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stock not sold: %+v", l)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Clicking Pay again answers the same success; the trade is paid once.
	again := runMinimart(t, t.TempDir(), nil, "sandbox", "pay", payURL)
	if again.code != 0 {
		t.Fatalf("second sandbox pay: exit %d %s", again.code, again.stderr)
	}
	// Knowing an order number is not enough: without its signed link the cashier refuses.
	token := payURL[strings.LastIndex(payURL, "/")+1:]
	for _, forged := range []string{
		s.base + "/sandbox/pay/19990101000000000000/" + token,         // another trade with this link's token
		strings.TrimSuffix(payURL, token) + "4102444800.AAAA",         // a made-up token
		strings.Replace(payURL, "/"+orderNo+"/", "/"+orderNo+"0/", 1), // a neighbouring number
	} {
		bad := runMinimart(t, t.TempDir(), nil, "sandbox", "pay", forged)
		if bad.code != 1 || !strings.Contains(bad.stderr, "pay_link_invalid") {
			t.Fatalf("sandbox pay %s: exit %d %s", forged, bad.code, bad.stderr)
		}
	}
	if old := runMinimart(t, t.TempDir(), nil, "sandbox", "pay", orderNo); old.code != 2 {
		t.Fatalf("sandbox pay with an order number alone: exit %d %s", old.code, old.stderr)
	}
	s.stop(t)

	// With the server stopped, reconcile the day on the same data: the books agree.
	day := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	rec := runMinimart(t, t.TempDir(), []string{"MINIMART_DATA_DIR=" + dataDir, "MINIMART_DEMO=0"}, "payments", "reconcile", "--date", day)
	if rec.code != 0 || !strings.Contains(rec.stdout, "agree") {
		t.Fatalf("reconcile: exit %d\n%s%s", rec.code, rec.stdout, rec.stderr)
	}
	checkInvariants(t, "MINIMART_DATA_DIR="+dataDir, "MINIMART_DEMO=0")
}
