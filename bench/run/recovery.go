package main

// The recovery group: kill -9 a production-shaped minimart under a light order load and
// time its restart, against clean (SIGTERM) restarts measured the same way in the run.

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/minimart/minimart/bench/loadgen"
)

const (
	recoveryKills      = 20
	recoveryCleans     = 5                     // SIGTERM restarts, interleaved (every fifth cycle)
	recoveryRate       = 20.0                  // orders/s of the background load
	recoveryLoadConns  = 8                     // requests in flight at most
	recoveryMinUp      = 1 * time.Second       // a kill comes this long after the previous cycle at the earliest …
	recoveryMaxUp      = 3 * time.Second       // … and this long at the latest (uniform)
	recoveryCycleLimit = 60 * time.Second      // one restart must be ready and drained within this
	recoveryPoll       = 10 * time.Millisecond // /readyz and outbox polls
)

// restartSample is one restart's measurements.
type restartSample struct {
	clean    bool
	stopTook time.Duration // SIGTERM: from the signal to the exit; SIGKILL: to the reaped exit
	backlog  int64         // events unpublished when the process was gone
	claimed  int64         // of those, rows claimed (claimed_by set) by the dead instance
	ready    time.Duration // exec → GET /readyz 200
	drained  time.Duration // exec → ready and every event of the backlog published
}

func runRecovery(ctx context.Context, b *bench, g *groupResult) error {
	if err := recoveryOn(ctx, b, g, false); err != nil || g.skipped != "" {
		return err
	}
	return recoveryOn(ctx, b, g, true)
}

// recoveryOn runs the cycles on the production shape, or with embedded on the embedded one.
func recoveryOn(ctx context.Context, b *bench, g *groupResult, embedded bool) (err error) {
	key, label := "recovery", "MariaDB + RabbitMQ"
	if embedded {
		key, label = "recovery-embedded", "embedded SQLite"
	}
	ps, skip, err := b.startShape(ctx, key, embedded)
	defer ps.cleanup(b, g)
	if skip != "" {
		g.skip("%s", skip)
		return nil
	}
	if err != nil {
		return err
	}
	if embedded {
		g.note("Shape: embedded — minimart `serve` with SQLite in its data dir (`minimart.db`, read by the runner through its own connection), in-process bus and cache, `MINIMART_RATELIMITS=0`, `MINIMART_SCHEDULE_INTERVAL=200ms`; the same fixture, load and cycles. On SQLite a starting instance deletes every other instance's registration (one serving process per file), so a dead one's claims are free at once.")
	} else {
		g.note("Shape: production — minimart `serve` (all modules, one process) on MariaDB %s (database `%s` of its own), RabbitMQ at %s under prefix `%s` (`MINIMART_INVENTORY_QUEUE=%s.inventory_update`), cache in-process, `MINIMART_RATELIMITS=0`, `MINIMART_SCHEDULE_INTERVAL=200ms`. Fixture: the orders group's (%d products × %d SKUs, %d buyers with an address each).",
			ps.dbs.version, ps.dbs.names[0], redactedHost(b.opts.amqpURL), ps.prefix, ps.prefix, ordersProducts, ordersSKUsPerProduct, len(ps.fx.buyers))
	}

	// The light steady load, for the whole group, across the restarts.
	loadCtx, stopLoad := context.WithCancel(ctx)
	ld := startOrderTrickle(loadCtx, ps, recoveryRate, recoveryLoadConns)
	defer func() { stopLoad(); ld.wait() }()

	cur := ps.srv
	var samples []restartSample
	total := recoveryKills + recoveryCleans
	for i := range total {
		clean := i%(total/recoveryCleans) == 0
		up := recoveryMinUp + time.Duration(rand.Int64N(int64(recoveryMaxUp-recoveryMinUp)))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(up):
		}
		if err := cur.deadError(); err != nil {
			return err
		}
		var s restartSample
		s.clean = clean
		t := time.Now()
		cur.stopped = true
		if clean {
			_ = cur.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-cur.done:
			case <-time.After(stopGrace):
				return fmt.Errorf("cycle %d: minimart did not exit within %s of SIGTERM", i+1, stopGrace)
			}
		} else {
			_ = cur.cmd.Process.Kill()
			<-cur.done
		}
		s.stopTook = time.Since(t)
		// What the stopped instance left: nothing writes to the outbox until the restart.
		var maxID int64
		if err := ps.db.Read().QueryRowContext(ctx,
			"SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(SUM(claimed_by IS NOT NULL), 0) FROM outbox_events WHERE published_at IS NULL",
		).Scan(&s.backlog, &maxID, &s.claimed); err != nil {
			return fmt.Errorf("cycle %d: outbox query: %w", i+1, err)
		}

		start := time.Now()
		next, err := b.startOn(ctx, fmt.Sprintf("minimart-%s-%02d", key, i+1), ps)
		if err != nil {
			return err
		}
		cur = next
		if err := measureRestart(ctx, cur, ps, start, maxID, &s); err != nil {
			return fmt.Errorf("cycle %d (%s): %w", i+1, map[bool]string{true: "SIGTERM", false: "SIGKILL"}[clean], err)
		}
		samples = append(samples, s)
		b.logf("%s: cycle %2d %-7s stop %-7s backlog %4d (claimed %3d)  ready %-8s drained %-8s",
			label, i+1, map[bool]string{true: "SIGTERM", false: "SIGKILL"}[clean], s.stopTook.Round(time.Millisecond),
			s.backlog, s.claimed, loadgen.FormatLatency(s.ready), loadgen.FormatLatency(s.drained))
	}
	stopLoad()
	ld.wait()
	reportRecovery(g, label, samples)
	g.note("%s: %s", label, ld.summary())
	return nil
}

// measureRestart polls /readyz and the outbox from start until both are done.
func measureRestart(ctx context.Context, p *proc, ps *prodShape, start time.Time, maxID int64, s *restartSample) error {
	client := &http.Client{Timeout: readyProbe}
	deadline := start.Add(recoveryCycleLimit)
	var readyAt, drainedAt time.Time
	for readyAt.IsZero() || drainedAt.IsZero() {
		if readyAt.IsZero() {
			if req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/readyz", nil); err == nil {
				if resp, err := client.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						readyAt = time.Now()
					}
				}
			}
		}
		if drainedAt.IsZero() {
			var left int64
			if err := ps.db.Read().QueryRowContext(ctx,
				"SELECT COUNT(*) FROM outbox_events WHERE published_at IS NULL AND id <= ?", maxID).Scan(&left); err == nil && left == 0 {
				drainedAt = time.Now()
			}
		}
		if err := p.deadError(); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready and drained within %s (ready: %v, drained: %v)\n%s", recoveryCycleLimit, !readyAt.IsZero(), !drainedAt.IsZero(), p.output())
		}
		time.Sleep(recoveryPoll)
	}
	s.ready = readyAt.Sub(start)
	if drainedAt.Before(readyAt) {
		drainedAt = readyAt
	}
	s.drained = drainedAt.Sub(start)
	return nil
}

// reportRecovery adds the summary table and the per-cycle list.
func reportRecovery(g *groupResult, label string, samples []restartSample) {
	var kill, clean, killClaimed []restartSample
	for _, s := range samples {
		switch {
		case s.clean:
			clean = append(clean, s)
		default:
			kill = append(kill, s)
			if s.claimed > 0 {
				killClaimed = append(killClaimed, s)
			}
		}
	}
	stat := func(ss []restartSample, f func(restartSample) time.Duration) (p50, p99, mx time.Duration) {
		var ds []time.Duration
		for _, s := range ss {
			ds = append(ds, f(s))
		}
		return durPercentile(ds, 50), durPercentile(ds, 99), durPercentile(ds, 100)
	}
	ready := func(s restartSample) time.Duration { return s.ready }
	drained := func(s restartSample) time.Duration { return s.drained }
	var t strings.Builder
	t.WriteString(label + ": restart times (from exec of the new process), nearest-rank percentiles:\n\n")
	t.WriteString(indentLines(loadgen.MarkdownHeader("restart after", "n", "→ /readyz 200: p50", "p99", "max", "→ backlog published: p50", "p99", "max", "backlog at stop: median, max")) + "\n")
	var kr50, kd50, cr50, cd50 time.Duration
	for _, c := range []struct {
		name string
		ss   []restartSample
	}{{"SIGKILL (kill -9)", kill}, {"SIGTERM (clean, baseline)", clean}, {"of the SIGKILLs: those whose instance held claims", killClaimed}} {
		if len(c.ss) == 0 {
			t.WriteString("  " + loadgen.MarkdownRow(c.name, "0", "—", "—", "—", "—", "—", "—", "—") + "\n")
			continue
		}
		r50, r99, rmax := stat(c.ss, ready)
		d50, d99, dmax := stat(c.ss, drained)
		var bl []time.Duration
		for _, s := range c.ss {
			bl = append(bl, time.Duration(s.backlog))
		}
		t.WriteString("  " + loadgen.MarkdownRow(c.name, fmt.Sprint(len(c.ss)),
			loadgen.FormatLatency(r50), loadgen.FormatLatency(r99), loadgen.FormatLatency(rmax),
			loadgen.FormatLatency(d50), loadgen.FormatLatency(d99), loadgen.FormatLatency(dmax),
			fmt.Sprintf("%d, %d", int64(durPercentile(bl, 50)), int64(durPercentile(bl, 100)))) + "\n")
		switch {
		case c.ss[0].clean:
			cr50, cd50 = r50, d50
		case kr50 == 0:
			kr50, kd50 = r50, d50
		}
	}
	g.note("%s", strings.TrimRight(t.String(), "\n"))
	ratio := func(a, b time.Duration) string {
		if b <= 0 {
			return "—"
		}
		return fmt.Sprintf("%.2f", float64(a)/float64(b))
	}
	g.note("%s: ratio kill -9 / clean restart at p50: to /readyz %s, to the backlog published %s.", label, ratio(kr50, cr50), ratio(kd50, cd50))
	var per []string
	for i, s := range samples {
		sig := "KILL"
		if s.clean {
			sig = "TERM"
		}
		per = append(per, fmt.Sprintf("%d %s: backlog %d (claimed %d), ready %s, drained %s", i+1, sig, s.backlog, s.claimed,
			loadgen.FormatLatency(s.ready), loadgen.FormatLatency(s.drained)))
	}
	g.note("%s, per cycle: %s.", label, strings.Join(per, "; "))
	if label != "MariaDB + RabbitMQ" {
		return // the method is said once
	}
	g.note("Method: %d cycles; every %dth is a clean stop (SIGTERM, up to %s grace), the others SIGKILL; each comes %s–%s (uniform random) after the previous restart was ready and drained. Once the old process is reaped the runner reads the backlog the instance left (`published_at IS NULL` in `outbox_events`, with how many rows it had claimed), execs `minimart serve` on the same data dir, database and address, and polls every %s: GET /readyz, and `SELECT COUNT(*) FROM outbox_events WHERE published_at IS NULL AND id <= <max id of the backlog>`. \"Backlog published\" is the later of /readyz 200 and that count reaching 0 — every claim the dead instance held was taken back and its events published (new events from the ongoing load are not waited for). An instance that stops cleanly deregisters and frees its claims; a killed one is declared dead only when its heartbeat is stale (liveness: a beat per second, dead after five missed).",
		recoveryKills+recoveryCleans, (recoveryKills+recoveryCleans)/recoveryCleans, stopGrace, recoveryMinUp, recoveryMaxUp, recoveryPoll)
}

// ---- the background order load ----

type orderTrickle struct {
	wg                  sync.WaitGroup
	ok, failed, dropped atomic.Int64
	mu                  sync.Mutex
	errs                map[string]int
	lat                 []time.Duration
	rate                float64
	start               time.Time
	elapsed             time.Duration
}

// startOrderTrickle sends orders at rate/s with at most conns in flight (a slot with none
// free is dropped and counted), until ctx ends.
func startOrderTrickle(ctx context.Context, ps *prodShape, rate float64, conns int) *orderTrickle {
	t := &orderTrickle{errs: map[string]int{}, rate: rate, start: time.Now()}
	client := &http.Client{Timeout: 5 * time.Second}
	sem := make(chan int, conns)
	for w := range conns {
		sem <- w
	}
	var n atomic.Int64
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				t.elapsed = time.Since(t.start)
				return
			case <-tick.C:
			}
			var w int
			select {
			case w = <-sem:
			default:
				t.dropped.Add(1)
				continue
			}
			i := int(n.Add(1))
			t.wg.Add(1)
			go func() {
				defer t.wg.Done()
				defer func() { sem <- w }()
				req := ps.fx.orderRequest(ps.srv.base, "r", w, i, ps.fx.skus[i%len(ps.fx.skus)]).WithContext(ctx)
				t0 := time.Now()
				resp, err := client.Do(req)
				kind := ""
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					kind = "transport error"
					if strings.Contains(err.Error(), "connection refused") {
						kind = "connection refused"
					} else if strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "reset") {
						kind = "connection closed (EOF/reset)"
					}
				} else {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if e := expectCreated(resp, body); e != nil {
						kind = e.Error()
					}
				}
				t.mu.Lock()
				defer t.mu.Unlock()
				if kind == "" {
					t.ok.Add(1)
					t.lat = append(t.lat, time.Since(t0))
				} else {
					t.failed.Add(1)
					t.errs[kind]++
				}
			}()
		}
	}()
	return t
}

func (t *orderTrickle) wait() { t.wg.Wait() }

func (t *orderTrickle) summary() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var kinds []string
	for k, v := range t.errs {
		kinds = append(kinds, fmt.Sprintf("%s ×%d", k, v))
	}
	errs := "none"
	if len(kinds) > 0 {
		errs = strings.Join(kinds, ", ")
	}
	return fmt.Sprintf("background load: orders paced at %.0f/s (at most %d in flight, 5 s timeout) for %s across all restarts: %d created (201; p50 %s, p99 %s), %d failed (%s), %d slots dropped with all connections busy. Failures are expected while no process listens (connection refused) or when one dies mid-request (EOF/reset).",
		t.rate, recoveryLoadConns, t.elapsed.Round(time.Second), t.ok.Load(), loadgen.FormatLatency(durPercentile(t.lat, 50)),
		loadgen.FormatLatency(durPercentile(t.lat, 99)), t.failed.Load(), errs, t.dropped.Load())
}
