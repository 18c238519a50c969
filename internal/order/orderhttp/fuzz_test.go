package orderhttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/minimart/minimart/internal/platform/ids"
)

// FuzzOrderRequests throws arbitrary bodies at order creation through the real router:
// whatever arrives, the answer is JSON and never a 500, and stock never goes negative.
func FuzzOrderRequests(f *testing.F) {
	// One buyer sends every input: the per-buyer order limit would answer most with 429.
	sh := newShop(f, map[string]string{"MINIMART_RATELIMITS": "0"}, 3)
	token, addr := sh.buyer("fuzzer")
	for _, s := range []string{
		`{"items":[{"sku_id":"` + sh.skus[0] + `","quantity":1}],"address_id":"` + addr + `"}`,
		`{"from_cart":true,"address_id":"` + addr + `"}`,
		`{"items":[{"sku_id":"1","quantity":-1}]}`, `{"items":[]}`, `{"items":null}`, `[]`, `{`, ``,
		`{"items":[{"sku_id":99999999999999999999,"quantity":1}],"address_id":"1"}`,
		`{"items":[{"sku_id":"` + sh.skus[0] + `","quantity":1e9}],"address_id":"` + addr + `","remark":"` + strings.Repeat("長", 300) + `"}`,
	} {
		f.Add(s)
	}
	h := sh.s.App.Handler()
	sku, err := ids.Parse(sh.skus[0])
	if err != nil {
		f.Fatal(err)
	}
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/orders", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Idempotency-Key", fmt.Sprintf("fuzz-%d", n.Add(1)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%q: status %d: %s", body, rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%q: answer is not JSON: %q", body, rec.Body)
		}
		l, err := sh.s.App.Inventory.Level(context.Background(), sku)
		if err != nil || l.Available < 0 || l.Available+l.Reserved+l.Sold != 3 {
			t.Fatalf("stock invariant broken: %+v, %v", l, err)
		}
	})
}
