package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/sqldb"
)

// TestSplitThroughNginx runs the seed's split for real — deploy/local/split.sh: user,
// product (catalog + inventory), order (order + cart + promotion) and payment, two instances each, a
// database per service on MariaDB, events over RabbitMQ, a shared Redis, nginx in front —
// and drives it only as clients and operators can: through nginx's one port, the instances'
// own addresses, the databases, and signals. The subtests share the one split and run in
// order; the last two break it on purpose.
func TestSplitThroughNginx(t *testing.T) {
	s := startSplit(t)
	s.staff = staffLogin(t, s.base, s.admin).Tokens.AccessToken
	skus := s.demoSKUs(t, 6)
	journeySKU, downSKU, loadSKUs := skus[0], skus[1], skus[2:]

	var buyer journeyBuyer
	t.Run("journey", func(t *testing.T) { buyer = s.journey(t, journeySKU) })
	t.Run("internal endpoints", func(t *testing.T) { s.internalEndpoints(t, buyer, journeySKU) })
	t.Run("database per service", s.databasePerService)
	t.Run("kill one instance of every service under load", func(t *testing.T) { s.killUnderLoad(t, loadSKUs) })
	t.Run("product service down", func(t *testing.T) { s.productDown(t, downSKU) })
	t.Run("check across the services' databases", s.checkAcrossServices)
}

// checkAcrossServices runs the operator's `minimart check` as the product service, given the
// order and payment services' databases, after everything above: stock against the ledger,
// holds against orders, paid orders against payments, the outboxes.
func (s *splitShop) checkAcrossServices(t *testing.T) {
	u, err := url.Parse(s.mysqlURL)
	if err != nil {
		t.Fatal(err)
	}
	dbURL := func(service string) string {
		u.Path = "/" + s.prefix + "_" + service
		return u.String()
	}
	env := []string{"MINIMART_MODULES=catalog,inventory", "MINIMART_DB_URL=" + dbURL("product"), "MINIMART_AMQP_URL=" + s.amqpURL,
		"MINIMART_SERVICE_TOKEN=" + s.token, "MINIMART_JWT_SECRET=check-across-services-secret-0123456789",
		// A check calls no peer, but a product service's settings must name the ones it needs.
		"MINIMART_PEER_USER=http://127.0.0.1:9", "MINIMART_PEER_ORDER=http://127.0.0.1:9"}
	r := runMinimart(t, t.TempDir(), env, "check", "--db", "order="+dbURL("order"), "--db", "payment="+dbURL("payment"))
	if r.code != 0 {
		t.Fatalf("minimart check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "skipped") || strings.Contains(r.stderr, "skipped") {
		t.Fatalf("minimart check skipped a comparison with every database given:\n%s%s", r.stdout, r.stderr)
	}
}

// --- wire shapes --------------------------------------------------------------------------

type stockLevel struct {
	Available int64 `json:"available"`
	Reserved  int64 `json:"reserved"`
	Sold      int64 `json:"sold"`
}

func (l stockLevel) total() int64 { return l.Available + l.Reserved + l.Sold }

type orderLine struct {
	SKUID    string `json:"sku_id"`
	Quantity int64  `json:"quantity"`
}

type orderView struct {
	ID        string      `json:"id"`
	OrderNo   string      `json:"order_no"`
	Status    string      `json:"status"`
	Payable   int64       `json:"payable"`
	PaymentID string      `json:"payment_id"`
	Lines     []orderLine `json:"lines"`
}

// demoSKU is one SKU of the demo catalog split.sh loaded.
type demoSKU struct {
	product, id, title string
	price              int64
}

// demoSKUs picks the first SKU of n different on-shelf demo products (one per product, so
// no two parts of the test share a SKU's stock).
func (s *splitShop) demoSKUs(t *testing.T, n int) []demoSKU {
	t.Helper()
	var list struct {
		Items []struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"items"`
	}
	call(t, "GET", s.base+"/api/v1/products?page=2&page_size=20", "", nil, http.StatusOK, &list)
	var out []demoSKU
	for _, p := range list.Items {
		var d struct {
			SKUs []struct {
				ID    string `json:"id"`
				Price int64  `json:"price"`
			} `json:"skus"`
		}
		call(t, "GET", s.base+"/api/v1/products/"+p.ID, "", nil, http.StatusOK, &d)
		if len(d.SKUs) > 0 {
			out = append(out, demoSKU{product: p.ID, id: d.SKUs[0].ID, title: p.Title, price: d.SKUs[0].Price})
		}
		if len(out) == n {
			return out
		}
	}
	t.Fatalf("the demo catalog's second page has %d products with SKUs, want %d", len(out), n)
	return nil
}

// level reads a SKU's stock through nginx (retried: right after a fault nginx may still be
// skipping an instance).
func (s *splitShop) level(t *testing.T, sku string) stockLevel {
	t.Helper()
	var r struct {
		Level stockLevel `json:"level"`
	}
	a := sendUntil(t, 20*time.Second, http.StatusOK, "GET", s.base+"/api/v1/admin/skus/"+sku+"/stock", s.staff, nil, nil)
	if err := a.decode(&r); err != nil {
		t.Fatalf("stock of %s: %v", sku, err)
	}
	if r.Level.Available < 0 || r.Level.Reserved < 0 || r.Level.Sold < 0 {
		t.Fatalf("stock of %s is negative somewhere: %+v", sku, r.Level)
	}
	return r.Level
}

// setStock sets a SKU's available stock through nginx and returns the level it answers.
func (s *splitShop) setStock(t *testing.T, sku string, n int64) stockLevel {
	t.Helper()
	var l stockLevel
	call(t, "PUT", s.base+"/api/v1/admin/skus/"+sku+"/stock", s.staff, map[string]any{"stock": n, "reason": "e2e split"}, http.StatusOK, &l)
	if l.Available != n {
		t.Fatalf("PUT stock %d answered %+v", n, l)
	}
	return l
}

// ordersWithStatus lists every order in a status, through the staff API (page by page).
func (s *splitShop) ordersWithStatus(t *testing.T, status string) []orderView {
	t.Helper()
	var all []orderView
	for page := 1; ; page++ {
		var p struct {
			Items []orderView `json:"items"`
			Total int         `json:"total"`
		}
		a := sendUntil(t, 20*time.Second, http.StatusOK, "GET",
			fmt.Sprintf("%s/api/v1/admin/orders?status=%s&page=%d&page_size=100", s.base, status, page), s.staff, nil, nil)
		if err := a.decode(&p); err != nil {
			t.Fatalf("staff order list: %v", err)
		}
		all = append(all, p.Items...)
		if len(p.Items) < 100 || len(all) >= p.Total {
			return all
		}
	}
}

// newBuyerWithAddress registers a buyer through nginx and gives it an address.
func (s *splitShop) newBuyerWithAddress(t *testing.T) (token, addressID string) {
	t.Helper()
	token = register(t, s.base, newBuyer()).Tokens.AccessToken
	var a map[string]any
	call(t, "POST", s.base+"/api/v1/me/addresses", token, shanghaiAddress, http.StatusCreated, &a)
	return token, a["id"].(string)
}

var shanghaiAddress = map[string]any{"recipient": "王五", "phone": "13700000000",
	"province": "上海市", "city": "上海市", "district": "浦东新区", "detail": "世纪大道 100 号"}

func (s *splitShop) getOrder(t *testing.T, token, id string) orderView {
	t.Helper()
	var o orderView
	if err := sendUntil(t, 20*time.Second, http.StatusOK, "GET", s.base+"/api/v1/orders/"+id, token, nil, nil).decode(&o); err != nil {
		t.Fatal(err)
	}
	return o
}

func (s *splitShop) waitOrderStatus(t *testing.T, token, id, want string) orderView {
	t.Helper()
	var o orderView
	poll(t, 30*time.Second, "order "+id+" becomes "+want, func() (bool, string) {
		o = s.getOrder(t, token, id)
		return o.Status == want, o.Status
	})
	return o
}

// --- 1. the journey ------------------------------------------------------------------------

type journeyBuyer struct {
	token, userID, addressID string
}

// journey is a buyer's and a merchant's day, every request through nginx: each one lands on
// whichever instance nginx picks, so the services must agree on tokens, caches and events.
func (s *splitShop) journey(t *testing.T, sku demoSKU) journeyBuyer {
	c := newBuyer()
	reg := register(t, s.base, c)
	b := journeyBuyer{userID: reg.User.id(t)}
	b.token = login(t, s.base, c).Tokens.AccessToken
	if got := me(t, s.base, b.token); got != b.userID {
		t.Fatalf("/me is %s, want %s", got, b.userID)
	}
	var addr map[string]any
	call(t, "POST", s.base+"/api/v1/me/addresses", b.token, shanghaiAddress, http.StatusCreated, &addr)
	b.addressID = addr["id"].(string)

	// Browse: the demo catalog split.sh loaded into the product service's database.
	var tree struct {
		Items []struct {
			Name     string            `json:"name"`
			Children []json.RawMessage `json:"children"`
		} `json:"items"`
	}
	call(t, "GET", s.base+"/api/v1/categories", "", nil, http.StatusOK, &tree)
	if len(tree.Items) < 3 {
		t.Fatalf("category tree has %d top-level categories", len(tree.Items))
	}
	var list struct {
		Items []struct{ ID string } `json:"items"`
		Total int                   `json:"total"`
	}
	call(t, "GET", s.base+"/api/v1/products?sort=price_asc&page_size=5", "", nil, http.StatusOK, &list)
	if list.Total < 150 || len(list.Items) != 5 {
		t.Fatalf("product list: %d items of %d", len(list.Items), list.Total)
	}
	// Search: each product instance keeps its own index, so ask each one directly as well
	// as nginx; both must have indexed the demo catalog.
	searchTotal := func(base string) (int, string) {
		a := send(httpClient, "GET", base+"/api/v1/search?q="+url.QueryEscape("手机"), "", nil, nil)
		var p struct {
			Total int `json:"total"`
			Items []struct {
				ID    string `json:"id"`
				Title string `json:"title"`
			} `json:"items"`
		}
		if a.status != http.StatusOK || a.decode(&p) != nil || len(p.Items) == 0 {
			return -1, a.String()
		}
		// Title matches rank first (hits may also match on a subtitle or description).
		if !strings.Contains(p.Items[0].Title, "手机") {
			return -1, "the first 手机 search hit is " + p.Items[0].Title
		}
		return p.Total, a.String()
	}
	for _, base := range []string{s.base, "http://" + s.proc("product", 1).addr, "http://" + s.proc("product", 2).addr} {
		poll(t, 30*time.Second, "search 手机 at "+base, func() (bool, string) {
			n, last := searchTotal(base)
			return n >= 5, last
		})
	}

	// Product detail, with stock set by the merchant through nginx first.
	base := s.setStock(t, sku.id, 10).total()
	var detail struct {
		Title string `json:"title"`
		SKUs  []struct {
			ID    string `json:"id"`
			Stock int64  `json:"stock"`
			Price int64  `json:"price"`
		} `json:"skus"`
	}
	poll(t, 15*time.Second, "product detail shows the stock just set", func() (bool, string) {
		a := send(httpClient, "GET", s.base+"/api/v1/products/"+sku.product, "", nil, nil)
		if a.status != http.StatusOK || a.decode(&detail) != nil || len(detail.SKUs) == 0 {
			return false, a.String()
		}
		return detail.SKUs[0].ID == sku.id && detail.SKUs[0].Stock == 10, a.String()
	})

	// Cart (order service) with the catalog's price and inventory's stock (product service).
	call(t, "POST", s.base+"/api/v1/cart/items", b.token, map[string]any{"sku_id": sku.id, "quantity": 2}, http.StatusOK, nil)
	var cart struct {
		Lines []struct {
			SKUID string `json:"sku_id"`
			Title string `json:"title"`
			Price int64  `json:"price"`
		} `json:"lines"`
	}
	call(t, "GET", s.base+"/api/v1/cart", b.token, nil, http.StatusOK, &cart)
	if len(cart.Lines) != 1 || cart.Lines[0].SKUID != sku.id || cart.Lines[0].Price != sku.price || cart.Lines[0].Title != detail.Title {
		t.Fatalf("cart = %+v, want one line of %s at %d titled %q", cart.Lines, sku.id, sku.price, detail.Title)
	}

	// Order from the cart, idempotent: the same key and body answer the first order.
	key := map[string]string{"Idempotency-Key": "journey-" + randomHex(6)}
	orderBody := map[string]any{"from_cart": true, "address_id": b.addressID, "remark": "拆分测试"}
	var o orderView
	callWith(t, "POST", s.base+"/api/v1/orders", b.token, key, orderBody, http.StatusCreated, &o)
	if o.Status != "pending_payment" || len(o.Lines) != 1 || o.Lines[0].Quantity != 2 {
		t.Fatalf("order = %+v", o)
	}
	replay := send(httpClient, "POST", s.base+"/api/v1/orders", b.token, key, orderBody)
	var again orderView
	if replay.status != http.StatusCreated || replay.decode(&again) != nil || again.ID != o.ID || replay.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replayed order create: %s (replayed header %q), want order %s again", replay, replay.header.Get("Idempotent-Replayed"), o.ID)
	}
	if l := s.level(t, sku.id); l.Reserved != 2 || l.total() != base {
		t.Fatalf("after the order: %+v, want 2 held of %d", l, base)
	}

	// Sandbox payment: the payment service answers a cashier URL on nginx's address; the
	// cashier (payment service) shows the trade, its Pay action succeeds and notifies the
	// shop through nginx; order (consuming payment.succeeded) and inventory (order.paid)
	// follow through RabbitMQ.
	var pay struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Amount int64  `json:"amount"`
		PayURL string `json:"pay_url"`
	}
	callWith(t, "POST", s.base+"/api/v1/orders/"+o.ID+"/payments", b.token, map[string]string{"Idempotency-Key": "pay-" + o.ID},
		map[string]any{"method": "sandbox"}, http.StatusCreated, &pay)
	if !strings.HasPrefix(pay.PayURL, s.base+"/sandbox/pay/") || pay.Amount != o.Payable || pay.Status != "pending" {
		t.Fatalf("payment = %+v; want a pending payment of %d whose cashier is behind nginx (%s)", pay, o.Payable, s.base)
	}
	jsonAccept := map[string]string{"Accept": "application/json"}
	var trade struct {
		OutTradeNo string `json:"out_trade_no"`
		Amount     int64  `json:"amount"`
		Status     string `json:"status"`
	}
	callWith(t, "GET", pay.PayURL, "", jsonAccept, nil, http.StatusOK, &trade)
	if trade.OutTradeNo != o.OrderNo || trade.Amount != o.Payable || trade.Status != "pending" {
		t.Fatalf("cashier shows %+v for order %s of %d", trade, o.OrderNo, o.Payable)
	}
	callWith(t, "POST", pay.PayURL+"/pay", "", jsonAccept, nil, http.StatusOK, &trade)
	if trade.Status != "success" {
		t.Fatalf("cashier Pay answered %+v", trade)
	}
	if paid := s.waitOrderStatus(t, b.token, o.ID, "paid"); paid.PaymentID != pay.ID {
		t.Fatalf("order paid by %q, want payment %s", paid.PaymentID, pay.ID)
	}
	poll(t, 30*time.Second, "the paid units sold", func() (bool, string) {
		l := s.level(t, sku.id)
		if l.total() != base {
			t.Fatalf("stock invariant broken: %+v, want a total of %d", l, base)
		}
		return l.Sold == 2 && l.Reserved == 0, fmt.Sprintf("%+v", l)
	})

	// The merchant ships it (order service, staff token from the user service).
	var shipped orderView
	call(t, "POST", s.base+"/api/v1/admin/orders/"+o.ID+"/ship", s.staff, map[string]any{"carrier": "顺丰", "tracking_no": "SF100200300"},
		http.StatusOK, &shipped)
	if shipped.Status != "shipped" || s.getOrder(t, b.token, o.ID).Status != "shipped" {
		t.Fatalf("after ship: %+v", shipped)
	}

	// A second order, paid with `minimart sandbox pay <pay_url>` through nginx, then refunded in full
	// by the merchant: payment → sandbox refund notify through nginx → payment.refunded →
	// order refunding → refunded.
	var second orderView
	callWith(t, "POST", s.base+"/api/v1/orders", b.token, map[string]string{"Idempotency-Key": "journey-2-" + randomHex(6)},
		map[string]any{"items": []map[string]any{{"sku_id": sku.id, "quantity": 1}}, "address_id": b.addressID}, http.StatusCreated, &second)
	callWith(t, "POST", s.base+"/api/v1/orders/"+second.ID+"/payments", b.token, map[string]string{"Idempotency-Key": "pay-" + second.ID},
		map[string]any{"method": "sandbox"}, http.StatusCreated, &pay)
	if r := runMinimart(t, t.TempDir(), nil, "sandbox", "pay", pay.PayURL); r.code != 0 || !strings.Contains(r.stdout, "success") {
		t.Fatalf("minimart sandbox pay through nginx: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	s.waitOrderStatus(t, b.token, second.ID, "paid")
	refundKey := map[string]string{"Idempotency-Key": "refund-" + second.ID}
	refundBody := map[string]any{"amount": second.Payable, "reason": "拆分测试退款"}
	var refund map[string]any
	callWith(t, "POST", s.base+"/api/v1/admin/orders/"+second.ID+"/refunds", s.staff, refundKey, refundBody, http.StatusCreated, &refund)
	if r := send(httpClient, "POST", s.base+"/api/v1/admin/orders/"+second.ID+"/refunds", s.staff, refundKey, refundBody); r.status != http.StatusCreated ||
		r.header.Get("Idempotent-Replayed") != "true" || !strings.Contains(string(r.body), fmt.Sprint(refund["id"])) {
		t.Fatalf("replayed refund: %s", r)
	}
	s.waitOrderStatus(t, b.token, second.ID, "refunded")

	// The merchant's stocktake: the new level is read back, and the buyers' product detail
	// (cached in Redis, shared by both product instances) follows the stock event.
	if l := s.setStock(t, sku.id, 50); l.Sold != 3 || l.Reserved != 0 {
		t.Fatalf("after the stocktake: %+v, want 3 sold and nothing held", l)
	}
	if l := s.level(t, sku.id); l.Available != 50 {
		t.Fatalf("stock read back: %+v, want 50 available", l)
	}
	poll(t, 15*time.Second, "product detail shows the stocktake", func() (bool, string) {
		a := send(httpClient, "GET", s.base+"/api/v1/products/"+sku.product, "", nil, nil)
		if a.status != http.StatusOK || a.decode(&detail) != nil || len(detail.SKUs) == 0 {
			return false, a.String()
		}
		return detail.SKUs[0].Stock == 50, a.String()
	})
	return b
}

// --- 2. internal endpoints ----------------------------------------------------------------

// internalEndpoints: nginx never routes /internal/, whatever the spelling of the path; on an
// instance's own address the endpoints answer only the service token.
func (s *splitShop) internalEndpoints(t *testing.T, b journeyBuyer, sku demoSKU) {
	if b.token == "" {
		t.Fatal("the journey made no buyer")
	}
	probes := []struct {
		method, path string
		body         any
	}{
		{"GET", "/internal/v1/users/" + b.userID + "/addresses/" + b.addressID, nil},
		{"POST", "/internal/v1/orders/placed", map[string]any{"order_nos": []string{}}},
		{"POST", "/internal/v1/inventory/available", map[string]any{"sku_ids": []string{sku.id}}},
		{"GET", "/internal/v1/catalog/skus/" + sku.id + "/product", nil},
		// Spellings that reach /internal/ after nginx normalises the path.
		{"POST", "//internal/v1/orders/placed", map[string]any{"order_nos": []string{}}},
		{"POST", "/%69nternal/v1/orders/placed", map[string]any{"order_nos": []string{}}},
		{"POST", "/api/v1/../internal/v1/orders/placed", map[string]any{"order_nos": []string{}}},
		{"GET", "/internal/v1/users/" + b.userID + "/openid", nil},
	}
	ids := map[string]string{}
	for i, p := range probes {
		id := fmt.Sprintf("e2e-internal-%s-%d", randomHex(6), i)
		ids[id] = p.method + " " + p.path
		req, err := http.NewRequest(p.method, s.base+p.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := req.URL.RequestURI(); got != p.path {
			t.Fatalf("the client would send %q, not %q", got, p.path)
		}
		a := send(httpClient, p.method, s.base+p.path, s.token, map[string]string{"X-Request-ID": id}, p.body)
		// The real service token is sent on purpose: even with it, nginx must not pass it on.
		if (a.status != http.StatusForbidden && a.status != http.StatusNotFound) || a.code() == "" {
			t.Errorf("%s %s through nginx (with the service token): %s; want 403 or 404 from nginx", p.method, p.path, a)
		}
	}
	// None of those requests reached an instance: no instance logged their request ids, and
	// nginx's access log shows them answered without an upstream.
	logs, _ := filepath.Glob(filepath.Join(s.dir, "*-[12].log"))
	if len(logs) != 8 {
		t.Fatalf("instance logs: %v, want 8", logs)
	}
	for _, path := range logs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for id, what := range ids {
			if strings.Contains(string(b), id) {
				t.Errorf("%s through nginx reached an instance: %s logged it", what, filepath.Base(path))
			}
		}
	}
	seen := map[string]bool{}
	f, err := os.Open(filepath.Join(s.dir, "nginx", "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec struct {
			RequestID string `json:"request_id"`
			Upstream  string `json:"upstream"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) != nil || ids[rec.RequestID] == "" {
			continue
		}
		seen[rec.RequestID] = true
		if rec.Upstream != "" {
			t.Errorf("%s was passed to %s", ids[rec.RequestID], rec.Upstream)
		}
	}
	if len(seen) != len(ids) {
		t.Errorf("nginx's access log has %d of the %d probes", len(seen), len(ids))
	}

	// On each service's own address: no token, a buyer's token and a wrong token are all
	// refused alike; the service token is served.
	wrong := randomHex(32)
	direct := []struct {
		service, method, path string
		body                  any
	}{
		{"user", "GET", "/internal/v1/users/" + b.userID + "/addresses/" + b.addressID, nil},
		{"product", "POST", "/internal/v1/inventory/available", map[string]any{"sku_ids": []string{sku.id}}},
		{"product", "GET", "/internal/v1/catalog/skus/" + sku.id + "/product", nil},
		{"order", "POST", "/internal/v1/orders/placed", map[string]any{"order_nos": []string{}}},
	}
	for _, d := range direct {
		for _, p := range s.procs[d.service] {
			u := "http://" + p.addr + d.path
			for name, token := range map[string]string{"no token": "", "a buyer's token": b.token, "a wrong token": wrong} {
				a := send(httpClient, d.method, u, token, nil, d.body)
				if a.status != http.StatusUnauthorized || a.code() != "invalid_service_token" {
					t.Errorf("%s %s at %s with %s: %s; want 401 invalid_service_token", d.method, d.path, p, name, a)
				}
			}
			a := send(httpClient, d.method, u, s.token, nil, d.body)
			if a.status/100 != 2 {
				t.Errorf("%s %s at %s with the service token: %s; want 2xx", d.method, d.path, p, a)
			}
			if d.path == "/internal/v1/orders/placed" && strings.TrimSpace(string(a.body)) != `{"placed":[]}` {
				t.Errorf("placed of no orders: %s", a)
			}
		}
	}
}

// --- 3. a database per service ------------------------------------------------------------

// databasePerService: each service's database holds its own modules' tables and the shared
// event tables (outbox, processed events, dead letters), and no other module's table.
//
// Which tables are whose is not written down here: each module alone is migrated by the
// binary into a scratch database; the tables every one of those has are the shared ones, and
// the rest of each are that module's.
func (s *splitShop) databasePerService(t *testing.T) {
	ctx := context.Background()
	admin, err := sqldb.Open(ctx, s.mysqlURL, "")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	tables := func(db string) []string {
		t.Helper()
		rows, err := admin.Read().QueryContext(ctx, "SHOW TABLES FROM `"+db+"`")
		if err != nil {
			t.Fatalf("SHOW TABLES FROM %s: %v", db, err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		return out
	}
	u, err := url.Parse(s.mysqlURL)
	if err != nil {
		t.Fatal(err)
	}
	modules := []string{"user", "catalog", "inventory", "cart", "order", "payment", "promotion"}
	made := map[string][]string{}
	for _, m := range modules {
		db := s.prefix + "_scratch_" + m // dropped with the split's databases (same prefix)
		if _, err := admin.Write().ExecContext(ctx, "CREATE DATABASE `"+db+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + db
		env := []string{"MINIMART_MODULES=" + m, "MINIMART_DB_URL=" + u.String(), "MINIMART_AMQP_URL=" + s.amqpURL,
			"MINIMART_SERVICE_TOKEN=" + s.token, "MINIMART_JWT_SECRET=scratch-migration-secret-0123456789abcdef"}
		for _, other := range modules {
			if other != m { // a split process must be told where the others are; nothing calls them here
				env = append(env, "MINIMART_PEER_"+strings.ToUpper(other)+"=http://127.0.0.1:9")
			}
		}
		if r := runMinimart(t, t.TempDir(), env, "migrate", "up"); r.code != 0 {
			t.Fatalf("migrate up of %s alone: exit %d\n%s%s", m, r.code, r.stdout, r.stderr)
		}
		made[m] = tables(db)
	}
	shared := slices.Clone(made[modules[0]])
	for _, m := range modules[1:] {
		shared = slices.DeleteFunc(shared, func(tb string) bool { return !slices.Contains(made[m], tb) })
	}
	owner := map[string]string{}
	for _, m := range modules {
		for _, tb := range made[m] {
			if slices.Contains(shared, tb) {
				continue
			}
			if o, dup := owner[tb]; dup {
				t.Fatalf("table %s is made by both %s and %s", tb, o, m)
			}
			owner[tb] = m
		}
	}
	for _, m := range modules {
		if !slices.Contains(made[m], "schema_"+m) || !slices.ContainsFunc(made[m], func(tb string) bool { return owner[tb] == m && tb != "schema_"+m }) {
			t.Fatalf("migrating %s alone made %v: no schema_%s or no table of its own", m, made[m], m)
		}
	}
	if !slices.Contains(shared, "outbox_events") {
		t.Fatalf("shared tables %v: no outbox_events", shared)
	}
	t.Logf("shared by every service: %v", shared)

	// Besides the derivation, the tables that matter most, by name: the derivation must not
	// have gone vacuous.
	mainTables := map[string][]string{"user": {"users", "addresses"}, "product": {"products", "skus", "stock", "reservations"},
		"order": {"orders", "order_lines", "carts"}, "payment": {"payments", "sandbox_trades"}}
	for _, svc := range splitServices {
		db := s.prefix + "_" + svc.name
		have := tables(db)
		for _, tb := range have {
			switch o := owner[tb]; {
			case slices.Contains(shared, tb):
			case o == "":
				t.Errorf("%s holds %s, which no module's migrations make", db, tb)
			case !slices.Contains(svc.modules, o):
				t.Errorf("%s (service %s: %v) holds %s, a table of the %s module", db, svc.name, svc.modules, tb, o)
			}
		}
		want := slices.Clone(shared)
		for tb, o := range owner {
			if slices.Contains(svc.modules, o) {
				want = append(want, tb)
			}
		}
		want = append(want, mainTables[svc.name]...)
		for _, tb := range want {
			if !slices.Contains(have, tb) {
				t.Errorf("%s (service %s) lacks its table %s; it has %v", db, svc.name, tb, have)
			}
		}
	}
}

// --- 4. kill -9 one instance of every service under load ----------------------------------

// loadRecord is one request a buyer made during the load.
type loadRecord struct {
	kind       string // detail, order, pay, cashier, me
	sent, done time.Time
	status     int // 0: no answer
	code       string
	err        error
}

func (r loadRecord) String() string {
	if r.err != nil {
		return fmt.Sprintf("%s at %s: %v", r.kind, r.sent.Format("15:04:05.000"), r.err)
	}
	return fmt.Sprintf("%s at %s→%s: %d %s", r.kind, r.sent.Format("15:04:05.000"), r.done.Format("15:04:05.000"), r.status, r.code)
}

type loadOrder struct {
	id, no, sku, token string
	cashierPaid        bool // the cashier answered the Pay action with success
}

type loadBuyer struct {
	name, token, address string
	records              []loadRecord
	orders               []*loadOrder
}

const (
	loadBuyers     = 16
	loadStock      = 150 // per SKU: enough that most orders hold stock rather than being refused
	loadBeforeKill = 3 * time.Second
	loadAfterKill  = 5 * time.Second
	// killWindow: requests in flight within this long after the kill may fail (a request on
	// a killed instance, nginx and the peers noticing). Requests sent later must succeed.
	killWindow = 2 * time.Second
)

func (s *splitShop) killUnderLoad(t *testing.T, skus []demoSKU) {
	base := map[string]int64{}
	for _, sku := range skus {
		l := s.setStock(t, sku.id, loadStock)
		if l.Reserved != 0 || l.Sold != 0 {
			t.Fatalf("SKU %s was used before: %+v", sku.id, l)
		}
		base[sku.id] = l.total()
	}
	buyers := make([]*loadBuyer, loadBuyers)
	for i := range buyers {
		tok, addr := s.newBuyerWithAddress(t)
		buyers[i] = &loadBuyer{name: fmt.Sprintf("b%d-%s", i, randomHex(3)), token: tok, address: addr}
	}
	tr := &http.Transport{MaxIdleConns: 2 * loadBuyers, MaxIdleConnsPerHost: 2 * loadBuyers, IdleConnTimeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	client := &http.Client{Timeout: 15 * time.Second, Transport: tr}

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }() // also when a kill below fails the test
	for i, b := range buyers {
		wg.Go(func() { s.buy(ctx, client, b, skus, i) })
	}
	time.Sleep(loadBeforeKill)
	victims := []*splitProc{s.proc("user", 1), s.proc("product", 1), s.proc("order", 1), s.proc("payment", 1)}
	killAt := time.Now()
	s.killAll(t, victims...)
	t.Logf("killed %v at %s", victims, killAt.Format("15:04:05.000"))
	time.Sleep(loadAfterKill)
	stop()
	wg.Wait()
	loadEnd := time.Now()

	// Requests: a fault-free shop answers everything before the kill; after the window
	// nearly everything succeeds again; a 500 is never acceptable.
	var all []loadRecord
	var orders []*loadOrder
	for _, b := range buyers {
		all = append(all, b.records...)
		orders = append(orders, b.orders...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].sent.Before(all[j].sent) })
	windowEnd := killAt.Add(killWindow)
	var inWindow, before, after []loadRecord
	afterTotal, ordersAfter, ordersAfterOK := 0, 0, 0
	placedBefore := 0
	for _, r := range all {
		failed := r.status == 0 || r.status >= 500
		switch {
		case r.status == http.StatusInternalServerError:
			t.Errorf("500 during the load: %s", r)
		case r.done.Before(killAt):
			if failed {
				before = append(before, r)
			}
			if r.kind == "order" && r.status == http.StatusCreated {
				placedBefore++
			}
		case r.sent.Before(windowEnd):
			if failed {
				inWindow = append(inWindow, r)
			}
		default:
			afterTotal++
			if failed {
				after = append(after, r)
			}
			if r.kind == "order" {
				ordersAfter++
				if r.status == http.StatusCreated || (r.status == http.StatusConflict && r.code == "out_of_stock") {
					ordersAfterOK++
				}
			}
		}
	}
	t.Logf("load: %d requests, %d orders placed (%d before the kill); failed: %d before the kill, %d in the %s after it, %d of %d later; orders after the window: %d of %d ok",
		len(all), len(orders), placedBefore, len(before), len(inWindow), killWindow, len(after), afterTotal, ordersAfterOK, ordersAfter)
	for _, r := range inWindow {
		t.Logf("  in the kill window: %s", r)
	}
	for _, r := range before {
		t.Errorf("failed before any fault: %s", r)
	}
	for _, r := range after {
		t.Logf("  failed after the kill window: %s", r)
	}
	if placedBefore < 10 || ordersAfter < 20 {
		t.Fatalf("too little load to judge: %d orders placed before the kill, %d tried after the window", placedBefore, ordersAfter)
	}
	// Bounds: 5xx after the window at most 1% of requests, orders after it at least 90% answered.
	if len(after)*100 > afterTotal {
		t.Errorf("%d of %d requests after the kill window failed; want at most 1%%", len(after), afterTotal)
	}
	if ordersAfterOK*10 < ordersAfter*9 {
		t.Errorf("only %d of %d orders after the kill window were placed or refused out_of_stock; want ≥ 90%%", ordersAfterOK, ordersAfter)
	}

	// The surviving instances are the second ones, all still running.
	for _, svc := range splitServices {
		if p := s.proc(svc.name, 2); !p.alive() {
			t.Fatalf("%s died during the load", p)
		}
	}

	// Every order answered 201 exists, as its buyer sees it.
	for _, o := range orders {
		got := s.getOrder(t, o.token, o.id)
		if got.OrderNo != o.no || len(got.Lines) != 1 || got.Lines[0].SKUID != o.sku || got.Lines[0].Quantity != 1 {
			t.Errorf("order %s (answered 201 as %s of %s) reads back as %+v", o.id, o.no, o.sku, got)
		}
	}
	// Every order the cashier confirmed paid ends paid: a notify lost with a killed payment
	// instance is found by the payment query.
	var waiting []*loadOrder
	for _, o := range orders {
		if o.cashierPaid {
			waiting = append(waiting, o)
		}
	}
	confirmed := len(waiting)
	if confirmed < 10 {
		t.Fatalf("only %d cashier payments confirmed during the load", confirmed)
	}
	poll(t, 30*time.Second, "every order paid at the cashier is paid", func() (bool, string) {
		waiting = slices.DeleteFunc(waiting, func(o *loadOrder) bool { return s.getOrder(t, o.token, o.id).Status == "paid" })
		if len(waiting) == 0 {
			return true, ""
		}
		return false, fmt.Sprintf("%d of %d still not paid, e.g. %s", len(waiting), confirmed, waiting[0].no)
	})

	// Stock: nothing lost or made up (available + reserved + sold is what was set), held
	// stock is exactly the pending orders' (an order that died between hold and write had
	// its hold released by inventory's sweep once older than MINIMART_ORPHAN_HOLD_AFTER) and
	// sold stock is exactly the paid orders'.
	inLoad := map[string]bool{}
	for _, sku := range skus {
		inLoad[sku.id] = true
	}
	sumBySKU := func(status string) map[string]int64 {
		out := map[string]int64{}
		for _, o := range s.ordersWithStatus(t, status) {
			for _, l := range o.Lines {
				if inLoad[l.SKUID] {
					out[l.SKUID] += l.Quantity
				}
			}
		}
		return out
	}
	// Orders the kill cut off between hold and write leave holds no order owns; the
	// invariant below waits for the sweep to release them.
	deadline := splitOrphanHoldAfter + 25*time.Second - time.Since(loadEnd)
	poll(t, max(deadline, 10*time.Second), "stock agrees with the orders", func() (bool, string) {
		pending, paid := sumBySKU("pending_payment"), sumBySKU("paid")
		var diffs []string
		for _, sku := range skus {
			l := s.level(t, sku.id)
			if l.total() != base[sku.id] {
				t.Fatalf("SKU %s: %+v adds up to %d, want %d", sku.id, l, l.total(), base[sku.id])
			}
			if l.Reserved != pending[sku.id] || l.Sold != paid[sku.id] {
				diffs = append(diffs, fmt.Sprintf("%s %+v vs %d pending, %d paid", sku.id, l, pending[sku.id], paid[sku.id]))
			}
		}
		return len(diffs) == 0, strings.Join(diffs, "; ")
	})
	orphans := 0
	for _, sku := range skus {
		orphans += s.ledgerReasons(t, sku.id, "order never recorded")
	}
	t.Logf("holds released by inventory's sweep because their order was never recorded: %d", orphans)
}

// ledgerReasons counts a SKU's stock ledger entries whose reason contains substr.
func (s *splitShop) ledgerReasons(t *testing.T, sku, substr string) int {
	t.Helper()
	n, cursor := 0, ""
	for {
		var page struct {
			Ledger []struct {
				Reason string `json:"reason"`
			} `json:"ledger"`
			NextCursor string `json:"next_cursor"`
		}
		a := sendUntil(t, 20*time.Second, http.StatusOK, "GET", s.base+"/api/v1/admin/skus/"+sku+"/stock?limit=100&cursor="+cursor, s.staff, nil, nil)
		if err := a.decode(&page); err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Ledger {
			if strings.Contains(e.Reason, substr) {
				n++
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			return n
		}
	}
}

// buy is one buyer's loop until ctx ends: look at a product, order one unit, pay every other
// order at the sandbox cashier, look at itself.
func (s *splitShop) buy(ctx context.Context, c *http.Client, b *loadBuyer, skus []demoSKU, n int) {
	do := func(kind, method, url, token string, headers map[string]string, in any) answer {
		r := loadRecord{kind: kind, sent: time.Now()}
		a := send(c, method, url, token, headers, in)
		r.done, r.status, r.err = time.Now(), a.status, a.err
		if a.status >= 400 {
			r.code = a.code()
		}
		b.records = append(b.records, r)
		return a
	}
	for i := 0; ctx.Err() == nil; i++ {
		sku := skus[(n+i)%len(skus)]
		do("detail", "GET", s.base+"/api/v1/products/"+sku.product, "", nil, nil)
		a := do("order", "POST", s.base+"/api/v1/orders", b.token, map[string]string{"Idempotency-Key": fmt.Sprintf("%s-%d", b.name, i)},
			map[string]any{"items": []map[string]any{{"sku_id": sku.id, "quantity": 1}}, "address_id": b.address})
		var o orderView
		if a.status == http.StatusCreated && a.decode(&o) == nil {
			lo := &loadOrder{id: o.ID, no: o.OrderNo, sku: sku.id, token: b.token}
			b.orders = append(b.orders, lo)
			if len(b.orders)%2 == 1 {
				var pay struct {
					PayURL string `json:"pay_url"`
				}
				p := do("pay", "POST", s.base+"/api/v1/orders/"+o.ID+"/payments", b.token, map[string]string{"Idempotency-Key": "pay-" + o.ID},
					map[string]any{"method": "sandbox"})
				if p.status == http.StatusCreated && p.decode(&pay) == nil && pay.PayURL != "" {
					var trade struct {
						Status string `json:"status"`
					}
					ca := do("cashier", "POST", pay.PayURL+"/pay", "", map[string]string{"Accept": "application/json"}, nil)
					lo.cashierPaid = ca.status == http.StatusOK && ca.decode(&trade) == nil && trade.Status == "success"
				}
			}
		}
		do("me", "GET", s.base+"/api/v1/me", b.token, nil, nil)
	}
}

// killAll sends SIGKILL to every one at once, then waits until each is gone.
func (s *splitShop) killAll(t *testing.T, ps ...*splitProc) {
	t.Helper()
	for _, p := range ps {
		if !p.alive() {
			t.Fatalf("%s is not running; cannot kill it", p)
		}
	}
	for _, p := range ps {
		if err := syscallKill(p.pid); err != nil {
			t.Fatalf("kill -9 %s: %v", p, err)
		}
	}
	for _, p := range ps {
		s.waitGone(t, p)
	}
}

// --- 5. a peer service down ---------------------------------------------------------------

// productDown: with every product instance gone, placing an order is refused by the order
// service with its own 503 dependency_unavailable and holds nothing; one product instance
// started again by hand (same binary, arguments, environment and address) serves again, and
// the order service — not restarted — places orders again once its breaker lets it.
func (s *splitShop) productDown(t *testing.T, sku demoSKU) {
	token, address := s.newBuyerWithAddress(t)
	s.setStock(t, sku.id, 5)
	before := s.level(t, sku.id)
	orderPIDs := []int{s.proc("order", 1).pid, s.proc("order", 2).pid}

	var alive []*splitProc
	for _, p := range s.procs["product"] {
		if p.alive() {
			alive = append(alive, p)
		}
	}
	if len(alive) == 0 {
		t.Fatal("no product instance is running")
	}
	s.killAll(t, alive...)

	orderBody := map[string]any{"items": []map[string]any{{"sku_id": sku.id, "quantity": 1}}, "address_id": address}
	a := send(httpClient, "POST", s.base+"/api/v1/orders", token, map[string]string{"Idempotency-Key": "down-" + randomHex(6)}, orderBody)
	var e struct {
		Error struct {
			Code    string         `json:"code"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	a.decode(&e)
	// The order service's own answer (details name the peer), not nginx's error page.
	if a.status != http.StatusServiceUnavailable || e.Error.Code != "dependency_unavailable" || a.header.Get("Retry-After") == "" ||
		(e.Error.Details["service"] != "catalog" && e.Error.Details["service"] != "inventory") {
		t.Fatalf("order with the product service down: %s (Retry-After %q); want the order service's 503 dependency_unavailable naming catalog or inventory",
			a, a.header.Get("Retry-After"))
	}
	// Product routes themselves: nginx answers for the missing service, in Minimart's shape.
	if p := send(httpClient, "GET", s.base+"/api/v1/products/"+sku.product, "", nil, nil); p.status < 502 || p.status > 504 || p.code() != "dependency_unavailable" {
		t.Errorf("product detail with the product service down: %s; want nginx's 502/503/504 dependency_unavailable", p)
	}

	restart := alive[len(alive)-1]
	s.restart(t, restart)
	if l := s.level(t, sku.id); l != before {
		t.Fatalf("the refused order held stock: %+v, before %+v", l, before)
	}
	var placed orderView
	poll(t, 30*time.Second, "an order through nginx with the product service back", func() (bool, string) {
		a := send(httpClient, "POST", s.base+"/api/v1/orders", token, map[string]string{"Idempotency-Key": "back-" + randomHex(6)}, orderBody)
		if a.status == http.StatusCreated {
			a.decode(&placed)
			return true, ""
		}
		return false, a.String()
	})
	if l := s.level(t, sku.id); l.Available != before.Available-1 || l.Reserved != before.Reserved+1 {
		t.Fatalf("after the order: %+v, before %+v; want exactly one unit held", l, before)
	}
	if o := s.getOrder(t, token, placed.ID); o.Status != "pending_payment" {
		t.Fatalf("the order placed after the restart is %s", o.Status)
	}
	for i, p := range []*splitProc{s.proc("order", 1), s.proc("order", 2)} {
		if p.pid != orderPIDs[i] {
			t.Fatalf("%s was restarted", p)
		}
	}
	if !s.proc("order", 2).alive() {
		t.Fatal("order-2 is not running")
	}
}
