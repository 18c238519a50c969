package main

// Interleaved pairs: the monolith's scenario and the split's, measured in alternating slices
// (A B B A A B B A …), so load from elsewhere on a shared machine falls on both alike, and
// each side pooled into one row.

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/minimart/minimart/bench/loadgen"
)

// sampler keeps the latency of every answered request of a scenario that started at or
// after from, per worker (a worker builds its request and checks its answer on its own
// goroutine, so no locks), so that slices measured apart can be pooled with exact
// percentiles. Transport errors never reach the check: their latencies are not kept.
type sampler struct {
	from time.Time
	sent []time.Time
	lat  [][]time.Duration
}

func newSampler(workers int) *sampler {
	return &sampler{sent: make([]time.Time, workers), lat: make([][]time.Duration, workers)}
}

// wrap returns sc with its requests stamped (worker number in workerHeader, start time
// kept) and its check recording the latency before judging the answer.
func (s *sampler) wrap(sc scenario) scenario {
	inner, check := sc.request, sc.check
	if check == nil {
		check = loadgen.ExpectStatus(http.StatusOK)
	}
	sc.request = func(w, i int) *http.Request {
		req := inner(w, i)
		req.Header.Set(workerHeader, strconv.Itoa(w))
		s.sent[w] = time.Now()
		return req
	}
	sc.check = func(resp *http.Response, body []byte) error {
		now := time.Now()
		if w, err := strconv.Atoi(resp.Request.Header.Get(workerHeader)); err == nil && w >= 0 && w < len(s.sent) {
			if !s.sent[w].Before(s.from) {
				s.lat[w] = append(s.lat[w], now.Sub(s.sent[w]))
			}
		}
		return check(resp, body)
	}
	return sc
}

// samples are every latency kept so far, in no order.
func (s *sampler) samples() []time.Duration {
	var all []time.Duration
	for _, l := range s.lat {
		all = append(all, l...)
	}
	return all
}

// pooled adds up slices of one side.
type pooled struct {
	requests int
	elapsed  time.Duration
	errors   map[string]int
	slices   int
}

func (p *pooled) add(r loadgen.Result) {
	p.requests += r.Requests
	p.elapsed += r.Elapsed
	p.slices++
	if p.errors == nil {
		p.errors = map[string]int{}
	}
	for k, n := range r.Errors {
		p.errors[k] += n
	}
}

// result is the pooled row: requests over the summed windows, percentiles over every kept
// latency.
func (p *pooled) result(samples []time.Duration) loadgen.Result {
	res := loadgen.Result{Requests: p.requests, Elapsed: p.elapsed, Errors: p.errors}
	if p.elapsed > 0 {
		res.ReqPerSec = float64(p.requests) / p.elapsed.Seconds()
	}
	if len(samples) > 0 {
		res.P50 = loadgen.Percentile(samples, 50) // sorts samples
		res.P90 = loadgen.Percentile(samples, 90)
		res.P99 = loadgen.Percentile(samples, 99)
		res.Max = samples[len(samples)-1]
	}
	return res
}

// sliceOrder is which side (0 or 1) runs at each step of n slices per side: A B B A A B …,
// so a steady drift of the machine's load weighs on both sides alike.
func sliceOrder(n int) []int {
	order := make([]int, 0, 2*n)
	for k := range n {
		if k%2 == 0 {
			order = append(order, 0, 1)
		} else {
			order = append(order, 1, 0)
		}
	}
	return order
}

// splitPair measures the monolith's side and the split's in alternating slices (the run's
// warm-up and duration divided among b.opts.splitSlices slices per side), adds both rows
// (the split's ratio over the monolith's) and returns them. A side whose first request
// fails is not run and neither is the other: both rows say why, and the results are nil.
func (b *bench) splitPair(ctx context.Context, g *groupResult, mono, split splitSide, conns int) (*loadgen.Result, *loadgen.Result, error) {
	sides := []splitSide{mono, split}
	for i, side := range sides {
		if err := preflight(ctx, side.sc); err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			if dead := side.alive(); dead != nil {
				return nil, nil, dead
			}
			b.logf("%s: not run: %v", side.sc.name, err)
			rows := []row{{name: mono.sc.name}, {name: split.sc.name}}
			rows[i].notRun = err.Error()
			rows[1-i].notRun = "not run either: its pair failed its first request"
			g.rows = append(g.rows, rows...)
			return nil, nil, nil
		}
	}
	n := max(1, b.opts.splitSlices)
	sliceDur := b.opts.duration / time.Duration(n)
	warm := b.opts.warmup / time.Duration(n)
	samplers := []*sampler{newSampler(conns), newSampler(conns)}
	scs := []scenario{samplers[0].wrap(mono.sc), samplers[1].wrap(split.sc)}
	acc := make([]pooled, 2)
	for _, i := range sliceOrder(n) {
		if err := sides[i].alive(); err != nil {
			return nil, nil, err
		}
		samplers[i].from = time.Now().Add(warm) // no worker runs now: safe to set
		r := loadgen.Run(ctx, loadgen.Config{
			Concurrency: conns,
			Duration:    sliceDur,
			Warmup:      warm,
			Request:     scs[i].request,
			Check:       scs[i].check,
		})
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		if err := sides[i].alive(); err != nil {
			return nil, nil, err
		}
		acc[i].add(r)
	}
	res := make([]loadgen.Result, 2)
	for i := range sides {
		res[i] = acc[i].result(samplers[i].samples())
		b.logf("%-28s %9s req/s  p50 %-8s p90 %-8s p99 %-8s max %-8s errors %s  (%d slices of %s)",
			sides[i].sc.name, loadgen.FormatRate(res[i].ReqPerSec), loadgen.FormatLatency(res[i].P50), loadgen.FormatLatency(res[i].P90),
			loadgen.FormatLatency(res[i].P99), loadgen.FormatLatency(res[i].Max), res[i].ErrorSummary(), n, sliceDur)
	}
	g.rows = append(g.rows,
		row{name: mono.sc.name, res: &res[0], ratio: "1"},
		row{name: split.sc.name, res: &res[1], ratio: ratioOf(res[1].ReqPerSec, res[0].ReqPerSec)})
	return &res[0], &res[1], nil
}

// sliceNote says how the pairs were interleaved.
func (b *bench) sliceNote() string {
	n := max(1, b.opts.splitSlices)
	if n == 1 {
		return fmt.Sprintf("Each pair: the monolith's row (%s warm-up, %s measured), then the split's.", b.opts.warmup, b.opts.duration)
	}
	return fmt.Sprintf("Each loadgen pair is interleaved: %d slices per side in the order A B B A A B B A… (A the monolith), each slice %s of warm-up (new connections) and %s measured, so load from elsewhere on the machine falls on both sides alike; a row pools its slices: requests over the summed windows, exact percentiles over every answered request of its slices.",
		n, b.opts.warmup/time.Duration(n), b.opts.duration/time.Duration(n))
}
