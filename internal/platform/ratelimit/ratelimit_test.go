package ratelimit_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/cache"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/ratelimit"
	"github.com/minimart/minimart/internal/platform/web"
)

func TestParse(t *testing.T) {
	good := []struct {
		in   string
		want ratelimit.Limit
	}{
		{"0", ratelimit.Limit{}},
		{"10/1m", ratelimit.Limit{N: 10, Per: time.Minute}},
		{"1/1s", ratelimit.Limit{N: 1, Per: time.Second}},
		{"1200/1m", ratelimit.Limit{N: 1200, Per: time.Minute}},
		{"5/24h", ratelimit.Limit{N: 5, Per: 24 * time.Hour}},
		{"60/10m", ratelimit.Limit{N: 60, Per: 10 * time.Minute}},
	}
	for _, c := range good {
		got, err := ratelimit.Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
		if c.in != "0" && got.Off() {
			t.Errorf("Parse(%q) is off", c.in)
		}
	}
	for _, in := range []string{"abc", "10/", "-1/1m", "0/1m", "/1m", "10", "", "1.5/1m", "10/1", "10/minute", "10/500ms", "10/48h", "10/-1m", "10/1m/2"} {
		if got, err := ratelimit.Parse(in); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", in, got)
		}
	}
}

// server runs a handler answering 200 behind rule, over a fresh in-process cache.
func server(t *testing.T, counters cache.Cache, trusted string, rule ratelimit.Rule, log *slog.Logger) http.Handler {
	t.Helper()
	ips, err := web.NewClientIPs(trusted)
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { web.WriteJSON(w, http.StatusOK, nil) })
	return ratelimit.New(counters, ips, log).Middleware(rule)(ok)
}

func memory(t *testing.T) cache.Cache {
	m := cache.NewMemory(1000)
	t.Cleanup(func() { m.Close() })
	return m
}

type request struct {
	remote, xff string
	user        ids.ID // 0: no principal
}

func send(h http.Handler, rq request) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/x", nil)
	r.RemoteAddr = rq.remote
	if rq.xff != "" {
		r.Header.Set("X-Forwarded-For", rq.xff)
	}
	if rq.user != 0 {
		r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{ID: rq.user, Audience: auth.AudienceBuyer}))
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// checkLimited asserts the 429 answer: code, a Retry-After within the window, and the same
// number in details.retry_after_seconds.
func checkLimited(t *testing.T, w *httptest.ResponseRecorder, window time.Duration) {
	t.Helper()
	var body struct {
		Error struct {
			Code    string
			Message string
			Details map[string]any
		}
	}
	if w.Code != http.StatusTooManyRequests || json.Unmarshal(w.Body.Bytes(), &body) != nil || body.Error.Code != "rate_limited" {
		t.Fatalf("got %d %s, want 429 rate_limited", w.Code, w.Body)
	}
	secs, err := strconv.Atoi(w.Header().Get("Retry-After"))
	if err != nil || secs < 1 || time.Duration(secs)*time.Second > window {
		t.Fatalf("Retry-After %q, want 1–%d seconds", w.Header().Get("Retry-After"), int(window.Seconds()))
	}
	if d, ok := body.Error.Details["retry_after_seconds"].(float64); !ok || int(d) != secs {
		t.Fatalf("details %v, want retry_after_seconds %d", body.Error.Details, secs)
	}
}

func TestLimits(t *testing.T) {
	const a, b, c = "203.0.113.1:4000", "203.0.113.2:4000", "203.0.113.1:5000"
	perIP := ratelimit.Rule{Name: "register", PerIP: ratelimit.Limit{N: 3, Per: time.Minute}}
	perUser := ratelimit.Rule{Name: "order", PerUser: ratelimit.Limit{N: 2, Per: time.Minute}}
	both := ratelimit.Rule{Name: "payment", PerIP: ratelimit.Limit{N: 3, Per: time.Minute}, PerUser: ratelimit.Limit{N: 2, Per: time.Minute}}
	cases := []struct {
		name     string
		rule     ratelimit.Rule
		trusted  string
		requests []request
		// limited lists the requests (by index) answered 429; all others pass.
		limited []int
	}{
		{"per IP: the fourth from one address", perIP, "", []request{{remote: a}, {remote: a}, {remote: a}, {remote: a}}, []int{3}},
		{"per IP: the port does not matter", perIP, "", []request{{remote: a}, {remote: c}, {remote: a}, {remote: c}}, []int{3}},
		{"per IP: each address its own count", perIP, "", []request{{remote: a}, {remote: a}, {remote: a}, {remote: b}, {remote: b}, {remote: a}}, []int{5}},
		{"per IP: one IPv6 /64 is one client", perIP, "",
			[]request{{remote: "[2001:db8:1:2::1]:1"}, {remote: "[2001:db8:1:2::2]:1"}, {remote: "[2001:db8:1:2:ffff::3]:1"}, {remote: "[2001:db8:1:2::4]:1"}, {remote: "[2001:db8:1:3::1]:1"}},
			[]int{3}},
		{"per IP: the rule ignores who is logged in", perIP, "", []request{{remote: a, user: 1}, {remote: a, user: 2}, {remote: a, user: 3}, {remote: a, user: 4}}, []int{3}},
		{"per IP: X-Forwarded-For from an untrusted peer is ignored", perIP, "",
			[]request{{remote: a, xff: "198.51.100.1"}, {remote: a, xff: "198.51.100.2"}, {remote: a, xff: "198.51.100.3"}, {remote: a, xff: "198.51.100.4"}}, []int{3}},
		{"per IP: X-Forwarded-For from a trusted proxy is the client", perIP, "203.0.113.1",
			[]request{{remote: a, xff: "198.51.100.1"}, {remote: a, xff: "198.51.100.2"}, {remote: a, xff: "198.51.100.1"}, {remote: a, xff: "198.51.100.1"}, {remote: a, xff: "198.51.100.1"}},
			[]int{4}},
		{"per user: each buyer their own count", perUser, "", []request{{remote: a, user: 1}, {remote: a, user: 1}, {remote: a, user: 2}, {remote: a, user: 1}, {remote: a, user: 2}, {remote: b, user: 2}}, []int{3, 5}},
		{"per user: no principal, nothing to count", perUser, "", []request{{remote: a}, {remote: a}, {remote: a}, {remote: a}}, nil},
		{"both: buyers behind one address share its count", both, "", []request{{remote: a, user: 1}, {remote: a, user: 2}, {remote: a, user: 3}, {remote: a, user: 4}}, []int{3}},
		{"both: a buyer is limited on any address", both, "", []request{{remote: a, user: 1}, {remote: b, user: 1}, {remote: c, user: 1}}, []int{2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := server(t, memory(t), tc.trusted, tc.rule, slog.New(slog.DiscardHandler))
			for i, rq := range tc.requests {
				w := send(h, rq)
				if slices.Contains(tc.limited, i) {
					checkLimited(t, w, time.Minute)
				} else if w.Code != http.StatusOK {
					t.Fatalf("request %d (%+v): %d %s, want it let through", i, rq, w.Code, w.Body)
				}
			}
		})
	}
}

func TestOffLimitPassesEverything(t *testing.T) {
	h := server(t, memory(t), "", ratelimit.Rule{Name: "search"}, slog.New(slog.DiscardHandler))
	for i := range 100 {
		if w := send(h, request{remote: "203.0.113.1:1", user: 1}); w.Code != http.StatusOK {
			t.Fatalf("request %d: %d", i, w.Code)
		}
	}
}

// A counter store that is down lets requests through and says so in the log: an outage of
// Redis must not become an outage of the shop.
func TestCacheDownLetsRequestsThrough(t *testing.T) {
	// Nothing listens on port 1: every command fails at once with "connection refused".
	down, err := cache.NewRedis("redis://127.0.0.1:1/0", "ratelimit-test:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { down.Close() })
	var logs bytes.Buffer
	rule := ratelimit.Rule{Name: "login", PerIP: ratelimit.Limit{N: 1, Per: time.Minute}, PerUser: ratelimit.Limit{N: 1, Per: time.Minute}}
	h := server(t, down, "", rule, slog.New(slog.NewJSONHandler(&logs, nil)))
	for i := range 3 {
		if w := send(h, request{remote: "203.0.113.1:1", user: 7}); w.Code != http.StatusOK {
			t.Fatalf("request %d with the cache down: %d %s", i, w.Code, w.Body)
		}
	}
	if !strings.Contains(logs.String(), `"level":"WARN"`) || !strings.Contains(logs.String(), "rate limiter unavailable") {
		t.Fatalf("no warning logged: %s", logs.String())
	}
}
