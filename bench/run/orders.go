package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/minimart/minimart/bench/loadgen"
)

// The orders group: order creation on SQLite (embedded) and on MariaDB, each against the
// same engine's raw write rate measured by this process just before.
const (
	mysqlURLEnv          = "MINIMART_TEST_MYSQL_URL"
	ordersProducts       = 100       // products of the spread scenario …
	ordersSKUsPerProduct = 10        // … with this many SKUs each
	ordersSpreadStock    = 1_000_000 // stock of each of those SKUs
	ordersPrice          = 1000      // fen, every SKU
	ordersSetupWorkers   = 8         // concurrent setup requests
	ordersStaffUser      = "bench"
	ordersAdminTimeout   = 2 * time.Minute
	rawStock             = 1_000_000_000 // stock per row of the raw-writes table: never runs out
	dropTimeout          = 30 * time.Second
)

// ordersSKUs is the number of SKUs the spread scenario cycles over.
const ordersSKUs = ordersProducts * ordersSKUsPerProduct

// ordersEngine is one database the group runs on.
type ordersEngine struct {
	key   string // file and process names
	label string // in row names
}

var (
	engineSQLite  = ordersEngine{"sqlite", "SQLite"}
	engineMariaDB = ordersEngine{"mariadb", "MariaDB"}
)

// rowNames are the rows one engine adds, in order; all are "not run" when its setup fails.
func (e ordersEngine) rowNames() (rawSpread, spread, rawHot, flash string) {
	return fmt.Sprintf("raw database writes, 1,000 rows (%s)", e.label),
		fmt.Sprintf("orders spread over 1,000 SKUs (%s)", e.label),
		fmt.Sprintf("raw database writes, one row (%s)", e.label),
		fmt.Sprintf("flash sale, one SKU: orders until sold out (%s)", e.label)
}

func (e ordersEngine) notRun(g *groupResult, why string) {
	a, b, c, d := e.rowNames()
	g.rows = append(g.rows, row{name: a, notRun: why})
	for _, name := range []string{b, c, d, e.flashSaleRowName()} {
		g.rows = append(g.rows, row{name: name, notRun: "as above"})
	}
}

// runOrders measures order creation on SQLite and, when a server is given, on MariaDB.
func runOrders(ctx context.Context, b *bench, g *groupResult) error {
	g.note("Setup per engine: a fresh database; `minimart admin create --role operator`; %d products × %d SKUs (price %s fen) with stock %s each, and one flash-sale SKU with stock %d, created through the admin API; %d buyers (one per connection), each with one address. Every order is `POST /api/v1/orders` of one unit of one SKU with its own `Idempotency-Key`.",
		ordersProducts, ordersSKUsPerProduct, strconv.Itoa(ordersPrice), withCommas(ordersSpreadStock), b.opts.flashStock, b.opts.concurrency)
	g.note("Baselines, measured by the runner itself with `internal/platform/sqldb` on a fresh database of the same engine (SQLite file in the temp dir; a second fresh MariaDB database), %d goroutines: per iteration one `InTx` with `UPDATE stock SET available = available - 1, reserved = reserved + 1 WHERE sku_id = ? AND available >= 1` on a table of 1,000 rows, an `INSERT` into `orders` (id, order_no, user_id, payable, created_at) and one into `order_lines`. Before the spread scenario the iterations cycle over the 1,000 rows; before the flash sale they all update one row, as the flash sale does. The req/s column of a baseline row is iterations/s; of an order row, orders/s (201 answers; anything else is an error).", b.opts.concurrency)
	if err := ordersOn(ctx, b, g, engineSQLite, ""); err != nil {
		return err
	}
	if b.opts.mysqlURL == "" {
		why := fmt.Sprintf("no MariaDB server given (pass `--mysql-url mysql://root@127.0.0.1:3306/test` or set %s)", mysqlURLEnv)
		engineMariaDB.notRun(g, why)
		b.logf("MariaDB: not run: %s", why)
		return nil
	}
	return ordersOn(ctx, b, g, engineMariaDB, b.opts.mysqlURL)
}

// ordersOn runs the engine's four rows. serverURL is "" for SQLite, else the MariaDB
// server on which two fresh databases are created (minimart's and the baseline's) and
// dropped at the end.
func ordersOn(ctx context.Context, b *bench, g *groupResult, e ordersEngine, serverURL string) (err error) {
	dataDir := filepath.Join(b.tmp, "orders-"+e.key+"-data")
	var env []string
	rawURL := "sqlite:" + filepath.Join(b.tmp, "orders-raw-"+e.key+".db")
	var srv *proc
	var dbs *runDatabases
	// The engine's server stops when its rows are done, before its database is dropped.
	defer func() {
		b.stopAll()
		if dbs == nil {
			return
		}
		if err := dbs.drop(); err != nil {
			g.note("Could not drop the benchmark databases: %v", err)
			b.logf("drop databases: %v", err)
		}
	}()
	if serverURL != "" {
		if dbs, err = createDatabases(ctx, serverURL); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			e.notRun(g, "MariaDB at "+redactedHost(serverURL)+": "+err.Error())
			return nil
		}
		g.note("MariaDB: server %s (from %s), %s; databases `%s` (minimart) and `%s` (baseline), created for this run and dropped after it. minimart gets `MINIMART_DB_URL` and a random 64-character `MINIMART_JWT_SECRET`; cache and event bus stay in-process.",
			redactedHost(serverURL), b.opts.mysqlFrom, dbs.version, dbs.names[0], dbs.names[1])
		env = []string{"MINIMART_DB_URL=" + dbs.urls[0], "MINIMART_JWT_SECRET=" + randomHex(32)}
		rawURL = dbs.urls[1]
	}
	env = append(env, "MINIMART_DEMO=0")

	// Staff account, before the server starts (SQLite has one writer per file; MariaDB
	// would take it at any time).
	password := "Pw-" + randomHex(8) + "-9x" // no "bench" in it: it must not contain the username
	pwFile := filepath.Join(b.tmp, "orders-"+e.key+"-staff-password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		return err
	}
	b.logf("%s: minimart admin create --username %s --role operator", e.label, ordersStaffUser)
	adminEnv := b.minimartEnv(append([]string{"MINIMART_DATA_DIR=" + dataDir}, env...)...)
	if out, err := runCommand(ctx, ordersAdminTimeout, b.tmp, b.minimart,
		[]string{"admin", "create", "--username", ordersStaffUser, "--password-file", pwFile, "--role", "operator"}, adminEnv); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		e.notRun(g, fmt.Sprintf("`minimart admin create --role operator` failed: %v: %s", err, whyFailed(out)))
		return nil
	}

	srv, err = b.startMinimart(ctx, "minimart-orders-"+e.key, dataDir, env...)
	if err != nil {
		return err
	}
	// setupFailed turns a failed API call into "not run" rows, unless the server died or the
	// run was interrupted.
	setupFailed := func(step string, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if dead := srv.deadError(); dead != nil {
			return dead
		}
		b.logf("%s: %s: %v", e.label, step, err)
		e.notRun(g, step+": "+err.Error())
		return nil
	}
	t0 := time.Now()
	api := newAPIClient(srv.base)
	fx, err := prepareOrders(ctx, api, password, b.opts.concurrency, b.opts.flashStock)
	if err != nil {
		return setupFailed("setup through the API", err)
	}
	if err := srv.waitSettled(ctx, 5*time.Minute); err != nil {
		return err
	}
	b.logf("%s: catalog, stock and %d buyers ready in %s", e.label, len(fx.buyers), time.Since(t0).Round(100*time.Millisecond))

	// One order first: a missing or broken endpoint is one clear line, not a table of errors.
	if err := fx.preflight(ctx, api); err != nil {
		return setupFailed("first order", err)
	}

	raw, err := openRawDB(ctx, rawURL)
	if err != nil {
		return setupFailed("baseline database", err)
	}
	defer raw.db.Close()

	rawSpreadName, spreadName, rawHotName, flashName := e.rowNames()

	// 1. Orders spread over the SKUs, after raw writes spread over as many rows.
	var rawRow int64
	rawSpread, err := b.loadFunc(ctx, rawSpreadName, func(ctx context.Context, w, _ int) error {
		return raw.order(ctx, w, atomic.AddInt64(&rawRow, 1)%ordersSKUs+1)
	})
	if err != nil {
		return err
	}
	g.rows = append(g.rows, row{name: rawSpreadName, res: &rawSpread, ratio: "1"})
	res, err := b.load(ctx, srv, fx.spreadScenario(srv.base, spreadName))
	if err != nil {
		return err
	}
	g.rows = append(g.rows, row{name: spreadName, res: &res, ratio: ratioOf(res.ReqPerSec, rawSpread.ReqPerSec)})

	// 2. Flash sale on one SKU, after raw writes all on one row.
	rawHot, err := b.loadFunc(ctx, rawHotName, func(ctx context.Context, w, _ int) error {
		return raw.order(ctx, w, 1)
	})
	if err != nil {
		return err
	}
	g.rows = append(g.rows, row{name: rawHotName, res: &rawHot, ratio: "1"})
	if err := b.flashSale(ctx, g, srv, api, fx, flashName, rawHot); err != nil {
		return err
	}
	// 4. The same stampede through the flash-sale API, against the order path just measured.
	if err := flashSaleRow(ctx, b, g, e, srv, api, fx, rawHot); err != nil {
		return err
	}
	orderPath, sale := g.result(flashName), g.result(e.flashSaleRowName())
	if orderPath != nil && sale != nil && orderPath.ReqPerSec > 0 {
		g.note("%s: %.1f× the order path on one SKU in the same run (%s decided attempts/s against %s orders/s).",
			e.flashSaleRowName(), sale.ReqPerSec/orderPath.ReqPerSec, loadgen.FormatRate(sale.ReqPerSec), loadgen.FormatRate(orderPath.ReqPerSec))
	}
	return nil
}

// whyFailed is what a failed command's output says: its panic line if it panicked (the end
// of a stack trace says nothing), else its last lines.
func whyFailed(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "panic: ") {
			return firstLines(l, 1)
		}
	}
	return lastLines(out, 3)
}

// withCommas is n with thousands separated by commas, as the row names write 1,000.
func withCommas(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func ratioOf(rate, base float64) string {
	if base <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", rate/base)
}

// loadFunc measures fn closed-loop with the run's concurrency, warm-up and duration.
func (b *bench) loadFunc(ctx context.Context, name string, fn func(ctx context.Context, w, i int) error) (loadgen.Result, error) {
	return b.loadFuncN(ctx, name, b.opts.concurrency, fn)
}

// loadFuncN is loadFunc with n goroutines.
func (b *bench) loadFuncN(ctx context.Context, name string, n int, fn func(ctx context.Context, w, i int) error) (loadgen.Result, error) {
	res := loadgen.RunFunc(ctx, loadgen.FuncConfig{
		Concurrency: n,
		Duration:    b.opts.duration,
		Warmup:      b.opts.warmup,
		Do:          fn,
	})
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	b.logf("%-28s %9s it/s   p50 %-8s p90 %-8s p99 %-8s max %-8s errors %s",
		name, loadgen.FormatRate(res.ReqPerSec), loadgen.FormatLatency(res.P50), loadgen.FormatLatency(res.P90),
		loadgen.FormatLatency(res.P99), loadgen.FormatLatency(res.Max), res.ErrorSummary())
	return res, nil
}

// orderRequest is buyer w's order of one unit of sku, with a key unique to (tag, w, i).
func (fx *ordersFixture) orderRequest(base, tag string, w, i int, sku string) *http.Request {
	by := fx.buyers[w%len(fx.buyers)]
	body := `{"items":[{"sku_id":` + strconv.Quote(sku) + `,"quantity":1}],"address_id":` + strconv.Quote(by.address) + `}`
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/orders", bytes.NewReader([]byte(body)))
	if err != nil {
		panic(fmt.Sprintf("bench: bad order URL %q: %v", base, err)) // base is the server's, checked at start
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+by.token)
	req.Header.Set("Idempotency-Key", fmt.Sprintf("%s-%s-%d-%d", tag, fx.nonce, w, i))
	req.Header.Set(workerHeader, strconv.Itoa(w))
	return req
}

// workerHeader carries the worker number to the flash sale's check (minimart ignores it).
const workerHeader = "X-Bench-Worker"

// errorCode is the "error.code" of an error answer, or "".
func errorCode(body []byte) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Error.Code
}

// expectCreated passes 201 only; other answers are "status 409 out_of_stock" and the like.
func expectCreated(resp *http.Response, body []byte) error {
	if resp.StatusCode == http.StatusCreated {
		return nil
	}
	if code := errorCode(body); code != "" {
		return fmt.Errorf("status %d %s", resp.StatusCode, code)
	}
	return fmt.Errorf("status %d", resp.StatusCode)
}

// preflight places one order on the first spread SKU.
func (fx *ordersFixture) preflight(ctx context.Context, api *apiClient) error {
	req := fx.orderRequest(api.base, "pre", 0, 0, fx.skus[0]).WithContext(ctx)
	resp, err := api.hc.Do(req)
	if err != nil {
		return fmt.Errorf("POST /api/v1/orders: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("POST /api/v1/orders: %w", err)
	}
	if err := expectCreated(resp, body); err != nil {
		return fmt.Errorf("POST /api/v1/orders: %v: %s", err, firstLines(string(body), 2))
	}
	return nil
}

// spreadScenario orders the spread SKUs round-robin over all connections.
func (fx *ordersFixture) spreadScenario(base, name string) scenario {
	var n atomic.Int64
	return scenario{
		name: name,
		request: func(w, i int) *http.Request {
			return fx.orderRequest(base, "s", w, i, fx.skus[(n.Add(1)-1)%int64(len(fx.skus))])
		},
		check: expectCreated,
	}
}

// ---- the flash sale ----

// flashTally is what the flash sale's check saw, per worker (each worker's request and
// check run on its own goroutine, so no locks).
type flashTally struct {
	sent   []time.Time       // when the worker's current request was built
	okLat  [][]time.Duration // 201 answers
	oosLat [][]time.Duration // 409 out_of_stock answers
	lastOK []time.Time
}

// flashSale runs every connection against the flash SKU for the run's duration (no
// warm-up: it would sell the stock before the window), adds its row and checks the stock.
func (b *bench) flashSale(ctx context.Context, g *groupResult, srv *proc, api *apiClient, fx *ordersFixture, name string, base loadgen.Result) error {
	n := b.opts.concurrency
	t := &flashTally{sent: make([]time.Time, n), okLat: make([][]time.Duration, n), oosLat: make([][]time.Duration, n), lastOK: make([]time.Time, n)}
	check := func(resp *http.Response, body []byte) error {
		w, err := strconv.Atoi(resp.Request.Header.Get(workerHeader))
		if err != nil || w < 0 || w >= n {
			return errors.New("bench: response without its worker number")
		}
		now := time.Now()
		switch {
		case resp.StatusCode == http.StatusCreated:
			t.okLat[w] = append(t.okLat[w], now.Sub(t.sent[w]))
			t.lastOK[w] = now
			return nil
		case resp.StatusCode == http.StatusConflict && errorCode(body) == "out_of_stock":
			t.oosLat[w] = append(t.oosLat[w], now.Sub(t.sent[w]))
			return nil
		}
		return expectCreated(resp, body)
	}
	start := time.Now()
	res := loadgen.Run(ctx, loadgen.Config{
		Concurrency: n,
		Duration:    b.opts.duration,
		Request: func(w, i int) *http.Request {
			req := fx.orderRequest(srv.base, "f", w, i, fx.flashSKU)
			t.sent[w] = time.Now()
			return req
		},
		Check: check,
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := srv.deadError(); err != nil {
		return err
	}

	var okLat, oosLat []time.Duration
	var lastOK time.Time
	for w := range n {
		okLat = append(okLat, t.okLat[w]...)
		oosLat = append(oosLat, t.oosLat[w]...)
		if t.lastOK[w].After(lastOK) {
			lastOK = t.lastOK[w]
		}
	}
	sold, oos, other := len(okLat), len(oosLat), res.ErrorCount()
	soldOut := oos > 0
	span := res.Elapsed // not sold out: the whole window
	if soldOut && sold > 0 {
		span = lastOK.Sub(start)
	}
	sale := loadgen.Result{Requests: sold, Errors: res.Errors, Elapsed: span}
	if span > 0 {
		sale.ReqPerSec = float64(sold) / span.Seconds()
	}
	sale.P50 = loadgen.Percentile(okLat, 50)
	sale.P99 = loadgen.Percentile(okLat, 99)
	g.rows = append(g.rows, row{name: name, res: &sale, ratio: ratioOf(sale.ReqPerSec, base.ReqPerSec)})
	b.logf("%-28s %9s orders/s until sold out (%d orders in %s), p50 %s p99 %s; out_of_stock ×%d; other errors %s",
		name, loadgen.FormatRate(sale.ReqPerSec), sold, span.Round(time.Millisecond), loadgen.FormatLatency(sale.P50),
		loadgen.FormatLatency(sale.P99), oos, res.ErrorSummary())

	when := fmt.Sprintf("sold out after %s", span.Round(time.Millisecond))
	if !soldOut {
		when = fmt.Sprintf("**not sold out** within the %s window", b.opts.duration)
	}
	oosText := "no out_of_stock answers"
	if oos > 0 {
		oosText = fmt.Sprintf("then %d out_of_stock answers (409; p50 %s, p99 %s)", oos,
			loadgen.FormatLatency(loadgen.Percentile(oosLat, 50)), loadgen.FormatLatency(loadgen.Percentile(oosLat, 99)))
	}
	g.note("%s: stock %d; %d connections order it from the first moment (no warm-up: it would sell the stock) for %s. %d orders (201), %s; %s; other errors: %s. The row's req/s is orders over the time from the start to the last 201, its p50/p99 those of the 201 answers.",
		name, fx.flashStock, n, b.opts.duration, sold, when, oosText, res.ErrorSummary())

	// Zero oversell: what the stock says against what was sold.
	var lv struct {
		Level *struct {
			Available *int64 `json:"available"`
			Reserved  *int64 `json:"reserved"`
			Sold      *int64 `json:"sold"`
		} `json:"level"`
	}
	path := "/api/v1/admin/skus/" + url.PathEscape(fx.flashSKU) + "/stock"
	if err := api.call(ctx, http.MethodGet, path, fx.staffToken, nil, http.StatusOK, &lv); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		g.fail("%s: zero-oversell check **could not be made**: %v", name, err)
		return nil
	}
	if lv.Level == nil || lv.Level.Available == nil || lv.Level.Reserved == nil || lv.Level.Sold == nil {
		g.fail("%s: zero-oversell check **could not be made**: GET %s has no level.available, level.reserved and level.sold", name, path)
		return nil
	}
	a, r, s := *lv.Level.Available, *lv.Level.Reserved, *lv.Level.Sold
	S := int64(fx.flashStock)
	var failed []string
	if a < 0 {
		failed = append(failed, "available < 0")
	}
	if a+r+s != S {
		failed = append(failed, fmt.Sprintf("available+reserved+sold = %d ≠ %d", a+r+s, S))
	}
	if int64(sold) != r+s {
		failed = append(failed, fmt.Sprintf("orders answered 201 = %d ≠ reserved+sold = %d", sold, r+s))
	}
	levels := fmt.Sprintf("available %d, reserved %d, sold %d", a, r, s)
	if len(failed) > 0 {
		extra := ""
		if other > 0 {
			extra = " (requests that failed, timeouts say, may have created orders the runner did not count)"
		}
		g.fail("%s: zero-oversell check **FAILED**: %s; %s%s.", name, levels, strings.Join(failed, "; "), extra)
		b.logf("%s: zero-oversell check FAILED: %s; %s", name, levels, strings.Join(failed, "; "))
		return nil
	}
	verdict := fmt.Sprintf("%s: zero-oversell check **passed**: stock after the run %s; available ≥ 0, available+reserved+sold = %d = stock, and reserved+sold = %d = orders answered 201.", name, levels, S, sold)
	if soldOut && a > 0 {
		verdict += fmt.Sprintf(" But %d units were still available while out_of_stock was answered.", a)
	}
	g.note("%s", verdict)
	b.logf("%s: zero-oversell check passed (%s)", name, levels)
	return nil
}
