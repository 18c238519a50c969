package api_test

import (
	"net/http"
	"testing"
)

// TestRateLimitedAnswersFollowTheContract takes every rate-limited operation past a limit of
// one request a minute and checks the refusal against the document: the 429 is documented
// for the operation with Retry-After, and rate_limited is among its codes.
func TestRateLimitedAnswersFollowTheContract(t *testing.T) {
	env := map[string]string{}
	for _, v := range []string{"REGISTER", "LOGIN", "REFRESH", "SEARCH", "ORDER", "ORDER_IP", "PAYMENT", "PAYMENT_IP"} {
		env["MINIMART_RATELIMIT_"+v] = "1/1m"
	}
	h := newHarness(t, newContract(t), env)
	const post, get = http.MethodPost, http.MethodGet
	limited := func(name string, c call) {
		t.Helper()
		c.want, c.code = http.StatusTooManyRequests, "rate_limited"
		if r := h.do(t, name, c); r.header.Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After", name)
		}
	}

	register := call{method: post, path: "/api/v1/auth/register", body: map[string]any{"username": "limited", "password": "sunflower7"}}
	reg := register
	reg.want = http.StatusCreated
	buyer := decode[userLogin](t, h.do(t, "register", reg)).Tokens.AccessToken
	limited("register again", register)

	h.do(t, "login", call{method: post, path: "/api/v1/auth/login", body: map[string]any{"username": "limited", "password": "wrongpass1"},
		want: http.StatusUnauthorized, code: "invalid_credentials"})
	limited("login again", call{method: post, path: "/api/v1/auth/login", body: map[string]any{"username": "limited", "password": "sunflower7"}})
	limited("wechat login after a login", call{method: post, path: "/api/v1/auth/wechat", body: map[string]any{"code": "c"}})
	limited("staff login after a login", call{method: post, path: "/api/v1/admin/auth/login", body: map[string]any{"username": "ops", "password": "x"}})

	refresh := call{method: post, path: "/api/v1/auth/refresh", body: map[string]any{"refresh_token": "nope"}}
	first := refresh
	first.want, first.code = http.StatusUnauthorized, "invalid_refresh_token"
	h.do(t, "refresh", first)
	limited("refresh again", refresh)

	h.do(t, "search", call{method: get, path: "/api/v1/search?q=phone", want: http.StatusOK})
	limited("search again", call{method: get, path: "/api/v1/search?q=phone"})

	order := call{method: post, path: "/api/v1/orders", token: buyer, header: http.Header{"Idempotency-Key": {"k1"}},
		body: map[string]any{"items": []map[string]any{{"sku_id": "123", "quantity": 1}}, "address_id": "456"}}
	first = order
	first.want, first.code = http.StatusNotFound, "address_not_found"
	h.do(t, "order", first)
	limited("order again", order)

	pay := call{method: post, path: "/api/v1/orders/123/payments", token: buyer, header: http.Header{"Idempotency-Key": {"p1"}},
		body: map[string]any{"method": "sandbox"}}
	first = pay
	first.want, first.code = http.StatusNotFound, "order_not_found"
	h.do(t, "payment", first)
	limited("payment again", pay)
}
