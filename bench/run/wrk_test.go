package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const wrkSample = `Running 8s test @ http://127.0.0.1:18091/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.34ms    6.38ms  69.89ms   93.97%
    Req/Sec    17.28k     6.30k   27.37k    62.50%
  Latency Distribution
     50%  850.00us
     75%    3.69ms
     90%    7.20ms
     99%   35.71ms
  69242 requests in 2.03s, 108.96MB read
  Socket errors: connect 0, read 2, write 0, timeout 12
  Non-2xx or 3xx responses: 5
Requests/sec:  34162.59
Transfer/sec:     53.76MB
`

func TestParseWrk(t *testing.T) {
	res, err := parseWrk(wrkSample)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 69242 || res.Elapsed != 2030*time.Millisecond || res.ReqPerSec != 34162.59 {
		t.Errorf("requests %d in %s, %v/s", res.Requests, res.Elapsed, res.ReqPerSec)
	}
	if res.P50 != 850*time.Microsecond || res.P90 != 7200*time.Microsecond || res.P99 != 35710*time.Microsecond || res.Max != 69890*time.Microsecond {
		t.Errorf("p50 %s p90 %s p99 %s max %s", res.P50, res.P90, res.P99, res.Max)
	}
	if res.ErrorCount() != 19 || res.Errors["socket timeout"] != 12 || res.Errors["socket read"] != 2 || res.Errors["non-2xx/3xx"] != 5 {
		t.Errorf("errors %v", res.Errors)
	}
	clean := strings.NewReplacer("  Socket errors: connect 0, read 2, write 0, timeout 12\n", "", "  Non-2xx or 3xx responses: 5\n", "").Replace(wrkSample)
	if res, err := parseWrk(clean); err != nil || res.ErrorCount() != 0 {
		t.Errorf("clean run: %v, %v", res.Errors, err)
	}
	// Without --latency there is no distribution: an error, not a zero p99.
	noDist := strings.NewReplacer("     50%  850.00us\n", "", "     99%   35.71ms\n", "").Replace(wrkSample)
	if _, err := parseWrk(noDist); err == nil {
		t.Error("output without the latency distribution accepted")
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Error("failed wrk accepted")
	}
	for in, want := range map[string]time.Duration{"85.00us": 85 * time.Microsecond, "1.50ms": 1500 * time.Microsecond, "2.00s": 2 * time.Second, "1.00m": time.Minute} {
		if got, err := parseWrkDuration(in); err != nil || got != want {
			t.Errorf("parseWrkDuration(%q) = %s, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "ms", "1.0x", "-1ms"} {
		if _, err := parseWrkDuration(bad); err == nil {
			t.Errorf("parseWrkDuration(%q) accepted", bad)
		}
	}
	script := wrkScript([]string{"/api/v1/products/1", "/api/v1/products/2"})
	if !strings.Contains(script, `"/api/v1/products/2",`) || !strings.Contains(script, "wrk.format(nil, paths[(i % #paths) + 1])") {
		t.Errorf("script:\n%s", script)
	}
}

func TestWrkSecondsAndName(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 1, 300 * time.Millisecond: 1, 2 * time.Second: 2, 8400 * time.Millisecond: 8, 8600 * time.Millisecond: 9} {
		if got := wrkSeconds(d); got != want {
			t.Errorf("wrkSeconds(%s) = %d, want %d", d, got, want)
		}
	}
	if got := wrkName("product detail (cached)"); got != "product detail (cached), wrk 2 threads × 64 connections" {
		t.Errorf("wrkName = %q", got)
	}
}

// liveProc is a proc for a server the test runs itself: never dead.
func liveProc(name, base string) *proc {
	return &proc{name: name, base: base, done: make(chan struct{})}
}

func TestCatalogWrkWithoutWrk(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // nothing on it, wrk least of all
	b := &bench{tmp: t.TempDir(), log: io.Discard, opts: options{duration: time.Second, warmup: time.Second}}
	b.bare = liveProc("bare", "http://127.0.0.1:1")
	g := &groupResult{name: "catalog"}
	if err := b.catalogWrk(context.Background(), g, liveProc("minimart", "http://127.0.0.1:1"), "product detail (cached)", []string{"/api/v1/products/1"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"bare handler, wrk 2 threads × 64 connections", "product detail (cached), wrk 2 threads × 64 connections"}
	if len(g.rows) != len(want) {
		t.Fatalf("rows %+v", g.rows)
	}
	for i, r := range g.rows {
		if r.name != want[i] || r.res != nil || r.notRun != "wrk not installed" {
			t.Errorf("row %d = %+v", i, r)
		}
	}
	if g.ok() {
		t.Error("a group with rows not run counts as ok")
	}
	if len(g.notes) != 0 {
		t.Errorf("notes on rows not run: %q", g.notes)
	}
	md := (&report{opts: options{scenarios: []string{"catalog"}}, groups: []*groupResult{g}}).markdown(false)
	if !strings.Contains(md, "- product detail (cached), wrk 2 threads × 64 connections: not run: wrk not installed") {
		t.Errorf("report:\n%s", md)
	}
}

// pathCounter is a server that counts the paths it is asked and answers 404 for missing.
type pathCounter struct {
	mu      sync.Mutex
	n       map[string]int
	missing string
}

func (c *pathCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.n[r.URL.Path]++
	c.mu.Unlock()
	if r.URL.Path == c.missing {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"id":"1"}`)
}

func (c *pathCounter) counts() (map[string]int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	total := 0
	m := map[string]int{}
	for k, v := range c.n {
		m[k], total = v, total+v
	}
	return m, total
}

// TestCatalogWrk runs the real wrk (about 4 s): both rows measured, every path of the
// script asked, the warm-up run not counted, a 404 counted as an error.
func TestCatalogWrk(t *testing.T) {
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Skip("wrk not installed (apt-get install wrk); TestCatalogWrkWithoutWrk covers its absence")
	}
	paths := []string{"/api/v1/products/11", "/api/v1/products/12", "/api/v1/products/13"}
	bareSrv := &pathCounter{n: map[string]int{}}
	shopSrv := &pathCounter{n: map[string]int{}, missing: paths[2]}
	bare, shop := httptest.NewServer(bareSrv), httptest.NewServer(shopSrv)
	defer bare.Close()
	defer shop.Close()

	b := &bench{tmp: t.TempDir(), log: io.Discard, opts: options{duration: time.Second, warmup: time.Second}}
	b.bare = liveProc("bare", bare.URL)
	g := &groupResult{name: "catalog"}
	if err := b.catalogWrk(context.Background(), g, liveProc("minimart", shop.URL), "product detail (cached)", paths); err != nil {
		t.Fatal(err)
	}
	if len(g.rows) != 2 || g.rows[0].res == nil || g.rows[1].res == nil {
		t.Fatalf("rows %+v", g.rows)
	}
	for i, c := range []*pathCounter{bareSrv, shopSrv} {
		r := g.rows[i]
		got, total := c.counts()
		if len(got) != len(paths) {
			t.Errorf("row %q: paths asked %v, want each of %v", r.name, got, paths)
		}
		for _, p := range paths {
			if got[p] < total/len(paths)-wrkConns*2 {
				t.Errorf("row %q: %s asked %d times of %d: not cycled", r.name, p, got[p], total)
			}
		}
		// The warm-up's requests reached the server but not the row.
		if r.res.Requests <= 0 || total <= r.res.Requests+wrkConns {
			t.Errorf("row %q: %d requests reported, %d served: warm-up missing or counted", r.name, r.res.Requests, total)
		}
	}
	if g.rows[0].ratio != "1" || g.rows[0].res.ErrorCount() != 0 {
		t.Errorf("baseline row %+v", g.rows[0])
	}
	if want := ratioOf(g.rows[1].res.ReqPerSec, g.rows[0].res.ReqPerSec); g.rows[1].ratio != want {
		t.Errorf("ratio %q, want %q", g.rows[1].ratio, want)
	}
	// A third of the answers are 404s.
	if n := g.rows[1].res.Errors["non-2xx/3xx"]; n < g.rows[1].res.Requests/4 {
		t.Errorf("non-2xx answers %d of %d requests; errors %v", n, g.rows[1].res.Requests, g.rows[1].res.Errors)
	}
	if g.ok() {
		t.Error("a row with errors counts as ok")
	}
	if len(g.notes) != 1 || !strings.Contains(g.notes[0], "wrk -t2 -c64 -d1s --latency") || !strings.Contains(g.notes[0], "unmeasured wrk run of 1 s") ||
		!regexp.MustCompile(`Target product detail \(cached\) ≥ 0\.6 of the bare handler under wrk: \*\*(not )?met\*\* \(\d\.\d{3}\)\.$`).MatchString(g.notes[0]) {
		t.Errorf("notes %q", g.notes)
	}
}
