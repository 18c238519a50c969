package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/bench/loadgen"
)

func TestParseSplitOutput(t *testing.T) {
	out := `split.sh: SPLIT_FRESH=1: dropping mm_* databases, cache keys, queues and data dirs
Created admin account "admin" with password Split-abc-1
Loaded the demo catalog: 200 products
Minimart split serving at http://127.0.0.1:8080 (state and logs in /tmp/x)
PROC user 1 101 127.0.0.1:8081 127.0.0.1:8089
PROC user 2 102 127.0.0.1:8082 127.0.0.1:8090
PROC product 1 103 127.0.0.1:8083 127.0.0.1:8091
PROC product 2 104 127.0.0.1:8084 127.0.0.1:8092
PROC order 1 105 127.0.0.1:8085 127.0.0.1:8093
PROC order 2 106 127.0.0.1:8086 127.0.0.1:8094
PROC payment 1 107 127.0.0.1:8087 127.0.0.1:8095
PROC payment 2 108 127.0.0.1:8088 127.0.0.1:8096
PROC nginx 1 109 127.0.0.1:8080 -
READY http://127.0.0.1:8080
`
	got, err := parseSplitOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	if got.ready != "http://127.0.0.1:8080" || len(got.procs) != 9 {
		t.Fatalf("%+v", got)
	}
	if p := got.procs[4]; p != (splitInstance{service: "order", n: 1, pid: 105, addr: "127.0.0.1:8085", ops: "127.0.0.1:8093"}) || p.base() != "http://127.0.0.1:8085" || p.opsBase() != "http://127.0.0.1:8093" || p.name() != "order-1" {
		t.Errorf("procs[4] = %+v", p)
	}
	s := &splitShape{procs: got.procs}
	if l := s.instances("product"); len(l) != 2 || l[1].pid != 104 {
		t.Errorf("instances(product) = %+v", l)
	}
	if l := s.minimarts(); len(l) != 8 {
		t.Errorf("minimarts = %d", len(l))
	}

	// Before READY, and with the last line still being written: not ready, no half line.
	partial, err := parseSplitOutput("PROC user 1 101 127.0.0.1:8081 127.0.0.1:8089\nPROC user 2 10")
	if err != nil || partial.ready != "" || len(partial.procs) != 1 {
		t.Errorf("partial: %+v, %v", partial, err)
	}
	if r, err := parseSplitOutput("READY http://127.0.0.1:8080"); err != nil || r.ready != "" {
		t.Errorf("READY without its newline: %+v, %v", r, err)
	}
	for _, bad := range []string{"PROC user x 101 127.0.0.1:8081 127.0.0.1:8089\n", "PROC user 1 101\n", "PROC user 1 101 nowhere 127.0.0.1:8089\n",
		"PROC user 1 101 127.0.0.1:8081\n", "PROC user 1 101 127.0.0.1:8081 nowhere\n", "READY ftp://x\n"} {
		if _, err := parseSplitOutput(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

const metricsBefore = `# HELP minimart_http_requests_total HTTP requests by method, route pattern and status.
# TYPE minimart_http_requests_total counter
minimart_http_requests_total{method="POST",route="POST /api/v1/orders",status="201"} 10
minimart_http_requests_total{method="POST",route="POST /api/v1/orders",status="409"} 3
minimart_http_requests_total{method="GET",route="GET /api/v1/orders/{id}",status="200"} 4
minimart_http_requests_total{method="GET",route="GET /internal/v1/users/{user_id}/addresses/{id}",status="200"} 2
minimart_outbox_pending 0
`

func TestParseHTTPCountsAndTally(t *testing.T) {
	before, err := parseHTTPCounts(metricsBefore)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 4 || before[httpKey{"POST", "POST /api/v1/orders", "201"}] != 10 {
		t.Fatalf("%v", before)
	}
	odd, err := parseHTTPCounts(`minimart_http_requests_total{status="200",route="unmatched",method="GET",x="a\"b\\c"} 1.5e+01` + "\n")
	if err != nil || odd[httpKey{"GET", "unmatched", "200"}] != 15 {
		t.Errorf("labels in another order, escapes, exponent: %v, %v", odd, err)
	}
	if _, err := parseHTTPCounts(`minimart_http_requests_total{method="GET} 1` + "\n"); err == nil {
		t.Error("unterminated label accepted")
	}

	// The order instance placed 40 orders (and refused 2); its peers answered 40 address
	// reads, 40 SKU lookups and 40 reservations, and a few calls of other kinds that count too.
	targetAfter := map[httpKey]float64{
		{"POST", "POST /api/v1/orders", "201"}:    50,
		{"POST", "POST /api/v1/orders", "409"}:    5,
		{"GET", "GET /api/v1/orders/{id}", "200"}: 9,
	}
	userBefore := before
	userAfter := map[httpKey]float64{
		{"GET", "GET /internal/v1/users/{user_id}/addresses/{id}", "200"}: 42,
		{"GET", "GET /api/v1/me", "200"}:                                  7, // public: not a remote call
	}
	productBefore := map[httpKey]float64{}
	productAfter := map[httpKey]float64{
		{"POST", "POST /internal/v1/catalog/sku-refs", "200"}:       40,
		{"PUT", "/internal/v1/inventory/reservations/{ref}", "200"}: 38, // pattern without a method
		{"PUT", "/internal/v1/inventory/reservations/{ref}", "409"}: 2,
		{"GET", "GET /internal/v1/inventory/available", "200"}:      0,
		{"POST", "POST /internal/v1/orders/placed", "200"}:          0,
	}
	tally := tallyCalls(before, targetAfter, "POST", "/api/v1/orders", "201",
		[]map[httpKey]float64{userBefore, productBefore}, []map[httpKey]float64{userAfter, productAfter})
	if tally.requests != 40 || tally.calls() != 120 || tally.perRequest() != 3 {
		t.Errorf("requests %v, calls %v, per request %v: %v", tally.requests, tally.calls(), tally.perRequest(), tally.internal)
	}
	want := "`GET /internal/v1/users/{user_id}/addresses/{id}` ×1.00, `POST /internal/v1/catalog/sku-refs` ×1.00, `PUT /internal/v1/inventory/reservations/{ref}` ×1.00"
	if got := tally.breakdown(); got != want {
		t.Errorf("breakdown:\n%s\nwant:\n%s", got, want)
	}
	if (callTally{}).perRequest() != 0 || (callTally{}).breakdown() != "none" {
		t.Error("empty tally")
	}
}

func TestPerHop(t *testing.T) {
	d, ok := perHop(2500*time.Microsecond, 1000*time.Microsecond, 3)
	if !ok || d != 500*time.Microsecond {
		t.Errorf("perHop = %s, %v", d, ok)
	}
	if d, ok := perHop(900*time.Microsecond, 1000*time.Microsecond, 2); !ok || d != -50*time.Microsecond || formatSignedLatency(d) != "−50 µs" {
		t.Errorf("faster split: %s %q, %v", d, formatSignedLatency(d), ok)
	}
	if _, ok := perHop(time.Millisecond, time.Millisecond, 0); ok {
		t.Error("no hops: a figure anyway")
	}
	base := testResult(1000)
	half := testResult(500)
	for _, c := range []struct {
		res, base  *loadgen.Result
		isBaseline bool
		want       string
	}{{&base, nil, true, "1"}, {&half, &base, false, "0.50"}, {&half, nil, false, "—"}} {
		if got := splitRatio(c.res, c.isBaseline, c.base); got != c.want {
			t.Errorf("splitRatio = %q, want %q", got, c.want)
		}
	}
}

func TestSplitVerdicts(t *testing.T) {
	b := &bench{opts: options{concurrency: 32}, log: io.Discard}
	g := &groupResult{}
	md, sd := testResult(10000), testResult(6000)
	mo, so := testResult(400), testResult(150)
	cm, cs := testResult(1000), testResult(600)
	cm.P50, cs.P50 = 800*time.Microsecond, 1400*time.Microsecond
	om, os := testResult(100), testResult(60)
	om.P50, os.P50 = 10*time.Millisecond, 16*time.Millisecond
	b.splitVerdicts(g, &md, &sd, nil, nil, &mo, &so, []hopPair{
		{"cart view", &cm, &cs, callTally{requests: 10, internal: map[string]float64{"a": 20}}, 2},
		{"order create", &om, &os, callTally{requests: 10, internal: map[string]float64{"a": 30}}, 3},
	})
	all := strings.Join(g.notes, "\n")
	for _, want := range []string{
		"of the monolith served directly: **met** (0.60 with loadgen",
		"of the monolith's: **not met** (0.38: 150 against 400 orders/s",
		"**met** cart view (300 µs); **not met** order create (2.00 ms)",
		"= **300 µs per hop at p50**",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("notes lack %q:\n%s", want, all)
		}
	}

	// Counters that counted nothing: the calls of the code path, said so.
	g = &groupResult{}
	b.splitVerdicts(g, &md, &sd, nil, nil, &mo, &so, []hopPair{{"order create", &om, &os, callTally{}, 3}})
	if all := strings.Join(g.notes, "\n"); !strings.Contains(all, "over 3.00 remote calls (from the code") || !strings.Contains(all, "**not met** order create (2.00 ms)") {
		t.Errorf("fallback:\n%s", all)
	}
}

func TestRedactPasswords(t *testing.T) {
	in := "Created admin account \"admin\" with password Split-faa2a0d0-1\n  (shown only now; log in at POST /api/v1/admin/auth/login)\nPassword: hunter2 and more"
	got := redactPasswords(in)
	if strings.Contains(got, "Split-faa2a0d0-1") || strings.Contains(got, "hunter2") || !strings.Contains(got, "with password xxxxx\n") || !strings.Contains(got, "Password: xxxxx and more") {
		t.Errorf("%s", got)
	}
}

func TestParseQueueDepths(t *testing.T) {
	out := "name\tmessages\tconsumers\nmm_a.catalog-cache\t3\t2\nmm_a.catalog-cache.dlq\t1\t0\nmm_a.catalog-cache.retry\t2\t0\n" +
		"mm_a.catalog-search-node1001\t343\t0\nmm_ab.inventory\t9\t1\nother.x\t5\t1\nmm_b.payment\t0\t2\n"
	qs := parseQueueDepths(out, "mm_a", "mm_b")
	var names []string
	var pending []string
	for _, q := range qs {
		names = append(names, q.name)
		if q.pending() {
			pending = append(pending, q.name)
		}
	}
	if strings.Join(names, " ") != "mm_a.catalog-cache mm_a.catalog-cache.dlq mm_a.catalog-cache.retry mm_a.catalog-search-node1001 mm_b.payment" {
		t.Errorf("queues: %v", names)
	}
	// Consumed or retrying: pending; dead letters and a queue nobody reads: not waited for.
	if strings.Join(pending, " ") != "mm_a.catalog-cache mm_a.catalog-cache.retry" {
		t.Errorf("pending: %v", pending)
	}
}

func TestSplitURLsAndFlags(t *testing.T) {
	for in, want := range map[string]string{
		"mysql://root@127.0.0.1:3306/test":          "mysql://root@127.0.0.1:3306/",
		"mysql://u:p%40ss@db:3307/x?parseTime=true": "mysql://u:p%40ss@db:3307/",
		"mysql://root@localhost/":                   "mysql://root@localhost/",
	} {
		if got, err := mysqlServerRoot(in); err != nil || got != want {
			t.Errorf("mysqlServerRoot(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"mysql://127.0.0.1:3306/test", "postgres://u@h/db", "::"} {
		if _, err := mysqlServerRoot(bad); err == nil {
			t.Errorf("mysqlServerRoot(%q) accepted", bad)
		}
	}
	if got := databaseURL("mysql://root@127.0.0.1:3306/test?x=1", "mm_user"); got != "mysql://root@127.0.0.1:3306/mm_user?x=1" {
		t.Errorf("databaseURL = %q", got)
	}

	t.Setenv(redisURLEnv, "redis://127.0.0.1:6379/0")
	o, err := parseFlags([]string{"--scenarios", "split"}, io.Discard)
	if err != nil || o.redisURL != "redis://127.0.0.1:6379/0" || o.redisFrom != redisURLEnv || o.scenarios[0] != "split" {
		t.Errorf("%+v, %v", o, err)
	}
	o, err = parseFlags([]string{"--scenarios", "split", "--redis-url", "redis://h:1/2"}, io.Discard)
	if err != nil || o.redisURL != "redis://h:1/2" || o.redisFrom != "--redis-url" {
		t.Errorf("%+v, %v", o, err)
	}
	if _, err := parseFlags([]string{"--redis-url", "http://h/"}, io.Discard); err == nil {
		t.Error("--redis-url http:// accepted")
	}
}

func TestSliceOrder(t *testing.T) {
	for n, want := range map[int]string{1: "01", 2: "0110", 4: "01100110", 3: "011001"} {
		var b strings.Builder
		for _, i := range sliceOrder(n) {
			b.WriteString(strconv.Itoa(i))
		}
		if b.String() != want {
			t.Errorf("sliceOrder(%d) = %s, want %s", n, b.String(), want)
		}
	}
}

func TestPooled(t *testing.T) {
	var p pooled
	p.add(loadgen.Result{Requests: 100, Elapsed: time.Second, Errors: map[string]int{"status 500": 1}})
	p.add(loadgen.Result{Requests: 300, Elapsed: time.Second, Errors: map[string]int{"status 500": 2, "EOF": 1}})
	samples := []time.Duration{5, 1, 4, 2, 3, 100, 6, 7, 8, 9}
	res := p.result(samples)
	if res.Requests != 400 || res.ReqPerSec != 200 || res.ErrorCount() != 4 || res.Errors["status 500"] != 3 {
		t.Errorf("%+v", res)
	}
	if res.P50 != 5 || res.P90 != 9 || res.P99 != 100 || res.Max != 100 {
		t.Errorf("p50 %d p90 %d p99 %d max %d", res.P50, res.P90, res.P99, res.Max)
	}
	var empty pooled
	if r := empty.result(nil); r.ReqPerSec != 0 || r.P50 != 0 {
		t.Errorf("empty: %+v", r)
	}
}

// An interleaved pair against two fake servers, one three times slower: both rows, the
// ratio from the pooled rates, and about as many latencies kept as requests counted.
func TestSplitPair(t *testing.T) {
	serve := func(d time.Duration) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(d)
			w.Write([]byte(`{"ok":true}`))
		}))
	}
	fast, slow := serve(time.Millisecond), serve(3*time.Millisecond)
	defer fast.Close()
	defer slow.Close()
	b := &bench{log: io.Discard, opts: options{duration: 400 * time.Millisecond, warmup: 100 * time.Millisecond, splitSlices: 2}}
	g := &groupResult{}
	alive := func() error { return nil }
	ok200 := loadgen.ExpectStatus(http.StatusOK)
	m, s, err := b.splitPair(context.Background(), g,
		splitSide{scenario{name: "mono", request: getCycle(fast.URL, "/a"), check: ok200}, alive},
		splitSide{scenario{name: "split", request: getCycle(slow.URL, "/a"), check: ok200}, alive}, 2)
	if err != nil || m == nil || s == nil {
		t.Fatalf("%v %v %v", m, s, err)
	}
	if len(g.rows) != 2 || g.rows[0].ratio != "1" || g.rows[1].name != "split" {
		t.Fatalf("rows %+v", g.rows)
	}
	if r := s.ReqPerSec / m.ReqPerSec; r > 0.6 || r < 0.15 {
		t.Errorf("ratio %.2f (mono %v/s, split %v/s), want about 1/3", r, m.ReqPerSec, s.ReqPerSec)
	}
	if m.P50 < time.Millisecond || s.P50 < 3*time.Millisecond || m.Elapsed < 400*time.Millisecond {
		t.Errorf("mono p50 %s over %s, split p50 %s", m.P50, m.Elapsed, s.P50)
	}
	for _, r := range []*loadgen.Result{m, s} {
		if r.Requests == 0 || r.ErrorCount() != 0 {
			t.Errorf("%+v", r)
		}
	}

	// A side whose first request fails: neither runs.
	g = &groupResult{}
	m, s, err = b.splitPair(context.Background(), g,
		splitSide{scenario{name: "mono", request: getCycle(fast.URL, "/a"), check: ok200}, alive},
		splitSide{scenario{name: "split", request: getCycle(fast.URL, "/a"), check: loadgen.ExpectStatus(http.StatusCreated)}, alive}, 2)
	if err != nil || m != nil || s != nil || len(g.rows) != 2 || g.rows[0].notRun == "" || !strings.Contains(g.rows[1].notRun, "status 200") {
		t.Errorf("%v %v %v %+v", m, s, err, g.rows)
	}
}

// The sampler keeps one latency per answered request of the measured window.
func TestSamplerCountsTheWindow(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
	}))
	defer ts.Close()
	sm := newSampler(3)
	sc := sm.wrap(scenario{request: getCycle(ts.URL, "/x")})
	sm.from = time.Now().Add(100 * time.Millisecond)
	res := loadgen.Run(context.Background(), loadgen.Config{Concurrency: 3, Warmup: 100 * time.Millisecond, Duration: 300 * time.Millisecond, Request: sc.request, Check: sc.check})
	if got := len(sm.samples()); got < res.Requests-3 || got > res.Requests+3 {
		t.Errorf("kept %d latencies for %d requests", got, res.Requests)
	}
}
