package api_test

import (
	"net/http"
	"testing"
	"time"
)

// The flash-sale part of the contract script: staff create, list, read and cancel sales;
// buyers list them, try them (with the Idempotency-Key rules) and follow their attempts.

type flashSaleView struct {
	ID        string
	Status    string
	Remaining int
}

type flashAttemptView struct {
	AttemptID string `json:"attempt_id"`
	Status    string
	OrderID   string `json:"order_id"`
}

// testFlashSales drives every flash-sale operation; staff is an admin's token and operator
// an operator's.
func testFlashSales(t *testing.T, h *harness, staff, operator string) {
	const (
		get, post = http.MethodGet, http.MethodPost
		admin     = "/api/v1/admin/flash-sales"
		public    = "/api/v1/flash-sales"
	)
	cat := decode[category](t, h.do(t, "category", call{method: post, path: "/api/v1/admin/categories", token: staff, body: map[string]any{"name": "秒杀"}, want: 201}))
	phone := decode[productView](t, h.do(t, "phone", call{method: post, path: "/api/v1/admin/products", token: staff, body: map[string]any{
		"category_id": cat.ID, "title": "秒杀手机", "skus": []map[string]any{{"price": 199900}}, "on_shelf": true}, want: 201}))
	boxed := decode[productView](t, h.do(t, "off-shelf product", call{method: post, path: "/api/v1/admin/products", token: staff, body: map[string]any{
		"category_id": cat.ID, "title": "下架商品", "skus": []map[string]any{{"price": 100}}}, want: 201}))
	sku, offShelf := phone.SKUs[0].ID, boxed.SKUs[0].ID
	h.do(t, "stock", call{method: http.MethodPut, path: "/api/v1/admin/skus/" + sku + "/stock", token: staff, body: map[string]any{"stock": 10}, want: 200})

	register := func(name string) userLogin {
		return decode[userLogin](t, h.do(t, "register "+name, call{method: post, path: "/api/v1/auth/register",
			body: map[string]any{"username": name, "password": "flash2024"}, want: 201}))
	}
	gus, hal := register("gus"), register("hal")
	buyer, other := gus.Tokens.AccessToken, hal.Tokens.AccessToken
	addr := decode[address](t, h.do(t, "gus's address", call{method: post, path: "/api/v1/me/addresses", token: buyer, body: addressBody("格斯", false), want: 201})).ID
	otherAddr := decode[address](t, h.do(t, "hal's address", call{method: post, path: "/api/v1/me/addresses", token: other, body: addressBody("哈尔", false), want: 201})).ID

	now := time.Now().UTC()
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	good := map[string]any{"sku_id": sku, "price": 99900, "quantity": 2, "per_user_limit": 1, "starts_at": at(0), "ends_at": at(time.Hour)}
	sale := decode[flashSaleView](t, h.do(t, "create", call{method: post, path: admin, token: operator, body: good, want: 201}))
	if sale.Status != "active" || sale.Remaining != 2 {
		t.Errorf("new sale %+v", sale)
	}
	upcoming := decode[flashSaleView](t, h.do(t, "create upcoming", call{method: post, path: admin, token: staff,
		body: with(good, "quantity", 1, "starts_at", at(2*time.Hour), "ends_at", at(3*time.Hour)), want: 201}))
	h.do(t, "create: price 0", call{method: post, path: admin, token: staff, body: with(good, "price", 0), want: 400, code: "validation_failed"})
	h.do(t, "create: limit 0", call{method: post, path: admin, token: staff, body: with(good, "per_user_limit", 0), want: 400,
		code: "validation_failed", specRejects: true})
	h.do(t, "create: reversed times", call{method: post, path: admin, token: staff, body: with(good, "starts_at", at(3*time.Hour), "ends_at", at(2*time.Hour)),
		want: 400, code: "validation_failed"})
	h.do(t, "create: unknown SKU", call{method: post, path: admin, token: staff, body: with(good, "sku_id", "123"), want: 400, code: "validation_failed"})
	h.do(t, "create: off shelf", call{method: post, path: admin, token: staff, body: with(good, "sku_id", offShelf), want: 409, code: "sku_unavailable"})
	h.do(t, "create: overlapping", call{method: post, path: admin, token: staff, body: good, want: 409, code: "flash_sale_overlap"})
	h.do(t, "create: over the stock", call{method: post, path: admin, token: staff, body: with(good, "quantity", 50, "starts_at", at(4*time.Hour),
		"ends_at", at(5*time.Hour)), want: 409, code: "out_of_stock"})
	bodyErrors(t, h, post, admin, staff, good, with(good, "quantity", "2"), buyer)

	h.do(t, "list", call{method: get, path: admin + "?status=active,upcoming&limit=1", token: staff, want: 200})
	h.do(t, "list over the cap", call{method: get, path: admin + "?limit=500", token: operator, want: 200})
	h.do(t, "list: bad status", call{method: get, path: admin + "?status=running", token: staff, want: 400, code: "validation_failed"})
	h.do(t, "list: bad limit", call{method: get, path: admin + "?limit=0", token: staff, want: 400, code: "invalid_parameter", specRejects: true})
	authErrors(t, h, get, admin, nil, buyer)
	h.do(t, "get", call{method: get, path: admin + "/" + sale.ID, token: staff, want: 200})
	h.do(t, "get unknown", call{method: get, path: admin + "/123", token: staff, want: 404, code: "flash_sale_not_found"})
	h.do(t, "get bad id", call{method: get, path: admin + "/abc", token: staff, want: 400, code: "invalid_parameter", specRejects: true})
	authErrors(t, h, get, admin+"/"+sale.ID, nil, buyer)
	if list := decode[struct{ Items []flashSaleView }](t, h.do(t, "public list", call{method: get, path: public, want: 200})); len(list.Items) != 2 {
		t.Errorf("public list %+v, want the active and the upcoming sale", list.Items)
	}

	attempts := public + "/" + sale.ID + "/attempts"
	key := func(k string) http.Header { return http.Header{"Idempotency-Key": {k}} }
	body := map[string]any{"quantity": 1, "address_id": addr}
	first := h.do(t, "attempt", call{method: post, path: attempts, token: buyer, header: key("f1"), body: body, want: 202})
	again := h.do(t, "attempt again", call{method: post, path: attempts, token: buyer, header: key("f1"), body: body, want: 202})
	a1, a2 := decode[flashAttemptView](t, first), decode[flashAttemptView](t, again)
	if a1.Status != "accepted" || a1.AttemptID != a2.AttemptID || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %s / %s", first.body, again.body)
	}
	h.do(t, "attempt: key reused", call{method: post, path: attempts, token: buyer, header: key("f1"), body: with(body, "quantity", nil), want: 202})
	h.do(t, "attempt: key reused, other body", call{method: post, path: attempts, token: buyer, header: key("f1"),
		body: map[string]any{"quantity": 1, "address_id": otherAddr}, want: 422, code: "idempotency_key_reused"})
	h.do(t, "attempt: over the limit", call{method: post, path: attempts, token: buyer, header: key("f2"), body: body, want: 409, code: "limit_reached"})
	h.do(t, "attempt: quantity 0", call{method: post, path: attempts, token: other, header: key("q0"), body: map[string]any{"quantity": 0, "address_id": otherAddr},
		want: 400, code: "validation_failed", specRejects: true})
	h.do(t, "attempt: another buyer's address", call{method: post, path: attempts, token: other, header: key("o1"), body: body, want: 404, code: "address_not_found"})
	h.do(t, "attempt: no key", call{method: post, path: attempts, token: other, body: body, want: 400, code: "idempotency_key_required", specRejects: true})
	h.do(t, "attempt: unknown sale", call{method: post, path: public + "/123/attempts", token: other, header: key("u1"),
		body: map[string]any{"address_id": otherAddr}, want: 404, code: "flash_sale_not_found"})
	h.do(t, "attempt: bad sale id", call{method: post, path: public + "/abc/attempts", token: other, header: key("u2"),
		body: map[string]any{"address_id": otherAddr}, want: 400, code: "invalid_parameter", specRejects: true})
	h.do(t, "attempt: not started", call{method: post, path: public + "/" + upcoming.ID + "/attempts", token: other, header: key("n1"),
		body: map[string]any{"address_id": otherAddr}, want: 409, code: "not_started"})
	h.do(t, "attempt: hal", call{method: post, path: attempts, token: other, header: key("h1"), body: map[string]any{"address_id": otherAddr}, want: 202})
	third := register("ivy")
	ivyAddr := decode[address](t, h.do(t, "ivy's address", call{method: post, path: "/api/v1/me/addresses", token: third.Tokens.AccessToken, body: addressBody("艾薇", false), want: 201})).ID
	h.do(t, "attempt: sold out", call{method: post, path: attempts, token: third.Tokens.AccessToken, header: key("i1"),
		body: map[string]any{"address_id": ivyAddr}, want: 409, code: "sold_out"})
	keyedBodyErrors(t, h, post, attempts, other, "bodies", body, with(body, "quantity", "1"), staff)

	attempt := public + "/attempts/" + a1.AttemptID
	deadline := time.Now().Add(10 * time.Second)
	for decode[flashAttemptView](t, h.do(t, "attempt status", call{method: get, path: attempt, token: buyer, want: 200})).Status != "ordered" {
		if time.Now().After(deadline) {
			t.Fatal("the accepted attempt has no order after 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.do(t, "another buyer's attempt", call{method: get, path: attempt, token: other, want: 404, code: "flash_attempt_not_found"})
	h.do(t, "attempt: bad id", call{method: get, path: public + "/attempts/abc", token: buyer, want: 400, code: "invalid_parameter", specRejects: true})
	buyerAuthErrors(t, h, get, attempt, nil, nil, staff)

	h.do(t, "cancel", call{method: post, path: admin + "/" + upcoming.ID + "/cancel", token: operator, want: 200})
	h.do(t, "cancel again", call{method: post, path: admin + "/" + upcoming.ID + "/cancel", token: staff, want: 409, code: "flash_sale_not_cancellable"})
	h.do(t, "cancel unknown", call{method: post, path: admin + "/123/cancel", token: staff, want: 404, code: "flash_sale_not_found"})
	h.do(t, "cancel bad id", call{method: post, path: admin + "/abc/cancel", token: staff, want: 400, code: "invalid_parameter", specRejects: true})
	authErrors(t, h, post, admin+"/"+upcoming.ID+"/cancel", nil, buyer)
	h.do(t, "attempt: cancelled", call{method: post, path: public + "/" + upcoming.ID + "/attempts", token: other, header: key("c1"),
		body: map[string]any{"address_id": otherAddr}, want: 409, code: "sale_cancelled"})
}
