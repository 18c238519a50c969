package cataloghttp_test

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/platform/servicetest"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// Two instances share MariaDB and Redis, as in production. A product detail cached through
// instance A must drop within a second when staff change stock through instance B.
func TestCacheInvalidationAcrossInstancesSharingRedis(t *testing.T) {
	prefix := make([]byte, 6)
	rand.Read(prefix)
	dbURL := sqldbtest.MySQLDatabaseURL(t)
	env := func(node string) map[string]string {
		return map[string]string{
			"MINIMART_DB_URL":       dbURL,
			"MINIMART_REDIS_URL":    servicetest.RedisURL(t),
			"MINIMART_CACHE_PREFIX": "mmtest-" + hex.EncodeToString(prefix) + ":",
			"MINIMART_JWT_SECRET":   "shared-secret-shared-secret-shared-secret",
			"MINIMART_NODE_ID":      node,
			"MINIMART_DEMO":         "0",
		}
	}
	a := apptest.Start(t, env("1"))
	b := apptest.Start(t, env("2"))
	f := &fixture{s: b, staff: b.StaffToken("ops", "operator"), t: t}
	leaf := f.tree()
	p := f.must(201, "POST", "/api/v1/admin/products", phone(leaf, "共享缓存 手机"))
	id, sku := p["id"].(string), skuIDs(p)[0]

	stockOnA := func() int64 {
		r := a.Do("GET", "/api/v1/products/"+id, "", nil)
		if r.Status != 200 {
			t.Fatalf("detail on A: %d %s", r.Status, r.Body)
		}
		var d struct {
			Stock int64 `json:"stock"`
		}
		r.Decode(t, &d)
		return d.Stock
	}
	b.EventsSettled() // the product's creation events must not drop A's entry mid-test
	if got := stockOnA(); got != 0 {
		t.Fatalf("initial stock %d", got)
	}
	if hits := cacheReads(t, a, "product", "hit"); stockOnA() != 0 || cacheReads(t, a, "product", "hit") != hits+1 {
		t.Fatal("the second read on A must be a cache hit")
	}
	f.must(200, "PUT", "/api/v1/admin/skus/"+sku+"/stock", map[string]any{"stock": 3})
	start := time.Now()
	apptest.Eventually(t, "A drops its stale detail", func() bool { return stockOnA() == 3 })
	if took := time.Since(start); took > time.Second {
		t.Fatalf("invalidation took %v, want under a second", took)
	}
}

func cacheReads(t *testing.T, s *apptest.Server, kind, result string) int {
	t.Helper()
	body := string(s.Ops("/metrics").Body)
	needle := `minimart_cache_reads_total{kind="` + kind + `",result="` + result + `"} `
	i := strings.Index(body, needle)
	if i < 0 {
		return 0
	}
	rest := body[i+len(needle):]
	n := 0
	for _, c := range rest {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// With Redis unreachable, reads still answer from the database, and /readyz says degraded (with
// the check that failed on the operator listener only).
func TestRedisDownReadsStillWork(t *testing.T) {
	s := apptest.Start(t, map[string]string{"MINIMART_REDIS_URL": "redis://127.0.0.1:1/0", "MINIMART_DEMO": "0"})
	f := &fixture{s: s, staff: s.StaffToken("ops", "operator"), t: t}
	leaf := f.tree()
	p := f.must(201, "POST", "/api/v1/admin/products", phone(leaf, "离线缓存 手机"))
	for range 3 {
		if r := s.Do("GET", "/api/v1/products/"+p["id"].(string), "", nil); r.Status != 200 {
			t.Fatalf("detail with Redis down: %d %s", r.Status, r.Body)
		}
	}
	if r := s.Do("GET", "/api/v1/products", "", nil); r.Status != 200 {
		t.Fatalf("list with Redis down: %d %s", r.Status, r.Body)
	}
	r := s.Ops("/readyz")
	if r.Status != 200 || !strings.Contains(string(r.Body), `"status":"degraded"`) || !strings.Contains(string(r.Body), `"cache":{"status":"down"`) {
		t.Fatalf("ops readyz: %d %s", r.Status, r.Body)
	}
	// The public port says degraded, and not what is down nor where.
	if r := s.Do("GET", "/readyz", "", nil); r.Status != 200 || string(r.Body) != `{"status":"degraded"}`+"\n" {
		t.Fatalf("public readyz: %d %q", r.Status, r.Body)
	}
}
