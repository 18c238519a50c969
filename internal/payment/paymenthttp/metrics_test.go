package paymenthttp_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/minimart/minimart/internal/apptest"
)

// metric is the value of one series (name with its labels, as exported) on the operator
// listener's /metrics; -1 when there is no such series.
func (sh *shop) metric(series string) float64 {
	sh.t.Helper()
	r := sh.s.Ops("/metrics")
	if r.Status != 200 {
		sh.t.Fatalf("ops /metrics: %d", r.Status)
	}
	for _, line := range strings.Split(string(r.Body), "\n") {
		if value, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				sh.t.Fatalf("%s: %v", line, err)
			}
			return v
		}
	}
	return -1
}

// Orders are counted, with their amounts, by the state they reach, once it is committed: a
// replayed create, a refused one and a duplicate notify count nothing more. The series
// exist at zero before the first order.
func TestBusinessMetrics(t *testing.T) {
	sh := newShop(t, nil)
	want := func(what string, series string, v float64) {
		t.Helper()
		if got := sh.metric(series); got != v {
			t.Errorf("%s: %s = %v, want %v", what, series, got, v)
		}
	}
	for _, state := range []string{"created", "paid", "cancelled", "refunded"} {
		want("at start", `minimart_orders_total{state="`+state+`"}`, 0)
		want("at start", `minimart_orders_fen_total{state="`+state+`"}`, 0)
	}
	want("at start", `minimart_payment_notifies_total{outcome="rejected",provider="sandbox"}`, 0)
	want("at start", "minimart_inventory_out_of_stock_total", 0)

	paidID, _ := sh.paidOrder(1) // 2500 + 1000 shipping
	want("paid order", `minimart_orders_total{state="created"}`, 1)
	want("paid order", `minimart_orders_fen_total{state="created"}`, 3500)
	want("paid order", `minimart_orders_total{state="paid"}`, 1)
	want("paid order", `minimart_orders_fen_total{state="paid"}`, 3500)
	if n := sh.metric(`minimart_payment_notifies_total{outcome="applied",provider="sandbox"}`); n < 1 {
		t.Errorf("sandbox notifies applied = %v, want at least the payment's", n)
	}

	body := map[string]any{"items": []map[string]any{{"sku_id": sh.sku, "quantity": 2}}, "address_id": sh.address}
	o := sh.mustWith(201, "POST", "/api/v1/orders", sh.buyer, body, map[string]string{"Idempotency-Key": "metrics-twice"})
	sh.mustWith(201, "POST", "/api/v1/orders", sh.buyer, body, map[string]string{"Idempotency-Key": "metrics-twice"})
	sh.must(200, "POST", "/api/v1/orders/"+o["id"].(string)+"/cancel", sh.buyer, nil)
	want("a replayed create and a cancel", `minimart_orders_total{state="created"}`, 2)
	want("a replayed create and a cancel", `minimart_orders_fen_total{state="created"}`, 3500+6000)
	want("a replayed create and a cancel", `minimart_orders_total{state="cancelled"}`, 1)
	want("a replayed create and a cancel", `minimart_orders_fen_total{state="cancelled"}`, 6000)

	if r := sh.s.DoWith("POST", "/api/v1/orders", sh.buyer, map[string]any{
		"items": []map[string]any{{"sku_id": sh.sku, "quantity": initialStock + 1}}, "address_id": sh.address},
		map[string]string{"Idempotency-Key": "metrics-too-many"}); r.Status != 409 || r.ErrorCode() != "out_of_stock" {
		t.Fatalf("order above the stock: %d %s", r.Status, r.Body)
	}
	want("out of stock", "minimart_inventory_out_of_stock_total", 1)
	want("out of stock", `minimart_orders_total{state="created"}`, 2)

	if r := sh.refund(paidID, "metrics-refund", 3500, "整单退款"); r.Status != 201 {
		t.Fatalf("refund: %d %s", r.Status, r.Body)
	}
	apptest.Eventually(t, "order refunded", func() bool { return sh.orderStatus(paidID) == "refunded" })
	want("refund", `minimart_orders_total{state="refunded"}`, 1)
	want("refund", `minimart_orders_fen_total{state="refunded"}`, 3500)
	want("refund", `minimart_orders_total{state="paid"}`, 1)
}
