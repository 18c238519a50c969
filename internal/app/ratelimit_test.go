package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/app"
	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/platform/config"
	"github.com/minimart/minimart/internal/platform/servicetest"
)

var seq atomic.Int64

// caller makes one request of a limited operation as buyer (a token, "" for none) from the
// client address xff ("" for the connection's own).
type caller func(s *apptest.Server, buyer, xff string) apptest.Response

func request(method, path string, body any, headers map[string]string) caller {
	return func(s *apptest.Server, buyer, xff string) apptest.Response {
		h := maps.Clone(headers)
		if xff != "" {
			h["X-Forwarded-For"] = xff
		}
		return s.DoWith(method, path, buyer, body, h)
	}
}

func post(path string, body any, headers map[string]string) caller {
	if headers == nil {
		headers = map[string]string{}
	}
	return request("POST", path, body, headers)
}

var (
	register = func(s *apptest.Server, buyer, xff string) apptest.Response {
		return post("/api/v1/auth/register", map[string]string{"username": fmt.Sprintf("rl%d", seq.Add(1)), "password": "passw0rd-ok"}, nil)(s, buyer, xff)
	}
	login      = post("/api/v1/auth/login", map[string]string{"username": "nobody", "password": "wrong-pass1"}, nil)
	wechat     = post("/api/v1/auth/wechat", map[string]string{"code": "abc"}, nil)
	staffLogin = post("/api/v1/admin/auth/login", map[string]string{"username": "nobody", "password": "wrong-pass1"}, nil)
	refresh    = post("/api/v1/auth/refresh", map[string]string{"refresh_token": "no-such-token"}, nil)
	// Refused by the handler (no Idempotency-Key): the limit counts requests, not orders.
	createOrder = post("/api/v1/orders", map[string]any{"items": []any{}}, nil)
	payOrder    = post("/api/v1/orders/123/payments", map[string]string{"method": "sandbox"}, map[string]string{"Idempotency-Key": "k"})
	search      = request("GET", "/api/v1/search?q=phone", nil, map[string]string{})
)

// expectLimited fails the test unless r is 429 rate_limited with a Retry-After within
// window, repeated in details.retry_after_seconds.
func expectLimited(t *testing.T, what string, r apptest.Response, window time.Duration) {
	t.Helper()
	if r.Status != http.StatusTooManyRequests || r.ErrorCode() != "rate_limited" {
		t.Fatalf("%s: %d %s, want 429 rate_limited", what, r.Status, r.Body)
	}
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs < 1 || time.Duration(secs)*time.Second > window {
		t.Fatalf("%s: Retry-After %q, want 1–%v", what, r.Header.Get("Retry-After"), window)
	}
	var body struct {
		Error struct {
			Details struct {
				RetryAfterSeconds int `json:"retry_after_seconds"`
			} `json:"details"`
		} `json:"error"`
	}
	r.Decode(t, &body)
	if body.Error.Details.RetryAfterSeconds != secs {
		t.Fatalf("%s: details.retry_after_seconds %d, Retry-After %d", what, body.Error.Details.RetryAfterSeconds, secs)
	}
}

func expect(t *testing.T, what string, r apptest.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: %d %s, want %d", what, r.Status, r.Body, status)
	}
}

// TestRateLimits runs each MINIMART_RATELIMIT_ setting at 2 per minute: two requests are
// answered as usual, the third is refused, and what the setting does not cover is not.
func TestRateLimits(t *testing.T) {
	cases := []struct {
		name string
		env  string
		call caller
		want int // the answer while under the limit
		// buyers: the operation needs a login; perBuyer: each buyer has their own count
		// (otherwise buyers on one address share it).
		buyers, perBuyer bool
	}{
		{"register", "MINIMART_RATELIMIT_REGISTER", register, 201, false, false},
		{"login", "MINIMART_RATELIMIT_LOGIN", login, 401, false, false},
		{"wechat login", "MINIMART_RATELIMIT_LOGIN", wechat, 503, false, false},
		{"staff login", "MINIMART_RATELIMIT_LOGIN", staffLogin, 401, false, false},
		{"refresh", "MINIMART_RATELIMIT_REFRESH", refresh, 401, false, false},
		{"search", "MINIMART_RATELIMIT_SEARCH", search, 200, false, false},
		{"order per buyer", "MINIMART_RATELIMIT_ORDER", createOrder, 400, true, true},
		{"order per IP", "MINIMART_RATELIMIT_ORDER_IP", createOrder, 400, true, false},
		{"payment per buyer", "MINIMART_RATELIMIT_PAYMENT", payOrder, 404, true, true},
		{"payment per IP", "MINIMART_RATELIMIT_PAYMENT_IP", payOrder, 404, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := apptest.Start(t, map[string]string{c.env: "2/1m"})
			var first, second string
			if c.buyers {
				_, a := s.Register("first", "passw0rd-ok")
				_, b := s.Register("second", "passw0rd-ok")
				first, second = a.AccessToken, b.AccessToken
			}
			expect(t, "1st", c.call(s, first, ""), c.want)
			expect(t, "2nd", c.call(s, first, ""), c.want)
			expectLimited(t, "3rd", c.call(s, first, ""), time.Minute)
			if !c.buyers {
				return
			}
			if r := c.call(s, second, ""); c.perBuyer {
				expect(t, "another buyer on the same address", r, c.want)
			} else {
				expectLimited(t, "another buyer on the same address", r, time.Minute)
			}
			if r := c.call(s, "", ""); r.Status != http.StatusUnauthorized {
				t.Fatalf("without a token: %d %s; authentication comes first", r.Status, r.Body)
			}
		})
	}
}

// Every way to log in draws on one count per address: a client cannot get three times the
// attempts by using all three endpoints.
func TestLoginLimitCoversEveryLogin(t *testing.T) {
	s := apptest.Start(t, map[string]string{"MINIMART_RATELIMIT_LOGIN": "3/1m"})
	expect(t, "login", login(s, "", ""), 401)
	expect(t, "wechat", wechat(s, "", ""), 503)
	expect(t, "staff login", staffLogin(s, "", ""), 401)
	for _, c := range []struct {
		name string
		call caller
	}{{"login", login}, {"wechat", wechat}, {"staff login", staffLogin}} {
		expectLimited(t, c.name+" after three", c.call(s, "", ""), time.Minute)
	}
}

// X-Forwarded-For names the client only when it comes from MINIMART_TRUSTED_PROXIES;
// otherwise anyone could get a fresh count per request by sending a new one.
func TestRateLimitClientAddress(t *testing.T) {
	t.Run("untrusted peer", func(t *testing.T) {
		s := apptest.Start(t, map[string]string{"MINIMART_RATELIMIT_REGISTER": "1/1m"})
		expect(t, "first", register(s, "", "198.51.100.1"), 201)
		expectLimited(t, "another X-Forwarded-For", register(s, "", "198.51.100.2"), time.Minute)
	})
	t.Run("trusted proxy", func(t *testing.T) {
		s := apptest.Start(t, map[string]string{"MINIMART_RATELIMIT_REGISTER": "1/1m", "MINIMART_TRUSTED_PROXIES": "127.0.0.1"})
		expect(t, "first client", register(s, "", "198.51.100.1"), 201)
		expect(t, "second client", register(s, "", "198.51.100.2"), 201)
		expectLimited(t, "first client again", register(s, "", "198.51.100.1"), time.Minute)
		expectLimited(t, "spoofed hop left of the client", register(s, "", "203.0.113.9, 198.51.100.2"), time.Minute)
	})
}

func TestRateLimitsOff(t *testing.T) {
	env := map[string]string{"MINIMART_RATELIMITS": "0", "MINIMART_RATELIMIT_REGISTER": "1/1m", "MINIMART_RATELIMIT_SEARCH": "1/1m"}
	s := apptest.Start(t, env)
	for i := range 3 {
		expect(t, fmt.Sprint("register ", i), register(s, "", ""), 201)
		expect(t, fmt.Sprint("search ", i), search(s, "", ""), 200)
	}

	// And the operator is told at start.
	cfg, err := config.Load(func(k string) string { return env[k] }, config.Overrides{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if !strings.Contains(logs.String(), `"level":"WARN","msg":"rate limits are off (MINIMART_RATELIMITS=0)`) {
		t.Fatalf("no warning at start: %s", logs.String())
	}
}

// Two instances sharing a Redis count together: with a limit of 4, two requests on each use
// it up, and both then refuse.
func TestRateLimitSharedThroughRedis(t *testing.T) {
	prefix := make([]byte, 6)
	rand.Read(prefix)
	env := map[string]string{
		"MINIMART_REDIS_URL":          servicetest.RedisURL(t),
		"MINIMART_CACHE_PREFIX":       "mmtest-" + hex.EncodeToString(prefix) + ":",
		"MINIMART_RATELIMIT_REGISTER": "4/1m",
	}
	a, b := apptest.Start(t, env), apptest.Start(t, env)
	for i := range 2 {
		expect(t, fmt.Sprint("A ", i), register(a, "", ""), 201)
		expect(t, fmt.Sprint("B ", i), register(b, "", ""), 201)
	}
	expectLimited(t, "A after four", register(a, "", ""), time.Minute)
	expectLimited(t, "B after four", register(b, "", ""), time.Minute)
}
