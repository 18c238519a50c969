package main

// The soak group: a production-shaped minimart at half its measured order capacity for
// --soak-duration, sampled every soakWindow.

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/minimart/minimart/bench/loadgen"
)

const (
	soakWindow        = 10 * time.Second
	soakFlatFrom      = 2 * time.Minute // flatness is judged from this sample on
	soakFlatResources = 0.10            // |trend| over the span, relative to the mean: RSS, goroutines, fds, connections
	soakFlatP99       = 0.25            // the same for p99 (a 10-s window's p99 is noisier)
)

// soakSample is the state after one window.
type soakSample struct {
	window     int           // 1, 2, …
	at         time.Duration // end of the window, from the start of the soak
	rss        float64       // bytes, VmRSS
	goroutines float64
	fds        float64
	dbConns    float64 // MariaDB connections on minimart's database (server side), -1 unknown
	res        loadgen.Result
}

func runSoak(ctx context.Context, b *bench, g *groupResult) error {
	ps, skip, err := b.startProdShape(ctx, "soak")
	defer ps.cleanup(b, g)
	if skip != "" {
		g.skip("%s", skip)
		return nil
	}
	if err != nil {
		return err
	}
	// The runner's own connections must not count as minimart's.
	ps.db.Close()
	ps.db = nil
	g.note("Shape: production — minimart `serve` (all modules, one process) on MariaDB %s (database `%s` of its own), RabbitMQ at %s under prefix `%s`, cache in-process, `MINIMART_RATELIMITS=0`, `MINIMART_SCHEDULE_INTERVAL=200ms`. Fixture: the orders group's (%d products × %d SKUs, stock %s each, %d buyers).",
		ps.dbs.version, ps.dbs.names[0], redactedHost(b.opts.amqpURL), ps.prefix, ordersProducts, ordersSKUsPerProduct, withCommas(ordersSpreadStock), len(ps.fx.buyers))

	capName := "order capacity (closed loop, spread SKUs)"
	capRes, err := b.load(ctx, ps.srv, ps.fx.spreadScenario(ps.srv.base, capName))
	if err != nil {
		return err
	}
	g.rows = append(g.rows, row{name: capName, res: &capRes, ratio: "—"})
	if capRes.ReqPerSec <= 0 {
		g.fail("capacity measured no throughput")
		return nil
	}
	rate := capRes.ReqPerSec / 2

	var skuN atomic.Int64
	first, err := sampleSoak(ctx, ps)
	if err != nil {
		return err
	}
	b.logf("soak: %s at %s orders/s; before: RSS %.1f MiB, goroutines %.0f, fds %.0f, db conns %.0f",
		b.opts.soakDuration, loadgen.FormatRate(rate), first.rss/(1<<20), first.goroutines, first.fds, first.dbConns)
	var samples []soakSample
	var all loadgen.Result
	all.Errors = map[string]int{}
	start := time.Now()
	for k := 0; time.Duration(k+1)*soakWindow <= b.opts.soakDuration; k++ {
		tag := fmt.Sprintf("k%d", k)
		res := loadgen.Run(ctx, loadgen.Config{
			Concurrency: b.opts.concurrency,
			Duration:    soakWindow,
			Rate:        rate,
			Request: func(w, i int) *http.Request {
				return ps.fx.orderRequest(ps.srv.base, tag, w, i, ps.fx.skus[(skuN.Add(1)-1)%int64(len(ps.fx.skus))])
			},
			Check: expectCreated,
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := ps.srv.deadError(); err != nil {
			return err
		}
		s, err := sampleSoak(ctx, ps)
		if err != nil {
			return err
		}
		s.at = time.Since(start)
		s.window = k + 1
		s.res = res
		samples = append(samples, s)
		all.Requests += res.Requests
		for k, v := range res.Errors {
			all.Errors[k] += v
		}
		all.Max = max(all.Max, res.Max)
		b.logf("soak %6s  %7s orders/s  p99 %-8s errors %-10s RSS %6.1f MiB  goroutines %4.0f  fds %4.0f  db conns %3.0f",
			s.at.Round(time.Second), loadgen.FormatRate(res.ReqPerSec), loadgen.FormatLatency(res.P99), res.ErrorSummary(),
			s.rss/(1<<20), s.goroutines, s.fds, s.dbConns)
	}
	all.Elapsed = time.Since(start)
	if all.Elapsed > 0 {
		all.ReqPerSec = float64(all.Requests) / all.Elapsed.Seconds()
	}
	name := fmt.Sprintf("soak: paced at %s orders/s for %s", loadgen.FormatRate(rate), b.opts.soakDuration)
	g.rows = append(g.rows, row{name: name, res: &all, ratio: "—", noLatency: true})
	reportSoak(g, b.opts.concurrency, rate, capRes, first, samples)
	return nil
}

// sampleSoak reads the process's RSS, its /metrics (operator listener) and the database's
// connection count.
func sampleSoak(ctx context.Context, ps *prodShape) (soakSample, error) {
	s := soakSample{dbConns: -1}
	rss, err := vmRSS(ps.srv.cmd.Process.Pid)
	if err != nil {
		return s, err
	}
	s.rss = float64(rss)
	client := &http.Client{Timeout: 5 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ps.srv.ops+"/metrics", nil)
	if err != nil {
		return s, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return s, fmt.Errorf("GET /metrics: %w", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var ok1, ok2 bool
	s.goroutines, ok1 = metricValue(string(body), "go_goroutines")
	s.fds, ok2 = metricValue(string(body), "process_open_fds")
	if !ok1 || !ok2 {
		return s, fmt.Errorf("GET /metrics: no go_goroutines or process_open_fds")
	}
	var n int64
	if err := ps.dbs.admin.Read().QueryRowContext(ctx,
		"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = ?", ps.dbs.names[0]).Scan(&n); err == nil {
		s.dbConns = float64(n)
	}
	return s, nil
}

// soakVerdict is one metric's flatness from soakFlatFrom on.
type soakVerdict struct {
	trend, lastFirst float64
	ok, flat         bool
}

func flatness(samples []soakSample, f func(soakSample) float64, threshold float64) soakVerdict {
	var xs, ys []float64
	for _, s := range samples {
		if time.Duration(s.window)*soakWindow >= soakFlatFrom { // from the window ending at about 2:00
			xs = append(xs, s.at.Minutes())
			ys = append(ys, f(s))
		}
	}
	var v soakVerdict
	v.trend, v.ok = trendChange(xs, ys)
	if v.ok && ys[0] != 0 {
		v.lastFirst = ys[len(ys)-1] / ys[0]
	}
	v.flat = v.ok && math.Abs(v.trend) <= threshold
	return v
}

func reportSoak(g *groupResult, conns int, rate float64, capRes loadgen.Result, first soakSample, samples []soakSample) {
	g.note("Capacity: %s orders/s measured closed-loop (the row above); the soak paces order starts at half of it, %s/s, in consecutive %s windows with the same %d connections, sampling after each window: VmRSS from /proc/<pid>/status, `go_goroutines` and `process_open_fds` from minimart's /metrics, and the MariaDB connections open on minimart's database (`information_schema.PROCESSLIST`). The soak row counts every order and error of all windows (its latency is per window, in the table below; the median of the window p99s was %s).",
		loadgen.FormatRate(capRes.ReqPerSec), loadgen.FormatRate(rate), soakWindow, conns, loadgen.FormatLatency(medianP99(samples)))
	if len(samples) == 0 {
		g.fail("no window completed")
		return
	}
	var t strings.Builder
	t.WriteString("Samples at each whole minute (before: RSS " + fmt.Sprintf("%.1f MiB, goroutines %.0f, fds %.0f, db conns %.0f", first.rss/(1<<20), first.goroutines, first.fds, first.dbConns) + "):\n\n")
	t.WriteString(indentLines(loadgen.MarkdownHeader("minute (sampled at)", "orders/s (window)", "p99 (window)", "errors (window)", "RSS MiB", "goroutines", "open fds", "db conns")) + "\n")
	perMinute := int(time.Minute / soakWindow)
	for _, s := range samples {
		if s.window%perMinute != 0 {
			continue
		}
		t.WriteString("  " + loadgen.MarkdownRow(fmt.Sprintf("%d (%s)", s.window/perMinute, s.at.Round(time.Second)), loadgen.FormatRate(s.res.ReqPerSec),
			loadgen.FormatLatency(s.res.P99), s.res.ErrorSummary(), fmt.Sprintf("%.1f", s.rss/(1<<20)),
			fmt.Sprintf("%.0f", s.goroutines), fmt.Sprintf("%.0f", s.fds), fmt.Sprintf("%.0f", s.dbConns)) + "\n")
	}
	g.note("%s", strings.TrimRight(t.String(), "\n"))

	var parts []string
	allFlat := true
	for _, m := range []struct {
		name      string
		f         func(soakSample) float64
		threshold float64
	}{
		{"RSS", func(s soakSample) float64 { return s.rss }, soakFlatResources},
		{"goroutines", func(s soakSample) float64 { return s.goroutines }, soakFlatResources},
		{"open fds", func(s soakSample) float64 { return s.fds }, soakFlatResources},
		{"db conns", func(s soakSample) float64 { return s.dbConns }, soakFlatResources},
		{"p99", func(s soakSample) float64 { return float64(s.res.P99) }, soakFlatP99},
	} {
		v := flatness(samples, m.f, m.threshold)
		if !v.ok {
			parts = append(parts, m.name+": not enough samples")
			allFlat = false
			continue
		}
		verdict := "flat"
		if !v.flat {
			verdict = "**not flat**"
			allFlat = false
		}
		parts = append(parts, fmt.Sprintf("%s %s (trend %+.1f%%, last/first %.2f; threshold ±%.0f%%)", m.name, verdict, 100*v.trend, v.lastFirst, 100*m.threshold))
	}
	last := samples[len(samples)-1].at
	head := "Flat from minute 2 to the end"
	if !allFlat {
		head = "Not all flat from minute 2 to the end"
	}
	g.note("%s (%s): %s. Trend = the least-squares line's change over that span relative to the mean of the samples (every %s window from 2:00 on); flat when |trend| ≤ the threshold.",
		head, last.Round(time.Second), strings.Join(parts, "; "), soakWindow)
	var per []string
	for _, s := range samples {
		per = append(per, fmt.Sprintf("%s %.1f MiB/%.0f g/%.0f fd/%.0f db/p99 %s", s.at.Round(time.Second), s.rss/(1<<20), s.goroutines, s.fds, s.dbConns, loadgen.FormatLatency(s.res.P99)))
	}
	g.note("Every sample: %s.", strings.Join(per, "; "))
}

// medianP99 is the median of the windows' p99s.
func medianP99(samples []soakSample) time.Duration {
	var ds []time.Duration
	for _, s := range samples {
		ds = append(ds, s.res.P99)
	}
	return durPercentile(ds, 50)
}
