//go:build faults

package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/servicetest"
)

// redisOutage is how long TestFaultRedisDown keeps Redis stopped.
const redisOutage = 5 * time.Second

// productPrice is the price of sku in the buyer's product detail (the cached read).
func (f *faultShop) productPrice(base, sku string) (int64, error) {
	a := send(httpClient, "GET", base+"/api/v1/products/"+f.product, "", nil, nil)
	if a.err != nil || a.status != http.StatusOK {
		return 0, fmt.Errorf("product detail: %v", a)
	}
	var p struct {
		SKUs []struct {
			ID    string `json:"id"`
			Price int64  `json:"price"`
		} `json:"skus"`
	}
	if err := json.Unmarshal(a.body, &p); err != nil {
		return 0, err
	}
	for _, s := range p.SKUs {
		if s.ID == sku {
			return s.Price, nil
		}
	}
	return 0, fmt.Errorf("product detail has no SKU %s: %s", sku, a.body)
}

// setPrice is a staff price change of the first SKU (红).
func (f *faultShop) setPrice(base string, price int64) answer {
	return send(httpClient, "PUT", base+"/api/v1/admin/skus/"+f.skus[0], f.staff, nil,
		map[string]any{"specs": map[string]string{"颜色": "红"}, "price": price})
}

// placeUntilLimited places orders for buyer i until one is refused with 429 rate_limited;
// it returns how many were placed, failing on any other answer or after max tries.
func (f *faultShop) placeUntilLimited(t *testing.T, i, max int, key string) int {
	t.Helper()
	for n := 0; n < max; n++ {
		a := send(httpClient, "POST", f.srv.base+"/api/v1/orders", f.buyers[i].Tokens.AccessToken,
			map[string]string{"Idempotency-Key": fmt.Sprintf("%s-b%d-%d", key, i, n)},
			map[string]any{"items": []map[string]any{{"sku_id": f.skus[1], "quantity": 1}}, "address_id": f.addrs[i]})
		switch {
		case a.err == nil && a.status == http.StatusCreated:
		case a.err == nil && a.status == http.StatusTooManyRequests && a.code() == "rate_limited" && a.header.Get("Retry-After") != "":
			return n
		default:
			t.Fatalf("buyer %d, order %d: %v", i, n, a)
		}
	}
	t.Fatalf("buyer %d placed %d orders without being limited", i, max)
	return 0
}

// Redis is stopped while buyers browse and order: product reads come from the database,
// orders go on, and the per-buyer order limit lets requests through (as the README says:
// "If Redis is down, requests are let through and a warning is logged") — buyers who were
// over it before the outage order freely during it. Once Redis is back the limits count
// again, and a staff price change shows in product detail within seconds: the cache
// invalidation resumed, no stale page is left.
func TestFaultRedisDown(t *testing.T) {
	redisURL := servicetest.RedisURL(t)
	b := make([]byte, 6)
	rand.Read(b)
	const buyers, limit = 4, 3
	f := newFaultShop(t, 1_000_000, buyers,
		"MINIMART_REDIS_URL="+redisURL,
		"MINIMART_CACHE_PREFIX=mmfault-"+hex.EncodeToString(b)+":",
		"MINIMART_SCHEDULE_INTERVAL=200ms",
		fmt.Sprintf("MINIMART_RATELIMIT_ORDER=%d/1m", limit),
	)
	defer func() { checkServerLogs(t, f.srv) }()

	// Redis up: the limit counts, the product detail is cached.
	for i := range buyers {
		if n := f.placeUntilLimited(t, i, limit+2, "before"); n != limit {
			t.Fatalf("buyer %d was limited after %d orders, want %d", i, n, limit)
		}
	}
	if p, err := f.productPrice(f.srv.base, f.skus[0]); err != nil || p != 100 {
		t.Fatalf("price before: %d %v", p, err)
	}

	start := stopRedis(t)
	outageStart := time.Now()
	f.srv.waitReady(t, func(r readiness) bool { return r.Checks["cache"].Status == "down" && r.Status == "degraded" })
	// Buyers, all over their order limit, and visitors, while Redis is down.
	var counts statusCounts
	var stop atomic.Bool
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Go(func() {
			for n := 0; !stop.Load(); n++ {
				counts.add("POST /orders", send(httpClient, "POST", f.srv.base+"/api/v1/orders", f.buyers[i].Tokens.AccessToken,
					map[string]string{"Idempotency-Key": fmt.Sprintf("outage-b%d-%d", i, n)},
					map[string]any{"items": []map[string]any{{"sku_id": f.skus[1], "quantity": 1}}, "address_id": f.addrs[i]}))
				counts.add("GET /products/{id}", send(httpClient, "GET", f.srv.base+"/api/v1/products/"+f.product, "", nil, nil))
				counts.add("GET /products", send(httpClient, "GET", f.srv.base+"/api/v1/products?page=1&page_size=20", "", nil, nil))
				counts.add("GET /categories", send(httpClient, "GET", f.srv.base+"/api/v1/categories", "", nil, nil))
				time.Sleep(20 * time.Millisecond) // pacing
			}
		})
	}
	// A price change while Redis is down: its invalidation cannot reach the cache.
	if a := f.setPrice(f.srv.base, 150); a.err != nil || a.status != http.StatusOK {
		t.Fatalf("price change during the outage: %v", a)
	}
	if p, err := f.productPrice(f.srv.base, f.skus[0]); err != nil || p != 150 {
		t.Fatalf("product detail during the outage shows price %d (%v), want 150 from the database", p, err)
	}
	time.Sleep(redisOutage - time.Since(outageStart))
	stop.Store(true)
	wg.Wait()
	start()
	t.Logf("answers while Redis was down:%s", &counts)
	if bad := counts.matching(func(k string) bool { return !strings.HasSuffix(k, " 200") && !strings.HasSuffix(k, " 201") }); bad > 0 {
		t.Fatalf("%d answers other than 2xx while Redis was down", bad)
	}
	if n := counts.matching(func(k string) bool { return k == "POST /orders 201" }); n < buyers {
		t.Fatalf("only %d orders placed while Redis was down, by buyers all over their limit: not let through", n)
	}
	if !strings.Contains(f.srv.stderr.String(), "rate limiter unavailable; request let through") {
		t.Errorf("no warning that the rate limiter let requests through")
	}

	f.srv.waitReady(t, func(r readiness) bool { return r.Checks["cache"].Status == "ok" })
	// The change made during the outage shows, and so does one made now, over a cached page.
	for _, want := range []int64{150, 175} {
		if want == 175 {
			if p, err := f.productPrice(f.srv.base, f.skus[0]); err != nil || p != 150 {
				t.Fatalf("warming the cache: %d %v", p, err)
			}
			if a := f.setPrice(f.srv.base, want); a.err != nil || a.status != http.StatusOK {
				t.Fatalf("price change after the outage: %v", a)
			}
		}
		took := pollUntil(t, 5*time.Second, fmt.Sprintf("product detail showing price %d", want), func() error {
			if p, err := f.productPrice(f.srv.base, f.skus[0]); err != nil || p != want {
				return fmt.Errorf("price %d %v", p, err)
			}
			return nil
		})
		t.Logf("price %d shown %s after Redis answered / the change", want, took.Round(time.Millisecond))
	}
	// The limits count again (in a fresh Redis: the window starts over).
	if n := f.placeUntilLimited(t, 0, limit+2, "after"); n != limit {
		t.Fatalf("after the outage buyer 0 was limited after %d orders, want %d", n, limit)
	}
	pollUntil(t, 10*time.Second, "holds after the outage", func() error { return f.holdsMatchOrders(f.srv.base) })
}
