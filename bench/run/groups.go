package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/minimart/minimart/bench/loadgen"
)

// group is a set of scenarios sharing one setup (data, a minimart process). Adding a group
// is adding an entry here and its function: the function prepares what it needs (data
// dir, b.startMinimart) and measures with b.compare (a scenario against the bare handler
// measured just before it) or b.measure (no ratio). A setup that cannot be done yet is
// g.skip(...); an error returned is a failure. Servers a group starts are stopped after it.
type group struct {
	name  string
	about string
	run   func(ctx context.Context, b *bench, g *groupResult) error
}

var groups = []group{
	{"catalog", "catalog reads on the demo catalog: product detail (with the Go load generator and with wrk), list page, search; detail p99 at half load", runCatalog},
	{"orders", "order creation on SQLite and MariaDB: orders spread over 1,000 SKUs, a flash sale on one SKU with a zero-oversell check; each against the engine's raw write rate", runOrders},
	{"events", "transactional outbox and relay to RabbitMQ, in the runner's process: relay events/s against the broker's raw confirmed-publish rate, and commit → consumer lag at steady write rates, on MariaDB and SQLite", runEvents},
	{"split", "the seed's split (deploy/local/split.sh: user, product, order, payment services, two instances each, behind nginx) against the monolith on the same MariaDB, Redis and RabbitMQ: product detail and order create ratios, and the latency one remote call adds", runSplit},
	{"recovery", "kill -9 recovery of a production-shaped minimart (MariaDB, RabbitMQ) under a light order load: restart to /readyz and to its outbox backlog published, over 20 kills, against clean (SIGTERM) restarts; then the same on the embedded (SQLite) shape", runRecovery},
	{"soak", "a production-shaped minimart at half its measured order capacity for --soak-duration: RSS, goroutines, open fds, database connections and p99 per 10 s window, and whether each stays flat", runSoak},
	{"tracing", "OpenTelemetry tracing on (exporting over OTLP/HTTP to a receiver in the runner) against off, two embedded minimarts in interleaved pairs: product detail and order create", runTracing},
	{"smoke", "harness check: bare handler vs GET /healthz on minimart (empty data dir)", runSmoke},
}

func findGroup(name string) *group {
	for i := range groups {
		if groups[i].name == name {
			return &groups[i]
		}
	}
	return nil
}

// halfLoadP99Target is the latency goal for reads at half the maximum throughput.
const halfLoadP99Target = 5 * time.Millisecond

// runSmoke checks the harness end to end on what minimart serves from its first commit.
func runSmoke(ctx context.Context, b *bench, g *groupResult) error {
	srv, err := b.startMinimart(ctx, "minimart-smoke", filepath.Join(b.tmp, "smoke-data"))
	if err != nil {
		return err
	}
	health := scenario{name: "GET /healthz", request: getCycle(srv.base, "/healthz"), check: loadgen.ExpectStatus(http.StatusOK)}
	res, ok, err := b.compare(ctx, g, srv, health)
	if err != nil || !ok {
		return err
	}
	return b.halfLoad(ctx, g, srv, health, "GET /healthz at half load", res)
}

// catalogWords are the search scenario's queries, cycled.
var catalogWords = []string{"手机", "耳机", "蓝牙", "连衣裙", "咖啡", "iphone", "零食", "充电器"}

const (
	catalogIDPages    = 5  // list pages read for product IDs
	catalogIDPageSize = 20 // items per page
	catalogDetailIDs  = 50 // product IDs the detail scenario cycles over
	demoLoadTimeout   = 10 * time.Minute
)

// runCatalog loads the deterministic demo catalog, then measures the public read paths.
func runCatalog(ctx context.Context, b *bench, g *groupResult) error {
	dir := filepath.Join(b.tmp, "catalog-data")
	n := strconv.Itoa(b.opts.products)
	b.logf("minimart demo load --products %s", n)
	t0 := time.Now()
	if out, err := b.minimartCommand(ctx, demoLoadTimeout, "demo", "load", "--products", n, "--data-dir", dir); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		g.skip("`minimart demo load --products %s` failed: %v: %s", n, err, lastLines(out, 3))
		return nil
	}
	g.note("Data: `minimart demo load --products %s` (loaded in %s), SQLite in the embedded shape.", n, time.Since(t0).Round(100*time.Millisecond))

	srv, err := b.startMinimart(ctx, "minimart-catalog", dir)
	if err != nil {
		return err
	}
	ids, err := productIDs(ctx, srv.base, catalogIDPages, catalogIDPageSize)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		g.skip("collecting product ids: %v", err)
		return nil
	}
	if len(ids) > catalogDetailIDs {
		ids = ids[:catalogDetailIDs]
	}
	if len(ids) < catalogDetailIDs {
		g.note("Only %d product ids found on the first %d list pages; the detail scenario cycles over those.", len(ids), catalogIDPages)
	}

	detailPaths := make([]string, len(ids))
	for i, id := range ids {
		detailPaths[i] = "/api/v1/products/" + url.PathEscape(id)
	}
	searchPaths := make([]string, len(catalogWords))
	// Pages past the third are never cached: these measure the index itself.
	uncachedSearch := make([]string, 0, len(catalogWords)*4)
	for i, w := range catalogWords {
		searchPaths[i] = "/api/v1/search?q=" + url.QueryEscape(w)
		for page := 4; page <= 7; page++ {
			uncachedSearch = append(uncachedSearch, fmt.Sprintf("/api/v1/search?q=%s&page=%d&page_size=10", url.QueryEscape(w), page))
		}
	}
	ok200 := loadgen.ExpectStatus(http.StatusOK)

	detail := scenario{name: "product detail (cached)", request: getCycle(srv.base, detailPaths...), check: ok200}
	res, ok, err := b.compare(ctx, g, srv, detail)
	if err != nil {
		return err
	}
	if ok {
		if err := b.halfLoad(ctx, g, srv, detail, "product detail at half load", res); err != nil {
			return err
		}
		if err := b.catalogWrk(ctx, g, srv, detail.name, detailPaths); err != nil {
			return err
		}
	}
	for _, sc := range []scenario{
		{name: "product list page 1", request: getCycle(srv.base, "/api/v1/products?page=1&page_size=20"), check: ok200},
		{name: "search (first pages, cached)", request: getCycle(srv.base, searchPaths...), check: ok200},
		{name: "search (pages 4–7, uncached)", request: getCycle(srv.base, uncachedSearch...), check: ok200},
	} {
		if _, _, err := b.compare(ctx, g, srv, sc); err != nil {
			return err
		}
	}
	g.note("Detail cycles over %d product ids; search cycles over %d words: %s. The uncached search row asks pages 4–7 of each word (10 per page), which bypass the cache and run the Bleve query and the product lookup every time.", len(ids), len(catalogWords), strings.Join(catalogWords, ", "))
	return nil
}

// catalogWrk adds the wrk rows: the bare handler, then name on srv, both driven by wrk with
// one script cycling over paths (the bare handler answers every path alike).
func (b *bench) catalogWrk(ctx context.Context, g *groupResult, srv *proc, name string, paths []string) error {
	bare, err := b.wrkRow(ctx, g, wrkLoad{name: wrkName("bare handler"), base: b.bare.base, paths: paths,
		warmup: b.opts.warmup, alive: b.bare.deadError}, true, nil)
	if err != nil {
		return err
	}
	if bare == nil {
		// Whatever kept the baseline from running (wrk missing, say) keeps this row too.
		g.rows = append(g.rows, row{name: wrkName(name), notRun: g.rows[len(g.rows)-1].notRun})
		return nil
	}
	res, err := b.wrkRow(ctx, g, wrkLoad{name: wrkName(name), base: srv.base, paths: paths,
		warmup: b.opts.warmup, alive: srv.deadError}, false, bare)
	if err != nil {
		return err
	}
	warm := "no warm-up"
	if b.opts.warmup > 0 {
		warm = fmt.Sprintf("each after an unmeasured wrk run of %d s", wrkSeconds(b.opts.warmup))
	}
	note := fmt.Sprintf("wrk rows: `wrk -t%d -c%d -d%ds --latency` with a Lua script cycling over the same %d detail paths, the bare handler first with the same script, %s. wrk counts socket errors and answers other than 2xx/3xx as errors; it sends no If-None-Match, so every answer is a full 200.",
		wrkThreads, wrkConns, wrkSeconds(b.opts.duration), len(paths), warm)
	if res != nil && bare.ReqPerSec > 0 {
		verdict := "**met**"
		if res.ReqPerSec < catalogWrkTarget*bare.ReqPerSec {
			verdict = "**not met**"
		}
		note += fmt.Sprintf(" Target %s ≥ %.1f of the bare handler under wrk: %s (%.3f).", name, catalogWrkTarget, verdict, res.ReqPerSec/bare.ReqPerSec)
	}
	g.note("%s", note)
	return nil
}

// catalogWrkTarget is the share of the bare handler's rate product detail should reach
// under wrk.
const catalogWrkTarget = 0.6

// productIDs reads list pages 1..pages and returns the product ids in order, without
// duplicates.
func productIDs(ctx context.Context, base string, pages, pageSize int) ([]string, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	var ids []string
	seen := map[string]bool{}
	for page := 1; page <= pages; page++ {
		path := fmt.Sprintf("/api/v1/products?page=%d&page_size=%d", page, pageSize)
		body, err := getBody(ctx, client, base+path)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", path, err)
		}
		var list struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			return nil, fmt.Errorf("GET %s: want {\"items\":[{\"id\":\"…\"}]}: %v", path, err)
		}
		if len(list.Items) == 0 {
			break
		}
		for _, it := range list.Items {
			if it.ID == "" {
				return nil, fmt.Errorf("GET %s: an item without an id", path)
			}
			if !seen[it.ID] {
				seen[it.ID] = true
				ids = append(ids, it.ID)
			}
		}
	}
	if len(ids) == 0 {
		return nil, errors.New("the product list is empty")
	}
	return ids, nil
}

// getBody is one GET that must answer 200.
func getBody(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, firstLines(string(body), 3))
	}
	return body, nil
}
