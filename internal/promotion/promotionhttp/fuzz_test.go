package promotionhttp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// FuzzFlashSaleRequests throws arbitrary bodies at the two flash-sale endpoints that take
// one, an attempt and a new sale, through the whole app: whatever arrives, the answer is
// JSON, never a 500, and a 2xx only for well-formed input.
func FuzzFlashSaleRequests(f *testing.F) {
	sh := newShop(f, nil, 1_000_000)
	b := sh.buyers("f", 1)[0]
	saleID := sh.sale(90_000, 99, 1, time.Hour)
	later := time.Now().Add(2 * time.Hour).UTC()
	seeds := []string{
		`{"quantity":1,"address_id":"` + b.address + `"}`, `{"address_id":"` + b.address + `"}`,
		`{"quantity":"1","address_id":"1"}`, `{"quantity":1e3,"address_id":"1"}`, `{"quantity":-1,"address_id":"1"}`,
		`{"quantity":99999999999999999999,"address_id":"1"}`, `{"address_id":"99999999999999999999"}`, `{"address_id":null}`,
		fmt.Sprintf(`{"sku_id":%q,"price":100,"quantity":5,"per_user_limit":1,"starts_at":%q,"ends_at":%q}`, sh.sku,
			later.Format(time.RFC3339), later.Add(time.Hour).Format(time.RFC3339)),
		`{"sku_id":"1","price":0,"quantity":0,"per_user_limit":0,"starts_at":"2020-01-01T00:00:00Z","ends_at":"2019-01-01T00:00:00Z"}`,
		`{"starts_at":"tomorrow"}`, `{"starts_at":"9999-12-31T23:59:59Z","ends_at":"9999-12-31T23:59:59.999Z"}`,
		`{"price":9223372036854775807,"quantity":2147483648}`, `{"sku_id":"` + sh.old + `"}`,
		`{}`, `[]`, `null`, `"str"`, `{"a":`, "\x00\xff", ``, `{"quantity":1,"quantity":2}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	h := sh.s.App.Handler()
	var n atomic.Int64
	targets := []struct{ method, path, token string }{
		{"POST", "/api/v1/flash-sales/" + saleID + "/attempts", b.token},
		{"POST", "/api/v1/admin/flash-sales", sh.staff},
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, tg := range targets {
			req := httptest.NewRequest(tg.method, tg.path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tg.token)
			// A new key each time: a replay would answer the first body's result.
			req.Header.Set("Idempotency-Key", fmt.Sprintf("fuzz-%d", n.Add(1)))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s %q: status %d: %s", tg.method, tg.path, body, rec.Code, rec.Body)
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s %s %q: answer is not JSON: %q", tg.method, tg.path, body, rec.Body)
			}
			if rec.Code < 300 && !json.Valid([]byte(body)) {
				t.Fatalf("%s %s accepted invalid JSON %q", tg.method, tg.path, body)
			}
			if rec.Code != http.StatusAccepted && rec.Code != http.StatusCreated && rec.Code < 400 {
				t.Fatalf("%s %s %q: unexpected status %d", tg.method, tg.path, body, rec.Code)
			}
		}
	})
}
