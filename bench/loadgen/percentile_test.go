package loadgen

import (
	"testing"
	"time"
)

// Nearest-rank percentiles on known data.
func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100) // 1ms … 100ms
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	thousand := make([]time.Duration, 1000) // 1µs … 1000µs
	for i := range thousand {
		thousand[i] = time.Duration(i+1) * time.Microsecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value", []time.Duration{7}, 99, 7},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p90 of 1..100", hundred, 90, 90 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p100 of 1..100", hundred, 100, 100 * time.Millisecond},
		{"p0 is the minimum", hundred, 0, time.Millisecond},
		{"p99 of 1..1000", thousand, 99, 990 * time.Microsecond},
		{"p50 of two", []time.Duration{1, 2}, 50, 1},
		{"p51 of two", []time.Duration{1, 2}, 51, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(p%v) = %s, want %s", tt.p, got, tt.want)
			}
		})
	}
}

// merge pools every worker's latencies and errors; the percentiles come from the pool.
func TestMerge(t *testing.T) {
	start := time.Now()
	a := &worker{errs: map[string]int{"status 500": 1}, lastDone: start.Add(900 * time.Millisecond)}
	b := &worker{errs: map[string]int{"status 500": 2, "EOF": 1}, lastDone: start.Add(time.Second)}
	for i := 1; i <= 50; i++ {
		a.lat = append(a.lat, time.Duration(2*i)*time.Millisecond)   // even
		b.lat = append(b.lat, time.Duration(2*i-1)*time.Millisecond) // odd
	}
	res := merge([]*worker{a, b}, start, start.Add(500*time.Millisecond), false)
	if res.Requests != 100 || res.Elapsed != time.Second || res.ReqPerSec != 100 {
		t.Errorf("Requests %d, Elapsed %s, ReqPerSec %f; want 100, 1s, 100", res.Requests, res.Elapsed, res.ReqPerSec)
	}
	if res.P50 != 50*time.Millisecond || res.P90 != 90*time.Millisecond || res.P99 != 99*time.Millisecond || res.Max != 100*time.Millisecond {
		t.Errorf("p50 %s p90 %s p99 %s max %s", res.P50, res.P90, res.P99, res.Max)
	}
	if res.Errors["status 500"] != 3 || res.Errors["EOF"] != 1 || res.ErrorCount() != 4 {
		t.Errorf("errors = %v", res.Errors)
	}
	// A window that ends after the last request: Elapsed is the window.
	if res := merge([]*worker{a, b}, start, start.Add(2*time.Second), false); res.Elapsed != 2*time.Second {
		t.Errorf("Elapsed = %s, want the 2s window", res.Elapsed)
	}
	if got, want := res.ErrorSummary(), "4 (status 500 ×3, EOF ×1)"; got != want {
		t.Errorf("ErrorSummary = %q, want %q", got, want)
	}
}

// Past maxErrorKinds distinct kinds, new kinds go under "other errors".
func TestAddErrorCapsKinds(t *testing.T) {
	m := map[string]int{}
	for i := 0; i < maxErrorKinds+5; i++ {
		addError(m, string(rune('a'+i)), 1)
	}
	addError(m, "a", 1)
	if len(m) != maxErrorKinds+1 || m[otherErrors] != 5 || m["a"] != 2 {
		t.Errorf("kinds %d, other %d, a %d; want %d, 5, 2", len(m), m[otherErrors], m["a"], maxErrorKinds+1)
	}
}
