package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/ids"
)

// The payment part of the contract script: a buyer pays an order through the built-in
// sandbox (initiate, the cashier's Fail and Pay, the signed notify that pays the order),
// providers' notifies are answered in their own format, staff read payments and the notify
// log and refund the order in two parts until it is refunded; then, on a second app whose
// database is gone, the endpoints' 500 and 503 answers.

type paymentJSON struct {
	ID            string
	OrderID       string `json:"order_id"`
	OrderNo       string `json:"order_no"`
	UserID        string `json:"user_id"`
	Provider      string
	Method        string
	Amount        int64
	Refunded      int64
	Status        string
	TransactionID string     `json:"transaction_id"`
	PaidAt        *time.Time `json:"paid_at"`
	ClosedAt      *time.Time `json:"closed_at"`
	PayURL        string     `json:"pay_url"`
	CodeURL       string     `json:"code_url"`
}

type refundJSON struct {
	ID               string
	PaymentID        string `json:"payment_id"`
	OrderNo          string `json:"order_no"`
	Amount           int64
	Reason           string
	Status           string
	Automatic        bool
	RequestedBy      string     `json:"requested_by"`
	ProviderRefundID string     `json:"provider_refund_id"`
	CompletedAt      *time.Time `json:"completed_at"`
}

type staffPaymentsJSON struct {
	Payments []paymentJSON
	Refunds  []refundJSON
}

type tradeJSON struct {
	OutTradeNo    string `json:"out_trade_no"`
	TransactionID string `json:"transaction_id"`
	Amount        int64
	Status        string
	Message       string
}

type paidOrderView struct {
	orderView
	PaymentID string `json:"payment_id"`
}

type notifyAck struct {
	Code    string
	Message string
}

// paymentErrorDetails is the details payment codes fill.
type paymentErrorDetails struct {
	Error struct {
		Code    string
		Details struct {
			Methods    []string
			Refundable *int64
			Fields     []struct{ Field string }
		}
	}
}

// keyedBodyErrors is bodyErrors for an endpoint that also requires an Idempotency-Key: every
// request carries one, so the document refuses only the part that is malformed on purpose.
// wrongToken is a valid token of the wrong kind or role.
func keyedBodyErrors(t *testing.T, h *harness, method, path, token, key string, good, wrongType map[string]any, wrongToken string) {
	t.Helper()
	hdr := http.Header{"Idempotency-Key": {key}}
	name := method + " " + path
	h.do(t, name+" bad JSON", call{method: method, path: path, token: token, header: hdr, raw: "{", hasRaw: true, want: 400, code: "invalid_json", specRejects: true})
	h.do(t, name+" empty body", call{method: method, path: path, token: token, header: hdr, raw: "", hasRaw: true, contentType: "application/json",
		want: 400, code: "empty_body", specRejects: true})
	h.do(t, name+" unknown field", call{method: method, path: path, token: token, header: hdr, body: with(good, "zzz", 1), want: 400, code: "unknown_field", specRejects: true})
	h.do(t, name+" wrong type", call{method: method, path: path, token: token, header: hdr, body: wrongType, want: 400, code: "wrong_type", specRejects: true})
	h.do(t, name+" text/plain", call{method: method, path: path, token: token, header: hdr, raw: "x", hasRaw: true, contentType: "text/plain",
		want: 415, code: "unsupported_media_type", specRejects: true})
	h.do(t, name+" over the limit", call{method: method, path: path, token: token, header: hdr, raw: `{"zzz":"` + strings.Repeat("x", 5000) + `"}`, hasRaw: true,
		want: 413, code: "body_too_large", specRejects: true})
	h.do(t, name+" without a token", call{method: method, path: path, header: hdr, body: good, want: 401, code: "missing_token", specRejects: true})
	h.do(t, name+" with a bad token", call{method: method, path: path, token: "not.a.jwt", header: hdr, body: good, want: 401, code: "invalid_token"})
	h.do(t, name+" with the wrong token", call{method: method, path: path, token: wrongToken, header: hdr, body: good, want: 403, code: "forbidden"})
}

// sandboxNotify is the JSON of a sandbox trade notify.
func sandboxNotify(t *testing.T, orderNo, transactionID string, amount int64) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"kind": "trade", "out_trade_no": orderNo, "transaction_id": transactionID,
		"state": "success", "amount": amount, "paid_at": time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testPayments drives every payment and sandbox cashier operation; admin is an
// administrator's token, operator an operator's.
func testPayments(t *testing.T, h *harness, admin, operator string) {
	const (
		get, post     = http.MethodGet, http.MethodPost
		orders        = "/api/v1/orders"
		notify        = "/api/v1/payments/notify/"
		notifications = "/api/v1/admin/payments/notifications"
	)
	ctx := t.Context()
	payments := func(id string) string { return orders + "/" + id + "/payments" }
	staffPayments := func(id string) string { return "/api/v1/admin/orders/" + id + "/payments" }
	refunds := func(id string) string { return "/api/v1/admin/orders/" + id + "/refunds" }
	// cashier is a trade's cashier path under a pay link the shop signed, as a pay_url has.
	cashier := func(orderNo string) string {
		u, err := url.Parse(h.app.Sandbox.CashierURL(orderNo, time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		return u.Path
	}
	key := func(k string) http.Header { return http.Header{"Idempotency-Key": {k}} }
	asJSON := http.Header{"Accept": {"application/json"}}
	exec := func(query string, args ...any) {
		t.Helper()
		if _, err := h.app.DB.Write().ExecContext(ctx, query, args...); err != nil {
			t.Fatal(err)
		}
	}

	// The shop: one tea at 25 yuan, a buyer with an address, and another buyer.
	cat := decode[category](t, h.do(t, "category", call{method: post, path: "/api/v1/admin/categories", token: admin, body: map[string]any{"name": "白茶"}, want: 201}))
	tea := decode[productView](t, h.do(t, "product", call{method: post, path: "/api/v1/admin/products", token: admin, body: map[string]any{
		"category_id": cat.ID, "title": "白毫银针", "skus": []map[string]any{{"price": 2500}}, "on_shelf": true}, want: 201}))
	sku := tea.SKUs[0].ID
	h.do(t, "stock", call{method: http.MethodPut, path: "/api/v1/admin/skus/" + sku + "/stock", token: admin, body: map[string]any{"stock": 50}, want: 200})
	register := func(name string) userLogin {
		return decode[userLogin](t, h.do(t, "register "+name, call{method: post, path: "/api/v1/auth/register",
			body: map[string]any{"username": name, "password": "payments2026"}, want: 201}))
	}
	gina, hank := register("gina"), register("hank")
	buyer, other := gina.Tokens.AccessToken, hank.Tokens.AccessToken
	addr := decode[address](t, h.do(t, "gina's address", call{method: post, path: "/api/v1/me/addresses", token: buyer, body: addressBody("吉娜", true), want: 201})).ID
	placed := 0
	place := func() orderView {
		t.Helper()
		placed++
		return decode[orderView](t, h.do(t, fmt.Sprintf("order %d", placed), call{method: post, path: orders, token: buyer, header: key(fmt.Sprintf("pay-order-%d", placed)),
			body: map[string]any{"items": []map[string]any{{"sku_id": sku, "quantity": 1}}, "address_id": addr}, want: 201}))
	}
	initiate := func(name, orderID, k string, body any, want int, code string, rejects bool) result {
		t.Helper()
		c := call{method: post, path: payments(orderID), token: buyer, body: body, want: want, code: code, specRejects: rejects}
		if k != "" {
			c.header = key(k)
		}
		return h.do(t, name, c)
	}
	orderOf := func(name, id string) paidOrderView {
		t.Helper()
		return decode[paidOrderView](t, h.do(t, name, call{method: get, path: orders + "/" + id, token: buyer, want: 200}))
	}
	tradeOf := func(name, orderNo string) tradeJSON {
		t.Helper()
		return decode[tradeJSON](t, h.do(t, name, call{method: get, path: cashier(orderNo), header: asJSON, want: 200}))
	}

	t.Run("methods", func(t *testing.T) {
		m := decode[struct{ Methods []string }](t, h.do(t, "methods", call{method: get, path: "/api/v1/payment-methods", want: 200}))
		if !slices.Equal(m.Methods, []string{"sandbox"}) {
			t.Errorf("methods = %v, want only the sandbox", m.Methods)
		}
	})

	first, unpaid := place(), place()
	var pay paymentJSON
	t.Run("initiate", func(t *testing.T) {
		r := initiate("initiate", first.ID, "pay-1", map[string]any{}, 201, "", false)
		pay = decode[paymentJSON](t, r)
		if pay.Method != "sandbox" || pay.Provider != "sandbox" || pay.Status != "pending" || pay.Amount != first.Payable || pay.Refunded != 0 ||
			pay.OrderID != first.ID || pay.OrderNo != first.OrderNo || pay.UserID != gina.User.ID || pay.TransactionID != "" ||
			!strings.Contains(pay.PayURL, "/sandbox/pay/"+first.OrderNo+"/") || r.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("initiated = %s", r.body)
		}
		r = initiate("the same again", first.ID, "pay-1", map[string]any{"method": "sandbox"}, 201, "", false)
		if again := decode[paymentJSON](t, r); again.ID != pay.ID || r.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay: Idempotent-Replayed %q, %s", r.header.Get("Idempotent-Replayed"), r.body)
		}
		r = initiate("a new key", first.ID, "pay-2", map[string]any{"method": "sandbox"}, 201, "", false)
		if again := decode[paymentJSON](t, r); again.ID != pay.ID || r.header.Get("Idempotent-Replayed") != "" || again.PayURL != pay.PayURL {
			t.Errorf("a new key for the same order answered another payment: %s", r.body)
		}
		initiate("the key for another order", unpaid.ID, "pay-1", map[string]any{}, 422, "idempotency_key_reused", false)

		initiate("no key", first.ID, "", map[string]any{}, 400, "idempotency_key_required", true)
		initiate("key over 64 bytes", first.ID, strings.Repeat("k", 65), map[string]any{}, 400, "idempotency_key_required", true)
		r = initiate("a method not offered", first.ID, "pay-3", map[string]any{"method": "wechat_jsapi"}, 400, "payment_method_unavailable", false)
		if d := decode[paymentErrorDetails](t, r).Error.Details; !slices.Equal(d.Methods, []string{"sandbox"}) {
			t.Errorf("payment_method_unavailable details: %s", r.body)
		}
		initiate("an unknown method", first.ID, "pay-3", map[string]any{"method": "bitcoin"}, 400, "payment_method_unavailable", true)
		initiate("an unknown order", "123", "pay-3", map[string]any{}, 404, "order_not_found", false)
		h.do(t, "another buyer's order", call{method: post, path: payments(first.ID), token: other, header: key("pay-3"), body: map[string]any{}, want: 404, code: "order_not_found"})
		initiate("bad id", "abc", "pay-3", map[string]any{}, 400, "invalid_parameter", true)
		initiate("id 0", "0", "pay-3", map[string]any{}, 400, "invalid_parameter", false)
		// The body is read before the key is looked at.
		h.do(t, "no key, bad JSON", call{method: post, path: payments(first.ID), token: buyer, raw: "{", hasRaw: true, want: 400, code: "invalid_json", specRejects: true})
		keyedBodyErrors(t, h, post, payments(first.ID), buyer, "pay-3", map[string]any{}, map[string]any{"method": 1}, admin)

		cancelled := place()
		h.do(t, "cancel", call{method: post, path: orders + "/" + cancelled.ID + "/cancel", token: buyer, want: 200})
		initiate("a cancelled order", cancelled.ID, "pay-4", map[string]any{}, 409, "order_not_payable", false)

		// An order past its deadline that the schedule has not cancelled yet (it runs every
		// 5 s; if it gets there first, the order is cancelled and not payable either).
		late := place()
		lateID, _ := ids.Parse(late.ID)
		exec("UPDATE orders SET pay_deadline = ? WHERE id = ?", time.Now().UTC().Add(-time.Minute), lateID)
		r = initiate("an order past its deadline", late.ID, "pay-5", map[string]any{}, 409, "", false)
		if code := decode[errorDetails](t, r).Error.Code; code != "payment_deadline_passed" && code != "order_not_payable" {
			t.Errorf("an order past its deadline: %s", r.body)
		}

		// The provider refuses: the sandbox already has this trade number with another amount.
		refused := place()
		exec(`INSERT INTO sandbox_trades (out_trade_no, transaction_id, amount, description, notify_url, status, expires_at, paid_at, created_at)
			VALUES (?, 'SBXplanted', 1, 'planted', 'http://127.0.0.1:1/', 'pending', ?, NULL, ?)`,
			refused.OrderNo, time.Now().UTC().Add(time.Hour), time.Now().UTC())
		initiate("the provider refuses", refused.ID, "pay-6", map[string]any{}, 503, "payment_provider_error", false)
	})

	t.Run("buyer list", func(t *testing.T) {
		list := decode[struct{ Items []paymentJSON }](t, h.do(t, "list", call{method: get, path: payments(first.ID), token: buyer, want: 200}))
		if len(list.Items) != 1 || list.Items[0].ID != pay.ID || list.Items[0].PayURL == "" {
			t.Errorf("payments = %+v", list.Items)
		}
		if r := h.do(t, "an order without payments", call{method: get, path: payments(unpaid.ID), token: buyer, want: 200}); !bytes.Contains(r.body, []byte(`"items":[]`)) {
			t.Errorf("no payments: %s", r.body)
		}
		h.do(t, "another buyer's order", call{method: get, path: payments(first.ID), token: other, want: 404, code: "order_not_found"})
		h.do(t, "an unknown order", call{method: get, path: payments("123"), token: buyer, want: 404, code: "order_not_found"})
		h.do(t, "bad id", call{method: get, path: payments("abc"), token: buyer, want: 400, code: "invalid_parameter", specRejects: true})
		buyerAuthErrors(t, h, get, payments(first.ID), nil, nil, admin)
	})

	var tx string
	t.Run("cashier", func(t *testing.T) {
		page := h.do(t, "page", call{method: get, path: cashier(first.OrderNo), want: 200})
		if !bytes.Contains(page.body, []byte(first.OrderNo)) || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") {
			t.Errorf("cashier page: %s", page.body)
		}
		tr := tradeOf("trade", first.OrderNo)
		if tr.Status != "pending" || tr.Amount != first.Payable || tr.OutTradeNo != first.OrderNo || tr.TransactionID == "" || tr.Message != "" {
			t.Errorf("trade = %+v", tr)
		}
		tx = tr.TransactionID
		h.do(t, "an unknown trade", call{method: get, path: cashier("nope"), want: 404, code: "trade_not_found"})
		payPath, _ := url.Parse(pay.PayURL)
		h.do(t, "the pay_url itself", call{method: get, path: payPath.Path, header: asJSON, want: 200})
		token := payPath.Path[strings.LastIndex(payPath.Path, "/")+1:]
		for name, path := range map[string]string{
			"another trade's link":    "/sandbox/pay/" + unpaid.OrderNo + "/" + token,
			"a made-up token":         "/sandbox/pay/" + first.OrderNo + "/4102444800.AAAA",
			"an expired link":         "/sandbox/pay/" + first.OrderNo + "/" + expiredToken(t, h, first.OrderNo),
			"a token without a dot":   "/sandbox/pay/" + first.OrderNo + "/nodot",
			"pay with a forged link":  "/sandbox/pay/" + first.OrderNo + "/4102444800.AAAA/pay",
			"fail with a forged link": "/sandbox/pay/" + first.OrderNo + "/4102444800.AAAA/fail",
		} {
			method := get
			if strings.HasSuffix(path, "/pay") || strings.HasSuffix(path, "/fail") {
				method = post
			}
			h.do(t, name, call{method: method, path: path, header: asJSON, want: 403, code: "pay_link_invalid"})
		}
		if tradeOf("after forged links", first.OrderNo).Status != "pending" {
			t.Error("a forged link changed the trade")
		}
		h.do(t, "an unknown trade as JSON", call{method: get, path: cashier("20990101000000000000000000001"), header: asJSON, want: 404, code: "trade_not_found"})

		failed := decode[tradeJSON](t, h.do(t, "fail", call{method: post, path: cashier(first.OrderNo) + "/fail", header: asJSON, want: 200}))
		if failed.Status != "pending" || failed.Message == "" {
			t.Errorf("failed = %+v", failed)
		}
		h.do(t, "fail, the page", call{method: post, path: cashier(first.OrderNo) + "/fail", want: 200})
		h.do(t, "fail an unknown trade", call{method: post, path: cashier("nope") + "/fail", want: 404, code: "trade_not_found"})
		h.do(t, "pay an unknown trade", call{method: post, path: cashier("nope") + "/pay", header: asJSON, want: 404, code: "trade_not_found"})

		expired := place()
		initiate("initiate, to expire", expired.ID, "pay-7", map[string]any{}, 201, "", false)
		exec("UPDATE sandbox_trades SET expires_at = ? WHERE out_trade_no = ?", time.Now().UTC().Add(-time.Minute), expired.OrderNo)
		h.do(t, "pay an expired trade", call{method: post, path: cashier(expired.OrderNo) + "/pay", header: asJSON, want: 409, code: "payment_expired"})

		closed := place()
		initiate("initiate, to cancel", closed.ID, "pay-8", map[string]any{}, 201, "", false)
		h.do(t, "cancel it", call{method: post, path: orders + "/" + closed.ID + "/cancel", token: buyer, want: 200})
		eventually(t, "the cancelled order's trade is closed", func() bool { return tradeOf("trade of a cancelled order", closed.OrderNo).Status == "closed" })
		h.do(t, "pay a closed trade", call{method: post, path: cashier(closed.OrderNo) + "/pay", header: asJSON, want: 409, code: "payment_closed"})

		paid := decode[tradeJSON](t, h.do(t, "pay", call{method: post, path: cashier(first.OrderNo) + "/pay", header: asJSON, want: 200}))
		if paid.Status != "success" || paid.Message == "" || paid.TransactionID != tx {
			t.Errorf("paid = %+v", paid)
		}
		eventually(t, "the order is paid by its payment", func() bool {
			o := orderOf("order after paying", first.ID)
			return o.Status == "paid" && o.PaymentID == pay.ID && o.PaidAt != nil
		})
		if again := decode[tradeJSON](t, h.do(t, "pay again", call{method: post, path: cashier(first.OrderNo) + "/pay", header: asJSON, want: 200})); again.Status != "success" {
			t.Errorf("paid again = %+v", again)
		}
		h.do(t, "pay again, the page", call{method: post, path: cashier(first.OrderNo) + "/pay", want: 200})

		// A replay answers the payment as it is now; a new key meets the paid order.
		r := initiate("replay after paying", first.ID, "pay-1", map[string]any{}, 201, "", false)
		if p := decode[paymentJSON](t, r); p.ID != pay.ID || p.Status != "succeeded" || p.TransactionID != tx || p.PaidAt == nil || r.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay after paying: %s", r.body)
		}
		initiate("pay a paid order", first.ID, "pay-9", map[string]any{}, 409, "order_not_payable", false)
	})

	t.Run("notify", func(t *testing.T) {
		send := func(name, provider string, header http.Header, body []byte, want int, code string) result {
			t.Helper()
			return h.do(t, name, call{method: post, path: notify + provider, header: header, raw: string(body), hasRaw: true, want: want, code: code})
		}
		good := sandboxNotify(t, first.OrderNo, tx, first.Payable)
		if r := send("a duplicate", "sandbox", h.app.Sandbox.Sign(good, time.Now()), good, 204, ""); len(r.body) != 0 {
			t.Errorf("accepted notify answered a body: %s", r.body)
		}
		wrong := sandboxNotify(t, first.OrderNo, tx, 1)
		r := send("another amount", "sandbox", h.app.Sandbox.Sign(wrong, time.Now()), wrong, 400, "")
		if ack := decode[notifyAck](t, r); ack.Code != "FAIL" || ack.Message == "" {
			t.Errorf("refused notify: %s", r.body)
		}
		send("unsigned", "sandbox", http.Header{"Content-Type": {"application/json"}}, good, 400, "")
		send("an old signature", "sandbox", h.app.Sandbox.Sign(good, time.Now().Add(-10*time.Minute)), good, 400, "")
		big := []byte(`{"kind":"trade","out_trade_no":"` + strings.Repeat("9", 5000) + `"}`)
		send("over the body limit", "sandbox", h.app.Sandbox.Sign(big, time.Now()), big, 400, "")
		send("an unknown provider", "paypal", nil, good, 404, "unknown_provider")
		send("a provider not configured", "wechat", nil, good, 404, "unknown_provider")
		if o := orderOf("order after the notifies", first.ID); o.Status != "paid" || o.PaymentID != pay.ID {
			t.Errorf("notifies changed the order: %+v", o)
		}
	})

	t.Run("staff reads", func(t *testing.T) {
		s := decode[staffPaymentsJSON](t, h.do(t, "payments", call{method: get, path: staffPayments(first.ID), token: operator, want: 200}))
		if len(s.Payments) != 1 || s.Payments[0].Status != "succeeded" || s.Payments[0].TransactionID != tx || s.Payments[0].PayURL != "" || len(s.Refunds) != 0 {
			t.Errorf("staff payments = %+v", s)
		}
		r := h.do(t, "an order without payments", call{method: get, path: staffPayments(unpaid.ID), token: admin, want: 200})
		if !bytes.Contains(r.body, []byte(`"payments":[]`)) || !bytes.Contains(r.body, []byte(`"refunds":[]`)) {
			t.Errorf("no payments: %s", r.body)
		}
		h.do(t, "an unknown order", call{method: get, path: staffPayments("123"), token: admin, want: 404, code: "order_not_found"})
		h.do(t, "bad id", call{method: get, path: staffPayments("abc"), token: admin, want: 400, code: "invalid_parameter", specRejects: true})
		authErrors(t, h, get, staffPayments(first.ID), nil, buyer)
	})

	t.Run("refunds", func(t *testing.T) {
		refund := func(name, orderID, token, k string, body any, want int, code string, rejects bool) result {
			t.Helper()
			c := call{method: post, path: refunds(orderID), token: token, body: body, want: want, code: code, specRejects: rejects}
			if k != "" {
				c.header = key(k)
			}
			return h.do(t, name, c)
		}
		part := map[string]any{"amount": 1000, "reason": "外包装破损 <b>!</b>"}
		r := refund("refund a part", first.ID, admin, "r-1", part, 201, "", false)
		r1 := decode[refundJSON](t, r)
		if r1.Amount != 1000 || r1.PaymentID != pay.ID || r1.OrderNo != first.OrderNo || r1.Automatic || r1.Reason != "外包装破损 <b>!</b>" ||
			!strings.HasPrefix(r1.RequestedBy, "staff:") || (r1.Status != "pending" && r1.Status != "succeeded") || r.header.Get("Idempotent-Replayed") != "" {
			t.Errorf("refund = %s", r.body)
		}
		r = refund("the same again", first.ID, admin, "r-1", part, 201, "", false)
		if again := decode[refundJSON](t, r); again.ID != r1.ID || r.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay: %s", r.body)
		}
		refund("the key with another amount", first.ID, admin, "r-1", with(part, "amount", 999), 422, "idempotency_key_reused", false)
		r = refund("more than is left", first.ID, admin, "r-2", with(part, "amount", first.Payable), 422, "refund_exceeds_paid", false)
		if left := decode[paymentErrorDetails](t, r).Error.Details.Refundable; left == nil || *left != first.Payable-1000 {
			t.Errorf("refund_exceeds_paid details: %s", r.body)
		}

		refund("amount 0", first.ID, admin, "r-2", with(part, "amount", 0), 400, "validation_failed", true)
		refund("a negative amount", first.ID, admin, "r-2", with(part, "amount", -5), 400, "validation_failed", true)
		refund("no reason", first.ID, admin, "r-2", with(part, "reason", nil), 400, "validation_failed", true)
		refund("a blank reason", first.ID, admin, "r-2", with(part, "reason", "   "), 400, "validation_failed", true)
		refund("a reason over 80 characters", first.ID, admin, "r-2", with(part, "reason", strings.Repeat("长", 81)), 400, "validation_failed", true)
		refund("no key", first.ID, admin, "", part, 400, "idempotency_key_required", true)
		refund("key over 64 bytes", first.ID, admin, strings.Repeat("k", 65), part, 400, "idempotency_key_required", true)
		refund("an unknown order", "123", admin, "r-2", part, 404, "order_not_found", false)
		refund("bad id", "abc", admin, "r-2", part, 400, "invalid_parameter", true)
		refund("id 0", "0", admin, "r-2", part, 400, "invalid_parameter", false)
		refund("an unpaid order", unpaid.ID, admin, "r-2", part, 409, "order_not_refundable", false)
		byHand := place()
		apptest.PayOrder(t, h.app, byHand.ID)
		refund("an order paid by hand", byHand.ID, admin, "r-2", part, 409, "order_not_paid", false)
		refund("as an operator", first.ID, operator, "r-2", part, 403, "forbidden", false)
		keyedBodyErrors(t, h, post, refunds(first.ID), admin, "r-2", part, with(part, "amount", "1000"), buyer)

		rest := first.Payable - 1000
		r3 := decode[refundJSON](t, refund("refund the rest", first.ID, admin, "r-3", map[string]any{"amount": rest, "reason": "退货"}, 201, "", false))
		if r3.Amount != rest || r3.ID == r1.ID {
			t.Errorf("the rest = %+v", r3)
		}
		eventually(t, "the order is refunded", func() bool { return orderOf("order after the refunds", first.ID).Status == "refunded" })
		refund("refund a refunded order", first.ID, admin, "r-4", with(part, "amount", 1), 409, "order_not_refundable", false)

		s := decode[staffPaymentsJSON](t, h.do(t, "payments after the refunds", call{method: get, path: staffPayments(first.ID), token: admin, want: 200}))
		if len(s.Payments) != 1 || s.Payments[0].Refunded != first.Payable || s.Payments[0].Status != "succeeded" || len(s.Refunds) != 2 {
			t.Fatalf("after the refunds: %+v", s)
		}
		for _, rf := range s.Refunds {
			if rf.Status != "succeeded" || rf.ProviderRefundID == "" || rf.CompletedAt == nil {
				t.Errorf("refund = %+v", rf)
			}
		}
		d := decode[struct {
			PaymentID string `json:"payment_id"`
			Status    string
			History   []struct{ To string }
		}](t, h.do(t, "staff order after the refunds", call{method: get, path: "/api/v1/admin/orders/" + first.ID, token: operator, want: 200}))
		var steps []string
		for _, s := range d.History {
			steps = append(steps, s.To)
		}
		if d.PaymentID != pay.ID || strings.Join(steps, " ") != "pending_payment paid refunding refunded" {
			t.Errorf("staff order: payment %s, history %v", d.PaymentID, steps)
		}
	})

	t.Run("notify log", func(t *testing.T) {
		path := notifications + "?out_trade_no=" + first.OrderNo
		var outcomes []string
		eventually(t, "the notifies are logged", func() bool {
			log := decode[struct {
				Items []struct {
					Provider, Kind, Outcome string
					Verified                bool
					OutTradeNo              string `json:"out_trade_no"`
				}
			}](t, h.do(t, "log", call{method: get, path: path, token: admin, want: 200}))
			outcomes = outcomes[:0]
			for _, n := range log.Items {
				if n.Provider != "sandbox" || n.OutTradeNo != first.OrderNo || !n.Verified {
					t.Fatalf("logged notify = %+v", n)
				}
				outcomes = append(outcomes, n.Kind+":"+n.Outcome)
			}
			// The sandbox's own payment notify and two refund notifies, the duplicate, the
			// other amount; the notifies that failed verification name no order.
			slices.Sort(outcomes)
			return strings.Join(outcomes, " ") == "refund:applied refund:applied trade:applied trade:duplicate trade:rejected"
		})
		if r := h.do(t, "an order number never notified", call{method: get, path: notifications + "?out_trade_no=nope", token: admin, want: 200}); !bytes.Contains(r.body, []byte(`"items":[]`)) {
			t.Errorf("nothing logged: %s", r.body)
		}
		// The notifies that failed verification are found by their outcome.
		refused := decode[struct {
			Items []struct {
				Outcome, Reason string
				Verified        bool
			}
		}](t, h.do(t, "refused notifies", call{method: get, path: notifications + "?outcome=rejected", token: admin, want: 200}))
		unverified := 0
		for _, n := range refused.Items {
			if n.Outcome != "rejected" || n.Reason == "" {
				t.Errorf("refused notify = %+v", n)
			}
			if !n.Verified {
				unverified++
			}
		}
		if unverified == 0 {
			t.Errorf("no unverified notify among the refused ones: %+v", refused.Items)
		}
		h.do(t, "an unknown outcome", call{method: get, path: notifications + "?outcome=maybe", token: admin, want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "neither out_trade_no nor outcome", call{method: get, path: notifications, token: admin, want: 400, code: "validation_failed"})
		h.do(t, "an empty out_trade_no", call{method: get, path: notifications + "?out_trade_no=", token: admin, want: 400, code: "validation_failed"})
		h.do(t, "a long out_trade_no", call{method: get, path: notifications + "?out_trade_no=" + strings.Repeat("9", 65), token: admin, want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "as an operator", call{method: get, path: path, token: operator, want: 403, code: "forbidden"})
		authErrors(t, h, get, path, nil, buyer)
	})

	// Without its database the payment endpoints fail as internal errors; the sandbox's
	// cashier, a provider, says it cannot read its books (503) where it reads them.
	t.Run("without a database", func(t *testing.T) {
		h2 := newHarness(t, h.c, nil)
		ghostBuyer := tokenFor(t, auth.Principal{ID: ids.ID(4545), Audience: auth.AudienceBuyer})
		ghostAdmin := tokenFor(t, auth.Principal{ID: ids.ID(4545), Audience: auth.AudienceStaff, Role: auth.RoleAdmin})
		// Only the database goes away; the app keeps running around it (its notify log too).
		if err := h2.app.DB.Close(); err != nil {
			t.Fatal(err)
		}
		h2.do(t, "initiate", call{method: post, path: payments("123"), token: ghostBuyer, header: key("k"), body: map[string]any{}, want: 500, code: "internal"})
		h2.do(t, "buyer list", call{method: get, path: payments("123"), token: ghostBuyer, want: 500, code: "internal"})
		h2.do(t, "staff list", call{method: get, path: staffPayments("123"), token: ghostAdmin, want: 500, code: "internal"})
		h2.do(t, "refund", call{method: post, path: refunds("123"), token: ghostAdmin, header: key("k"), body: map[string]any{"amount": 1, "reason": "x"}, want: 500, code: "internal"})
		h2.do(t, "notify log", call{method: get, path: notifications + "?out_trade_no=x", token: ghostAdmin, want: 500, code: "internal"})
		h2.do(t, "cashier", call{method: get, path: cashier("x"), header: asJSON, want: 503, code: "payment_provider_error"})
		h2.do(t, "cashier fail", call{method: post, path: cashier("x") + "/fail", want: 503, code: "payment_provider_error"})
		h2.do(t, "cashier pay", call{method: post, path: cashier("x") + "/pay", want: 500, code: "internal"})
		body := sandboxNotify(t, "20990101000000000000000000001", "SBX", 1)
		r := h2.do(t, "notify", call{method: post, path: notify + "sandbox", header: h2.app.Sandbox.Sign(body, time.Now()), raw: string(body), hasRaw: true, want: 500})
		if ack := decode[notifyAck](t, r); ack.Code != "FAIL" {
			t.Errorf("a notify the shop could not record: %s", r.body)
		}
	})
}

// expiredToken is a link token for orderNo, signed by the shop, whose time ran out.
func expiredToken(t *testing.T, h *harness, orderNo string) string {
	t.Helper()
	u, err := url.Parse(h.app.Sandbox.CashierURL(orderNo, time.Now().Add(-2*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	return u.Path[strings.LastIndex(u.Path, "/")+1:]
}
