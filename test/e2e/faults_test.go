//go:build faults

// Fault tests stop the real RabbitMQ on this machine (rabbitmqctl stop_app), so they run
// apart from the rest of the suite: `go test -tags faults -run Fault ./test/e2e/` (make test
// does it after the main run). The broker is started again whatever happens.

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/servicetest"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

func rabbitmqctl(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("rabbitmqctl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("rabbitmqctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// stopBroker stops RabbitMQ's application (connections drop, the node stays) and makes sure
// it is started again when the test ends, failed or not.
func stopBroker(t *testing.T) (start func()) {
	started := false
	start = func() {
		if !started {
			started = true
			rabbitmqctl(t, "start_app")
			rabbitmqctl(t, "await_startup")
		}
	}
	t.Cleanup(start)
	rabbitmqctl(t, "stop_app")
	return start
}

// faultShop is a production-shaped minimart (MariaDB + RabbitMQ) with one product of two
// SKUs in stock (sku is the first) and buyers with addresses.
type faultShop struct {
	t       *testing.T
	env     []string
	dbURL   string
	tag     string
	srv     *server
	staff   string
	product string
	sku     string
	skus    []string
	stocked int64 // each SKU's initial stock
	buyers  []session
	addrs   []string
}

// newFaultShop starts the shop; env (KEY=value) is added to, and wins over, its settings.
func newFaultShop(t *testing.T, stock, buyers int, env ...string) *faultShop {
	b := make([]byte, 8)
	rand.Read(b)
	tag := hex.EncodeToString(b)
	f := &faultShop{t: t, tag: tag, dbURL: sqldbtest.MySQLDatabaseURL(t), stocked: int64(stock)}
	f.env = append([]string{
		"MINIMART_DATA_DIR=" + t.TempDir(),
		"MINIMART_DB_URL=" + f.dbURL,
		"MINIMART_AMQP_URL=" + servicetest.AMQPURL(t),
		"MINIMART_AMQP_PREFIX=mmfault-" + tag,
		"MINIMART_INVENTORY_QUEUE=mmfault-" + tag + ".inventory_update",
		"MINIMART_JWT_SECRET=fault-test-secret-fault-test-secret-" + tag,
		"MINIMART_SCHEDULE_INTERVAL=1h",
	}, env...)
	servicetest.CleanBroker(t, servicetest.AMQPURL(t), "mmfault-"+tag)
	pw := t.TempDir() + "/pw"
	if err := os.WriteFile(pw, []byte("staff-pass-123"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runMinimart(t, t.TempDir(), f.env, "admin", "create", "--username", "ops", "--password-file", pw, "--role", "operator"); r.code != 0 {
		t.Fatalf("admin create: %d %s %s", r.code, r.stdout, r.stderr)
	}
	f.srv = startServer(t, f.env...)
	f.staff = staffLogin(t, f.srv.base, credentials{"ops", "staff-pass-123"}).Tokens.AccessToken
	var cat, product map[string]any
	call(t, "POST", f.srv.base+"/api/v1/admin/categories", f.staff, map[string]any{"name": "故障"}, http.StatusCreated, &cat)
	call(t, "POST", f.srv.base+"/api/v1/admin/products", f.staff, map[string]any{"category_id": cat["id"], "title": "故障测试商品",
		"specs":    []map[string]any{{"name": "颜色", "values": []string{"红", "蓝"}}},
		"skus":     []map[string]any{{"specs": map[string]string{"颜色": "红"}, "price": 100}, {"specs": map[string]string{"颜色": "蓝"}, "price": 200}},
		"on_shelf": true}, http.StatusCreated, &product)
	f.product = product["id"].(string)
	for _, s := range product["skus"].([]any) {
		id := s.(map[string]any)["id"].(string)
		f.skus = append(f.skus, id)
		call(t, "PUT", f.srv.base+"/api/v1/admin/skus/"+id+"/stock", f.staff, map[string]any{"stock": stock}, http.StatusOK, nil)
	}
	f.sku = f.skus[0]
	for range buyers {
		s := register(t, f.srv.base, newBuyer())
		var a map[string]any
		call(t, "POST", f.srv.base+"/api/v1/me/addresses", s.Tokens.AccessToken, map[string]any{"recipient": "张三", "phone": "13800000000",
			"province": "广东省", "city": "深圳市", "district": "南山区", "detail": "1 号"}, http.StatusCreated, &a)
		f.buyers = append(f.buyers, s)
		f.addrs = append(f.addrs, a["id"].(string))
	}
	return f
}

// order places an order of one unit for buyer i and returns its id.
func (f *faultShop) order(i int) string {
	f.t.Helper()
	body, err := json.Marshal(map[string]any{"items": []map[string]any{{"sku_id": f.sku, "quantity": 1}}, "address_id": f.addrs[i]})
	if err != nil {
		f.t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", f.srv.base+"/api/v1/orders", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.buyers[i].Tokens.AccessToken)
	req.Header.Set("Idempotency-Key", fmt.Sprintf("fault-%d", i))
	resp, err := httpClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var o struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil || resp.StatusCode != http.StatusCreated {
		f.t.Fatalf("order %d: status %d, %v", i, resp.StatusCode, err)
	}
	return o.ID
}

func (f *faultShop) cancel(i int, id string) {
	call(f.t, "POST", f.srv.base+"/api/v1/orders/"+id+"/cancel", f.buyers[i].Tokens.AccessToken, nil, http.StatusOK, nil)
}

type stockReport struct {
	Level struct {
		Available, Reserved, Sold int64
	} `json:"level"`
	Ledger []struct {
		Reason string `json:"reason"`
	} `json:"ledger"`
}

func (f *faultShop) stock() stockReport {
	var r stockReport
	call(f.t, "GET", f.srv.base+"/api/v1/admin/skus/"+f.sku+"/stock?limit=100", f.staff, nil, http.StatusOK, &r)
	return r
}

func (f *faultShop) releases() int {
	n := 0
	for _, e := range f.stock().Ledger {
		if strings.HasPrefix(e.Reason, "release ") {
			n++
		}
	}
	return n
}

// waitDrained waits until every committed event has been published and handled.
func (f *faultShop) waitDrained(timeout time.Duration) {
	f.t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(string(call(f.t, "GET", f.srv.ops+"/metrics", "", nil, http.StatusOK, nil)), "\nminimart_outbox_pending 0\n") {
		if time.Now().After(deadline) {
			f.t.Fatalf("outbox not drained within %s\n%s", timeout, f.srv.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// While RabbitMQ is down, orders are still taken and cancelled (events wait in the outbox)
// and /readyz reports the broker; once it is back every event arrives and each cancellation
// releases its stock exactly once.
func TestFaultBrokerDownWhileOrdering(t *testing.T) {
	f := newFaultShop(t, 100, 12)
	start := stopBroker(t)
	f.srv.waitReady(t, func(r readiness) bool { return r.Checks["broker"].Status == "down" && r.Status == "degraded" })
	for i := range f.buyers {
		id := f.order(i)
		if i%2 == 0 {
			f.cancel(i, id)
		}
	}
	if s := f.stock().Level; s.Available != 88 || s.Reserved != 12 {
		t.Fatalf("while the broker is down: %+v (cancellations wait for their events)", s)
	}
	start()
	f.srv.waitReady(t, func(r readiness) bool { return r.Checks["broker"].Status == "ok" })
	f.waitDrained(60 * time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for f.stock().Level.Available != 94 {
		if time.Now().After(deadline) {
			t.Fatalf("cancelled orders' stock not released: %+v", f.stock().Level)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s := f.stock().Level
	if s.Reserved != 6 || s.Available+s.Reserved+s.Sold != 100 || f.releases() != 6 {
		t.Fatalf("after the outage: %+v with %d releases; want 94/6/0 and 6 releases", s, f.releases())
	}
	if err := f.holdsMatchOrders(f.srv.base); err != nil {
		t.Fatal(err)
	}
}

// An event committed but not yet published when the process is killed (SIGKILL) is
// published after the restart and applied exactly once.
func TestFaultKillBetweenCommitAndPublish(t *testing.T) {
	f := newFaultShop(t, 10, 1)
	start := stopBroker(t)
	id := f.order(0)
	f.cancel(0, id) // order.cancelled is committed to the outbox; the broker is down
	if err := f.srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-f.srv.done
	start()
	f.srv = startServer(t, f.env...)
	f.waitDrained(60 * time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for f.stock().Level.Available != 10 {
		if time.Now().After(deadline) {
			t.Fatalf("the cancellation never reached inventory: %+v", f.stock().Level)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Give a duplicate delivery time to show up, then check it changed nothing.
	time.Sleep(500 * time.Millisecond)
	if n := f.releases(); n != 1 {
		t.Fatalf("the release was applied %d times, want once", n)
	}
	if err := f.holdsMatchOrders(f.srv.base); err != nil {
		t.Fatal(err)
	}
}

// ---- helpers of the fault tests below (faults_*_test.go) ----

// statusCounts counts answers by "route status[ code]" (or "route error"), safe for
// concurrent workers.
type statusCounts struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *statusCounts) add(route string, a answer) {
	key := route + " "
	switch {
	case a.err != nil:
		key += "transport-error"
	case a.status >= 400:
		key += fmt.Sprintf("%d %s", a.status, a.code())
	default:
		key += fmt.Sprint(a.status)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[key]++
}

// matching sums the counts whose key satisfies ok.
func (c *statusCounts) matching(ok func(key string) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, v := range c.m {
		if ok(k) {
			n += v
		}
	}
	return n
}

func (c *statusCounts) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]string, 0, len(c.m))
	for k := range c.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %-60s %d", k, c.m[k])
	}
	return b.String()
}

// pollUntil calls check until it returns nil or timeout passes; then it fails the test with
// check's last complaint. It returns how long it took.
func pollUntil(t *testing.T, timeout time.Duration, what string, check func() error) time.Duration {
	t.Helper()
	took, err := waitUntil(timeout, check)
	if err != nil {
		t.Fatalf("%s: not so within %s: %v", what, timeout, err)
	}
	return took
}

// waitUntil calls check until it returns nil (then it returns how long that took) or
// timeout passes (then it returns check's last complaint).
func waitUntil(timeout time.Duration, check func() error) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		err := check()
		if err == nil {
			return time.Since(start), nil
		}
		if time.Now().After(deadline) {
			return time.Since(start), err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freeAddr is a loopback address free now, for a server that must come back on the same
// address after a restart (the sandbox's notify URLs and pay links name it).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// maxOutage bounds how long a fault test keeps a shared service down, even if the test
// itself hangs: other people's tests use the same services.
const maxOutage = 20 * time.Second

// stopService stops a shared service with stop and returns start, which starts it again
// with startCmd and waits until answers() holds. start runs when the test calls it, when the
// test ends (failed or not), and at the latest maxOutage after the stop.
func stopService(t *testing.T, name string, stop, startCmd []string, answers func() bool) (start func()) {
	t.Helper()
	var once sync.Once
	var guard *time.Timer
	var stopped time.Time
	start = func() {
		once.Do(func() {
			guard.Stop()
			if out, err := exec.Command(startCmd[0], startCmd[1:]...).CombinedOutput(); err != nil {
				t.Errorf("start %s: %v\n%s", name, err, out)
			}
			deadline := time.Now().Add(90 * time.Second)
			for !answers() {
				if time.Now().After(deadline) {
					t.Errorf("%s does not answer 90 s after it was started again", name)
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
			t.Logf("%s answers again, %s after it was stopped", name, time.Since(stopped).Round(10*time.Millisecond))
		})
	}
	stopped = time.Now()
	guard = time.AfterFunc(maxOutage, start)
	t.Cleanup(start)
	if out, err := exec.Command(stop[0], stop[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("stop %s: %v\n%s", name, err, out)
	}
	t.Logf("%s stopped (stopping took %s)", name, time.Since(stopped).Round(10*time.Millisecond))
	return start
}

// stopMariaDB stops the shared MariaDB (a clean shutdown: its connections are dropped).
func stopMariaDB(t *testing.T) (start func()) {
	return stopService(t, "MariaDB", []string{"mysqladmin", "-uroot", "shutdown"},
		[]string{"start-stop-daemon", "--start", "--oknodo", "--background", "--exec", "/usr/sbin/mariadbd"},
		func() bool {
			return exec.Command("mysql", "-uroot", "--connect-timeout=1", "-e", "SELECT 1").Run() == nil
		})
}

// stopRedis stops the shared Redis without saving: it comes back empty, as CI runs it.
func stopRedis(t *testing.T) (start func()) {
	return stopService(t, "Redis", []string{"redis-cli", "shutdown", "nosave"},
		[]string{"redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
			"--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"},
		func() bool {
			out, err := exec.Command("redis-cli", "ping").Output()
			return err == nil && strings.TrimSpace(string(out)) == "PONG"
		})
}

// level is a SKU's stock level.
type level struct{ Available, Reserved, Sold int64 }

// levels reads every SKU's level (admin API).
func (f *faultShop) levels(base string) (map[string]level, error) {
	out := map[string]level{}
	for _, sku := range f.skus {
		a := send(httpClient, "GET", base+"/api/v1/admin/skus/"+sku+"/stock?limit=1", f.staff, nil, nil)
		if a.err != nil || a.status != http.StatusOK {
			return nil, fmt.Errorf("stock of %s: %v", sku, a)
		}
		var r struct {
			Level level `json:"level"`
		}
		if err := json.Unmarshal(a.body, &r); err != nil {
			return nil, err
		}
		out[sku] = r.Level
	}
	return out, nil
}

// checkStock fails the test at once if initial = available + reserved + sold or
// available ≥ 0 is broken for a SKU (that never heals), and returns the levels.
func (f *faultShop) checkStock(base string) (map[string]level, error) {
	f.t.Helper()
	ls, err := f.levels(base)
	if err != nil {
		return nil, err
	}
	for sku, l := range ls {
		if l.Available < 0 || l.Reserved < 0 || l.Available+l.Reserved+l.Sold != f.stocked {
			f.t.Fatalf("SKU %s: stock invariant broken: %+v, initial %d", sku, l, f.stocked)
		}
	}
	return ls, nil
}

// shopOrder is what the fault tests read of an order.
type shopOrder struct {
	ID      string `json:"id"`
	OrderNo string `json:"order_no"`
	Status  string `json:"status"`
	Lines   []struct {
		SKUID    string `json:"sku_id"`
		Quantity int64  `json:"quantity"`
	} `json:"lines"`
}

// ordersOf lists every order with status (all pages of the staff search).
func (f *faultShop) ordersOf(base, status string) ([]shopOrder, error) {
	var all []shopOrder
	for page := 1; ; page++ {
		a := send(httpClient, "GET", fmt.Sprintf("%s/api/v1/admin/orders?status=%s&page=%d&page_size=100", base, status, page), f.staff, nil, nil)
		if a.err != nil || a.status != http.StatusOK {
			return nil, fmt.Errorf("list %s orders: %v", status, a)
		}
		var p struct {
			Items []shopOrder `json:"items"`
			Total int         `json:"total"`
		}
		if err := json.Unmarshal(a.body, &p); err != nil {
			return nil, err
		}
		all = append(all, p.Items...)
		if len(p.Items) < 100 || len(all) >= p.Total {
			return all, nil
		}
	}
}

// quantities sums the quantity of each SKU over orders.
func quantities(orders []shopOrder) map[string]int64 {
	q := map[string]int64{}
	for _, o := range orders {
		for _, l := range o.Lines {
			q[l.SKUID] += l.Quantity
		}
	}
	return q
}

// holdsMatchOrders checks that every unit reserved belongs to an order waiting for payment
// and every unit sold to a paid order: no hold without a pending order, no sale without a
// paid one.
func (f *faultShop) holdsMatchOrders(base string) error {
	ls, err := f.checkStock(base)
	if err != nil {
		return err
	}
	pending, err := f.ordersOf(base, "pending_payment")
	if err != nil {
		return err
	}
	paid, err := f.ordersOf(base, "paid")
	if err != nil {
		return err
	}
	held, sold := quantities(pending), quantities(paid)
	for _, sku := range f.skus {
		if l := ls[sku]; l.Reserved != held[sku] || l.Sold != sold[sku] {
			return fmt.Errorf("SKU %s: %+v, but pending orders hold %d and paid orders bought %d", sku, l, held[sku], sold[sku])
		}
	}
	// And what the operator's check says of the whole database: ledger, holds, payments, outbox.
	if r := runMinimart(f.t, f.t.TempDir(), f.env, "check"); r.code != 0 {
		return fmt.Errorf("minimart check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return nil
}

var outboxPendingLine = regexp.MustCompile(`(?m)^minimart_outbox_pending (\S+)$`)

// outboxPending is minimart_outbox_pending on the /metrics of the operator listener at ops.
func outboxPending(ops string) (string, error) {
	a := send(httpClient, "GET", ops+"/metrics", "", nil, nil)
	if a.err != nil || a.status != http.StatusOK {
		return "", fmt.Errorf("metrics: %v", a)
	}
	m := outboxPendingLine.FindSubmatch(a.body)
	if m == nil {
		return "", errors.New("metrics have no minimart_outbox_pending")
	}
	return string(m[1]), nil
}

// db opens the shop's database, for what only it can show (claims held by a dead process).
func (f *faultShop) db() *sqldb.DB {
	f.t.Helper()
	db, err := sqldb.Open(context.Background(), f.dbURL, "")
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { db.Close() })
	return db
}

// checkServerLogs fails the test if a server's output shows a data race or a panic.
func checkServerLogs(t *testing.T, servers ...*server) {
	t.Helper()
	for _, s := range servers {
		out := s.output()
		if strings.Contains(out, "WARNING: DATA RACE") || strings.Contains(out, "panic serving request") || strings.Contains(out, "goroutine ") {
			t.Errorf("server output shows a race or a panic:\n%s", out)
		}
	}
}

// unpublished describes the outbox rows not yet published, for a failure message.
func (f *faultShop) unpublished(db *sqldb.DB) string {
	rows, err := db.Read().Query("SELECT id, type, attempts, COALESCE(claimed_by, ''), claimed_until, COALESCE(last_error, '') FROM outbox_events WHERE published_at IS NULL ORDER BY id LIMIT 20")
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id int64
		var typ, by, lastErr string
		var until sql.NullTime
		var attempts int
		if err := rows.Scan(&id, &typ, &attempts, &by, &until, &lastErr); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&b, "\n  %d %s attempts=%d claimed_by=%q claimed_until=%v (now %v) last_error=%q", id, typ, attempts, by,
			until.Time.UTC().Format(time.RFC3339Nano), time.Now().UTC().Format(time.RFC3339Nano), lastErr)
	}
	return b.String()
}

// faultRand is the random source of a test's fault moments, seeded from MINIMART_FAULT_SEED
// (to repeat a failed run) or else the clock; the seed is logged. stream tells tests apart.
func faultRand(t *testing.T, stream uint64) *mrand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("MINIMART_FAULT_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("MINIMART_FAULT_SEED: %v", err)
		}
		seed = n
	}
	t.Logf("seed %d (MINIMART_FAULT_SEED=%d repeats these fault moments)", seed, seed)
	return mrand.New(mrand.NewPCG(seed, stream))
}
