package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minimart/minimart/bench/loadgen"
)

// fakeShop sells stock units of one SKU through POST /api/v1/orders and reports its level
// through GET /api/v1/admin/skus/{id}/stock; oversell extra units are sold beyond it (a
// broken shop).
type fakeShop struct {
	mu       sync.Mutex
	stock    int
	sold     int
	oversell int
	keys     map[string]bool
}

func (f *fakeShop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/orders":
		if r.Header.Get("Authorization") == "" || r.Header.Get("Idempotency-Key") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.keys[r.Header.Get("Idempotency-Key")] {
			w.WriteHeader(http.StatusConflict)
			fmt.Fprint(w, `{"error":{"code":"key_reused"}}`)
			return
		}
		f.keys[r.Header.Get("Idempotency-Key")] = true
		if f.sold >= f.stock+f.oversell {
			w.WriteHeader(http.StatusConflict)
			fmt.Fprint(w, `{"error":{"code":"out_of_stock","message":"no"}}`)
			return
		}
		f.sold++
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"id":"1"}`)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/admin/skus/77/stock":
		f.mu.Lock()
		defer f.mu.Unlock()
		fmt.Fprintf(w, `{"level":{"sku_id":"77","available":%d,"reserved":%d,"sold":0},"ledger":[]}`, f.stock-f.sold, f.sold)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func runFakeFlashSale(t *testing.T, stock, oversell int) *groupResult {
	t.Helper()
	shop := &fakeShop{stock: stock, oversell: oversell, keys: map[string]bool{}}
	ts := httptest.NewServer(shop)
	defer ts.Close()
	const conns = 4
	b := &bench{opts: options{concurrency: conns, duration: 300 * time.Millisecond}, log: io.Discard}
	srv := &proc{name: "fake", base: ts.URL, done: make(chan struct{})}
	fx := &ordersFixture{staffToken: "staff", flashSKU: "77", flashStock: stock, nonce: "t"}
	for range conns {
		fx.buyers = append(fx.buyers, buyer{token: "buyer", address: "9"})
	}
	g := &groupResult{name: "orders"}
	if err := b.flashSale(context.Background(), g, srv, newAPIClient(ts.URL), fx, "flash", testResult(1000)); err != nil {
		t.Fatal(err)
	}
	if len(g.rows) != 1 || g.rows[0].res == nil {
		t.Fatalf("rows %+v, want the flash row", g.rows)
	}
	if got := g.rows[0].res.Requests; got != shop.sold || got != stock+oversell {
		t.Errorf("row counts %d orders; the shop sold %d", got, shop.sold)
	}
	return g
}

// A correct shop passes the zero-oversell check, and the row is the orders until sold out.
func TestFlashSaleCheckPasses(t *testing.T) {
	g := runFakeFlashSale(t, 50, 0)
	if !g.ok() {
		t.Fatalf("group not ok: %d failed checks; notes:\n%s", g.failedChecks, strings.Join(g.notes, "\n"))
	}
	notes := strings.Join(g.notes, "\n")
	for _, want := range []string{"check **passed**", "50 orders (201), sold out after", "out_of_stock answers (409"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if r := g.rows[0]; r.res.ReqPerSec <= 0 || r.ratio == "—" || r.res.ErrorCount() != 0 {
		t.Errorf("row %+v / %+v", r, *r.res)
	}
}

// A shop that sells more than its stock fails the check, and the group with it.
func TestFlashSaleCheckCatchesOversell(t *testing.T) {
	g := runFakeFlashSale(t, 50, 3)
	if g.failedChecks != 1 || g.ok() {
		t.Fatalf("failed checks %d, ok %v; want the oversell caught", g.failedChecks, g.ok())
	}
	if notes := strings.Join(g.notes, "\n"); !strings.Contains(notes, "**FAILED**") || !strings.Contains(notes, "available < 0") {
		t.Errorf("notes:\n%s", notes)
	}
}

func testResult(rate float64) (r loadgen.Result) {
	r.ReqPerSec = rate
	return r
}

// The raw-writes baseline reserves one unit per iteration and writes the order and its
// line, from many goroutines at once.
func TestRawDBSQLite(t *testing.T) {
	ctx := context.Background()
	raw, err := openRawDB(ctx, "sqlite:"+filepath.Join(t.TempDir(), "raw.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.db.Close()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				sku := int64(1)
				if i%2 == 1 {
					sku = int64(w*10+i)%ordersSKUs + 1
				}
				if err := raw.order(ctx, w, sku); err != nil {
					t.Error(err)
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	var orders, lines, reserved, available int64
	q := raw.db.Read()
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM orders").Scan(&orders); err != nil {
		t.Fatal(err)
	}
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM order_lines").Scan(&lines); err != nil {
		t.Fatal(err)
	}
	if err := q.QueryRowContext(ctx, "SELECT SUM(reserved), SUM(available) FROM stock").Scan(&reserved, &available); err != nil {
		t.Fatal(err)
	}
	if orders != 80 || lines != 80 || reserved != 80 || available != int64(ordersSKUs)*rawStock-80 {
		t.Errorf("orders %d, lines %d, reserved %d, available %d; want 80, 80, 80, all but 80", orders, lines, reserved, available)
	}
	if _, err := raw.db.Write().ExecContext(ctx, "UPDATE stock SET available = 0 WHERE sku_id = 5"); err != nil {
		t.Fatal(err)
	}
	if err := raw.order(ctx, 0, 5); !errors.Is(err, errRawOutOfStock) {
		t.Errorf("order on an empty row: %v, want errRawOutOfStock", err)
	}
}

func TestParallel(t *testing.T) {
	var ran atomic.Int64
	if err := parallel(context.Background(), 100, 8, func(context.Context, int) error { ran.Add(1); return nil }); err != nil || ran.Load() != 100 {
		t.Fatalf("err %v, ran %d of 100", err, ran.Load())
	}
	boom := errors.New("boom")
	ran.Store(0)
	err := parallel(context.Background(), 1000, 4, func(_ context.Context, i int) error {
		ran.Add(1)
		if i == 10 {
			return boom
		}
		time.Sleep(time.Millisecond)
		return nil
	})
	if !errors.Is(err, boom) || ran.Load() >= 1000 {
		t.Fatalf("err %v after %d calls; want boom, and no new calls after it", err, ran.Load())
	}
}

func TestExpectCreated(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{201, `{}`, ""},
		{409, `{"error":{"code":"out_of_stock","message":"x"}}`, "status 409 out_of_stock"},
		{500, `oops`, "status 500"},
	} {
		err := expectCreated(&http.Response{StatusCode: tc.status}, []byte(tc.body))
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%d %s: %q, want %q", tc.status, tc.body, got, tc.want)
		}
	}
}

// A MariaDB password never reaches the report's command line.
func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"mysql://root:secret@127.0.0.1:3306/test":             "mysql://root:xxxxx@127.0.0.1:3306/test",
		"--mysql-url=mysql://root:secret@127.0.0.1:3306/test": "--mysql-url=mysql://root:xxxxx@127.0.0.1:3306/test",
		"mysql://root@127.0.0.1:3306/test":                    "mysql://root@127.0.0.1:3306/test",
		"--duration=10s":                                      "--duration=10s",
		"orders":                                              "orders",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
	if got := commandLine([]string{"--mysql-url", "mysql://u:p@h:1/d"}); strings.Contains(got, ":p@") {
		t.Errorf("command line shows the password: %s", got)
	}
}

// The MariaDB server comes from --mysql-url, else from the environment.
func TestMySQLURLFlagAndEnv(t *testing.T) {
	t.Setenv(mysqlURLEnv, "mysql://root@127.0.0.1:3306/test")
	o, err := parseFlags([]string{"--scenarios", "orders"}, io.Discard)
	if err != nil || o.mysqlURL != "mysql://root@127.0.0.1:3306/test" || o.mysqlFrom != mysqlURLEnv {
		t.Errorf("from env: %+v, %v", o, err)
	}
	o, err = parseFlags([]string{"--scenarios", "orders", "--mysql-url", "mysql://u@h:1/d"}, io.Discard)
	if err != nil || o.mysqlURL != "mysql://u@h:1/d" || o.mysqlFrom != "--mysql-url" {
		t.Errorf("from flag: %+v, %v", o, err)
	}
	if _, err := parseFlags([]string{"--mysql-url", "postgres://h/d"}, io.Discard); err == nil {
		t.Error("a postgres URL was accepted")
	}
	t.Setenv(mysqlURLEnv, "")
	if o, err := parseFlags(nil, io.Discard); err != nil || o.mysqlURL != "" {
		t.Errorf("neither: %+v, %v", o, err)
	}
}

func TestWithCommas(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1000000: "1,000,000", 12345: "12,345"} {
		if got := withCommas(n); got != want {
			t.Errorf("withCommas(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestWhyFailed(t *testing.T) {
	trace := "panic: api: parse openapi.yaml: bad\n\ngoroutine 1 [running]:\nmain.main()\n\t/x/main.go:17 +0xeb\n"
	if got := whyFailed(trace); got != "panic: api: parse openapi.yaml: bad" {
		t.Errorf("panic: %q", got)
	}
	if got := whyFailed("a\nb\nminimart: admin create: password too weak\n"); got != "a / b / minimart: admin create: password too weak" {
		t.Errorf("plain: %q", got)
	}
}
