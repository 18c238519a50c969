package loadgen

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// FuncConfig describes one closed-loop measurement of a Go function instead of HTTP
// requests: the runner's baseline of raw database writes, say.
type FuncConfig struct {
	// Concurrency is the number of goroutines calling Do back to back (default 1).
	Concurrency int
	// Duration is the measured window (required, > 0).
	Duration time.Duration
	// Warmup runs the same calls before the window without recording them.
	Warmup time.Duration
	// Do is call i (0, 1, 2, … per worker) of worker w; a non-nil error counts it as failed,
	// classified by the error's text. Required.
	Do func(ctx context.Context, worker, i int) error
}

// maxFuncErrorKind bounds an error's text used as its kind.
const maxFuncErrorKind = 200

// RunFunc calls cfg.Do as cfg says until the warm-up and the window are over or ctx ends,
// and returns what the window measured, as Run does for requests: a call counts when it
// started inside the window, its latency is from its start to its return. A call that
// returns after ctx ended is not counted. It panics on a FuncConfig without Do or Duration.
func RunFunc(ctx context.Context, cfg FuncConfig) Result {
	if cfg.Do == nil {
		panic("loadgen: FuncConfig.Do is nil")
	}
	if cfg.Duration <= 0 {
		panic("loadgen: FuncConfig.Duration must be > 0")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	perWorker := preallocPerWorker(Config{Concurrency: cfg.Concurrency, Duration: cfg.Duration})
	workers := make([]*worker, cfg.Concurrency)
	for w := range workers {
		workers[w] = &worker{lat: make([]time.Duration, 0, perWorker), errs: map[string]int{}}
	}
	measureStart := time.Now().Add(cfg.Warmup)
	end := measureStart.Add(cfg.Duration)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk := workers[w]
			for i := 0; ctx.Err() == nil; i++ {
				start := time.Now()
				if !start.Before(end) {
					return
				}
				err := cfg.Do(ctx, w, i)
				done := time.Now()
				if ctx.Err() != nil {
					return
				}
				if start.Before(measureStart) {
					continue
				}
				kind := ""
				if err != nil {
					kind = funcErrorKind(err)
				}
				wk.record(done.Sub(start), done, kind)
			}
		}()
	}
	wg.Wait()
	return merge(workers, measureStart, end, ctx.Err() != nil)
}

func funcErrorKind(err error) string {
	s := err.Error()
	if s == "" {
		return "error"
	}
	if len(s) > maxFuncErrorKind {
		s = strings.ToValidUTF8(s[:maxFuncErrorKind], "") + "…"
	}
	return s
}

// Percentile is the nearest-rank percentile p (0–100) of latencies, which it sorts in
// place: the smallest value with at least p % of the values at or below it; 0 when empty.
func Percentile(latencies []time.Duration, p float64) time.Duration {
	slices.Sort(latencies)
	return percentile(latencies, p)
}
