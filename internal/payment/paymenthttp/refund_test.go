package paymenthttp_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/payment"
)

// paidOrder is an order paid through the sandbox cashier.
func (sh *shop) paidOrder(qty int) (id, orderNo string) {
	sh.t.Helper()
	id, orderNo = sh.order(qty)
	r := sh.pay(id, "sandbox", "pay-"+id)
	if r.Status != 201 {
		sh.t.Fatalf("initiate: %d %s", r.Status, r.Body)
	}
	var p map[string]any
	r.Decode(sh.t, &p)
	sh.mustWith(200, "POST", pathOf(p["pay_url"].(string))+"/pay", "", nil, map[string]string{"Accept": "application/json"})
	apptest.Eventually(sh.t, "order paid", func() bool { return sh.orderStatus(id) == "paid" })
	return id, orderNo
}

func (sh *shop) refund(orderID, key string, amount int64, reason string) apptest.Response {
	return sh.s.DoWith("POST", "/api/v1/admin/orders/"+orderID+"/refunds", sh.admin,
		map[string]any{"amount": amount, "reason": reason}, map[string]string{"Idempotency-Key": key})
}

func TestRefunds(t *testing.T) {
	sh := newShop(t, nil)
	orderID, _ := sh.paidOrder(1) // 3500 fen

	part := sh.refund(orderID, "r1", 1000, "少发一包")
	if part.Status != 201 {
		t.Fatalf("partial refund: %d %s", part.Status, part.Body)
	}
	if again := sh.refund(orderID, "r1", 1000, "少发一包"); again.Status != 201 || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replayed refund: %d %v", again.Status, again.Header)
	}
	if r := sh.refund(orderID, "r1", 900, "少发一包"); r.Status != 422 || r.ErrorCode() != "idempotency_key_reused" {
		t.Fatalf("key reused: %d %s", r.Status, r.Body)
	}
	apptest.Eventually(t, "partial refund settled by its notify", func() bool {
		_, refunds := sh.payments(orderID)
		return len(refunds) == 1 && refunds[0]["status"] == "succeeded"
	})
	if got := sh.orderStatus(orderID); got != "paid" {
		t.Fatalf("after a partial refund the order is %s, want paid", got)
	}
	if r := sh.refund(orderID, "r2", 2501, "多退"); r.Status != 422 || r.ErrorCode() != "refund_exceeds_paid" {
		t.Fatalf("over-refund: %d %s", r.Status, r.Body)
	}
	for _, bad := range []struct {
		amount int64
		reason string
	}{{0, "x"}, {-5, "x"}, {100, ""}} {
		if r := sh.refund(orderID, "bad", bad.amount, bad.reason); r.Status != 400 || r.ErrorCode() != "validation_failed" {
			t.Fatalf("refund %+v: %d %s", bad, r.Status, r.Body)
		}
	}
	rest := sh.refund(orderID, "r3", 2500, "整单退款")
	if rest.Status != 201 {
		t.Fatalf("rest: %d %s", rest.Status, rest.Body)
	}
	apptest.Eventually(t, "order refunded", func() bool { return sh.orderStatus(orderID) == "refunded" })
	pays, refunds := sh.payments(orderID)
	if pays[0]["refunded"] != float64(3500) || len(refunds) != 2 {
		t.Fatalf("payments %v refunds %v", pays, refunds)
	}
	if r := sh.refund(orderID, "r4", 1, "再退"); r.Status != 409 || r.ErrorCode() != "order_not_refundable" {
		t.Fatalf("refund a refunded order: %d %s", r.Status, r.Body)
	}

	unpaid, _ := sh.order(1)
	if r := sh.refund(unpaid, "r5", 100, "x"); r.Status != 409 || r.ErrorCode() != "order_not_refundable" {
		t.Fatalf("refund an unpaid order: %d %s", r.Status, r.Body)
	}
	if r := sh.s.DoWith("POST", "/api/v1/admin/orders/"+orderID+"/refunds", sh.staff, map[string]any{"amount": 1, "reason": "x"},
		map[string]string{"Idempotency-Key": "op"}); r.Status != 403 {
		t.Fatalf("operator refund: %d %s", r.Status, r.Body)
	}
}

// The sandbox's bill agrees with our books after payments and refunds; a payment the
// provider has and we do not is reported.
func TestReconcileSandbox(t *testing.T) {
	sh := newShop(t, nil)
	orderID, orderNo := sh.paidOrder(1)
	if r := sh.refund(orderID, "r1", 500, "补偿"); r.Status != 201 {
		t.Fatal(r.Status, string(r.Body))
	}
	apptest.Eventually(t, "refund settled", func() bool {
		_, refunds := sh.payments(orderID)
		return refunds[0]["status"] == "succeeded"
	})
	ctx := context.Background()
	today := time.Now()
	rec, err := sh.s.App.Payments.Reconcile(ctx, today)
	if err != nil || len(rec.Mismatches) != 0 || rec.Matched != 2 {
		t.Fatalf("reconcile = %+v, %v; want the payment and the refund matched", rec, err)
	}
	if _, err := sh.db().Exec(`INSERT INTO sandbox_trades (out_trade_no, transaction_id, amount, description, notify_url,
		status, expires_at, paid_at, created_at) VALUES ('STRAY1', 'SBXSTRAY', 777, 'x', 'http://x', 'success', ?, ?, ?)`,
		today.UTC(), today.UTC(), today.UTC()); err != nil {
		t.Fatal(err)
	}
	rec, err = sh.s.App.Payments.Reconcile(ctx, today)
	got := rec.Mismatches
	if err != nil || rec.Matched != 2 || len(got) != 1 || got[0].OutTradeNo != "STRAY1" || got[0].Problem != payment.ProblemMissingHere || got[0].Theirs != 777 {
		t.Fatalf("reconcile = %+v, %v", rec, err)
	}

	// The provider's books disagree on an amount, and lose a payment and a refund of ours.
	_, otherNo := sh.paidOrder(1)
	for _, q := range []string{
		"UPDATE sandbox_trades SET amount = 3400 WHERE out_trade_no = '" + orderNo + "'",
		"DELETE FROM sandbox_refunds",
		"DELETE FROM sandbox_trades WHERE out_trade_no IN ('STRAY1', '" + otherNo + "')",
	} {
		if _, err := sh.db().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	rec, err = sh.s.App.Payments.Reconcile(ctx, today)
	if err != nil {
		t.Fatal(err)
	}
	got = rec.Mismatches
	if rec.Matched != 0 {
		t.Fatalf("reconcile = %+v, want nothing matched", rec)
	}
	want := map[string]payment.Mismatch{
		orderNo + " " + payment.ProblemAmount:         {Theirs: 3400, Ours: 3500},
		otherNo + " " + payment.ProblemMissingThere:   {Ours: 3500},
		orderNo + " " + payment.ProblemRefundNotThere: {Ours: 500},
	}
	if len(got) != len(want) {
		t.Fatalf("reconcile = %+v, want %d mismatches", got, len(want))
	}
	for _, m := range got {
		w, ok := want[m.OutTradeNo+" "+m.Problem]
		if !ok || m.Theirs != w.Theirs || m.Ours != w.Ours {
			t.Fatalf("unexpected mismatch %+v", m)
		}
	}
}

// Ten refund requests with one key at once: one refund at the provider, ten identical
// answers.
func TestConcurrentRefundRetries(t *testing.T) {
	sh := newShop(t, nil)
	orderID, orderNo := sh.paidOrder(1)
	var wg sync.WaitGroup
	answers := make([]apptest.Response, 10)
	for i := range answers {
		wg.Go(func() { answers[i] = sh.refund(orderID, "same-key", 700, "运费补偿") })
	}
	wg.Wait()
	var first string
	for i, r := range answers {
		var ref struct{ ID string }
		r.Decode(t, &ref)
		if r.Status != 201 || (first != "" && ref.ID != first) {
			t.Fatalf("answer %d: %d %s (first refund %s)", i, r.Status, r.Body, first)
		}
		first = ref.ID
	}
	apptest.Eventually(t, "refund settled", func() bool {
		_, refunds := sh.payments(orderID)
		return len(refunds) == 1 && refunds[0]["status"] == "succeeded"
	})
	if n := sh.count("SELECT COUNT(*) FROM sandbox_refunds WHERE out_trade_no = ?", orderNo); n != 1 {
		t.Fatalf("%d refunds at the provider, want 1", n)
	}
	// The key now belongs to that refund: another amount with it is refused.
	if r := sh.refund(orderID, "same-key", 800, "运费补偿"); r.Status != 422 || r.ErrorCode() != "idempotency_key_reused" {
		t.Fatalf("key reused: %d %s", r.Status, r.Body)
	}
}
