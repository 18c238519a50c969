package main

// The split group's measuring tools beyond loadgen (wrk rows are in wrk.go): counting the
// remote calls a request makes from the instances' own request counters.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/minimart/minimart/bench/loadgen"
)

// ---- remote calls, from the instances' request counters ----

// httpKey is one series of minimart_http_requests_total.
type httpKey struct{ method, route, status string }

// routePath is a route pattern without its method ("GET /api/v1/cart" → "/api/v1/cart").
func (k httpKey) routePath() string {
	if _, p, ok := strings.Cut(k.route, " "); ok {
		return strings.TrimSpace(p)
	}
	return k.route
}

// parseHTTPCounts reads minimart_http_requests_total from a /metrics page.
func parseHTTPCounts(text string) (map[httpKey]float64, error) {
	const name = "minimart_http_requests_total"
	m := map[httpKey]float64{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		rest, ok := strings.CutPrefix(line, name+"{")
		if !ok {
			continue
		}
		labels, value, err := parseLabels(rest)
		if err != nil {
			return nil, fmt.Errorf("metrics: %v in %q", err, line)
		}
		fields := strings.Fields(value)
		if len(fields) == 0 {
			return nil, fmt.Errorf("metrics: no value in %q", line)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics: bad value in %q", line)
		}
		m[httpKey{labels["method"], labels["route"], labels["status"]}] += v
	}
	return m, nil
}

// parseLabels reads `a="x",b="y\"z"} rest` and returns the labels and rest.
func parseLabels(s string) (map[string]string, string, error) {
	labels := map[string]string{}
	for {
		s = strings.TrimLeft(s, " ,")
		if strings.HasPrefix(s, "}") {
			return labels, s[1:], nil
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 || len(s) < eq+2 || s[eq+1] != '"' {
			return nil, "", errors.New("bad label")
		}
		key := strings.TrimSpace(s[:eq])
		s = s[eq+2:]
		var val strings.Builder
		closed := false
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				i++
				switch s[i] {
				case 'n':
					val.WriteByte('\n')
				default:
					val.WriteByte(s[i])
				}
				continue
			}
			if c == '"' {
				s, closed = s[i+1:], true
				break
			}
			val.WriteByte(c)
		}
		if !closed {
			return nil, "", errors.New("unterminated label value")
		}
		labels[key] = val.String()
	}
}

// scrapeHTTPCounts reads one instance's request counters.
func scrapeHTTPCounts(ctx context.Context, base string) (map[httpKey]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s/metrics: status %d", base, resp.StatusCode)
	}
	return parseHTTPCounts(string(body))
}

// callTally is what the instances counted while one row ran: the public requests of the
// row on the instance under test and the /internal/ requests its peers answered.
type callTally struct {
	requests float64            // the row's route on the instance under test (passing answers)
	internal map[string]float64 // "METHOD /internal/… pattern" → calls answered by peers
}

// calls is the total of the internal calls.
func (c callTally) calls() float64 {
	t := 0.0
	for _, v := range c.internal {
		t += v
	}
	return t
}

// perRequest is calls per request of the row (0 without requests).
func (c callTally) perRequest() float64 {
	if c.requests <= 0 {
		return 0
	}
	return c.calls() / c.requests
}

// breakdown lists the internal routes with their calls per request: "GET /internal/v1/users/
// ×1.00, …", most frequent first.
func (c callTally) breakdown() string {
	type kv struct {
		k string
		v float64
	}
	var l []kv
	for k, v := range c.internal {
		if v > 0 {
			l = append(l, kv{k, v})
		}
	}
	sort.Slice(l, func(i, j int) bool {
		if l[i].v != l[j].v {
			return l[i].v > l[j].v
		}
		return l[i].k < l[j].k
	})
	parts := make([]string, len(l))
	for i, e := range l {
		per := 0.0
		if c.requests > 0 {
			per = e.v / c.requests
		}
		parts[i] = fmt.Sprintf("`%s` ×%.2f", e.k, per)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// tallyCalls compares counters from before and after a row: requests are the series of
// the instance under test with that method, route path and status; internal calls are every
// /internal/ series of the peers, whatever their status.
func tallyCalls(targetBefore, targetAfter map[httpKey]float64, method, path, status string, peersBefore, peersAfter []map[httpKey]float64) callTally {
	t := callTally{internal: map[string]float64{}}
	for k, v := range targetAfter {
		if k.method == method && k.routePath() == path && k.status == status {
			t.requests += v - targetBefore[k]
		}
	}
	for i, after := range peersAfter {
		var before map[httpKey]float64
		if i < len(peersBefore) {
			before = peersBefore[i]
		}
		for k, v := range after {
			if strings.HasPrefix(k.routePath(), "/internal/") {
				if d := v - before[k]; d > 0 {
					label := k.route
					if !strings.Contains(label, " ") {
						label = k.method + " " + label
					}
					t.internal[label] += d
				}
			}
		}
	}
	return t
}

// perHop is the latency one remote call adds, from the same request measured in the
// monolith and on a split instance that makes hops remote calls for it: (split − mono) /
// hops. ok is false when there is no hop to divide by.
func perHop(split, mono time.Duration, hops float64) (d time.Duration, ok bool) {
	if hops <= 0 {
		return 0, false
	}
	return time.Duration(float64(split-mono) / hops), true
}

// formatSignedLatency is FormatLatency with a sign for negative values.
func formatSignedLatency(d time.Duration) string {
	if d < 0 {
		return "−" + loadgen.FormatLatency(-d)
	}
	return loadgen.FormatLatency(d)
}
