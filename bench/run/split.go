package main

// The split group: the seed's four services (deploy/local/split.sh: two instances each,
// behind nginx) against the monolith on the same MariaDB, Redis and RabbitMQ, in one run.
// Every split row's baseline is the same scenario on the monolith, measured just before it.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/minimart/minimart/bench/loadgen"
)

const (
	splitScriptPath  = "deploy/local/split.sh"
	redisURLEnv      = "MINIMART_TEST_REDIS_URL"
	splitHopConns    = 1  // connections of the hop rows: latency without queueing
	splitDetailIDs   = 50 // product ids the detail rows cycle over
	splitSettle      = 3 * time.Minute
	splitAdminNodeID = "1002" // split.sh's own one-shot commands take 1000 and 1001
	// Targets of the issue.
	splitDetailTarget = 0.5
	splitOrderTarget  = 0.5
	splitHopTarget    = time.Millisecond
)

// splitSide is one shape's scenario and how to tell its processes are still up.
type splitSide struct {
	sc    scenario
	alive func() error
}

// runSplit measures the monolith and the split side by side: product detail (loadgen and
// wrk), the cart view and order create on one connection on the monolith and on one order
// instance directly (the added latency per remote call), and order create at full load.
func runSplit(ctx context.Context, b *bench, g *groupResult) (err error) {
	if !splitSupported {
		g.skip("needs Linux (bash, nginx and process groups for deploy/local/split.sh)")
		return nil
	}
	var missing []string
	if b.opts.mysqlURL == "" {
		missing = append(missing, "a MariaDB server (`--mysql-url` or "+mysqlURLEnv+")")
	}
	if b.opts.amqpURL == "" {
		missing = append(missing, "RabbitMQ (`--amqp-url` or "+amqpURLEnv+")")
	}
	if b.opts.redisURL == "" {
		missing = append(missing, "Redis (`--redis-url` or "+redisURLEnv+")")
	}
	if len(missing) > 0 {
		g.skip("the production shape needs %s", strings.Join(missing, ", "))
		return nil
	}
	script := filepath.Join(b.root, splitScriptPath)
	if st, err := os.Stat(script); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		g.skip("%s is missing or not executable", splitScriptPath)
		return nil
	}
	serverRoot, err := mysqlServerRoot(b.opts.mysqlURL)
	if err != nil {
		g.skip("%s: %v", b.opts.mysqlFrom, err)
		return nil
	}

	// Names of this run: mmbench_<random>_mono (database, cache and broker prefix of the
	// monolith) and mmbench_<random>_split (split.sh's prefix: databases _user, _product, …).
	dbs, err := createDatabasesWith(ctx, b.opts.mysqlURL, "_mono")
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		g.skip("MariaDB at %s: %v", redactedHost(b.opts.mysqlURL), err)
		return nil
	}
	monoPrefix := dbs.names[0]
	splitPrefix := strings.TrimSuffix(monoPrefix, "_mono") + "_split"
	for _, svc := range splitServices {
		dbs.names = append(dbs.names, splitPrefix+"_"+svc) // split.sh creates them; dropped with ours
	}
	var split *splitShape
	defer func() {
		if split != nil {
			split.stop()
		}
		b.stopAll()
		b.splitCleanup(g, dbs, monoPrefix, splitPrefix)
	}()

	// The split starts (split.sh: demo catalog, 8 instances, nginx) while the monolith does.
	port, err := freePortRange(17)
	if err != nil {
		return err
	}
	splitDir := filepath.Join(b.tmp, "split")
	type started struct {
		s   *splitShape
		err error
	}
	splitCh := make(chan started, 1)
	t0 := time.Now()
	go func() {
		s, err := b.startSplit(ctx, script, port, b.minimartEnv(
			"MINIMART_BIN="+b.minimart,
			"MINIMART_SPLIT_DIR="+splitDir,
			"MINIMART_SPLIT_DB_PREFIX="+splitPrefix,
			"MINIMART_SPLIT_MYSQL="+serverRoot,
			"MINIMART_SPLIT_AMQP_URL="+b.opts.amqpURL,
			"MINIMART_SPLIT_REDIS_URL="+b.opts.redisURL,
			"SPLIT_RATELIMITS=0",
			"SPLIT_FRESH=1",
			"MINIMART_RATELIMITS=0", // minimart's own request limits, like nginx's

		))
		splitCh <- started{s, err}
	}()
	mono, monoPassword, monoErr := b.startSplitMonolith(ctx, dbs.urls[0], monoPrefix)
	st := <-splitCh
	split = st.s
	if monoErr != nil {
		return fmt.Errorf("monolith: %w", monoErr)
	}
	if st.err != nil {
		return fmt.Errorf("split.sh: %w", st.err)
	}
	b.logf("split serving at %s (%d processes) after %s", split.url, len(split.procs), time.Since(t0).Round(100*time.Millisecond))
	monoAlive := func() error { return mono.deadError() }
	splitAlive := split.deadError

	// A staff account of our own on the split's user database, as split.sh makes its admin.
	splitPassword := "Pw-" + randomHex(8) + "-9x"
	secrets := readEnvFile(filepath.Join(splitDir, "secrets.env"))
	if err := b.createStaff(ctx, splitPassword, filepath.Join(b.tmp, "split-staff"), b.minimartEnv(
		"MINIMART_MODULES=user",
		"MINIMART_DB_URL="+databaseURL(b.opts.mysqlURL, splitPrefix+"_user"),
		"MINIMART_JWT_SECRET="+secrets["MINIMART_JWT_SECRET"],
		"MINIMART_SERVICE_TOKEN="+secrets["MINIMART_SERVICE_TOKEN"],
		"MINIMART_REDIS_URL="+b.opts.redisURL,
		"MINIMART_CACHE_PREFIX="+splitPrefix+":",
		"MINIMART_AMQP_URL="+b.opts.amqpURL,
		"MINIMART_AMQP_PREFIX="+splitPrefix,
		"MINIMART_INVENTORY_QUEUE="+splitPrefix+".inventory_update",
		"MINIMART_DATA_DIR="+filepath.Join(b.tmp, "split-staff-data"),
		"MINIMART_NODE_ID="+splitAdminNodeID,
	)); err != nil {
		return fmt.Errorf("split: %w", err)
	}

	noRabbitmqctl := false
	settle := func() error {
		if err := mono.waitSettled(ctx, splitSettle); err != nil {
			return err
		}
		for _, in := range split.minimarts() {
			if err := split.deadError(); err != nil {
				return err
			}
			p := &proc{name: in.name(), base: in.base(), ops: in.opsBase(), done: make(chan struct{})}
			if err := p.waitSettled(ctx, splitSettle); err != nil {
				return err
			}
		}
		err := waitQueuesDrained(ctx, splitSettle, monoPrefix, splitPrefix)
		if errors.Is(err, errNoRabbitmqctl) {
			noRabbitmqctl = true
			return nil
		}
		return err
	}
	if err := settle(); err != nil {
		return err
	}

	// The orders group's fixture on both shapes at once (through nginx on the split).
	t1 := time.Now()
	fxs := make([]*ordersFixture, 2)
	bases := []string{mono.base, split.url}
	passwords := []string{monoPassword, splitPassword}
	if err := parallel(ctx, 2, 2, func(ctx context.Context, i int) error {
		fx, err := prepareOrders(ctx, newAPIClient(bases[i]), passwords[i], b.opts.concurrency, b.opts.flashStock)
		if err != nil {
			return fmt.Errorf("%s: setup through the API: %w", []string{"monolith", "split"}[i], err)
		}
		fxs[i] = fx
		return nil
	}); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	monoFx, splitFx := fxs[0], fxs[1]
	if err := settle(); err != nil {
		return err
	}
	b.logf("fixtures ready on both shapes in %s", time.Since(t1).Round(100*time.Millisecond))

	// One order and one cart line per shape first: a broken path is one clear line.
	for i, fx := range fxs {
		api := newAPIClient(bases[i])
		if err := fx.preflight(ctx, api); err != nil {
			return fmt.Errorf("%s: first order: %w", []string{"monolith", "split"}[i], err)
		}
		// The cart line is the flash-sale SKU, which no scenario here orders (an order removes
		// its SKUs from the buyer's cart).
		if err := api.call(ctx, http.MethodPost, "/api/v1/cart/items", fx.buyers[0].token,
			map[string]any{"sku_id": fx.flashSKU, "quantity": 1}, http.StatusOK, nil); err != nil {
			return fmt.Errorf("%s: cart line: %w", []string{"monolith", "split"}[i], err)
		}
	}
	detailPaths := make([][]string, 2)
	for i := range bases {
		ids, err := productIDs(ctx, bases[i], 3, 20)
		if err != nil {
			return fmt.Errorf("%s: product ids: %w", []string{"monolith", "split"}[i], err)
		}
		if len(ids) > splitDetailIDs {
			ids = ids[:splitDetailIDs]
		}
		for _, id := range ids {
			detailPaths[i] = append(detailPaths[i], "/api/v1/products/"+url.PathEscape(id))
		}
	}

	orderInst := split.instances("order")[0]
	// The order instance's peers: every instance of the other services (its own modules are
	// local, so the second order instance only answers background calls, such as inventory's
	// sweep asking whether an order was placed).
	var peers []splitInstance
	for _, in := range split.minimarts() {
		if in.service != orderInst.service {
			peers = append(peers, in)
		}
	}
	g.note("Shapes, both on MariaDB %s (%s), Redis and RabbitMQ on loopback. **Monolith**: one `minimart serve` (all modules; database `%s`, cache and broker prefix `%s`), measured directly. **Split**: `%s` (SPLIT_RATELIMITS=0, SPLIT_FRESH=1, MINIMART_SPLIT_DB_PREFIX=`%s`): user, product (catalog,inventory), order (order,cart,promotion) and payment, two instances each, one database per service on the same server, the same Redis and RabbitMQ under its own prefix, nginx (%s) in front on %s; measured through nginx unless the row says otherwise. Both shapes: the demo catalog (`minimart demo load`, as split.sh does; the monolith's loaded the same way before it started), then the orders group's fixture created through each shape's public API (%d products × %d SKUs, one flash-sale SKU, %d buyers with an address). `MINIMART_LOG_LEVEL=warn`, `MINIMART_PASSWORD_COST=4` and `MINIMART_RATELIMITS=0` (minimart's own per-buyer and per-IP limits off, as nginx's are) on every process. Setup until the first row: %s.",
		redactedHost(b.opts.mysqlURL), dbs.version, monoPrefix, monoPrefix, splitScriptPath, splitPrefix,
		nginxVersion(ctx), split.url, ordersProducts, ordersSKUsPerProduct, b.opts.concurrency, time.Since(t0).Round(time.Second))
	g.note("The ratio column is the split row's req/s over the monolith row's just above it (the baseline, ratio 1), same scenario, same load generator. Neither load generator asks for gzip, so nginx passes the answers as they are.")

	// 1. Product detail: the monolith directly, the split through nginx.
	ok200 := loadgen.ExpectStatus(http.StatusOK)
	monoDetail, splitDetail, err := b.splitPair(ctx, g,
		splitSide{scenario{name: "product detail, monolith direct", request: getCycle(mono.base, detailPaths[0]...), check: ok200}, monoAlive},
		splitSide{scenario{name: "product detail, split through nginx", request: getCycle(split.url, detailPaths[1]...), check: ok200}, splitAlive},
		b.opts.concurrency)
	if err != nil {
		return err
	}
	var monoWrk, splitWrk *loadgen.Result
	if monoDetail != nil && splitDetail != nil {
		if monoWrk, err = b.wrkRow(ctx, g, wrkLoad{name: wrkName("product detail, monolith direct"), base: mono.base, paths: detailPaths[0], alive: monoAlive}, true, nil); err != nil {
			return err
		}
		if splitWrk, err = b.wrkRow(ctx, g, wrkLoad{name: wrkName("product detail, split through nginx"), base: split.url, paths: detailPaths[1], alive: splitAlive}, false, monoWrk); err != nil {
			return err
		}
	}

	// 2. One remote hop: the same request, one connection, on the monolith and directly on
	// one order instance (no nginx), whose peers' counters say how many remote calls it made.
	hop := func(name string, monoSc, splitSc scenario, method, path, status string) (m, s *loadgen.Result, t callTally, err error) {
		if err := settle(); err != nil {
			return nil, nil, t, err
		}
		targetBefore, peersBefore, err := scrapeSplit(ctx, orderInst, peers)
		if err != nil {
			return nil, nil, t, err
		}
		if m, s, err = b.splitPair(ctx, g, splitSide{monoSc, monoAlive}, splitSide{splitSc, splitAlive}, splitHopConns); err != nil {
			return nil, nil, t, err
		}
		targetAfter, peersAfter, err := scrapeSplit(ctx, orderInst, peers)
		if err != nil {
			return nil, nil, t, err
		}
		t = tallyCalls(targetBefore, targetAfter, method, path, status, peersBefore, peersAfter)
		b.logf("%s: %.0f requests on %s, %.2f remote calls each: %s", name, t.requests, orderInst.name(), t.perRequest(), t.breakdown())
		return m, s, t, nil
	}
	cartName := fmt.Sprintf("cart view (1 line), %d connection, %%s", splitHopConns)
	monoCart, splitCart, cartCalls, err := hop("cart view",
		cartScenario(mono.base, fmt.Sprintf(cartName, "monolith direct"), monoFx.buyers[0].token, monoFx.flashSKU),
		cartScenario(orderInst.base(), fmt.Sprintf(cartName, "order instance direct"), splitFx.buyers[0].token, splitFx.flashSKU),
		http.MethodGet, "/api/v1/cart", "200")
	if err != nil {
		return err
	}
	orderName := fmt.Sprintf("order create, %d connection, %%s", splitHopConns)
	monoOrder1, splitOrder1, orderCalls, err := hop("order create",
		monoFx.splitOrderScenario(mono.base, fmt.Sprintf(orderName, "monolith direct"), "h"),
		splitFx.splitOrderScenario(orderInst.base(), fmt.Sprintf(orderName, "order instance direct"), "h"),
		http.MethodPost, "/api/v1/orders", "201")
	if err != nil {
		return err
	}

	// 3. Order create at full load: the monolith directly, the split through nginx.
	if err := settle(); err != nil {
		return err
	}
	monoOrder, splitOrder, err := b.splitPair(ctx, g,
		splitSide{monoFx.splitOrderScenario(mono.base, "order create, monolith direct", "o"), monoAlive},
		splitSide{splitFx.splitOrderScenario(split.url, "order create, split through nginx", "o"), splitAlive},
		b.opts.concurrency)
	if err != nil {
		return err
	}

	// What the rows say against the targets.
	g.note("Order rows: `POST /api/v1/orders` of one unit of one SKU (round-robin over the %s spread SKUs, stock %s each), each request its own `Idempotency-Key`; only 201 passes. Cart rows: `GET /api/v1/cart` of buyer 1, whose cart holds one line; 200 with that SKU in it passes. Before each pair but the detail ones every instance's outbox is empty and the run's consumed RabbitMQ queues are drained (within a pair the slices alternate without waiting: each side's events are handled during the other's slices alike).", withCommas(ordersSKUs), withCommas(ordersSpreadStock))
	g.note("%s The wrk rows are not interleaved: one run of each, the monolith first, right after the detail pair.", b.sliceNote())
	if cartCalls.requests <= 0 || orderCalls.requests <= 0 {
		g.fail("Remote calls **could not be counted**: %s's `minimart_http_requests_total` has no series for the rows' own routes (GET /api/v1/cart 200, POST /api/v1/orders 201); when every series says `route=\"unmatched\"`, the route pattern is lost between the HTTP metrics middleware and the router. The per-hop figures below use the calls the code path makes instead.", orderInst.name())
	}
	g.note("Remote calls counted, not assumed: `minimart_http_requests_total` of every instance of the other services (user, product, payment) read before and after each one-connection pair, `/internal/` routes only, divided by the passing requests %s counted for the row's own route (warm-up included in both). Cart view: %.2f remote calls per request (%s). Order create: %.2f (%s).",
		orderInst.name(), cartCalls.perRequest(), cartCalls.breakdown(), orderCalls.perRequest(), orderCalls.breakdown())
	if noRabbitmqctl {
		g.note("rabbitmqctl is not on PATH: the runner could not wait for the queues to drain between rows, nor delete the run's queues.")
	}
	b.splitVerdicts(g, monoDetail, splitDetail, monoWrk, splitWrk, monoOrder, splitOrder,
		[]hopPair{{"cart view", monoCart, splitCart, cartCalls, cartCallsInCode}, {"order create", monoOrder1, splitOrder1, orderCalls, orderCallsInCode}})
	return nil
}

// hopPair is a one-connection pair: the monolith's row, the order instance's, and the
// remote calls the latter made per request.
type hopPair struct {
	name        string
	mono, split *loadgen.Result
	calls       callTally
	// inCode is the remote calls the code path makes (see the constants), used only when
	// the counters could not count them, and then said so.
	inCode float64
}

// The remote calls of the one-connection rows as the code makes them, for when the
// instances' counters cannot tell (no route pattern on their series): the cart view asks
// catalog for the SKUs and inventory for their stock; an order reads the address (user),
// the SKUs (catalog) and reserves (inventory); cart removal is local to the order service.
const (
	cartCallsInCode  = 2
	orderCallsInCode = 3
)

// splitVerdicts adds the notes against the three targets.
func (b *bench) splitVerdicts(g *groupResult, monoDetail, splitDetail, monoWrk, splitWrk, monoOrder, splitOrder *loadgen.Result, hops []hopPair) {
	verdict := func(ok bool) string {
		if ok {
			return "**met**"
		}
		return "**not met**"
	}
	if monoDetail != nil && splitDetail != nil && monoDetail.ReqPerSec > 0 {
		r := splitDetail.ReqPerSec / monoDetail.ReqPerSec
		s := fmt.Sprintf("Target: product detail through nginx on the split ≥ %.1f of the monolith served directly: %s (%.2f with loadgen, %d connections", splitDetailTarget, verdict(r >= splitDetailTarget), r, b.opts.concurrency)
		if monoWrk != nil && splitWrk != nil && monoWrk.ReqPerSec > 0 {
			s += fmt.Sprintf("; %.2f with wrk, %d connections", splitWrk.ReqPerSec/monoWrk.ReqPerSec, wrkConns)
		}
		g.note("%s).", s)
	} else {
		g.note("Target: product detail ratio: **not measured** (a detail row did not run).")
	}
	if monoOrder != nil && splitOrder != nil && monoOrder.ReqPerSec > 0 {
		r := splitOrder.ReqPerSec / monoOrder.ReqPerSec
		g.note("Target: order create on the split ≥ %.1f of the monolith's: %s (%.2f: %s against %s orders/s, %d connections).",
			splitOrderTarget, verdict(r >= splitOrderTarget), r, loadgen.FormatRate(splitOrder.ReqPerSec), loadgen.FormatRate(monoOrder.ReqPerSec), b.opts.concurrency)
	} else {
		g.note("Target: order create ratio: **not measured** (an order row did not run).")
	}
	var parts, verdicts []string
	for _, h := range hops {
		if h.mono == nil || h.split == nil {
			verdicts = append(verdicts, h.name+" not measured")
			continue
		}
		n, source := h.calls.perRequest(), "remote calls"
		if h.calls.requests <= 0 && h.inCode > 0 {
			n, source = h.inCode, "remote calls (from the code: the counters could not count them)"
		}
		p50, ok := perHop(h.split.P50, h.mono.P50, n)
		if !ok {
			verdicts = append(verdicts, h.name+" not derived")
			parts = append(parts, fmt.Sprintf("%s: no remote call counted, so no per-hop figure (p50 %s on the order instance against %s on the monolith)",
				h.name, loadgen.FormatLatency(h.split.P50), loadgen.FormatLatency(h.mono.P50)))
			continue
		}
		p99, _ := perHop(h.split.P99, h.mono.P99, n)
		verdicts = append(verdicts, fmt.Sprintf("%s %s (%s)", verdict(p50 <= splitHopTarget), h.name, formatSignedLatency(p50)))
		parts = append(parts, fmt.Sprintf("%s: p50 %s on the order instance − %s on the monolith = %s over %.2f %s = **%s per hop at p50**; p99 (%s − %s) / %.2f = %s per hop",
			h.name, loadgen.FormatLatency(h.split.P50), loadgen.FormatLatency(h.mono.P50), formatSignedLatency(h.split.P50-h.mono.P50), n, source, formatSignedLatency(p50),
			loadgen.FormatLatency(h.split.P99), loadgen.FormatLatency(h.mono.P99), n, formatSignedLatency(p99)))
	}
	g.note("Target: one remote hop adds ≤ %s at p50: %s. Added latency per hop = (the order instance's percentile − the monolith's) / remote calls per request, one connection so nothing queues; the order instance does in-process what the monolith does, the rest goes over HTTP to a peer (JSON, service token, a database of its own on the same server). A p99 difference is a difference of two tails, not the tail of one hop. %s.",
		loadgen.FormatLatency(splitHopTarget), strings.Join(verdicts, "; "), strings.Join(parts, "; "))
}

// startSplitMonolith loads the demo catalog into the monolith's database, creates its staff
// account and starts it, all modules, on MariaDB, Redis and RabbitMQ under prefix.
func (b *bench) startSplitMonolith(ctx context.Context, dbURL, prefix string) (*proc, string, error) {
	dir := filepath.Join(b.tmp, "split-mono-data")
	env := []string{
		"MINIMART_DATA_DIR=" + dir,
		"MINIMART_DB_URL=" + dbURL,
		"MINIMART_REDIS_URL=" + b.opts.redisURL,
		"MINIMART_CACHE_PREFIX=" + prefix + ":",
		"MINIMART_AMQP_URL=" + b.opts.amqpURL,
		"MINIMART_AMQP_PREFIX=" + prefix,
		"MINIMART_INVENTORY_QUEUE=" + prefix + ".inventory_update",
		"MINIMART_JWT_SECRET=" + randomHex(32),
		"MINIMART_NODE_ID=1",
		"MINIMART_DEMO=0",
		"MINIMART_RATELIMITS=0", // 32 buyers ordering back to back are a load test, not abuse
	}
	b.logf("monolith: minimart demo load (MariaDB %s)", prefix)
	if out, err := runCommand(ctx, demoLoadTimeout, b.tmp, b.minimart, []string{"demo", "load"}, b.minimartEnv(env...)); err != nil {
		return nil, "", fmt.Errorf("`minimart demo load` failed: %v: %s", err, whyFailed(out))
	}
	password := "Pw-" + randomHex(8) + "-9x"
	if err := b.createStaff(ctx, password, filepath.Join(b.tmp, "split-mono-staff"), b.minimartEnv(env...)); err != nil {
		return nil, "", err
	}
	p, err := b.startMinimart(ctx, "minimart-split-mono", dir, env[1:]...)
	return p, password, err
}

// createStaff runs `minimart admin create --username bench --role operator` with env.
func (b *bench) createStaff(ctx context.Context, password, pwFile string, env []string) error {
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		return err
	}
	out, err := runCommand(ctx, ordersAdminTimeout, b.tmp, b.minimart,
		[]string{"admin", "create", "--username", ordersStaffUser, "--password-file", pwFile, "--role", "operator"}, env)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("`minimart admin create --role operator` failed: %v: %s", err, whyFailed(out))
	}
	return nil
}

// splitRatio is "1" for a baseline row, else the row's rate over the baseline's ("—" when
// the baseline did not run).
func splitRatio(res *loadgen.Result, isBaseline bool, base *loadgen.Result) string {
	switch {
	case isBaseline:
		return "1"
	case base == nil:
		return "—"
	}
	return ratioOf(res.ReqPerSec, base.ReqPerSec)
}

// cartScenario reads the buyer's cart; it must answer 200 with sku in it.
func cartScenario(base, name, token, sku string) scenario {
	u := base + "/api/v1/cart"
	want := []byte(sku)
	return scenario{
		name: name,
		request: func(_, _ int) *http.Request {
			req, err := http.NewRequest(http.MethodGet, u, nil)
			if err != nil {
				panic(fmt.Sprintf("bench: bad cart URL %q: %v", u, err))
			}
			req.Header.Set("Authorization", "Bearer "+token)
			return req
		},
		check: func(resp *http.Response, body []byte) error {
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			if !bytes.Contains(body, want) {
				return errors.New("cart without its line")
			}
			return nil
		},
	}
}

// splitOrderScenario orders the spread SKUs round-robin; every request, the preflight's
// included, has its own Idempotency-Key (tag, worker and a counter of the scenario).
func (fx *ordersFixture) splitOrderScenario(base, name, tag string) scenario {
	var n atomic.Int64
	return scenario{
		name: name,
		request: func(w, _ int) *http.Request {
			k := n.Add(1)
			return fx.orderRequest(base, tag, w, int(k), fx.skus[(k-1)%int64(len(fx.skus))])
		},
		check: expectCreated,
	}
}

// scrapeSplit reads the request counters of the instance under test and of its peers.
func scrapeSplit(ctx context.Context, target splitInstance, peers []splitInstance) (map[httpKey]float64, []map[httpKey]float64, error) {
	t, err := scrapeHTTPCounts(ctx, target.opsBase())
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", target.name(), err)
	}
	ps := make([]map[httpKey]float64, len(peers))
	for i, p := range peers {
		if ps[i], err = scrapeHTTPCounts(ctx, p.opsBase()); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p.name(), err)
		}
	}
	return t, ps, nil
}

// splitCleanup drops the run's databases and removes its queues, exchanges and cache keys;
// dead-lettered events (a handler that kept failing) are reported first.
func (b *bench) splitCleanup(g *groupResult, dbs *runDatabases, prefixes ...string) {
	var problems []string
	if qs, err := listQueues(context.Background(), prefixes...); err == nil {
		for _, q := range qs {
			switch {
			case q.messages == 0:
			case strings.HasSuffix(q.name, ".dlq"):
				g.note("%d event(s) dead-lettered in `%s` during the run.", q.messages, q.name)
			case q.consumers == 0 && !strings.HasSuffix(q.name, ".retry"):
				g.note("Queue `%s` had no consumer and held %d messages at the end (not waited for between rows).", q.name, q.messages)
			}
		}
	}
	if err := dbs.drop(); err != nil {
		problems = append(problems, err.Error())
	}
	if err := deleteBrokerNames(b.opts.amqpURL, prefixes...); err != nil {
		problems = append(problems, "RabbitMQ: "+err.Error())
	}
	cachePrefixes := make([]string, len(prefixes))
	for i, p := range prefixes {
		cachePrefixes[i] = p + ":"
	}
	n, err := deleteRedisKeys(b.opts.redisURL, cachePrefixes...)
	if err != nil {
		problems = append(problems, "Redis: "+err.Error())
	}
	if len(problems) > 0 {
		g.note("Cleanup incomplete: %s", strings.Join(problems, "; "))
		b.logf("split cleanup: %s", strings.Join(problems, "; "))
		return
	}
	b.logf("split cleanup: databases dropped, queues and exchanges deleted, %d Redis keys unlinked", n)
}

// nginxVersion is `nginx -v`'s version ("nginx/1.22.1"), or "nginx" when it cannot be read.
func nginxVersion(ctx context.Context) string {
	out, err := runCommand(ctx, 10*time.Second, os.TempDir(), "nginx", []string{"-v"}, childEnv())
	if err != nil {
		if out2, err2 := runCommand(ctx, 10*time.Second, os.TempDir(), "/usr/sbin/nginx", []string{"-v"}, childEnv()); err2 == nil {
			out, err = out2, nil
		}
	}
	if err == nil {
		if _, v, ok := strings.Cut(strings.TrimSpace(out), "version: "); ok {
			return v
		}
	}
	return "nginx"
}
