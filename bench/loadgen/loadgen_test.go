package loadgen_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minimart/minimart/bench/loadgen"
)

func get(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// Every request the server saw is counted once, each worker numbers its requests 0, 1, 2, …,
// connections are reused, and the rate is the count over the window.
func TestRunCountsEveryRequest(t *testing.T) {
	var hits atomic.Int64
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	const workers = 4
	var mu sync.Mutex
	next := make([]int, workers) // the i each worker should ask for next
	var bad []string
	res := loadgen.Run(context.Background(), loadgen.Config{
		Concurrency: workers,
		Duration:    300 * time.Millisecond,
		Request: func(w, i int) *http.Request {
			mu.Lock()
			if w < 0 || w >= workers || i != next[w] {
				bad = append(bad, fmt.Sprintf("worker %d request %d", w, i))
			} else {
				next[w]++
			}
			mu.Unlock()
			return get(t, srv.URL+"/x")
		},
	})

	if len(bad) > 0 {
		t.Errorf("unexpected (worker, i) pairs: %v", bad)
	}
	if res.Requests == 0 || int64(res.Requests) != hits.Load() {
		t.Errorf("Requests = %d, server saw %d (no warm-up: want equal and > 0)", res.Requests, hits.Load())
	}
	called := 0
	for _, n := range next {
		called += n
	}
	if called != res.Requests {
		t.Errorf("Request called %d times, Requests = %d", called, res.Requests)
	}
	if res.ErrorCount() != 0 {
		t.Errorf("errors = %v, want none", res.Errors)
	}
	// The transport may dial a spare connection while another frees up, so allow some
	// slack; without keep-alive every one of the requests would be a new connection.
	if c := conns.Load(); c > 2*workers {
		t.Errorf("%d connections opened for %d workers and %d requests: keep-alive not reused", c, workers, res.Requests)
	}
	if res.Elapsed < 300*time.Millisecond || res.Elapsed > 2*time.Second {
		t.Errorf("Elapsed = %s, want about the 300ms window", res.Elapsed)
	}
	if want := float64(res.Requests) / res.Elapsed.Seconds(); res.ReqPerSec != want {
		t.Errorf("ReqPerSec = %f, want Requests/Elapsed = %f", res.ReqPerSec, want)
	}
	if !(res.P50 > 0 && res.P50 <= res.P90 && res.P90 <= res.P99 && res.P99 <= res.Max) {
		t.Errorf("percentiles out of order: p50 %s p90 %s p99 %s max %s", res.P50, res.P90, res.P99, res.Max)
	}
}

// Requests sent during the warm-up reach the server but are not counted.
func TestRunWarmupNotCounted(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		time.Sleep(time.Millisecond)
	}))
	defer srv.Close()

	res := loadgen.Run(context.Background(), loadgen.Config{
		Concurrency: 2,
		Warmup:      300 * time.Millisecond,
		Duration:    200 * time.Millisecond,
		Request:     func(int, int) *http.Request { return get(t, srv.URL) },
	})
	if res.Requests == 0 {
		t.Fatal("no requests counted")
	}
	// About 60 % of the requests fell in the warm-up; ask for a clear margin only.
	if int64(res.Requests) >= hits.Load()*9/10 {
		t.Errorf("Requests = %d of %d the server saw: the warm-up was counted", res.Requests, hits.Load())
	}
	if res.Elapsed < 200*time.Millisecond || res.Elapsed > 2*time.Second {
		t.Errorf("Elapsed = %s, want about the 200ms window (not the warm-up)", res.Elapsed)
	}
}

// Failures are classified by status, by the Check's error and by transport error, and each
// failed request is counted exactly once.
func TestRunClassifiesErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fail":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/badbody":
			fmt.Fprint(w, "not json")
		default:
			fmt.Fprint(w, "{}")
		}
	}))
	defer srv.Close()

	// A port nobody listens on: take one and close it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + ln.Addr().String() + "/"
	ln.Close()

	var sent [4]atomic.Int64 // ok, fail, badbody, dead
	res := loadgen.Run(context.Background(), loadgen.Config{
		Concurrency: 3,
		Duration:    300 * time.Millisecond,
		Request: func(w, i int) *http.Request {
			kind := (w + i) % 4
			sent[kind].Add(1)
			switch kind {
			case 1:
				return get(t, srv.URL+"/fail")
			case 2:
				return get(t, srv.URL+"/badbody")
			case 3:
				return get(t, deadURL)
			}
			return get(t, srv.URL+"/ok")
		},
		Check: func(resp *http.Response, body []byte) error {
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			if string(body) != "{}" {
				return errors.New("body is not {}")
			}
			return nil
		},
	})

	if res.Requests != int(sent[0].Load()+sent[1].Load()+sent[2].Load()+sent[3].Load()) {
		t.Errorf("Requests = %d, sent %d", res.Requests, sent[0].Load()+sent[1].Load()+sent[2].Load()+sent[3].Load())
	}
	if got, want := res.Errors["status 500"], int(sent[1].Load()); got != want || want == 0 {
		t.Errorf(`Errors["status 500"] = %d, want %d (> 0)`, got, want)
	}
	if got, want := res.Errors["body is not {}"], int(sent[2].Load()); got != want || want == 0 {
		t.Errorf(`Errors["body is not {}"] = %d, want %d (> 0)`, got, want)
	}
	refused := 0
	for k, n := range res.Errors {
		if strings.Contains(k, "connection refused") {
			refused += n
			if strings.Contains(k, "127.0.0.1") || strings.Contains(k, "http://") {
				t.Errorf("transport error kind %q carries the address: every port would be its own kind", k)
			}
		}
	}
	if want := int(sent[3].Load()); refused != want || want == 0 {
		t.Errorf("connection refused errors = %d, want %d (> 0); errors: %v", refused, want, res.Errors)
	}
	if got, want := res.ErrorCount(), int(sent[1].Load()+sent[2].Load()+sent[3].Load()); got != want {
		t.Errorf("ErrorCount = %d, want %d", got, want)
	}
	if s := res.ErrorSummary(); !strings.HasPrefix(s, fmt.Sprint(res.ErrorCount())+" (") || !strings.Contains(s, "status 500 ×") {
		t.Errorf("ErrorSummary = %q", s)
	}
}

// Without a Check, 2xx passes and anything else is "status NNN".
func TestRunDefaultCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	var missing atomic.Int64
	res := loadgen.Run(context.Background(), loadgen.Config{
		Concurrency: 2,
		Duration:    200 * time.Millisecond,
		Request: func(w, i int) *http.Request {
			if i%2 == 0 {
				missing.Add(1)
				return get(t, srv.URL+"/missing")
			}
			return get(t, srv.URL+"/here")
		},
	})
	if got, want := res.Errors["status 404"], int(missing.Load()); got != want || want == 0 {
		t.Errorf(`Errors["status 404"] = %d, want %d (> 0); all: %v`, got, want, res.Errors)
	}
	if len(res.Errors) != 1 {
		t.Errorf("errors = %v, want only status 404 (204 passes)", res.Errors)
	}
	if res.ErrorCount() >= res.Requests {
		t.Errorf("every request failed: %v of %d", res.Errors, res.Requests)
	}
}

// On a server with a known delay, every percentile is at least that delay, and one slow
// request in ten puts p99 and max above the slow delay while p50 stays below it.
func TestRunPercentilesWithKnownDelay(t *testing.T) {
	const fast, slow = 5 * time.Millisecond, 60 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(slow)
		} else {
			time.Sleep(fast)
		}
	}))
	defer srv.Close()

	const workers = 4
	res := loadgen.Run(context.Background(), loadgen.Config{
		Concurrency: workers,
		Duration:    time.Second,
		Request: func(w, i int) *http.Request {
			if i%10 == 9 {
				return get(t, srv.URL+"/slow")
			}
			return get(t, srv.URL+"/fast")
		},
	})
	if res.ErrorCount() != 0 || res.Requests < 20 {
		t.Fatalf("requests %d, errors %v", res.Requests, res.Errors)
	}
	if res.P50 < fast || res.P50 >= slow {
		t.Errorf("p50 = %s, want in [%s, %s)", res.P50, fast, slow)
	}
	if res.P99 < slow || res.Max < res.P99 {
		t.Errorf("p99 = %s, max = %s; want p99 ≥ %s and max ≥ p99", res.P99, res.Max, slow)
	}
	// Each worker needs at least 9·fast + slow per ten requests: an upper bound on the rate
	// that no scheduling noise can beat.
	ceiling := float64(workers) * 10 / (9*fast + slow).Seconds()
	if res.ReqPerSec > ceiling*1.02 || res.ReqPerSec < ceiling/5 {
		t.Errorf("ReqPerSec = %.0f, want ≤ %.0f (and not far below)", res.ReqPerSec, ceiling)
	}
}

// A paced run starts exactly Rate·Duration requests in the window, whatever the warm-up,
// and reports about Rate requests per second.
func TestRunPaced(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
	}))
	defer srv.Close()

	res := loadgen.Run(context.Background(), loadgen.Config{
		Concurrency: 4,
		Rate:        200,
		Warmup:      100 * time.Millisecond,
		Duration:    500 * time.Millisecond,
		Request:     func(int, int) *http.Request { return get(t, srv.URL) },
	})
	if res.Requests != 100 {
		t.Errorf("Requests = %d, want 200/s × 0.5 s = 100", res.Requests)
	}
	if h := hits.Load(); h != 120 {
		t.Errorf("server saw %d requests, want 120 (20 in the 100ms warm-up)", h)
	}
	// 100 requests over the 500ms window (or longer, if the last one ended after it).
	if res.ReqPerSec < 100 || res.ReqPerSec > 200.001 {
		t.Errorf("ReqPerSec = %.1f, want about 200", res.ReqPerSec)
	}
	if res.LagMax <= 0 || res.LagP99 > res.LagMax {
		t.Errorf("lag p99 %s max %s: want measured (> 0) and ordered", res.LagP99, res.LagMax)
	}
}

// A paced run whose server is slower than the pace serves every slot late: the lag behind
// the schedule grows while each request's own latency stays the server's delay.
func TestRunPacedReportsLag(t *testing.T) {
	const delay = 20 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
	}))
	defer srv.Close()

	// One worker can do at most 50 req/s; ask for 200.
	res := loadgen.Run(context.Background(), loadgen.Config{
		Concurrency: 1,
		Rate:        200,
		Duration:    300 * time.Millisecond,
		Request:     func(int, int) *http.Request { return get(t, srv.URL) },
	})
	if res.Requests != 60 {
		t.Errorf("Requests = %d, want all 60 scheduled slots served (late)", res.Requests)
	}
	// The last of 60 slots 5ms apart starts after 59 requests of ≥ 20ms: ≥ 885ms late.
	if res.LagMax < 59*delay-295*time.Millisecond || res.LagP99 > res.LagMax {
		t.Errorf("lag p99 %s max %s, want max ≥ %s", res.LagP99, res.LagMax, 59*delay-295*time.Millisecond)
	}
	if res.P50 < delay || res.P50 > 10*delay {
		t.Errorf("p50 = %s, want about the server's %s (the backlog is lag, not latency)", res.P50, delay)
	}
	if res.ReqPerSec > 55 {
		t.Errorf("ReqPerSec = %.1f, one worker of %s requests cannot exceed 50", res.ReqPerSec, delay)
	}
}

// Cancelling the context ends a long run promptly, without counting aborted requests as
// errors.
func TestRunCanceled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(50 * time.Millisecond):
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()

	for _, rate := range []float64{0, 10} {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		t0 := time.Now()
		res := loadgen.Run(ctx, loadgen.Config{
			Concurrency: 2,
			Rate:        rate,
			Duration:    time.Minute,
			Request:     func(int, int) *http.Request { return get(t, srv.URL) },
		})
		cancel()
		if took := time.Since(t0); took > 5*time.Second {
			t.Errorf("rate %v: Run took %s after cancel at 200ms", rate, took)
		}
		if !res.Canceled {
			t.Errorf("rate %v: Canceled = false", rate)
		}
		if res.ErrorCount() != 0 {
			t.Errorf("rate %v: aborted requests counted as errors: %v", rate, res.Errors)
		}
	}
}
