package main

import (
	"math"
	"testing"
	"time"
)

func TestDurPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var ds []time.Duration
		for _, n := range ns {
			ds = append(ds, time.Duration(n)*time.Millisecond)
		}
		return ds
	}
	if got := durPercentile(nil, 50); got != 0 {
		t.Fatalf("empty: %v", got)
	}
	in := ms(5, 1, 4, 2, 3) // unsorted on purpose
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 3 * time.Millisecond}, {99, 5 * time.Millisecond}, {100, 5 * time.Millisecond}, {1, time.Millisecond}, {20, time.Millisecond}, {21, 2 * time.Millisecond}} {
		if got := durPercentile(in, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if in[0] != 5*time.Millisecond {
		t.Error("input was sorted in place")
	}
	// 20 samples 1..20: p50 is the 10th, p99 the 20th.
	var twenty []int
	for i := 1; i <= 20; i++ {
		twenty = append(twenty, i)
	}
	if got := durPercentile(ms(twenty...), 50); got != 10*time.Millisecond {
		t.Errorf("p50 of 1..20 = %v", got)
	}
	if got := durPercentile(ms(twenty...), 99); got != 20*time.Millisecond {
		t.Errorf("p99 of 1..20 = %v", got)
	}
}

func TestSlopeAndTrend(t *testing.T) {
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if m, ok := slope([]float64{0, 1, 2, 3}, []float64{1, 3, 5, 7}); !ok || !near(m, 2) {
		t.Errorf("slope = %v %v, want 2", m, ok)
	}
	if m, ok := slope([]float64{0, 1, 2}, []float64{4, 4, 4}); !ok || m != 0 {
		t.Errorf("flat slope = %v %v", m, ok)
	}
	// Noise around a flat line: the slope of y = 10 ± 1 alternating is small.
	if m, _ := slope([]float64{0, 1, 2, 3}, []float64{11, 9, 11, 9}); !near(m, -0.4) {
		t.Errorf("noisy slope = %v, want -0.4", m)
	}
	if _, ok := slope([]float64{1}, []float64{1}); ok {
		t.Error("one point has no slope")
	}
	if _, ok := slope([]float64{2, 2}, []float64{1, 3}); ok {
		t.Error("equal xs have no slope")
	}
	// y = 100 + 10x over x 0..4: mean 120, change over the span 40 → 1/3.
	if c, ok := trendChange([]float64{0, 1, 2, 3, 4}, []float64{100, 110, 120, 130, 140}); !ok || !near(c, 40.0/120) {
		t.Errorf("trendChange = %v %v", c, ok)
	}
	if _, ok := trendChange([]float64{0, 1}, []float64{0, 0}); ok {
		t.Error("zero mean: no relative change")
	}
}

func TestParseVmRSSAndMetric(t *testing.T) {
	n, err := parseVmRSS("Name:\tminimart\nVmPeak:\t  900 kB\nVmRSS:\t   51200 kB\nThreads: 9\n")
	if err != nil || n != 51200*1024 {
		t.Fatalf("parseVmRSS = %d, %v", n, err)
	}
	if _, err := parseVmRSS("Name: x\n"); err == nil {
		t.Error("no VmRSS line: want an error")
	}
	text := "# HELP go_goroutines x\n# TYPE go_goroutines gauge\ngo_goroutines 42\ngo_goroutines_extra 1\nprocess_open_fds 17\n"
	if v, ok := metricValue(text, "go_goroutines"); !ok || v != 42 {
		t.Errorf("go_goroutines = %v %v", v, ok)
	}
	if v, ok := metricValue(text, "process_open_fds"); !ok || v != 17 {
		t.Errorf("process_open_fds = %v %v", v, ok)
	}
	if _, ok := metricValue(text, "missing"); ok {
		t.Error("missing metric found")
	}
}

func TestIndentLines(t *testing.T) {
	if got := indentLines("| a |\n| --- |\n"); got != "  | a |\n  | --- |" {
		t.Errorf("indentLines = %q", got)
	}
}

func TestFlatness(t *testing.T) {
	mk := func(f func(w int) float64) []soakSample {
		var ss []soakSample
		for w := 1; w <= 60; w++ {
			ss = append(ss, soakSample{window: w, at: time.Duration(w) * soakWindow, rss: f(w)})
		}
		return ss
	}
	rss := func(s soakSample) float64 { return s.rss }
	// Growing fast in the first two minutes, flat after: judged flat (minute 2 on only).
	v := flatness(mk(func(w int) float64 {
		if w < 12 {
			return float64(w)
		}
		return 100 + float64(w%2)
	}), rss, 0.10)
	if !v.ok || !v.flat || v.lastFirst != 1 {
		t.Errorf("flat after warm-up: %+v", v)
	}
	// A leak of 1% of the start per window: +48% over minutes 2–10.
	v = flatness(mk(func(w int) float64 { return 100 + float64(w) }), rss, 0.10)
	if !v.ok || v.flat || v.trend < 0.3 {
		t.Errorf("leak: %+v", v)
	}
	if v := flatness(mk(func(int) float64 { return 1 })[:5], rss, 0.10); v.ok || v.flat {
		t.Errorf("no samples after minute 2: %+v", v)
	}
}
