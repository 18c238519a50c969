package loadgen_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minimart/minimart/bench/loadgen"
)

// Every call in the window is counted, warm-up calls are not, each worker numbers its calls
// 0, 1, 2, …, and failures are counted by their text.
func TestRunFuncCountsCalls(t *testing.T) {
	const workers = 3
	var calls atomic.Int64
	var mu sync.Mutex
	next := make([]int, workers)
	var bad []string
	res := loadgen.RunFunc(context.Background(), loadgen.FuncConfig{
		Concurrency: workers,
		Warmup:      100 * time.Millisecond,
		Duration:    300 * time.Millisecond,
		Do: func(_ context.Context, w, i int) error {
			mu.Lock()
			if w < 0 || w >= workers || i != next[w] {
				bad = append(bad, fmt.Sprintf("worker %d call %d", w, i))
			} else {
				next[w]++
			}
			mu.Unlock()
			calls.Add(1)
			time.Sleep(time.Millisecond)
			if i%10 == 9 {
				return errors.New("tenth call fails")
			}
			return nil
		},
	})
	if len(bad) > 0 {
		t.Fatalf("calls out of order: %v", bad)
	}
	if res.Requests == 0 || int64(res.Requests) >= calls.Load() {
		t.Fatalf("counted %d of %d calls; want some, and fewer than all (warm-up excluded)", res.Requests, calls.Load())
	}
	if res.Elapsed < 300*time.Millisecond || res.ReqPerSec <= 0 {
		t.Errorf("elapsed %s, %.0f calls/s", res.Elapsed, res.ReqPerSec)
	}
	if res.P50 < time.Millisecond || res.P99 < res.P50 || res.Max < res.P99 {
		t.Errorf("latencies p50 %s p99 %s max %s", res.P50, res.P99, res.Max)
	}
	n := res.Errors["tenth call fails"]
	if n == 0 || n != res.ErrorCount() || n > res.Requests/5 {
		t.Errorf("errors %v of %d calls; want about a tenth, all of one kind", res.Errors, res.Requests)
	}
}

// A long error text is cut to a bounded kind; a canceled context ends the run early.
func TestRunFuncLongErrorAndCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	var once sync.Once
	res := loadgen.RunFunc(ctx, loadgen.FuncConfig{
		Concurrency: 2,
		Duration:    10 * time.Second,
		Do: func(ctx context.Context, _, i int) error {
			if i == 5 {
				once.Do(func() { time.AfterFunc(50*time.Millisecond, cancel) })
			}
			time.Sleep(time.Millisecond)
			return errors.New(strings.Repeat("界", 500))
		},
	})
	if time.Since(start) > 5*time.Second {
		t.Fatalf("cancel did not end the run (took %s)", time.Since(start))
	}
	if !res.Canceled {
		t.Error("Canceled is false")
	}
	for kind := range res.Errors {
		if len(kind) > 250 || !strings.HasSuffix(kind, "…") {
			t.Errorf("error kind of %d bytes: %.40q…", len(kind), kind)
		}
	}
}

func TestPercentileSorts(t *testing.T) {
	lat := []time.Duration{5, 1, 4, 2, 3}
	if got := loadgen.Percentile(lat, 50); got != 3 {
		t.Errorf("p50 = %d, want 3", got)
	}
	if got := loadgen.Percentile(nil, 99); got != 0 {
		t.Errorf("p99 of nothing = %d, want 0", got)
	}
}
