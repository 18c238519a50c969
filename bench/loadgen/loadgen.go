// Package loadgen is a small HTTP load generator for the benchmark runner: a fixed number of
// workers send requests back to back (closed loop) or at a fixed total rate (paced), every
// latency is kept, and the result has exact percentiles.
//
// It is meant to run in its own process against a server on loopback; it is not a timed
// test. Numbers from one machine are only comparable with numbers measured in the same run.
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config describes one measurement.
type Config struct {
	// Concurrency is the number of workers, each with at most one request in flight
	// (default 1). The HTTP transport keeps that many idle connections per host.
	Concurrency int
	// Duration is the measured window (required, > 0).
	Duration time.Duration
	// Warmup runs the same load before the window without recording it: connections are
	// opened, caches filled, the server's goroutines and the Go runtime warmed up.
	Warmup time.Duration
	// Rate, when > 0, paces request starts to Rate per second in total (spread evenly over
	// time, whichever worker is free takes the next slot) instead of running closed-loop.
	// Latency is still measured from the moment a request is sent; how late each start was
	// against its slot is measured too (Result.LagP99, LagMax). A generator that falls
	// behind (all workers busy: a server stall, or a starved CPU) shows there instead of
	// hiding it, without adding Go's ~1 ms timer granularity on an idle process to every
	// latency.
	Rate float64
	// Timeout bounds one request, including reading the body (default 10s).
	Timeout time.Duration
	// Request builds request i (0, 1, 2, … per worker) of worker w (0 ≤ w < Concurrency).
	// It is called from the worker's goroutine; a request with a body needs a fresh body
	// each call. Required.
	Request func(worker, i int) *http.Request
	// Check judges a response whose body has been read in full; a non-nil error counts the
	// request as failed, classified by the error's text. Nil: any 2xx status passes and
	// others count as "status NNN" (see ExpectStatus).
	Check func(resp *http.Response, body []byte) error
}

// Result is what one Run measured. Only requests started inside the measured window count.
type Result struct {
	// Requests is the number of requests that completed (passed or failed) in the window.
	Requests int
	// Errors counts the failed requests by kind: "status 503", a Check error's text, or a
	// transport error ("connection refused", "EOF", …). At most maxErrorKinds kinds; the rest
	// are counted under "other errors".
	Errors map[string]int
	// Elapsed is from the start of the window to its end or, if later, the end of the last
	// counted request.
	Elapsed time.Duration
	// ReqPerSec is Requests / Elapsed.
	ReqPerSec float64
	// Latency percentiles (nearest rank) and maximum over every counted request, failed
	// ones included (a slow timeout must not vanish from the tail).
	P50, P90, P99, Max time.Duration
	// LagP99 and LagMax (paced runs only) are how late request starts were against their
	// scheduled slots: the pace was held when they are small next to the latencies.
	LagP99, LagMax time.Duration
	// Canceled is true when the context ended the run before its window was over.
	Canceled bool
}

// ErrorCount is the number of failed requests.
func (r Result) ErrorCount() int {
	n := 0
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// ErrorSummary is "0", or the count followed by the kinds, most frequent first:
// "12 (status 500 ×10, EOF ×2)".
func (r Result) ErrorSummary() string {
	n := r.ErrorCount()
	if n == 0 {
		return "0"
	}
	kinds := make([]string, 0, len(r.Errors))
	for k := range r.Errors {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		if r.Errors[kinds[i]] != r.Errors[kinds[j]] {
			return r.Errors[kinds[i]] > r.Errors[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s ×%d", k, r.Errors[k])
	}
	return fmt.Sprintf("%d (%s)", n, strings.Join(parts, ", "))
}

// ExpectStatus returns a Check that passes exactly the given status and reports any other
// as "status NNN".
func ExpectStatus(code int) func(*http.Response, []byte) error {
	return func(resp *http.Response, _ []byte) error {
		if resp.StatusCode != code {
			return statusError(resp.StatusCode)
		}
		return nil
	}
}

type statusError int

func (s statusError) Error() string { return fmt.Sprintf("status %d", int(s)) }

func check2xx(resp *http.Response, _ []byte) error {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(resp.StatusCode)
	}
	return nil
}

const (
	maxErrorKinds  = 20 // distinct error kinds kept; more go under otherErrors
	otherErrors    = "other errors"
	guessRate      = 50000.0 // req/s assumed when sizing latency slices in closed-loop mode
	maxPrealloc    = 8 << 20 // latencies preallocated over all workers (64 MiB)
	defaultTimeout = 10 * time.Second
)

// worker is one goroutine's private record, merged after the run (no locks while measuring).
type worker struct {
	lat      []time.Duration
	lag      []time.Duration // paced runs: start − scheduled start
	errs     map[string]int
	lastDone time.Time
	buf      bytes.Buffer
}

// Run sends requests as cfg says until the warm-up and the window are over or ctx ends, waits
// for the requests in flight, and returns what the window measured. It panics on a Config
// without Request or Duration (a programming error in the caller).
func Run(ctx context.Context, cfg Config) Result {
	if cfg.Request == nil {
		panic("loadgen: Config.Request is nil")
	}
	if cfg.Duration <= 0 {
		panic("loadgen: Config.Duration must be > 0")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.Check == nil {
		cfg.Check = check2xx
	}

	tr := &http.Transport{
		Proxy:               nil, // loopback: never through a proxy from the environment
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.Concurrency,
		MaxIdleConnsPerHost: cfg.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		DisableKeepAlives:   false,
		ForceAttemptHTTP2:   false,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: cfg.Timeout}

	perWorker := preallocPerWorker(cfg)
	workers := make([]*worker, cfg.Concurrency)
	for w := range workers {
		workers[w] = &worker{lat: make([]time.Duration, 0, perWorker), errs: map[string]int{}}
		if cfg.Rate > 0 {
			workers[w].lag = make([]time.Duration, 0, perWorker)
		}
	}

	start := time.Now()
	measureStart := start.Add(cfg.Warmup)
	end := measureStart.Add(cfg.Duration)
	var ticket atomic.Int64 // paced mode: the next schedule slot

	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if cfg.Rate > 0 {
				workers[w].paced(ctx, w, cfg, client, start, measureStart, end, &ticket)
			} else {
				workers[w].closed(ctx, w, cfg, client, measureStart, end)
			}
		}()
	}
	wg.Wait()
	return merge(workers, measureStart, end, ctx.Err() != nil)
}

func preallocPerWorker(cfg Config) int {
	rate := guessRate
	if cfg.Rate > 0 {
		rate = cfg.Rate * 1.05
	}
	total := math.Min(rate*cfg.Duration.Seconds(), maxPrealloc)
	return int(total)/cfg.Concurrency + 64
}

// closed sends requests back to back until end.
func (wk *worker) closed(ctx context.Context, w int, cfg Config, client *http.Client, measureStart, end time.Time) {
	for i := 0; ctx.Err() == nil; i++ {
		start := time.Now()
		if !start.Before(end) {
			return
		}
		req := cfg.Request(w, i)
		t0 := time.Now()
		kind, ok := wk.do(ctx, client, cfg, req)
		done := time.Now()
		if ok && !start.Before(measureStart) {
			wk.record(done.Sub(t0), done, kind)
		}
	}
}

// paced takes schedule slots in turn: slot k starts at start + k/Rate.
func (wk *worker) paced(ctx context.Context, w int, cfg Config, client *http.Client, start, measureStart, end time.Time, ticket *atomic.Int64) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	nsPerSlot := float64(time.Second) / cfg.Rate
	for i := 0; ctx.Err() == nil; i++ {
		k := ticket.Add(1) - 1
		sched := start.Add(time.Duration(float64(k) * nsPerSlot))
		if !sched.Before(end) {
			return
		}
		if d := time.Until(sched); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		req := cfg.Request(w, i)
		t0 := time.Now()
		kind, ok := wk.do(ctx, client, cfg, req)
		done := time.Now()
		if ok && !sched.Before(measureStart) {
			wk.record(done.Sub(t0), done, kind)
			wk.lag = append(wk.lag, t0.Sub(sched))
		}
	}
}

func (wk *worker) record(lat time.Duration, done time.Time, kind string) {
	wk.lat = append(wk.lat, lat)
	if done.After(wk.lastDone) {
		wk.lastDone = done
	}
	if kind != "" {
		addError(wk.errs, kind, 1)
	}
}

// do sends one request and reads the whole body. kind is "" for a pass or the failure's
// kind; ok is false when the run's context aborted the request (not the server's fault,
// not counted).
func (wk *worker) do(ctx context.Context, client *http.Client, cfg Config, req *http.Request) (kind string, ok bool) {
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		if ctx.Err() != nil {
			return "", false
		}
		return errorKind(err), true
	}
	wk.buf.Reset()
	_, err = wk.buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		if ctx.Err() != nil {
			return "", false
		}
		return "read body: " + errorKind(err), true
	}
	if err := cfg.Check(resp, wk.buf.Bytes()); err != nil {
		return err.Error(), true
	}
	return "", true
}

// errorKind is a transport error without the URL around it (which differs per request and
// would make every failure its own kind).
func errorKind(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "timeout"
		}
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		// "dial tcp 127.0.0.1:1234: connect: connection refused" → "dial: connect: connection refused"
		return oe.Op + ": " + oe.Err.Error()
	}
	return err.Error()
}

func addError(m map[string]int, kind string, n int) {
	if _, seen := m[kind]; !seen && len(m) >= maxErrorKinds {
		kind = otherErrors
	}
	m[kind] += n
}

func merge(workers []*worker, measureStart, end time.Time, canceled bool) Result {
	total := 0
	for _, wk := range workers {
		total += len(wk.lat)
	}
	all := make([]time.Duration, 0, total)
	res := Result{Errors: map[string]int{}, Canceled: canceled}
	var lastDone time.Time
	var lags []time.Duration
	for _, wk := range workers {
		all = append(all, wk.lat...)
		lags = append(lags, wk.lag...)
		for k, n := range wk.errs {
			addError(res.Errors, k, n)
		}
		if wk.lastDone.After(lastDone) {
			lastDone = wk.lastDone
		}
	}
	res.Requests = len(all)
	if res.Requests == 0 {
		return res
	}
	if !canceled && lastDone.Before(end) {
		lastDone = end // a paced run's last request may end before the window does
	}
	res.Elapsed = lastDone.Sub(measureStart)
	if res.Elapsed > 0 {
		res.ReqPerSec = float64(res.Requests) / res.Elapsed.Seconds()
	}
	slices.Sort(all)
	res.P50 = percentile(all, 50)
	res.P90 = percentile(all, 90)
	res.P99 = percentile(all, 99)
	res.Max = all[len(all)-1]
	if len(lags) > 0 {
		slices.Sort(lags)
		res.LagP99 = percentile(lags, 99)
		res.LagMax = lags[len(lags)-1]
	}
	return res
}

// percentile is the nearest-rank percentile of sorted: the smallest value with at least p %
// of the values at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p * float64(len(sorted)) / 100)) // p·n first: exact for whole p
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}
