package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The operator listener serves metrics, profiles and readiness details; the public port
// serves none of them.
func TestOperatorListener(t *testing.T) {
	t.Parallel()
	s := startServer(t, "MINIMART_DATA_DIR="+t.TempDir(), "MINIMART_DEMO=0")

	call(t, "GET", s.base+"/metrics", "", nil, http.StatusNotFound, nil)
	public := string(call(t, "GET", s.base+"/readyz", "", nil, http.StatusOK, nil))
	if strings.TrimSpace(public) != `{"status":"ok"}` {
		t.Errorf("public /readyz = %s, want the status alone", public)
	}
	call(t, "GET", s.base+"/debug/pprof/", "", nil, http.StatusNotFound, nil)

	var r readiness
	call(t, "GET", s.ops+"/readyz", "", nil, http.StatusOK, &r)
	if r.Status != "ok" || r.Checks["database"].Status != "ok" {
		t.Errorf("operator /readyz = %+v, want ok with each check", r)
	}
	if heap := string(call(t, "GET", s.ops+"/debug/pprof/heap?debug=1", "", nil, http.StatusOK, nil)); !strings.Contains(heap, "heap profile") {
		t.Errorf("operator /debug/pprof/heap is not a heap profile: %.200s", heap)
	}

	// A method a client makes up is counted as "other", so clients cannot create series.
	req, err := http.NewRequest("MKTEAPOT", s.base+"/api/v1/products", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	metrics := string(call(t, "GET", s.ops+"/metrics", "", nil, http.StatusOK, nil))
	if strings.Contains(metrics, "MKTEAPOT") || !strings.Contains(metrics, `minimart_http_requests_total{method="other"`) {
		t.Errorf("a made-up method is not folded into method=\"other\":\n%s", grepLines(metrics, "minimart_http_requests_total"))
	}
}

// grepLines is the lines of s that contain substr.
func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Every metric a Grafana dashboard or an alert rule queries is one the binary exports:
// a renamed metric must not leave an empty panel or an alert that can never fire.
//
// The embedded shape is started: every family the dashboards and alerts use is exported
// there too. The event consumers' series are made at zero when a consumer subscribes (with
// either bus), the payment notify series per provider and outcome, and the order series per
// state, so none waits for traffic; what only RabbitMQ has (the inventory_update consumer's
// counter) is on no dashboard. A little traffic (the demo catalog's events, a registration,
// catalog reads, an order) fills the rest.
func TestDashboardsAndAlertsQueryExportedMetrics(t *testing.T) {
	t.Parallel()
	s := startServer(t, "MINIMART_DATA_DIR="+t.TempDir())
	driveShopTraffic(t, s)
	exported := exportedMetricNames(string(call(t, "GET", s.ops+"/metrics", "", nil, http.StatusOK, nil)))

	queried := map[string][]string{} // metric name → where it is queried
	for _, q := range dashboardAndAlertQueries(t) {
		for _, name := range promqlMetricNames(q.expr) {
			queried[name] = append(queried[name], q.where)
		}
	}
	if len(queried) < 20 {
		t.Fatalf("only %d metric names found in the dashboards and alerts: %v", len(queried), queried)
	}
	for name, where := range queried {
		// up is written by Prometheus for each scrape, not by the target.
		if name == "up" {
			continue
		}
		if !exported[name] {
			t.Errorf("%s is queried by %s but not exported", name, strings.Join(slices.Compact(where), ", "))
		}
	}
}

// driveShopTraffic makes a buyer who registers, reads the catalog twice (a miss, then a
// hit) and places an order, with an address.
func driveShopTraffic(t *testing.T, s *server) {
	t.Helper()
	buyer := register(t, s.base, newBuyer())
	token := buyer.Tokens.AccessToken
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	call(t, "GET", s.base+"/api/v1/products?page_size=5", "", nil, http.StatusOK, &list)
	if len(list.Items) == 0 {
		t.Fatal("the demo catalog has no products")
	}
	var detail struct {
		SKUs []struct {
			ID string `json:"id"`
		} `json:"skus"`
	}
	for range 2 {
		call(t, "GET", s.base+"/api/v1/products/"+list.Items[0].ID, "", nil, http.StatusOK, &detail)
	}
	var address struct {
		ID string `json:"id"`
	}
	call(t, "POST", s.base+"/api/v1/me/addresses", token, map[string]any{"recipient": "张三", "phone": "13800138000",
		"province": "广东省", "city": "深圳市", "district": "南山区", "detail": "科技园 1 号"}, http.StatusCreated, &address)
	callWith(t, "POST", s.base+"/api/v1/orders", token, map[string]string{"Idempotency-Key": "ops-metrics-1"},
		map[string]any{"items": []map[string]any{{"sku_id": detail.SKUs[0].ID, "quantity": 1}}, "address_id": address.ID},
		http.StatusCreated, nil)
}

// exportedMetricNames are the sample names in a Prometheus text exposition, with each
// family's name (a histogram's samples are its _bucket, _sum and _count).
func exportedMetricNames(text string) map[string]bool {
	names := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			names[strings.Fields(rest)[0]] = true
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		names[line[:strings.IndexAny(line, "{ ")]] = true
	}
	return names
}

type query struct{ where, expr string }

// dashboardAndAlertQueries are the PromQL expressions of every dashboard panel (and
// template variable) in deploy/grafana/dashboards and every rule in deploy/prometheus.
func dashboardAndAlertQueries(t *testing.T) []query {
	t.Helper()
	var out []query
	dashboards, err := filepath.Glob("../../deploy/grafana/dashboards/*.json")
	if err != nil || len(dashboards) < 3 {
		t.Fatalf("dashboards: %v %v", dashboards, err)
	}
	type panel struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	}
	for _, path := range dashboards {
		var d struct {
			Panels     []panel `json:"panels"`
			Templating struct {
				List []struct {
					Name  string `json:"name"`
					Query any    `json:"query"`
				} `json:"list"`
			} `json:"templating"`
		}
		if err := json.Unmarshal(readRepoFile(t, path), &d); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, p := range d.Panels {
			for _, target := range p.Targets {
				out = append(out, query{filepath.Base(path) + ": " + p.Title, target.Expr})
			}
		}
		for _, v := range d.Templating.List {
			if q, ok := v.Query.(string); ok {
				out = append(out, query{filepath.Base(path) + ": $" + v.Name, q})
			}
		}
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(readRepoFile(t, "../../deploy/prometheus/alerts.yml"), &rules); err != nil {
		t.Fatal(err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			out = append(out, query{"alert " + r.Alert, r.Expr})
		}
	}
	return out
}

func readRepoFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// promqlKeywords are the words of PromQL that are not metrics: operators, modifiers, and the
// aggregations, which may be followed by "by (…)" rather than by their "(".
var promqlKeywords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true,
	"group_right": true, "bool": true, "and": true, "or": true, "unless": true, "offset": true, "inf": true, "nan": true,
	"atan2": true, "sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true, "limitk": true, "limit_ratio": true}

// labelListKeywords are followed by a parenthesised list of label names.
var labelListKeywords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}

// promqlMetricNames finds the metric names a PromQL expression selects.
//
// A tokenizer, not Prometheus's parser: github.com/prometheus/prometheus/promql/parser
// brings the whole Prometheus module into go.mod for one test, and the dashboards and rules
// use a small part of the language. An identifier is a metric name unless it is a keyword,
// is followed by "(" (a function), or stands where only labels or
// durations go: inside {…} matchers, […] ranges, the label list after by/without/on/
// ignoring/group_left/group_right, or a string. Grafana's $variables are skipped. The test
// above fails when this finds too few names, so a tokenizer that stopped seeing them would
// not pass silently.
func promqlMetricNames(expr string) []string {
	var names []string
	isStart := func(c byte) bool { return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	isPart := func(c byte) bool { return isStart(c) || c >= '0' && c <= '9' }
	// skipTo returns the index after the close that ends the group opened at i.
	skipTo := func(i int, open, close byte) int {
		depth := 0
		for ; i < len(expr); i++ {
			switch expr[i] {
			case '"', '\'', '`':
				i = skipString(expr, i) - 1
			case open:
				depth++
			case close:
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skipString(expr, i)
		case c == '{':
			i = skipTo(i, '{', '}')
		case c == '[':
			i = skipTo(i, '[', ']')
		case c == '$':
			// A Grafana variable: $name or ${name}.
			i++
			for i < len(expr) && (isPart(expr[i]) || expr[i] == '{' || expr[i] == '}') {
				i++
			}
		case c >= '0' && c <= '9' || c == '.':
			// A number or a duration (5m, 1e3, 0.99).
			for i < len(expr) && (isPart(expr[i]) || expr[i] == '.') {
				i++
			}
		case isStart(c):
			start := i
			for i < len(expr) && isPart(expr[i]) {
				i++
			}
			word := expr[start:i]
			next := i
			for next < len(expr) && (expr[next] == ' ' || expr[next] == '\t' || expr[next] == '\n') {
				next++
			}
			switch {
			case labelListKeywords[strings.ToLower(word)]:
				if next < len(expr) && expr[next] == '(' {
					i = skipTo(next, '(', ')')
				}
			case promqlKeywords[strings.ToLower(word)]:
			case next < len(expr) && expr[next] == '(':
				// A function or an aggregation.
			default:
				names = append(names, word)
			}
		default:
			i++
		}
	}
	return names
}

// skipString returns the index after the string literal that starts at i.
func skipString(s string, i int) int {
	quote := s[i]
	for i++; i < len(s); i++ {
		switch {
		case s[i] == '\\' && quote != '`':
			i++
		case s[i] == quote:
			return i + 1
		}
	}
	return i
}

func TestPromQLMetricNames(t *testing.T) {
	for _, tt := range []struct {
		expr string
		want []string
	}{
		{`up{job=~"minimart-.*"} == 0`, []string{"up"}},
		{`sum by (job, le) (rate(minimart_http_request_duration_seconds_bucket{route!="x{y}"}[5m]))`,
			[]string{"minimart_http_request_duration_seconds_bucket"}},
		{`histogram_quantile(0.99, sum by (consumer, le) (rate(a_bucket[$__rate_interval]))) > 0.5`, []string{"a_bucket"}},
		{"(max by (job) (go_sql_in_use_connections) / max by (job) (go_sql_max_open_connections > 0) >= 0.9)\n" +
			"and on (job, instance) (sum by (job) (rate(wait_total[5m] offset 1h)) > 0.1)",
			[]string{"go_sql_in_use_connections", "go_sql_max_open_connections", "wait_total"}},
		{`sum(increase(orders_total{state="paid"}[1h])) / ignoring(state) group_left(x) sum(orders_fen_total) * 60 + 1e3`,
			[]string{"orders_total", "orders_fen_total"}},
		{`a unless b or c and bool d`, []string{"a", "b", "c", "d"}},
	} {
		if got := promqlMetricNames(tt.expr); !slices.Equal(got, tt.want) {
			t.Errorf("promqlMetricNames(%q) = %v, want %v", tt.expr, got, tt.want)
		}
	}
}
