package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakePromotionShop serves what flashSaleRow calls: the catalog and stock setup, a flash
// sale of the one SKU, its attempts (one unit per buyer up to the limit, until sold out),
// the sale and the SKU's stock. oversell extra units are accepted beyond the sale (a broken
// shop); noSales answers 404 for the flash-sale API (a server without it).
type fakePromotionShop struct {
	mu       sync.Mutex
	stock    int
	quantity int
	limit    int
	accepted int
	oversell int
	noSales  bool
	perBuyer map[string]int
	keys     map[string]bool
}

func (f *fakePromotionShop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	defer f.mu.Unlock()
	answer := func(status int, body string) {
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/admin/categories":
		answer(201, `{"id":"1"}`)
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/admin/products":
		answer(201, `{"id":"2","skus":[{"id":"77"}]}`)
	case r.Method == http.MethodPut && r.URL.Path == "/api/v1/admin/skus/77/stock":
		var in struct{ Stock int }
		json.NewDecoder(r.Body).Decode(&in)
		f.stock = in.Stock
		answer(200, `{}`)
	case f.noSales && strings.Contains(r.URL.Path, "flash-sales"):
		answer(404, `{"error":{"code":"route_not_found","message":"no"}}`)
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/admin/flash-sales":
		var in struct {
			Quantity     int `json:"quantity"`
			PerUserLimit int `json:"per_user_limit"`
		}
		json.NewDecoder(r.Body).Decode(&in)
		f.quantity, f.limit = in.Quantity, in.PerUserLimit
		answer(201, `{"id":"5"}`)
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/flash-sales/5/attempts":
		key, buyer := r.Header.Get("Idempotency-Key"), r.Header.Get("Authorization")
		if key == "" || buyer == "" || f.keys[key] {
			answer(400, `{"error":{"code":"bad","message":"no"}}`)
			return
		}
		f.keys[key] = true
		switch {
		case f.accepted >= f.quantity+f.oversell:
			answer(409, `{"error":{"code":"sold_out","message":"no"}}`)
		case f.perBuyer[buyer] >= f.limit:
			answer(409, `{"error":{"code":"limit_reached","message":"no"}}`)
		default:
			f.accepted++
			f.perBuyer[buyer]++
			answer(202, `{"attempt_id":"9","status":"accepted"}`)
		}
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/admin/flash-sales/5":
		answer(200, fmt.Sprintf(`{"id":"5","remaining":%d}`, max(f.quantity-f.accepted, 0)))
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/admin/skus/77/stock":
		sold := min(f.accepted, f.quantity)
		answer(200, fmt.Sprintf(`{"level":{"sku_id":"77","available":%d,"reserved":%d,"sold":0}}`, f.stock-f.quantity-(f.accepted-sold), f.quantity))
	default:
		answer(404, `{"error":{"code":"route_not_found","message":"no"}}`)
	}
}

func runFakeFlashSaleRow(t *testing.T, shop *fakePromotionShop, stock int) *groupResult {
	t.Helper()
	shop.perBuyer, shop.keys = map[string]int{}, map[string]bool{}
	ts := httptest.NewServer(shop)
	defer ts.Close()
	const conns = 4
	b := &bench{opts: options{concurrency: conns, duration: 300 * time.Millisecond}, log: io.Discard}
	srv := &proc{name: "fake", base: ts.URL, done: make(chan struct{})}
	fx := &ordersFixture{staffToken: "staff", flashStock: stock, nonce: "t"}
	for i := range conns {
		fx.buyers = append(fx.buyers, buyer{token: fmt.Sprintf("buyer%d", i), address: "9"})
	}
	g := &groupResult{name: "orders"}
	if err := flashSaleRow(context.Background(), b, g, engineSQLite, srv, newAPIClient(ts.URL), fx, testResult(1000)); err != nil {
		t.Fatal(err)
	}
	if len(g.rows) != 1 || g.rows[0].name != engineSQLite.flashSaleRowName() {
		t.Fatalf("rows %+v, want the flash-sale row", g.rows)
	}
	return g
}

// A correct shop passes the check; the row counts every decided attempt and the notes say
// how many were accepted and when the sale sold out.
func TestFlashSaleRowPasses(t *testing.T) {
	shop := &fakePromotionShop{}
	g := runFakeFlashSaleRow(t, shop, 50)
	if !g.ok() {
		t.Fatalf("group not ok: %d failed checks; notes:\n%s", g.failedChecks, strings.Join(g.notes, "\n"))
	}
	r := g.rows[0]
	if r.res == nil || r.res.Requests <= 50 || r.res.ReqPerSec <= 0 || r.ratio == "—" || r.res.ErrorCount() != 0 {
		t.Fatalf("row %+v", r)
	}
	notes := strings.Join(g.notes, "\n")
	for _, want := range []string{"check **passed**", "50 accepted (202", "sold out after", "sold_out"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if shop.accepted != 50 || shop.limit != min(flashSalePerUserLimit, 50) || shop.quantity != 50 || shop.stock != 50 {
		t.Errorf("shop saw quantity %d, limit %d, stock %d, accepted %d", shop.quantity, shop.limit, shop.stock, shop.accepted)
	}
}

// A shop that accepts more than the sale holds fails the check, and the group with it.
func TestFlashSaleRowCatchesOversell(t *testing.T) {
	g := runFakeFlashSaleRow(t, &fakePromotionShop{oversell: 3}, 50)
	if g.failedChecks != 1 || g.ok() {
		t.Fatalf("failed checks %d, ok %v; want the oversell caught", g.failedChecks, g.ok())
	}
	notes := strings.Join(g.notes, "\n")
	if !strings.Contains(notes, "**FAILED**") || !strings.Contains(notes, "53 attempts accepted for a sale of 50") {
		t.Errorf("notes:\n%s", notes)
	}
}

// A server without the flash-sale API gives a row that was not run, saying why.
func TestFlashSaleRowNotRun(t *testing.T) {
	g := runFakeFlashSaleRow(t, &fakePromotionShop{noSales: true}, 50)
	if r := g.rows[0]; r.res != nil || !strings.Contains(r.notRun, "/api/v1/admin/flash-sales") || g.ok() {
		t.Fatalf("row %+v", r)
	}
}
