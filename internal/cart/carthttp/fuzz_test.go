package carthttp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzCartRequests throws arbitrary bodies at every cart endpoint that takes one: whatever
// arrives, the answer is JSON, never a 500, and a 2xx only for well-formed input.
func FuzzCartRequests(f *testing.F) {
	seeds := []string{
		`{"sku_id":"101","quantity":2}`, `{"sku_id":101}`, `{"sku_id":"101","quantity":"2"}`,
		`{"sku_id":"99999999999999999999","quantity":1}`, `{"sku_id":"101","quantity":1e3}`,
		`{"quantity":3}`, `{"selected":false}`, `{"quantity":2,"selected":true}`,
		`{"sku_ids":["101","102"],"selected":true}`, `{"sku_ids":[],"selected":false}`, `{"sku_ids":null,"selected":true}`,
		`{}`, `[]`, `null`, `"str"`, `{"a":`, "\x00\xff", ``, `{"sku_id":"101","sku_id":"102"}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	fx := newFixture(f)
	token := fx.buyer(7)
	targets := []struct{ method, path string }{
		{"POST", "/api/v1/cart/items"}, {"PUT", "/api/v1/cart/items/101"}, {"POST", "/api/v1/cart/selection"},
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, tg := range targets {
			req := httptest.NewRequest(tg.method, tg.path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			fx.h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s %q: status %d: %s", tg.method, tg.path, body, rec.Code, rec.Body)
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s %s %q: answer is not JSON: %q", tg.method, tg.path, body, rec.Body)
			}
			if rec.Code < 300 && !json.Valid([]byte(body)) {
				t.Fatalf("%s %s accepted invalid JSON %q", tg.method, tg.path, body)
			}
			if rec.Code != http.StatusOK && rec.Code < 400 {
				t.Fatalf("%s %s %q: unexpected status %d", tg.method, tg.path, body, rec.Code)
			}
		}
	})
}
