package paymenthttp_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/payment/sandbox"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// The whole sandbox path: pay page → click Pay → signed notify over HTTP → order paid →
// stock sold.
func TestSandboxJourney(t *testing.T) {
	sh := newShop(t, nil)
	methods := sh.must(200, "GET", "/api/v1/payment-methods", "", nil)
	if got := methods["methods"].([]any); len(got) != 1 || got[0] != "sandbox" {
		t.Fatalf("methods = %v, want only the sandbox", got)
	}
	orderID, orderNo := sh.order(2)
	r := sh.pay(orderID, "", "pay-1")
	if r.Status != 201 {
		t.Fatalf("initiate: %d %s", r.Status, r.Body)
	}
	var p map[string]any
	r.Decode(t, &p)
	if p["method"] != "sandbox" || p["status"] != "pending" || p["amount"] != float64(2*2500+1000) || p["order_no"] != orderNo {
		t.Fatalf("payment = %v", p)
	}
	page := sh.s.Do("GET", pathOf(p["pay_url"].(string)), "", nil)
	if page.Status != 200 || !strings.Contains(string(page.Body), orderNo) || !strings.Contains(string(page.Body), "¥60.00") {
		t.Fatalf("cashier page: %d %s", page.Status, page.Body)
	}
	if l := sh.level(); l.Reserved != 2 {
		t.Fatalf("before paying: %+v", l)
	}
	paid := sh.mustWith(200, "POST", pathOf(p["pay_url"].(string))+"/pay", "", nil, map[string]string{"Accept": "application/json"})
	if paid["status"] != "success" {
		t.Fatalf("cashier pay = %v", paid)
	}
	apptest.Eventually(t, "order paid", func() bool { return sh.orderStatus(orderID) == "paid" })
	apptest.Eventually(t, "stock sold", func() bool { l := sh.level(); return l.Sold == 2 && l.Reserved == 0 })
	pays, _ := sh.payments(orderID)
	if len(pays) != 1 || pays[0]["status"] != "succeeded" || pays[0]["transaction_id"] == "" {
		t.Fatalf("payments = %v", pays)
	}
	sh.s.EventsSettled()
	log := sh.must(200, "GET", "/api/v1/admin/payments/notifications?out_trade_no="+orderNo, sh.admin, nil)["items"].([]any)
	if len(log) != 1 || log[0].(map[string]any)["outcome"] != "applied" || log[0].(map[string]any)["verified"] != true {
		t.Fatalf("notify log = %v", log)
	}
	// Paying the paid order again is refused.
	if r := sh.pay(orderID, "sandbox", "pay-2"); r.Status != 409 || r.ErrorCode() != "order_not_payable" {
		t.Fatalf("pay a paid order: %d %s", r.Status, r.Body)
	}
}

func TestInitiateRefusals(t *testing.T) {
	sh := newShop(t, nil)
	orderID, _ := sh.order(1)
	cases := []struct {
		name, orderID, method, key, token string
		status                            int
		code                              string
	}{
		{"unconfigured provider", orderID, "wechat_jsapi", "k1", sh.buyer, 400, "payment_method_unavailable"},
		{"unknown method", orderID, "bitcoin", "k2", sh.buyer, 400, "payment_method_unavailable"},
		{"no idempotency key", orderID, "sandbox", "", sh.buyer, 400, "idempotency_key_required"},
		{"no such order", "123", "sandbox", "k3", sh.buyer, 404, "order_not_found"},
		{"no token", orderID, "sandbox", "k4", "", 401, "missing_token"},
	}
	other, _ := sh.newBuyer("other")
	cases = append(cases, struct {
		name, orderID, method, key, token string
		status                            int
		code                              string
	}{"another buyer's order", orderID, "sandbox", "k5", other, 404, "order_not_found"})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := sh.s.DoWith("POST", "/api/v1/orders/"+c.orderID+"/payments", c.token, map[string]any{"method": c.method},
				map[string]string{"Idempotency-Key": c.key})
			if r.Status != c.status || r.ErrorCode() != c.code {
				t.Fatalf("%d %s, want %d %s", r.Status, r.Body, c.status, c.code)
			}
		})
	}

	first := sh.pay(orderID, "sandbox", "same")
	again := sh.pay(orderID, "sandbox", "same")
	if first.Status != 201 || again.Status != 201 || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %d %v", first.Status, again.Status, again.Header)
	}
	if r := sh.s.DoWith("POST", "/api/v1/orders/"+orderID+"/payments", sh.buyer, `{"method":"sandbox","x":1}`,
		map[string]string{"Idempotency-Key": "x"}); r.Status != 400 {
		t.Fatalf("unknown field: %d %s", r.Status, r.Body)
	}
	// The same key for another order is another request.
	order2, _ := sh.order(1)
	if r := sh.pay(order2, "sandbox", "same"); r.Status != 422 || r.ErrorCode() != "idempotency_key_reused" {
		t.Fatalf("key reuse: %d %s", r.Status, r.Body)
	}
	sh.must(200, "POST", "/api/v1/orders/"+order2+"/cancel", sh.buyer, nil)
	if r := sh.pay(order2, "sandbox", "after-cancel"); r.Status != 409 || r.ErrorCode() != "order_not_payable" {
		t.Fatalf("pay a cancelled order: %d %s", r.Status, r.Body)
	}
}

// notify is a sandbox notify body for a trade.
func notifyBody(t testing.TB, orderNo string, amount int64, state string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"kind": "trade", "out_trade_no": orderNo, "transaction_id": "SBX-test",
		"state": state, "amount": amount, "paid_at": time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (sh *shop) sendNotify(header http.Header, body []byte) apptest.Response {
	sh.t.Helper()
	h := map[string]string{}
	for k := range header {
		h[k] = header.Get(k)
	}
	return sh.s.DoWith("POST", "/api/v1/payments/notify/sandbox", "", string(body), h)
}

// markPaidAtProvider is the buyer paying at the sandbox while its notify never arrives.
func (sh *shop) markPaidAtProvider(orderNo string) {
	sh.t.Helper()
	if _, err := sh.db().Exec("UPDATE sandbox_trades SET status = 'success', paid_at = ? WHERE out_trade_no = ?",
		time.Now().UTC(), orderNo); err != nil {
		sh.t.Fatal(err)
	}
}

func TestNotifyRefusedChangesNothing(t *testing.T) {
	sh := newShop(t, nil)
	orderID, orderNo := sh.order(1)
	if r := sh.pay(orderID, "sandbox", "p"); r.Status != 201 {
		t.Fatal(r.Status, string(r.Body))
	}
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	impostor := sandbox.New(sh.s.App.DB, otherKey, func() string { return "" }, slog.New(slog.DiscardHandler))
	good := notifyBody(t, orderNo, 3500, "success")
	now := time.Now()
	tampered := sh.s.App.Sandbox.Sign(good, now)
	cases := []struct {
		name   string
		header http.Header
		body   []byte
	}{
		{"tampered body", tampered, []byte(strings.Replace(string(good), "3500", "3400", 1))},
		{"wrong key", impostor.Sign(good, now), good},
		{"old timestamp", sh.s.App.Sandbox.Sign(good, now.Add(-6*time.Minute)), good},
		{"wrong amount", nil, notifyBody(t, orderNo, 1, "success")},
		{"unknown out_trade_no", nil, notifyBody(t, "20990101000000000001", 3500, "success")},
		{"no signature", http.Header{"Content-Type": {"application/json"}}, good},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := c.header
			if h == nil {
				h = sh.s.App.Sandbox.Sign(c.body, now)
			}
			r := sh.sendNotify(h, c.body)
			var ack struct{ Code, Message string }
			r.Decode(t, &ack)
			if r.Status != 400 || ack.Code != "FAIL" {
				t.Fatalf("%d %s, want 400 FAIL", r.Status, r.Body)
			}
			if got := sh.orderStatus(orderID); got != "pending_payment" {
				t.Fatalf("order is %s", got)
			}
		})
	}
	sh.s.EventsSettled()
	if n := sh.count("SELECT COUNT(*) FROM outbox_events WHERE type = 'payment.succeeded'"); n != 0 {
		t.Fatalf("%d payment.succeeded events", n)
	}
	if l := sh.level(); l.Reserved != 1 || l.Sold != 0 {
		t.Fatalf("stock moved: %+v", l)
	}
	apptest.Eventually(t, "refusals logged", func() bool {
		return sh.count("SELECT COUNT(*) FROM payment_notifications WHERE outcome = 'rejected'") == len(cases)
	})
}

// The same valid notify 20 times at once: one state change, one event, twenty successes.
func TestConcurrentDuplicateNotifies(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { concurrentDuplicateNotifies(t, nil) })
	t.Run("mariadb", func(t *testing.T) {
		concurrentDuplicateNotifies(t, map[string]string{"MINIMART_DB_URL": sqldbtest.MySQLDatabaseURL(t),
			"MINIMART_JWT_SECRET": strings.Repeat("k", 32)})
	})
}

func concurrentDuplicateNotifies(t *testing.T, env map[string]string) {
	sh := newShop(t, env)
	orderID, orderNo := sh.order(1)
	if r := sh.pay(orderID, "sandbox", "p"); r.Status != 201 {
		t.Fatal(r.Status, string(r.Body))
	}
	sh.markPaidAtProvider(orderNo)
	body := notifyBody(t, orderNo, 3500, "success")
	header := sh.s.App.Sandbox.Sign(body, time.Now())
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Go(func() { statuses[i] = sh.sendNotify(header, body).Status })
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 204 {
			t.Fatalf("notify %d answered %d", i, s)
		}
	}
	apptest.Eventually(t, "order paid", func() bool { return sh.orderStatus(orderID) == "paid" })
	sh.s.EventsSettled()
	if n := sh.count("SELECT COUNT(*) FROM outbox_events WHERE type = 'payment.succeeded'"); n != 1 {
		t.Fatalf("%d payment.succeeded events, want 1", n)
	}
	if n := sh.count("SELECT COUNT(*) FROM order_history WHERE to_status = 'paid'"); n != 1 {
		t.Fatalf("%d paid transitions, want 1", n)
	}
	if l := sh.level(); l.Sold != 1 {
		t.Fatalf("stock: %+v", l)
	}
	apptest.Eventually(t, "all logged", func() bool {
		return sh.count("SELECT COUNT(*) FROM payment_notifications WHERE out_trade_no = ?", orderNo) == 20 &&
			sh.count("SELECT COUNT(*) FROM payment_notifications WHERE outcome = 'applied'") == 1
	})
}

// A notify lost entirely: the active query finds the payment and the order is paid.
func TestLostNotifyFoundByQuery(t *testing.T) {
	sh := newShop(t, map[string]string{"MINIMART_PAYMENT_QUERY_AFTER": "50ms", "MINIMART_SCHEDULE_INTERVAL": "20ms"})
	orderID, orderNo := sh.order(1)
	if r := sh.pay(orderID, "sandbox", "p"); r.Status != 201 {
		t.Fatal(r.Status, string(r.Body))
	}
	sh.markPaidAtProvider(orderNo)
	apptest.Eventually(t, "order paid by query", func() bool { return sh.orderStatus(orderID) == "paid" })
	apptest.Eventually(t, "stock sold", func() bool { return sh.level().Sold == 1 })
	if n := sh.count("SELECT COUNT(*) FROM payment_notifications"); n != 0 {
		t.Fatalf("%d notifies logged; none was sent", n)
	}
}

// A success notify for an order already cancelled: the money goes back automatically.
func TestPaymentForCancelledOrderIsRefunded(t *testing.T) {
	sh := newShop(t, nil)
	orderID, orderNo := sh.order(1)
	if r := sh.pay(orderID, "sandbox", "p"); r.Status != 201 {
		t.Fatal(r.Status, string(r.Body))
	}
	sh.must(200, "POST", "/api/v1/orders/"+orderID+"/cancel", sh.buyer, nil)
	apptest.Eventually(t, "payment closed", func() bool {
		pays, _ := sh.payments(orderID)
		return pays[0]["status"] == "closed"
	})
	// The buyer's payment went through at the provider regardless, and its notify arrives.
	sh.markPaidAtProvider(orderNo)
	body := notifyBody(t, orderNo, 3500, "success")
	if r := sh.sendNotify(sh.s.App.Sandbox.Sign(body, time.Now()), body); r.Status != 204 {
		t.Fatalf("notify: %d %s", r.Status, r.Body)
	}
	apptest.Eventually(t, "automatic refund succeeded", func() bool {
		_, refunds := sh.payments(orderID)
		return len(refunds) == 1 && refunds[0]["status"] == "succeeded" && refunds[0]["automatic"] == true &&
			refunds[0]["amount"] == float64(3500)
	})
	if got := sh.orderStatus(orderID); got != "cancelled" {
		t.Fatalf("order is %s", got)
	}
	if l := sh.level(); l.Sold != 0 || l.Available != initialStock {
		t.Fatalf("stock: %+v", l)
	}
}

// Money that arrives after the order's stock hold ran out (the timeout cancel did not run,
// and inventory may have released the stock) is returned, never taken against stock that
// may be gone.
func TestPaymentAfterStockHoldIsRefunded(t *testing.T) {
	sh := newShop(t, map[string]string{"MINIMART_SCHEDULE_INTERVAL": "1h"})
	orderID, orderNo := sh.order(1)
	if r := sh.pay(orderID, "sandbox", "p"); r.Status != 201 {
		t.Fatal(r.Status, string(r.Body))
	}
	if _, err := sh.db().Exec("UPDATE orders SET pay_deadline = ? WHERE order_no = ?",
		time.Now().UTC().Add(-time.Hour), orderNo); err != nil {
		t.Fatal(err)
	}
	sh.markPaidAtProvider(orderNo)
	body := notifyBody(t, orderNo, 3500, "success")
	if r := sh.sendNotify(sh.s.App.Sandbox.Sign(body, time.Now()), body); r.Status != 204 {
		t.Fatalf("notify: %d %s", r.Status, r.Body)
	}
	apptest.Eventually(t, "automatic refund succeeded", func() bool {
		_, refunds := sh.payments(orderID)
		return len(refunds) == 1 && refunds[0]["status"] == "succeeded" && refunds[0]["automatic"] == true
	})
	if got := sh.orderStatus(orderID); got != "pending_payment" {
		t.Fatalf("order is %s, want it left for the timeout to cancel", got)
	}
	if l := sh.level(); l.Sold != 0 {
		t.Fatalf("stock sold after the hold ran out: %+v", l)
	}
}
