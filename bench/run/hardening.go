package main

// Shared by the recovery and soak groups: a production-shaped minimart (a MariaDB database
// of its own, RabbitMQ under a unique prefix) with the orders group's fixture.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/platform/sqldb"
)

// prodShape is one production-shaped minimart and what it was set up with.
type prodShape struct {
	embedded bool // SQLite in the data dir, in-process bus and cache
	dbs      *runDatabases
	db       *sqldb.DB // minimart's own database, for the outbox queries
	prefix   string    // RabbitMQ names
	env      []string  // minimart's settings (restarts reuse them)
	dataDir  string
	addr     string
	opsAddr  string // its operator listener's (restarts reuse both)
	srv      *proc
	fx       *ordersFixture
	api      *apiClient
}

// startProdShape creates the database, the staff account, starts minimart on a fixed
// loopback address and builds the orders fixture. A returned error with skip=true means
// the group cannot run here (no MariaDB or RabbitMQ given); the caller must call cleanup.
func (b *bench) startProdShape(ctx context.Context, key string) (ps *prodShape, skip string, err error) {
	return b.startShape(ctx, key, false)
}

// startShape is startProdShape, or with embedded the embedded shape (SQLite in the data
// dir, in-process bus and cache) with the same fixture; ps.db is then the data dir's
// SQLite file, opened by the runner as minimart opens it.
func (b *bench) startShape(ctx context.Context, key string, embedded bool) (ps *prodShape, skip string, err error) {
	if embedded {
		ps = &prodShape{embedded: true, dataDir: filepath.Join(b.tmp, key+"-data")}
		ps.env = []string{"MINIMART_DEMO=0", "MINIMART_RATELIMITS=0", "MINIMART_SCHEDULE_INTERVAL=200ms"}
		return ps, "", b.startFixture(ctx, key, ps)
	}
	if b.opts.mysqlURL == "" {
		return nil, "no MariaDB server given (pass `--mysql-url mysql://root@127.0.0.1:3306/test`)", nil
	}
	if b.opts.amqpURL == "" {
		return nil, "no RabbitMQ given (pass `--amqp-url amqp://guest:guest@127.0.0.1:5672/`)", nil
	}
	ps = &prodShape{prefix: "mmbench_" + key + "_" + randomHex(4), dataDir: filepath.Join(b.tmp, key+"-data")}
	if ps.dbs, err = createDatabasesWith(ctx, b.opts.mysqlURL, ""); err != nil {
		return nil, "", fmt.Errorf("MariaDB: %w", err)
	}
	if ps.db, err = sqldb.Open(ctx, ps.dbs.urls[0], ""); err != nil {
		return ps, "", err
	}
	ps.env = []string{
		"MINIMART_DB_URL=" + ps.dbs.urls[0],
		"MINIMART_AMQP_URL=" + b.opts.amqpURL,
		"MINIMART_AMQP_PREFIX=" + ps.prefix,
		"MINIMART_INVENTORY_QUEUE=" + ps.prefix + ".inventory_update",
		"MINIMART_JWT_SECRET=" + randomHex(32),
		"MINIMART_NODE_ID=1",
		"MINIMART_DEMO=0",
		"MINIMART_RATELIMITS=0",
		"MINIMART_SCHEDULE_INTERVAL=200ms",
	}
	return ps, "", b.startFixture(ctx, key, ps)
}

// startFixture creates the staff account, starts minimart and builds the orders fixture.
func (b *bench) startFixture(ctx context.Context, key string, ps *prodShape) (err error) {
	password := "Pw-" + randomHex(8) + "-9x"
	if err := b.createStaff(ctx, password, filepath.Join(b.tmp, key+"-staff"),
		b.minimartEnv(append([]string{"MINIMART_DATA_DIR=" + ps.dataDir}, ps.env...)...)); err != nil {
		return err
	}
	if ps.embedded {
		if ps.db, err = sqldb.Open(ctx, "", ps.dataDir); err != nil {
			return err
		}
	}
	if ps.addr, err = freeAddr(); err != nil {
		return err
	}
	if ps.opsAddr, err = freeAddr(); err != nil {
		return err
	}
	if ps.srv, err = b.startOn(ctx, "minimart-"+key, ps); err != nil {
		return err
	}
	if err := ps.srv.waitReady(ctx, b.opts.readyTimeout); err != nil {
		return err
	}
	ps.api = newAPIClient(ps.srv.base)
	t0 := time.Now()
	if ps.fx, err = prepareOrders(ctx, ps.api, password, b.opts.concurrency, b.opts.flashStock); err != nil {
		return fmt.Errorf("orders fixture: %w", err)
	}
	if err := ps.srv.waitSettled(ctx, 5*time.Minute); err != nil {
		return err
	}
	if err := ps.fx.preflight(ctx, ps.api); err != nil {
		return err
	}
	b.logf("%s: fixture (%d SKUs, %d buyers) ready in %s", key, len(ps.fx.skus), len(ps.fx.buyers), time.Since(t0).Round(100*time.Millisecond))
	return nil
}

// startOn starts `minimart serve` with ps's settings on ps.addr without waiting.
func (b *bench) startOn(_ context.Context, name string, ps *prodShape) (*proc, error) {
	p, err := startProc(name, b.minimart, b.tmp, ps.addr, []string{"serve"}, b.minimartEnv(append([]string{
		"MINIMART_ADDR=" + ps.addr,
		"MINIMART_OPS_ADDR=" + ps.opsAddr,
		"MINIMART_DATA_DIR=" + ps.dataDir,
	}, ps.env...)...))
	if err != nil {
		return nil, err
	}
	p.ops = "http://" + ps.opsAddr
	b.procs = append(b.procs, p)
	return p, nil
}

// cleanup stops the servers, drops the database and deletes the broker names.
func (ps *prodShape) cleanup(b *bench, g *groupResult) {
	if ps == nil {
		return
	}
	b.stopAll()
	var problems []string
	if ps.db != nil {
		ps.db.Close()
	}
	if ps.dbs != nil {
		if err := ps.dbs.drop(); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if ps.prefix != "" { // embedded: nothing on a broker
		if err := deleteBrokerNames(b.opts.amqpURL, ps.prefix); err != nil && !errors.Is(err, errNoRabbitmqctl) {
			problems = append(problems, "RabbitMQ: "+err.Error())
		}
	}
	if len(problems) > 0 {
		g.note("Cleanup incomplete: %s", strings.Join(problems, "; "))
	}
}

// vmRSS is the resident set of pid in bytes, from /proc/<pid>/status.
func vmRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseVmRSS(string(data))
}

func parseVmRSS(status string) (int64, error) {
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("VmRSS: unexpected %q", l)
			}
			n, err := strconv.ParseInt(f[0], 10, 64)
			return n * 1024, err
		}
	}
	return 0, errors.New("no VmRSS line")
}

// metricValue is the value of an unlabelled metric in Prometheus text, or false.
func metricValue(text, name string) (float64, bool) {
	for _, l := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(l, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// ---- arithmetic ----

// durPercentile is the nearest-rank p-th percentile (0 < p ≤ 100) of ds; 0 for none.
func durPercentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	if rank < 1 {
		rank = 1
	}
	if rank > len(s) {
		rank = len(s)
	}
	return s[rank-1]
}

// slope is the least-squares slope of ys over xs (units of y per unit of x); ok is false
// with fewer than two distinct xs.
func slope(xs, ys []float64) (float64, bool) {
	n := float64(len(xs))
	if len(xs) != len(ys) || len(xs) < 2 {
		return 0, false
	}
	var sx, sy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
	}
	mx, my := sx/n, sy/n
	var num, den float64
	for i := range xs {
		num += (xs[i] - mx) * (ys[i] - my)
		den += (xs[i] - mx) * (xs[i] - mx)
	}
	if den == 0 {
		return 0, false
	}
	return num / den, true
}

// trendChange is the change the least-squares line predicts over the span of xs, relative
// to the mean of ys: 0.05 is "grows 5% from the first sample to the last". ok is false when
// the slope is undefined or the mean is 0.
func trendChange(xs, ys []float64) (float64, bool) {
	m, ok := slope(xs, ys)
	if !ok {
		return 0, false
	}
	var sy float64
	for _, y := range ys {
		sy += y
	}
	mean := sy / float64(len(ys))
	if mean == 0 {
		return 0, false
	}
	lo, hi := xs[0], xs[0]
	for _, x := range xs {
		lo, hi = min(lo, x), max(hi, x)
	}
	return m * (hi - lo) / mean, true
}

// indentLines indents every line of s by two spaces, so a table sits inside a list item.
func indentLines(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}
