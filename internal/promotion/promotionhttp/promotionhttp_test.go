package promotionhttp_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/servicetest"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
	"github.com/minimart/minimart/internal/user"
)

// shop is the whole app, in process, with a phone SKU in stock and a staff member. Every
// flash-sale answer it gets is checked against the OpenAPI document.
type shop struct {
	t        testing.TB
	s        *apptest.Server
	contract *contract
	staff    string
	sku      string // on shelf, price 199900
	old      string // off shelf
	stock    int64  // the phone's stock at the start
}

func newShop(t testing.TB, env map[string]string, stock int64) *shop {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	env["MINIMART_DEMO"] = "0"
	// Sweeps (sale ends, settlements) and the order worker's fallback poll every 100 ms.
	env["MINIMART_SCHEDULE_INTERVAL"] = "100ms"
	// Thousands of attempts from one test client: the per-IP limits would refuse them.
	env["MINIMART_RATELIMITS"] = "0"
	s := apptest.Start(t, env)
	sh := &shop{t: t, s: s, contract: newContract(t), staff: s.StaffToken("ops", "operator"), stock: stock}
	cat := sh.must(201, "POST", "/api/v1/admin/categories", sh.staff, map[string]any{"name": "手机"})
	for _, onShelf := range []bool{true, false} {
		p := sh.must(201, "POST", "/api/v1/admin/products", sh.staff, map[string]any{
			"category_id": cat["id"], "title": "秒杀手机", "specs": []map[string]any{{"name": "颜色", "values": []string{"黑"}}},
			"skus": []map[string]any{{"specs": map[string]string{"颜色": "黑"}, "price": 199900}}, "on_shelf": onShelf})
		id := p["skus"].([]any)[0].(map[string]any)["id"].(string)
		sh.must(200, "PUT", "/api/v1/admin/skus/"+id+"/stock", sh.staff, map[string]any{"stock": stock})
		if onShelf {
			sh.sku = id
		} else {
			sh.old = id
		}
	}
	return sh
}

// do sends a request (a string body verbatim, anything else as JSON) and checks a
// flash-sale answer against the contract.
func (sh *shop) do(method, path, token string, body any, headers map[string]string) apptest.Response {
	sh.t.Helper()
	r := sh.s.DoWith(method, path, token, body, headers)
	if strings.HasPrefix(path, "/api/v1/flash-sales") || strings.HasPrefix(path, "/api/v1/admin/flash-sales") {
		if err := sh.contract.check(method, "http://minimart.test"+path, r); err != nil {
			sh.t.Error(err)
		}
	}
	return r
}

// must sends a request that has to answer status and returns its JSON object.
func (sh *shop) must(status int, method, path, token string, body any) map[string]any {
	sh.t.Helper()
	r := sh.do(method, path, token, body, nil)
	if r.Status != status {
		sh.t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
	}
	out := map[string]any{}
	r.Decode(sh.t, &out)
	return out
}

type buyer struct{ token, address string }

// buyers makes n accounts with one address each, through the services (faster than HTTP
// when hundreds are needed).
func (sh *shop) buyers(prefix string, n int) []buyer {
	sh.t.Helper()
	ctx := context.Background()
	out := make([]buyer, n)
	for i := range out {
		u, tok, err := sh.s.App.Users.Register(ctx, user.RegisterInput{Username: fmt.Sprintf("%s%04d", prefix, i), Password: "passw0rd-ok"})
		if err != nil {
			sh.t.Fatal(err)
		}
		a, err := sh.s.App.Users.CreateAddress(ctx, u.ID, user.AddressInput{Recipient: "张三", Phone: "13800000000",
			Province: "广东省", City: "深圳市", District: "南山区", Detail: "科技园 1 号"})
		if err != nil {
			sh.t.Fatal(err)
		}
		out[i] = buyer{token: tok.AccessToken, address: a.ID.String()}
	}
	return out
}

// sale creates a flash sale of the phone that runs from now for d.
func (sh *shop) sale(quantity, limit int, price int64, d time.Duration) string {
	sh.t.Helper()
	now := time.Now().UTC()
	s := sh.must(201, "POST", "/api/v1/admin/flash-sales", sh.staff, map[string]any{"sku_id": sh.sku, "price": price,
		"quantity": quantity, "per_user_limit": limit, "starts_at": now.Format(time.RFC3339Nano),
		"ends_at": now.Add(d).Format(time.RFC3339Nano)})
	if s["status"] != "active" || s["remaining"] != float64(quantity) {
		sh.t.Fatalf("new sale %v", s)
	}
	return s["id"].(string)
}

func (sh *shop) attempt(b buyer, saleID, key string, body any) apptest.Response {
	return sh.do("POST", "/api/v1/flash-sales/"+saleID+"/attempts", b.token, body, map[string]string{"Idempotency-Key": key})
}

type attemptView struct {
	AttemptID string `json:"attempt_id"`
	SaleID    string `json:"sale_id"`
	Status    string `json:"status"`
	OrderID   string `json:"order_id"`
	Reason    string `json:"reason"`
}

// ordered polls an accepted attempt until it has its order, and returns it.
func (sh *shop) ordered(b buyer, attemptID string) attemptView {
	sh.t.Helper()
	var v attemptView
	apptest.EventuallyWithin(sh.t, 30*time.Second, "attempt "+attemptID+" ordered", func() bool {
		r := sh.do("GET", "/api/v1/flash-sales/attempts/"+attemptID, b.token, nil, nil)
		if r.Status != http.StatusOK {
			sh.t.Fatalf("attempt %s: %d %s", attemptID, r.Status, r.Body)
		}
		r.Decode(sh.t, &v)
		if v.Status == "failed" {
			sh.t.Fatalf("attempt %s failed: %s", attemptID, v.Reason)
		}
		return v.Status == "ordered"
	})
	return v
}

func (sh *shop) level() inventory.Level {
	sh.t.Helper()
	id, _ := ids.Parse(sh.sku)
	l, err := sh.s.App.Inventory.Level(context.Background(), id)
	if err != nil {
		sh.t.Fatal(err)
	}
	return l
}

// checkInvariant: the stock the phone started with is available + reserved + sold, none of
// them negative, and the ledger sums to the level.
// The sale sweeper may release a hold at any moment, so the level is read between two reads
// of the ledger until neither changed around it.
func (sh *shop) checkInvariant() inventory.Level {
	sh.t.Helper()
	ledger := func(sku ids.ID) []inventory.LedgerEntry {
		entries, err := sh.s.App.Inventory.Ledger(context.Background(), sku, 0, 100000)
		if err != nil {
			sh.t.Fatal(err)
		}
		return entries
	}
	l := sh.level()
	entries := ledger(l.SKUID)
	for {
		l = sh.level()
		after := ledger(l.SKUID)
		if len(after) == len(entries) {
			break
		}
		entries = after
	}
	if l.Available < 0 || l.Reserved < 0 || l.Available+l.Reserved+l.Sold != sh.stock {
		sh.t.Fatalf("invariant broken: %+v, initial %d", l, sh.stock)
	}
	var avail, res, sold int64
	for _, e := range entries {
		avail += e.AvailableAfter - e.AvailableBefore
		res += e.ReservedAfter - e.ReservedBefore
		sold += e.SoldAfter - e.SoldBefore
	}
	if avail != l.Available || res != l.Reserved || sold != l.Sold {
		sh.t.Fatalf("ledger sums (%d, %d, %d) disagree with the level %+v", avail, res, sold, l)
	}
	return l
}

// publicSale is the sale as GET /api/v1/flash-sales lists it (nil when it is not listed).
func (sh *shop) publicSale(id string) map[string]any {
	sh.t.Helper()
	list := sh.must(200, "GET", "/api/v1/flash-sales", "", nil)
	for _, it := range list["items"].([]any) {
		if s := it.(map[string]any); s["id"] == id {
			return s
		}
	}
	return nil
}

// flashSale is the core test: 2,000 attempts at once on a sale of 100 with a limit of
// one per buyer, from 500 buyers. Exactly 100 are accepted, each becomes exactly one order at
// the sale price, nobody gets more than one, the rest are sold_out or limit_reached, and the
// stock adds up. With midway, the attempts come in two waves: the first 50 (one per buyer,
// all accepted), then midway runs (half the units are left), then the other 1,950 at once.
// It returns the sale's id.
func flashSale(t *testing.T, env map[string]string, midway func(saleID string)) string {
	const units, buyersN, attempts, price = 100, 500, 2000, 99900
	sh := newShop(t, env, 1000)
	all := sh.buyers("b", buyersN)
	saleID := sh.sale(units, 1, price, time.Hour)

	type accepted struct {
		buyer   int
		attempt string
	}
	var (
		mu      sync.Mutex
		won     []accepted
		soldOut atomic.Int64
		limit   atomic.Int64
	)
	storm := func(from, to int) {
		var wg sync.WaitGroup
		for i := from; i < to; i++ {
			wg.Go(func() {
				b := all[i%buyersN]
				r := sh.attempt(b, saleID, fmt.Sprintf("k%d", i), map[string]any{"quantity": 1, "address_id": b.address})
				switch {
				case r.Status == http.StatusAccepted:
					var v attemptView
					r.Decode(t, &v)
					if v.Status != "accepted" || v.AttemptID == "" {
						t.Errorf("202 answer %s", r.Body)
					}
					mu.Lock()
					won = append(won, accepted{i % buyersN, v.AttemptID})
					mu.Unlock()
				case r.Status == http.StatusConflict && r.ErrorCode() == "sold_out":
					soldOut.Add(1)
				case r.Status == http.StatusConflict && r.ErrorCode() == "limit_reached":
					limit.Add(1)
				default:
					t.Errorf("attempt %d: %d %s", i, r.Status, r.Body)
				}
			})
		}
		wg.Wait()
	}
	first := 0
	if midway != nil {
		first = units / 2
		storm(0, first)
		if len(won) != first {
			t.Fatalf("first wave: %d of %d accepted", len(won), first)
		}
		midway(saleID)
	}
	storm(first, attempts)
	if len(won) != units || int(soldOut.Load()+limit.Load()) != attempts-units {
		t.Fatalf("%d accepted, %d sold_out, %d limit_reached; want %d accepted and the rest refused",
			len(won), soldOut.Load(), limit.Load(), units)
	}
	perBuyer := map[int]int{}
	for _, w := range won {
		if perBuyer[w.buyer]++; perBuyer[w.buyer] > 1 {
			t.Fatalf("buyer %d has %d accepted attempts; the limit is 1", w.buyer, perBuyer[w.buyer])
		}
	}
	// Each accepted attempt becomes exactly one order, the buyer's, at the sale price.
	orders := map[string]bool{}
	for _, w := range won {
		v := sh.ordered(all[w.buyer], w.attempt)
		if orders[v.OrderID] {
			t.Fatalf("order %s made for two attempts", v.OrderID)
		}
		orders[v.OrderID] = true
		o := sh.must(200, "GET", "/api/v1/orders/"+v.OrderID, all[w.buyer].token, nil)
		lines := o["lines"].([]any)
		line := lines[0].(map[string]any)
		if o["status"] != "pending_payment" || len(lines) != 1 || line["sku_id"] != sh.sku || line["quantity"] != float64(1) ||
			line["unit_price"] != float64(price) {
			t.Fatalf("order of attempt %s: %v", w.attempt, o)
		}
	}
	if s := sh.publicSale(saleID); s == nil || s["remaining"] != float64(0) {
		t.Fatalf("public sale after the storm: %v", s)
	}
	if l := sh.checkInvariant(); l.Reserved != units || l.Available != sh.stock-units {
		t.Fatalf("stock after the sale: %+v", l)
	}
	return saleID
}

func TestFlashSaleEmbedded(t *testing.T) { flashSale(t, nil, nil) }

// mariaDBRedis is the production shape's environment: a fresh MariaDB database and the
// test Redis under a prefix of its own (returned, with a client, to flush it).
func mariaDBRedis(t *testing.T) (map[string]string, *redis.Client, string) {
	redisURL := servicetest.RedisURL(t)
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "minimart-test:" + strings.ReplaceAll(t.Name(), "/", ".") + ":" + hex.EncodeToString(b) + ":"
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opt)
	t.Cleanup(func() {
		forget(t, client, prefix)
		client.Close()
	})
	return map[string]string{"MINIMART_DB_URL": sqldbtest.MySQLDatabaseURL(t), "MINIMART_REDIS_URL": redisURL,
		"MINIMART_CACHE_PREFIX": prefix, "MINIMART_JWT_SECRET": "flash-sale-secret-flash-sale-secret"}, client, prefix
}

// forget deletes every key under prefix: what FLUSHDB does to the shop, without wiping the
// keys of other tests sharing the server.
func forget(t testing.TB, client *redis.Client, prefix string) {
	ctx := context.Background()
	iter := client.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		if err := client.Del(ctx, iter.Val()).Err(); err != nil {
			t.Errorf("delete %s: %v", iter.Val(), err)
		}
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scan %s: %v", prefix, err)
	}
}

func TestFlashSaleMariaDBRedis(t *testing.T) {
	env, _, _ := mariaDBRedis(t)
	flashSale(t, env, nil)
}

// Redis forgets everything with half the units sold: the attempts after it find the sale
// unknown, load it from the database (the first wave's buyers at their limit), and the sale
// still sells exactly its quantity.
func TestFlashSaleRedisFlushedMidSale(t *testing.T) {
	env, client, prefix := mariaDBRedis(t)
	ctx := context.Background()
	saleID := flashSale(t, env, func(saleID string) {
		if n, err := client.Exists(ctx, prefix+"promotion:flash:"+saleID).Result(); err != nil || n != 1 {
			t.Fatalf("the sale's filter before the flush: %d %v", n, err)
		}
		forget(t, client, prefix)
	})
	if n, err := client.Exists(ctx, prefix+"promotion:flash:"+saleID).Result(); err != nil || n != 1 {
		t.Fatalf("the sale's filter after the sale: %d %v; want it loaded again after the flush", n, err)
	}
}

// An unpaid sale order cancelled while the sale runs gives its unit back: another buyer can
// buy it, and the stock adds up.
func TestCancelledOrderReturnsItsUnit(t *testing.T) {
	sh := newShop(t, nil, 10)
	bs := sh.buyers("c", 2)
	saleID := sh.sale(1, 1, 500, time.Hour)
	r := sh.attempt(bs[0], saleID, "a", map[string]any{"address_id": bs[0].address})
	if r.Status != http.StatusAccepted {
		t.Fatalf("first attempt %d %s", r.Status, r.Body)
	}
	var first attemptView
	r.Decode(t, &first)
	v := sh.ordered(bs[0], first.AttemptID)
	if r := sh.attempt(bs[1], saleID, "b", map[string]any{"address_id": bs[1].address}); r.Status != 409 || r.ErrorCode() != "sold_out" {
		t.Fatalf("before the cancel: %d %s", r.Status, r.Body)
	}
	sh.must(200, "POST", "/api/v1/orders/"+v.OrderID+"/cancel", bs[0].token, nil)
	apptest.EventuallyWithin(t, 10*time.Second, "the unit back in the sale", func() bool {
		s := sh.publicSale(saleID)
		return s != nil && s["remaining"] == float64(1)
	})
	sh.s.EventsSettled()
	if l := sh.checkInvariant(); l.Reserved != 1 || l.Available != 9 {
		t.Fatalf("after the cancel the sale holds its unit again: %+v", l)
	}
	r = sh.attempt(bs[1], saleID, "b2", map[string]any{"address_id": bs[1].address})
	if r.Status != http.StatusAccepted {
		t.Fatalf("after the cancel: %d %s", r.Status, r.Body)
	}
	var second attemptView
	r.Decode(t, &second)
	sh.ordered(bs[1], second.AttemptID)
	if l := sh.checkInvariant(); l.Reserved != 1 || l.Available != 9 {
		t.Fatalf("the returned unit sold again: %+v", l)
	}
}

// When a sale ends, or is cancelled, what it did not sell goes back to available.
func TestUnsoldUnitsGoBack(t *testing.T) {
	sh := newShop(t, nil, 20)
	bs := sh.buyers("e", 3)
	ending := sh.sale(10, 1, 500, 1500*time.Millisecond)
	for i, b := range bs {
		r := sh.attempt(b, ending, fmt.Sprintf("e%d", i), map[string]any{"address_id": b.address})
		if r.Status != http.StatusAccepted {
			t.Fatalf("attempt %d: %d %s", i, r.Status, r.Body)
		}
		var v attemptView
		r.Decode(t, &v)
		sh.ordered(b, v.AttemptID)
	}
	if l := sh.checkInvariant(); l.Available != 10 || l.Reserved != 10 {
		t.Fatalf("during the sale: %+v", l)
	}
	apptest.EventuallyWithin(t, 10*time.Second, "the ended sale settled", func() bool {
		s := sh.must(200, "GET", "/api/v1/admin/flash-sales/"+ending, sh.staff, nil)
		return s["status"] == "ended" && s["settled_at"] != nil
	})
	if l := sh.checkInvariant(); l.Available != 17 || l.Reserved != 3 {
		t.Fatalf("after the end: %+v; want the 7 unsold back and the 3 orders' units still reserved", l)
	}
	if r := sh.attempt(bs[0], ending, "late", map[string]any{"address_id": bs[0].address}); r.Status != 409 || r.ErrorCode() != "ended" {
		t.Fatalf("attempt after the end: %d %s", r.Status, r.Body)
	}

	cancelled := sh.sale(5, 1, 500, time.Hour)
	if l := sh.checkInvariant(); l.Available != 12 {
		t.Fatalf("a second sale holds 5: %+v", l)
	}
	c := sh.must(200, "POST", "/api/v1/admin/flash-sales/"+cancelled+"/cancel", sh.staff, nil)
	if c["status"] != "cancelled" {
		t.Fatalf("cancel: %v", c)
	}
	apptest.EventuallyWithin(t, 10*time.Second, "the cancelled sale settled", func() bool {
		return sh.must(200, "GET", "/api/v1/admin/flash-sales/"+cancelled, sh.staff, nil)["settled_at"] != nil
	})
	if l := sh.checkInvariant(); l.Available != 17 || l.Reserved != 3 {
		t.Fatalf("after the cancel: %+v", l)
	}
	if r := sh.attempt(bs[0], cancelled, "c", map[string]any{"address_id": bs[0].address}); r.Status != 409 || r.ErrorCode() != "sale_cancelled" {
		t.Fatalf("attempt on a cancelled sale: %d %s", r.Status, r.Body)
	}
	if sh.publicSale(cancelled) != nil || sh.publicSale(ending) != nil {
		t.Fatal("ended and cancelled sales are still listed for buyers")
	}
}

// Every bad input is a 4xx JSON error with a stable code, and changes nothing.
func TestBadInput(t *testing.T) {
	sh := newShop(t, nil, 50)
	bs := sh.buyers("x", 2)
	now := time.Now().UTC()
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	good := map[string]any{"sku_id": sh.sku, "price": 100, "quantity": 5, "per_user_limit": 1, "starts_at": at(2 * time.Hour),
		"ends_at": at(3 * time.Hour)}
	with := func(kv ...any) map[string]any {
		out := map[string]any{}
		for k, v := range good {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(out, kv[i].(string))
			} else {
				out[kv[i].(string)] = kv[i+1]
			}
		}
		return out
	}
	saleID := sh.sale(3, 1, 100, time.Hour)
	for _, c := range []struct {
		name   string
		body   any
		status int
		code   string
		detail string // a text the error's details must hold
	}{
		{"price 0", with("price", 0), 400, "validation_failed", "price"},
		{"negative price", with("price", -5), 400, "validation_failed", "price"},
		{"limit 0", with("per_user_limit", 0), 400, "validation_failed", "per_user_limit"},
		{"start in the past", with("starts_at", at(-time.Hour)), 400, "validation_failed", "starts_at"},
		{"end in the past", with("starts_at", at(-30*time.Second), "ends_at", at(-10*time.Second)), 400, "validation_failed", "ends_at"},
		{"reversed", with("starts_at", at(3*time.Hour), "ends_at", at(2*time.Hour)), 400, "validation_failed", "ends_at"},
		{"no times", with("starts_at", nil, "ends_at", nil), 400, "validation_failed", "starts_at"},
		{"unknown SKU", with("sku_id", "12345"), 400, "validation_failed", "sku_id"},
		{"off shelf", with("sku_id", sh.old), 409, "sku_unavailable", "sku_id"},
		{"more than the stock", with("quantity", 100), 409, "out_of_stock", "available"},
		{"overlapping", with("starts_at", at(0), "ends_at", at(time.Hour)), 409, "flash_sale_overlap", saleID},
		{"time not RFC 3339", with("starts_at", "tomorrow"), 400, "wrong_type", ""},
		{"price as text", with("price", "100"), 400, "wrong_type", "price"},
		{"unknown field", with("discount", 5), 400, "unknown_field", "discount"},
		{"not an object", `[1]`, 400, "wrong_type", ""},
		{"not JSON", `{"sku_id":`, 400, "invalid_json", ""},
		{"empty", ``, 400, "empty_body", ""},
	} {
		r := sh.do("POST", "/api/v1/admin/flash-sales", sh.staff, c.body, nil)
		if r.Status != c.status || r.ErrorCode() != c.code || !strings.Contains(string(r.Body), c.detail) {
			t.Errorf("%s: %d %s; want %d %s mentioning %q", c.name, r.Status, r.Body, c.status, c.code, c.detail)
		}
	}
	if l := sh.checkInvariant(); l.Available != 47 || l.Reserved != 3 {
		t.Fatalf("bad sales held stock: %+v", l)
	}

	// Attempts.
	b, other := bs[0], bs[1]
	attempt := func(key string, body any) apptest.Response { return sh.attempt(b, saleID, key, body) }
	upcoming := sh.must(201, "POST", "/api/v1/admin/flash-sales", sh.staff, good)["id"].(string)
	for _, c := range []struct {
		name   string
		resp   apptest.Response
		status int
		code   string
	}{
		{"no key", sh.do("POST", "/api/v1/flash-sales/"+saleID+"/attempts", b.token, map[string]any{"address_id": b.address}, nil), 400, "idempotency_key_required"},
		{"key too long", attempt(strings.Repeat("k", 65), map[string]any{"address_id": b.address}), 400, "idempotency_key_required"},
		{"quantity over the limit", attempt("q", map[string]any{"quantity": 2, "address_id": b.address}), 400, "validation_failed"},
		{"quantity 0", attempt("q0", map[string]any{"quantity": 0, "address_id": b.address}), 400, "validation_failed"},
		{"no address", attempt("n", map[string]any{"quantity": 1}), 400, "validation_failed"},
		{"another buyer's address", attempt("o", map[string]any{"address_id": other.address}), 404, "address_not_found"},
		{"unknown address", attempt("u", map[string]any{"address_id": "123"}), 404, "address_not_found"},
		{"quantity as text", attempt("t", map[string]any{"quantity": "1", "address_id": b.address}), 400, "wrong_type"},
		{"unknown field", attempt("f", map[string]any{"address_id": b.address, "price": 1}), 400, "unknown_field"},
		{"unknown sale", sh.do("POST", "/api/v1/flash-sales/999/attempts", b.token, map[string]any{"address_id": b.address},
			map[string]string{"Idempotency-Key": "s"}), 404, "flash_sale_not_found"},
		{"bad sale id", sh.do("POST", "/api/v1/flash-sales/x1/attempts", b.token, map[string]any{"address_id": b.address},
			map[string]string{"Idempotency-Key": "s"}), 400, "invalid_parameter"},
		{"not started", sh.attempt(b, upcoming, "ns", map[string]any{"address_id": b.address}), 409, "not_started"},
		{"no token", sh.do("POST", "/api/v1/flash-sales/"+saleID+"/attempts", "", map[string]any{"address_id": b.address},
			map[string]string{"Idempotency-Key": "z"}), 401, "missing_token"},
		{"staff token", sh.do("POST", "/api/v1/flash-sales/"+saleID+"/attempts", sh.staff, map[string]any{"address_id": b.address},
			map[string]string{"Idempotency-Key": "z"}), 403, "forbidden"},
		{"buyer on the admin API", sh.do("GET", "/api/v1/admin/flash-sales", b.token, nil, nil), 403, "forbidden"},
		{"unknown status filter", sh.do("GET", "/api/v1/admin/flash-sales?status=running", sh.staff, nil, nil), 400, "validation_failed"},
		{"limit 0", sh.do("GET", "/api/v1/admin/flash-sales?limit=0", sh.staff, nil, nil), 400, "invalid_parameter"},
		{"bad cursor", sh.do("GET", "/api/v1/admin/flash-sales?cursor=x", sh.staff, nil, nil), 400, "validation_failed"},
		{"unknown sale for staff", sh.do("GET", "/api/v1/admin/flash-sales/999", sh.staff, nil, nil), 404, "flash_sale_not_found"},
	} {
		if c.resp.Status != c.status || c.resp.ErrorCode() != c.code {
			t.Errorf("%s: %d %s; want %d %s", c.name, c.resp.Status, c.resp.Body, c.status, c.code)
		}
	}
	if s := sh.publicSale(saleID); s["remaining"] != float64(3) {
		t.Fatalf("refused attempts took units: %v", s)
	}

	// The same key and body: the same attempt. Another body with it: refused.
	first := attempt("same", map[string]any{"quantity": 1, "address_id": b.address})
	again := attempt("same", map[string]any{"address_id": b.address, "quantity": 1})
	var a1, a2 attemptView
	first.Decode(t, &a1)
	again.Decode(t, &a2)
	if first.Status != 202 || again.Status != 202 || a1.AttemptID == "" || a1.AttemptID != a2.AttemptID ||
		again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s / %d %s", first.Status, first.Body, again.Status, again.Body)
	}
	if r := attempt("same", map[string]any{"quantity": 1, "address_id": other.address}); r.Status != 422 || r.ErrorCode() != "idempotency_key_reused" {
		t.Fatalf("same key, other body: %d %s", r.Status, r.Body)
	}
	if r := attempt("next", map[string]any{"address_id": b.address}); r.Status != 409 || r.ErrorCode() != "limit_reached" {
		t.Fatalf("over the limit: %d %s", r.Status, r.Body)
	}
	if s := sh.publicSale(saleID); s["remaining"] != float64(2) {
		t.Fatalf("a replay took a second unit: %v", s)
	}
	// Attempts are their buyer's.
	if r := sh.do("GET", "/api/v1/flash-sales/attempts/"+a1.AttemptID, other.token, nil, nil); r.Status != 404 || r.ErrorCode() != "flash_attempt_not_found" {
		t.Fatalf("another buyer's attempt: %d %s", r.Status, r.Body)
	}
	sh.ordered(b, a1.AttemptID)

	// Cancelling: once; then attempts are refused.
	sh.must(200, "POST", "/api/v1/admin/flash-sales/"+upcoming+"/cancel", sh.staff, nil)
	if r := sh.do("POST", "/api/v1/admin/flash-sales/"+upcoming+"/cancel", sh.staff, nil, nil); r.Status != 409 || r.ErrorCode() != "flash_sale_not_cancellable" {
		t.Fatalf("cancel twice: %d %s", r.Status, r.Body)
	}
	if r := sh.attempt(b, upcoming, "cx", map[string]any{"address_id": b.address}); r.Status != 409 || r.ErrorCode() != "sale_cancelled" {
		t.Fatalf("attempt on a cancelled sale: %d %s", r.Status, r.Body)
	}

	// Staff list by status, with a cursor.
	list := sh.must(200, "GET", "/api/v1/admin/flash-sales?status=active,cancelled&limit=1", sh.staff, nil)
	items := list["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != upcoming || list["next_cursor"] == nil {
		t.Fatalf("first page %v", list)
	}
	list = sh.must(200, "GET", "/api/v1/admin/flash-sales?status=active,cancelled&limit=1&cursor="+list["next_cursor"].(string), sh.staff, nil)
	if items := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != saleID || list["next_cursor"] != nil {
		t.Fatalf("second (last) page %v", list)
	}
	if list := sh.must(200, "GET", "/api/v1/admin/flash-sales?limit=1000", sh.staff, nil); list["limit"] != float64(100) || list["limit_capped"] != true {
		t.Fatalf("a limit over 100: %v", list)
	}
	sh.checkInvariant()
}
