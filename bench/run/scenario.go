package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/minimart/minimart/bench/loadgen"
)

// scenario is one load: how to build request i of worker w, and what a good answer is.
type scenario struct {
	name    string
	request func(worker, i int) *http.Request
	check   func(*http.Response, []byte) error
	rate    float64 // > 0: paced at this many req/s; 0: closed loop
}

// getCycle builds GETs of base+path, cycling over paths; workers start at different points.
func getCycle(base string, paths ...string) func(worker, i int) *http.Request {
	urls := make([]string, len(paths))
	for i, p := range paths {
		urls[i] = base + p
		if _, err := http.NewRequest(http.MethodGet, urls[i], nil); err != nil {
			panic(fmt.Sprintf("bench: bad scenario URL %q: %v", urls[i], err))
		}
	}
	return func(w, i int) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, urls[(w*7+i)%len(urls)], nil) // checked above
		return req
	}
}

// bareScenario is the baseline: the bare handler, asked for a product-detail-like path.
func (b *bench) bareScenario() scenario {
	return scenario{
		name:    "bare handler",
		request: getCycle(b.bare.base, "/api/v1/products/1"),
		check:   loadgen.ExpectStatus(http.StatusOK),
	}
}

// compare measures the bare handler and then sc on srv, and adds both rows; sc's ratio is
// its req/s over the bare handler's. When a single request of sc fails first, sc is not
// run: its row says why and ok is false. err is for a dead server or an interrupt.
func (b *bench) compare(ctx context.Context, g *groupResult, srv *proc, sc scenario) (res loadgen.Result, ok bool, err error) {
	if err := preflight(ctx, sc); err != nil {
		if ctx.Err() != nil {
			return res, false, ctx.Err()
		}
		if dead := srv.deadError(); dead != nil {
			return res, false, dead
		}
		b.logf("%s: not run: %v", sc.name, err)
		g.rows = append(g.rows, row{name: sc.name, notRun: err.Error()})
		return res, false, nil
	}
	base, err := b.load(ctx, b.bare, b.bareScenario())
	if err != nil {
		return res, false, err
	}
	g.rows = append(g.rows, row{name: "bare handler", res: &base, ratio: "1"})
	res, err = b.load(ctx, srv, sc)
	if err != nil {
		return res, false, err
	}
	ratio := "—"
	if base.ReqPerSec > 0 {
		ratio = fmt.Sprintf("%.2f", res.ReqPerSec/base.ReqPerSec)
	}
	g.rows = append(g.rows, row{name: sc.name, res: &res, ratio: ratio})
	return res, true, nil
}

// halfLoad runs sc paced at half of full's throughput and adds the row and a note on the
// p99 target.
func (b *bench) halfLoad(ctx context.Context, g *groupResult, srv *proc, sc scenario, name string, full loadgen.Result) error {
	if full.ReqPerSec <= 0 {
		g.rows = append(g.rows, row{name: name, notRun: sc.name + " measured no throughput"})
		return nil
	}
	paced := sc
	paced.name = name
	paced.rate = full.ReqPerSec / 2
	res, err := b.load(ctx, srv, paced)
	if err != nil {
		return err
	}
	g.rows = append(g.rows, row{name: name, res: &res, ratio: "—"})
	verdict := "**met**"
	if res.P99 > halfLoadP99Target {
		verdict = "**not met**"
	}
	note := fmt.Sprintf("%s: paced at %s req/s, half of the %s req/s measured for %s just before. Target p99 ≤ %s: %s (p99 %s, max %s). Request starts were late against the schedule by p99 %s, max %s.",
		name, loadgen.FormatRate(paced.rate), loadgen.FormatRate(full.ReqPerSec), sc.name,
		loadgen.FormatLatency(halfLoadP99Target), verdict, loadgen.FormatLatency(res.P99), loadgen.FormatLatency(res.Max),
		loadgen.FormatLatency(res.LagP99), loadgen.FormatLatency(res.LagMax))
	if res.ReqPerSec < 0.95*paced.rate {
		note += fmt.Sprintf(" The pace was not held: %s req/s achieved.", loadgen.FormatRate(res.ReqPerSec))
	}
	g.note("%s", note)
	return nil
}

// load runs one scenario against target with the run's options.
func (b *bench) load(ctx context.Context, target *proc, sc scenario) (loadgen.Result, error) {
	if err := target.deadError(); err != nil {
		return loadgen.Result{}, err
	}
	res := loadgen.Run(ctx, loadgen.Config{
		Concurrency: b.opts.concurrency,
		Duration:    b.opts.duration,
		Warmup:      b.opts.warmup,
		Rate:        sc.rate,
		Request:     sc.request,
		Check:       sc.check,
	})
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if err := target.deadError(); err != nil {
		return res, err
	}
	lag := ""
	if sc.rate > 0 {
		lag = fmt.Sprintf("  (paced at %s; start lag p99 %s max %s)", loadgen.FormatRate(sc.rate),
			loadgen.FormatLatency(res.LagP99), loadgen.FormatLatency(res.LagMax))
	}
	b.logf("%-28s %9s req/s  p50 %-8s p90 %-8s p99 %-8s max %-8s errors %s%s",
		sc.name, loadgen.FormatRate(res.ReqPerSec), loadgen.FormatLatency(res.P50), loadgen.FormatLatency(res.P90),
		loadgen.FormatLatency(res.P99), loadgen.FormatLatency(res.Max), res.ErrorSummary(), lag)
	return res, nil
}

// preflight sends one request of sc and applies its check, so a missing endpoint is one
// clear line instead of a table full of errors.
func preflight(ctx context.Context, sc scenario) error {
	req := sc.request(0, 0).WithContext(ctx)
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	check := sc.check
	if check == nil {
		check = loadgen.ExpectStatus(http.StatusOK)
	}
	if err := check(resp, body); err != nil {
		return fmt.Errorf("GET %s: %v: %s", readableURI(req.URL), err, firstLines(string(body), 2))
	}
	return nil
}

// readableURI is the path and query with percent-escapes decoded where that is possible, so
// a Chinese search word reads as itself in the report.
func readableURI(u *url.URL) string {
	uri := u.RequestURI()
	if dec, err := url.QueryUnescape(uri); err == nil {
		return dec
	}
	return uri
}
