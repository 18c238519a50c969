//go:build faults

// Fault tests stop the real RabbitMQ on this machine (rabbitmqctl stop_app), so they run
// apart from the rest of the suite: `go test -tags faults -run Fault ./test/e2e/` (make test
// does it after the main run). The broker is started again whatever happens.

package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/servicetest"
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

// faultShop is a production-shaped minimart (MariaDB + RabbitMQ) with one SKU in stock and
// buyers with addresses.
type faultShop struct {
	t      *testing.T
	env    []string
	srv    *server
	staff  string
	sku    string
	buyers []session
	addrs  []string
}

func newFaultShop(t *testing.T, stock, buyers int) *faultShop {
	b := make([]byte, 8)
	rand.Read(b)
	tag := hex.EncodeToString(b)
	f := &faultShop{t: t, env: []string{
		"MINIMART_DATA_DIR=" + t.TempDir(),
		"MINIMART_DB_URL=" + sqldbtest.MySQLDatabaseURL(t),
		"MINIMART_AMQP_URL=" + servicetest.AMQPURL(t),
		"MINIMART_AMQP_PREFIX=mmfault-" + tag,
		"MINIMART_INVENTORY_QUEUE=mmfault-" + tag + ".inventory_update",
		"MINIMART_JWT_SECRET=fault-test-secret-fault-test-secret-" + tag,
		"MINIMART_SCHEDULE_INTERVAL=1h",
	}}
	cleanBroker(t, servicetest.AMQPURL(t), "mmfault-"+tag)
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
		"skus": []map[string]any{{"specs": map[string]string{}, "price": 100}}, "on_shelf": true}, http.StatusCreated, &product)
	f.sku = product["skus"].([]any)[0].(map[string]any)["id"].(string)
	call(t, "PUT", f.srv.base+"/api/v1/admin/skus/"+f.sku+"/stock", f.staff, map[string]any{"stock": stock}, http.StatusOK, nil)
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
	for !strings.Contains(string(call(f.t, "GET", f.srv.base+"/metrics", "", nil, http.StatusOK, nil)), "\nminimart_outbox_pending 0\n") {
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
}
