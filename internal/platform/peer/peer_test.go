package peer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/peer"
	"github.com/minimart/minimart/internal/platform/web"
)

const token = "s3cret-service-token"

// Sentinels as a peer module (inventory, user) would declare them.
var (
	errOutOfStock   = errs.New(errs.Conflict, "out_of_stock", "some items are out of stock")
	errTooMany      = errs.New(errs.TooManyRequests, "too_many_attempts", "too many attempts")
	errSKUNotFound  = errs.New(errs.NotFound, "sku_not_found", "no such sku")
	knownPeerErrors = []*errs.Error{errOutOfStock, errTooMany, errSKUNotFound}
)

// stock is a typed answer as a client package would declare it, with its shape check.
type stock struct {
	SKU       string `json:"sku"`
	Available int    `json:"available"`
}

func (s *stock) Check() error {
	if s.SKU == "" {
		return errors.New("sku is empty")
	}
	return nil
}

// logBuf collects log lines written from request and resolver goroutines alike.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newClient(t *testing.T, o peer.Options) (*peer.Client, *logBuf) {
	t.Helper()
	logs := &logBuf{}
	if o.Module == "" {
		o.Module = "inventory"
	}
	if o.Token == "" {
		o.Token = token
	}
	if o.Known == nil {
		o.Known = knownPeerErrors
	}
	o.Log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := peer.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, logs
}

// serve starts a peer instance that counts the requests it gets.
func serve(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func okStock(w http.ResponseWriter, _ *http.Request) {
	web.WriteJSON(w, http.StatusOK, stock{SKU: "A-1", Available: 3})
}

func failing(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "boom", http.StatusInternalServerError)
}

func get(c *peer.Client, idempotent bool) error {
	var out stock
	return c.Call(context.Background(), http.MethodGet, "/internal/v1/stock/A-1", nil, &out, idempotent)
}

// assertUnavailable checks err is ErrUnavailable for the inventory peer and that the web
// layer turns it into a 503 with Retry-After, as the buyer will see it.
func assertUnavailable(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, peer.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	e, _ := errs.As(err)
	if e.Details["service"] != "inventory" || e.Details[errs.RetryAfterSeconds] != int64(1) {
		t.Errorf("details = %#v", e.Details)
	}
	rec := httptest.NewRecorder()
	web.WriteError(rec, httptest.NewRequest(http.MethodGet, "/api/v1/orders", nil), err)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("written as %d, Retry-After %q; want 503, 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	var body web.ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != "dependency_unavailable" {
		t.Errorf("body = %s", rec.Body)
	}
}

// eventually polls cond until it holds, failing the test after a generous deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestCallSendsJSONWithHeaders(t *testing.T) {
	type seen struct {
		method, uri, auth, accept, ctype, reqID, body string
	}
	got := make(chan seen, 1)
	srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.RequestURI, r.Header.Get("Authorization"), r.Header.Get("Accept"),
			r.Header.Get("Content-Type"), r.Header.Get("X-Request-ID"), string(b)}
		okStock(w, r)
	})
	c, _ := newClient(t, peer.Options{Target: srv.URL + "/"})
	if c.Module() != "inventory" {
		t.Errorf("Module() = %q", c.Module())
	}

	in := map[string]any{"order_id": 7, "items": []string{"A-1"}}
	var out stock
	if err := c.Call(context.Background(), http.MethodPost, "/internal/v1/reservations?dry=1", in, &out, false); err != nil {
		t.Fatal(err)
	}
	want := seen{"POST", "/internal/v1/reservations?dry=1", "Bearer " + token, "application/json",
		"application/json", "", `{"items":["A-1"],"order_id":7}`}
	if s := <-got; s != want {
		t.Errorf("peer saw %+v\nwant        %+v", s, want)
	}
	if out != (stock{SKU: "A-1", Available: 3}) {
		t.Errorf("out = %+v", out)
	}

	if err := c.Call(context.Background(), http.MethodGet, "/internal/v1/stock/A-1", nil, &out, true); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s.ctype != "" || s.body != "" || s.method != "GET" {
		t.Errorf("GET without input sent %+v", s)
	}
}

func TestAnswerIgnoredWithoutOut(t *testing.T) {
	for _, h := range []http.HandlerFunc{
		func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) },
		func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok, not JSON") },
	} {
		srv, _ := serve(t, h)
		c, _ := newClient(t, peer.Options{Target: srv.URL})
		if err := c.Call(context.Background(), http.MethodDelete, "/internal/v1/reservations/9", nil, nil, true); err != nil {
			t.Errorf("out == nil: %v", err)
		}
	}
}

func TestRequestIDPropagates(t *testing.T) {
	peerSrv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		web.WriteJSON(w, http.StatusOK, stock{SKU: r.Header.Get("X-Request-ID"), Available: 1})
	})
	c, _ := newClient(t, peer.Options{Target: peerSrv.URL})

	// The calling service: its handler reaches the peer with the request's own context.
	front := web.Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var out stock
		if err := c.Call(r.Context(), http.MethodGet, "/internal/v1/whoami", nil, &out, true); err != nil {
			web.WriteError(w, r, err)
			return
		}
		io.WriteString(w, out.SKU)
	}), web.Observe(slog.New(slog.DiscardHandler), web.NewMetrics(prometheus.NewRegistry())))
	frontSrv := httptest.NewServer(front)
	t.Cleanup(frontSrv.Close)

	for _, sent := range []string{"order-req-42", ""} {
		req, _ := http.NewRequest(http.MethodGet, frontSrv.URL+"/api/v1/orders", nil)
		if sent != "" {
			req.Header.Set("X-Request-ID", sent)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := resp.Header.Get("X-Request-ID") // the id the front service used
		if want == "" || (sent != "" && want != sent) || string(b) != want {
			t.Errorf("sent %q: front used %q, peer saw %q", sent, want, b)
		}
	}
}

func TestKnownDomainErrorCrosses(t *testing.T) {
	tests := []struct {
		name       string
		send       func(w http.ResponseWriter, r *http.Request)
		want       *errs.Error
		wantStatus int
		retryAfter string
	}{
		{
			name: "code message and details",
			send: func(w http.ResponseWriter, r *http.Request) {
				web.WriteError(w, r, errOutOfStock.Withf("2 items are out of stock").
					With(map[string]any{"skus": []string{"A-1", "B-2"}}))
			},
			want: &errs.Error{Kind: errs.Conflict, Code: "out_of_stock", Message: "2 items are out of stock",
				Details: map[string]any{"skus": []any{"A-1", "B-2"}}},
			wantStatus: http.StatusConflict,
		},
		{
			name: "kind comes from the sentinel, not the status",
			send: func(w http.ResponseWriter, r *http.Request) {
				web.WriteJSON(w, http.StatusBadRequest, web.ErrorBody{Error: web.ErrorPayload{Code: "sku_not_found", Message: "gone"}})
			},
			want:       &errs.Error{Kind: errs.NotFound, Code: "sku_not_found", Message: "gone"},
			wantStatus: http.StatusNotFound,
		},
		{
			name: "large ids keep every digit",
			send: func(w http.ResponseWriter, r *http.Request) {
				web.WriteError(w, r, errSKUNotFound.With(map[string]any{"product_id": int64(1234567890123456789)}))
			},
			want: &errs.Error{Kind: errs.NotFound, Code: "sku_not_found", Message: errSKUNotFound.Message,
				Details: map[string]any{"product_id": json.Number("1234567890123456789")}},
			wantStatus: http.StatusNotFound,
		},
		{
			name: "retry after survives the hop",
			send: func(w http.ResponseWriter, r *http.Request) {
				web.WriteError(w, r, errTooMany.With(map[string]any{errs.RetryAfterSeconds: int64(30)}))
			},
			want: &errs.Error{Kind: errs.TooManyRequests, Code: "too_many_attempts", Message: errTooMany.Message,
				Details: map[string]any{errs.RetryAfterSeconds: int64(30)}},
			wantStatus: http.StatusTooManyRequests,
			retryAfter: "30",
		},
		{
			name: "empty message falls back to the sentinel's",
			send: func(w http.ResponseWriter, r *http.Request) {
				web.WriteJSON(w, http.StatusConflict, web.ErrorBody{Error: web.ErrorPayload{Code: "out_of_stock"}})
			},
			want:       &errs.Error{Kind: errs.Conflict, Code: "out_of_stock", Message: errOutOfStock.Message},
			wantStatus: http.StatusConflict,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, hits := serve(t, tt.send)
			c, _ := newClient(t, peer.Options{Target: srv.URL})
			err := get(c, true)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			got, _ := errs.As(err)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
			if hits.Load() != 1 {
				t.Errorf("a domain error was retried: %d hits", hits.Load())
			}
			rec := httptest.NewRecorder()
			web.WriteError(rec, httptest.NewRequest(http.MethodPost, "/api/v1/orders", nil), err)
			if rec.Code != tt.wantStatus || rec.Header().Get("Retry-After") != tt.retryAfter {
				t.Errorf("written as %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
			}
		})
	}
	if !errors.Is(&errs.Error{Code: "out_of_stock"}, errOutOfStock) {
		t.Fatal("errs.Error.Is no longer matches by code; the tests above rely on it")
	}
}

func TestBadPeerIsUnavailable(t *testing.T) {
	jsonAnswer := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(status)
			io.WriteString(w, body)
		}
	}
	peerAt := func(h http.HandlerFunc) func(t *testing.T) string {
		return func(t *testing.T) string { srv, _ := serve(t, h); return srv.URL }
	}
	tests := []struct {
		name    string
		target  func(t *testing.T) string
		timeout time.Duration
	}{
		{name: "malformed JSON on 200", target: peerAt(jsonAnswer(200, `{"sku":"A-1",`))},
		{name: "unknown field", target: peerAt(jsonAnswer(200, `{"sku":"A-1","available":3,"reserved":1}`))},
		{name: "wrong field type", target: peerAt(jsonAnswer(200, `{"sku":"A-1","available":"3"}`))},
		{name: "shape check fails", target: peerAt(jsonAnswer(200, `{"sku":"","available":3}`))},
		{name: "trailing data", target: peerAt(jsonAnswer(200, `{"sku":"A-1","available":3} {}`))},
		{name: "empty 200", target: peerAt(jsonAnswer(200, ``))},
		{name: "wrong content type", target: peerAt(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, `{"sku":"A-1","available":3}`)
		})},
		{name: "unknown error code", target: peerAt(jsonAnswer(409, `{"error":{"code":"mystery","message":"?"}}`))},
		{name: "unreadable 4xx body", target: peerAt(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, "<h1>404 Not Found</h1>")
		})},
		{name: "4xx error body without code", target: peerAt(jsonAnswer(400, `{"error":{"message":"?"}}`))},
		{name: "500", target: peerAt(failing)},
		{name: "503 that is not dependency_unavailable", target: peerAt(jsonAnswer(503, `{"error":{"code":"maintenance","message":"later"}}`))},
		{name: "redirect is not followed", target: func(t *testing.T) string {
			elsewhere, hits := serve(t, okStock)
			t.Cleanup(func() {
				if n := hits.Load(); n != 0 {
					t.Errorf("redirect followed: %d hits on its target", n)
				}
			})
			srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusFound)
			})
			return srv.URL
		}},
		{name: "hanging server", timeout: 100 * time.Millisecond, target: func(t *testing.T) string {
			release := make(chan struct{})
			srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) { <-release })
			t.Cleanup(func() { close(release) }) // runs before srv.Close, which waits for handlers
			return srv.URL
		}},
		{name: "connection refused", target: func(t *testing.T) string {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			return "http://" + addr
		}},
		{name: "oversized body", target: peerAt(jsonAnswer(200, `{"sku":"`+strings.Repeat("a", 5<<20)+`","available":1}`))},
		// Read whole, an endless body would only end at the attempt timeout, holding memory.
		{name: "endless body", timeout: time.Minute, target: peerAt(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"sku":"`)
			chunk := bytes.Repeat([]byte("a"), 64<<10)
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := tt.target(t)
			c, logs := newClient(t, peer.Options{Target: target, Timeout: tt.timeout})
			start := time.Now()
			assertUnavailable(t, get(c, true))
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
			l := logs.String()
			if !strings.Contains(l, `"peer":"inventory"`) || !strings.Contains(l, target) {
				t.Errorf("log does not name the peer and its address:\n%s", l)
			}
			if strings.Contains(l, token) {
				t.Errorf("log leaks the service token:\n%s", l)
			}
		})
	}
}

// TestHealthyRefusals covers answers that prove the peer is up although the call did not
// succeed: they are not retried, do not cool the address and do not feed the breaker.
func TestHealthyRefusals(t *testing.T) {
	tests := []struct {
		name  string
		send  func(w http.ResponseWriter, r *http.Request)
		check func(t *testing.T, err error)
	}{
		{
			name: "domain error",
			send: func(w http.ResponseWriter, r *http.Request) { web.WriteError(w, r, errOutOfStock) },
			check: func(t *testing.T, err error) {
				if !errors.Is(err, errOutOfStock) {
					t.Fatalf("err = %v", err)
				}
			},
		},
		{
			name: "unknown error code",
			send: func(w http.ResponseWriter, r *http.Request) {
				web.WriteError(w, r, errs.New(errs.Invalid, "validation_failed", "bad"))
			},
			check: assertUnavailable,
		},
		{
			name: "peer's own peer is down",
			send: func(w http.ResponseWriter, r *http.Request) {
				web.WriteError(w, r, peer.ErrUnavailable.With(map[string]any{errs.RetryAfterSeconds: int64(2), "service": "payment"}))
			},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, peer.ErrUnavailable) {
					t.Fatalf("err = %v", err)
				}
				e, _ := errs.As(err)
				if e.Details["service"] != "payment" {
					t.Errorf("details = %#v; want the service that is really down", e.Details)
				}
				rec := httptest.NewRecorder()
				web.WriteError(rec, httptest.NewRequest(http.MethodGet, "/", nil), err)
				if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "2" {
					t.Errorf("written as %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
				}
			},
		},
		{
			name: "peer's own peer is down, no details",
			send: func(w http.ResponseWriter, r *http.Request) { web.WriteError(w, r, peer.ErrUnavailable) },
			check: func(t *testing.T, err error) {
				rec := httptest.NewRecorder()
				web.WriteError(rec, httptest.NewRequest(http.MethodGet, "/", nil), err)
				if !errors.Is(err, peer.ErrUnavailable) || rec.Header().Get("Retry-After") != "1" {
					t.Errorf("err = %v, Retry-After %q", err, rec.Header().Get("Retry-After"))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var refused atomic.Bool
			a, aHits := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if refused.CompareAndSwap(false, true) {
					tt.send(w, r)
					return
				}
				okStock(w, r)
			})
			b, bHits := serve(t, okStock)
			c, _ := newClient(t, peer.Options{Target: a.URL + "," + b.URL, BreakerFailures: 1, FailCooldown: time.Hour})

			tt.check(t, get(c, true))
			if aHits.Load() != 1 || bHits.Load() != 0 {
				t.Fatalf("hits a=%d b=%d; want the refusal taken without retry", aHits.Load(), bHits.Load())
			}
			// Round-robin continues over both: a is not cooling and the breaker is closed.
			for range 4 {
				if err := get(c, true); err != nil {
					t.Fatal(err)
				}
			}
			if aHits.Load() != 3 || bHits.Load() != 2 {
				t.Errorf("hits a=%d b=%d, want 3 and 2", aHits.Load(), bHits.Load())
			}
		})
	}
}

func TestRoundRobin(t *testing.T) {
	var targets []string
	var hits []*atomic.Int64
	for range 3 {
		srv, n := serve(t, okStock)
		targets, hits = append(targets, srv.URL), append(hits, n)
	}
	c, _ := newClient(t, peer.Options{Target: strings.Join(targets, ",")})
	for range 9 {
		if err := get(c, true); err != nil {
			t.Fatal(err)
		}
	}
	for i, n := range hits {
		if n.Load() != 3 {
			t.Errorf("address %d got %d of 9 calls", i, n.Load())
		}
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name       string
		handlers   []http.HandlerFunc
		attempts   int
		idempotent bool
		wantErr    bool
		wantHits   []int64
	}{
		{"idempotent moves to the next address", []http.HandlerFunc{failing, okStock}, 0, true, false, []int64{1, 1}},
		{"non-idempotent gets one attempt", []http.HandlerFunc{failing, okStock}, 0, false, true, []int64{1, 0}},
		{"each attempt on another address", []http.HandlerFunc{failing, failing, failing}, 0, true, true, []int64{1, 1, 1}},
		{"attempts are bounded", []http.HandlerFunc{failing, failing, failing}, 2, true, true, []int64{1, 1, 0}},
		{"one address is retried in place", []http.HandlerFunc{failing}, 0, true, true, []int64{3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var targets []string
			var hits []*atomic.Int64
			for _, h := range tt.handlers {
				srv, n := serve(t, h)
				targets, hits = append(targets, srv.URL), append(hits, n)
			}
			c, _ := newClient(t, peer.Options{Target: strings.Join(targets, ","), Attempts: tt.attempts})
			err := get(c, tt.idempotent)
			if tt.wantErr {
				assertUnavailable(t, err)
			} else if err != nil {
				t.Fatal(err)
			}
			for i, n := range hits {
				if n.Load() != tt.wantHits[i] {
					t.Errorf("address %d: %d hits, want %d", i, n.Load(), tt.wantHits[i])
				}
			}
		})
	}
}

func TestCooldown(t *testing.T) {
	t.Run("failed address is skipped", func(t *testing.T) {
		a, aHits := serve(t, failing)
		b, bHits := serve(t, okStock)
		c, _ := newClient(t, peer.Options{Target: a.URL + "," + b.URL, FailCooldown: time.Hour})
		for range 6 {
			if err := get(c, true); err != nil {
				t.Fatal(err)
			}
		}
		if aHits.Load() != 1 || bHits.Load() != 6 {
			t.Errorf("hits a=%d b=%d, want 1 and 6", aHits.Load(), bHits.Load())
		}
	})
	t.Run("all cooling: still tried", func(t *testing.T) {
		a, aHits := serve(t, failing)
		b, bHits := serve(t, failing)
		c, _ := newClient(t, peer.Options{Target: a.URL + "," + b.URL, FailCooldown: time.Hour, Attempts: 2})
		for range 2 {
			assertUnavailable(t, get(c, true))
		}
		if aHits.Load() != 2 || bHits.Load() != 2 {
			t.Errorf("hits a=%d b=%d, want 2 each", aHits.Load(), bHits.Load())
		}
	})
	t.Run("a cooling address that answers is back at once", func(t *testing.T) {
		var aFailed atomic.Bool
		var bDown atomic.Bool
		a, aHits := serve(t, func(w http.ResponseWriter, r *http.Request) {
			if aFailed.CompareAndSwap(false, true) {
				failing(w, r)
				return
			}
			okStock(w, r)
		})
		b, bHits := serve(t, func(w http.ResponseWriter, r *http.Request) {
			if bDown.Load() {
				failing(w, r)
				return
			}
			okStock(w, r)
		})
		c, _ := newClient(t, peer.Options{Target: a.URL + "," + b.URL, FailCooldown: time.Hour})
		if err := get(c, true); err != nil || aHits.Load() != 1 || bHits.Load() != 1 {
			t.Fatalf("a fails, b answers: err %v hits %d %d", err, aHits.Load(), bHits.Load())
		}
		// b fails too; the retry goes to a although it is cooling, and a answers.
		bDown.Store(true)
		if err := get(c, true); err != nil || aHits.Load() != 2 || bHits.Load() != 2 {
			t.Fatalf("b fails, a answers: err %v hits %d %d", err, aHits.Load(), bHits.Load())
		}
		bDown.Store(false)
		for range 4 {
			if err := get(c, true); err != nil {
				t.Fatal(err)
			}
		}
		if aHits.Load() != 6 || bHits.Load() != 2 {
			t.Errorf("hits a=%d b=%d, want 6 and 2: a answered, so only b is cooling", aHits.Load(), bHits.Load())
		}
	})
	t.Run("address returns after the cooldown", func(t *testing.T) {
		var failedOnce atomic.Bool
		a, aHits := serve(t, func(w http.ResponseWriter, r *http.Request) {
			if failedOnce.CompareAndSwap(false, true) {
				failing(w, r)
				return
			}
			okStock(w, r)
		})
		b, _ := serve(t, okStock)
		c, _ := newClient(t, peer.Options{Target: a.URL + "," + b.URL, FailCooldown: 50 * time.Millisecond})
		eventually(t, "the failed address to be used again", func() bool {
			if err := get(c, true); err != nil {
				t.Fatal(err)
			}
			return aHits.Load() > 1
		})
	})
}

func TestBreaker(t *testing.T) {
	t.Run("open fails fast; a call is one failure however many attempts", func(t *testing.T) {
		srv, hits := serve(t, failing)
		c, _ := newClient(t, peer.Options{Target: srv.URL, BreakerFailures: 2, BreakerOpen: time.Hour})
		for range 2 {
			assertUnavailable(t, get(c, true))
		}
		if hits.Load() != 6 {
			t.Fatalf("%d hits, want 2 calls × 3 attempts", hits.Load())
		}
		for range 3 {
			assertUnavailable(t, get(c, true))
		}
		if hits.Load() != 6 {
			t.Errorf("open breaker let %d requests through", hits.Load()-6)
		}
	})

	t.Run("trial after the open period; success closes", func(t *testing.T) {
		var down atomic.Bool
		down.Store(true)
		srv, hits := serve(t, func(w http.ResponseWriter, r *http.Request) {
			if down.Load() {
				failing(w, r)
				return
			}
			okStock(w, r)
		})
		c, logs := newClient(t, peer.Options{Target: srv.URL, Attempts: 1, BreakerFailures: 3, BreakerOpen: 50 * time.Millisecond})
		for range 3 {
			assertUnavailable(t, get(c, true))
		}
		// Still down: a trial goes through, fails and the breaker opens again, so
		// another trial follows only after another open period.
		eventually(t, "a failed trial and then a second trial", func() bool {
			assertUnavailable(t, get(c, true))
			return hits.Load() >= 5
		})
		down.Store(false)
		eventually(t, "a successful trial", func() bool { return get(c, true) == nil })
		before := hits.Load()
		for range 5 {
			if err := get(c, true); err != nil {
				t.Fatalf("breaker did not close: %v", err)
			}
		}
		if hits.Load() != before+5 {
			t.Errorf("hits %d, want %d", hits.Load(), before+5)
		}
		if l := logs.String(); !strings.Contains(l, `"to":"open"`) || !strings.Contains(l, `"to":"closed"`) {
			t.Errorf("state changes not logged:\n%s", l)
		}
	})

	t.Run("domain errors and unknown codes do not trip it", func(t *testing.T) {
		var n atomic.Int64
		srv, hits := serve(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1)%2 == 0 {
				web.WriteError(w, r, errOutOfStock)
				return
			}
			web.WriteError(w, r, errs.New(errs.Forbidden, "not_yours", "no"))
		})
		c, _ := newClient(t, peer.Options{Target: srv.URL, BreakerFailures: 1, BreakerOpen: time.Hour})
		for range 6 {
			if err := get(c, true); err == nil {
				t.Fatal("want an error")
			}
		}
		if hits.Load() != 6 {
			t.Errorf("%d hits, want 6: the breaker opened on healthy answers", hits.Load())
		}
	})
}

func TestCallerContext(t *testing.T) {
	var block atomic.Bool
	entered := make(chan struct{})
	release := make(chan struct{})
	srv, hits := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if block.Load() {
			entered <- struct{}{}
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		okStock(w, r)
	})
	t.Cleanup(func() { close(release) })
	// One counted failure would open this breaker and a cooled address would still be
	// tried (it is the only one), so the healthy call at the end proves nothing counted.
	c, _ := newClient(t, peer.Options{Target: srv.URL, BreakerFailures: 1, BreakerOpen: time.Hour, Timeout: time.Minute})

	block.Store(true)
	for range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-entered; cancel() }()
		err := c.Call(ctx, http.MethodGet, "/internal/v1/stock/A-1", nil, &stock{}, true)
		if !errors.Is(err, context.Canceled) || errors.Is(err, peer.ErrUnavailable) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	}
	if hits.Load() != 3 {
		t.Errorf("%d hits, want 3: a call whose caller left was retried", hits.Load())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	go func() { <-entered }()
	if err := c.Call(ctx, http.MethodGet, "/internal/v1/stock/A-1", nil, &stock{}, true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("caller deadline: err = %v", err)
	}

	gone, stop := context.WithCancel(context.Background())
	stop()
	before := hits.Load()
	if err := c.Call(gone, http.MethodGet, "/internal/v1/stock/A-1", nil, &stock{}, true); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before the call: err = %v", err)
	}
	if hits.Load() != before {
		t.Error("a call with a cancelled context reached the peer")
	}

	block.Store(false)
	if err := get(c, true); err != nil {
		t.Fatalf("after cancelled calls: %v (the breaker counted them)", err)
	}
}

func TestCallerMistakesAreNotUnavailable(t *testing.T) {
	srv, hits := serve(t, okStock)
	c, _ := newClient(t, peer.Options{Target: srv.URL, BreakerFailures: 1, BreakerOpen: time.Hour})
	for name, call := range map[string]func() error{
		"bad method": func() error {
			return c.Call(context.Background(), "BAD METHOD", "/internal/v1/x", nil, nil, true)
		},
		"relative path": func() error {
			return c.Call(context.Background(), http.MethodGet, "internal/v1/x", nil, nil, true)
		},
		"unencodable input": func() error {
			return c.Call(context.Background(), http.MethodPost, "/internal/v1/x", make(chan int), nil, false)
		},
	} {
		err := call()
		if err == nil || errors.Is(err, peer.ErrUnavailable) {
			t.Errorf("%s: err = %v, want a plain error (a bug on our side, answered as 500)", name, err)
		}
	}
	if err := get(c, true); err != nil || hits.Load() != 1 {
		t.Errorf("after caller mistakes: err %v, %d hits", err, hits.Load())
	}
}

// fakeResolver answers like DNS for a headless Service whose pods come and go.
type fakeResolver struct {
	mu      sync.Mutex
	lookups int
	hosts   []string
	err     error
	asked   []string
}

func (r *fakeResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups++
	if !slices.Contains(r.asked, host) {
		r.asked = append(r.asked, host)
	}
	return slices.Clone(r.hosts), r.err
}

// answer changes what later lookups return and says how many lookups came before. Every
// lookup after that number sees the new answer, and lookups run one after another, so once
// the count passes it by two the new answer has been applied.
func (r *fakeResolver) answer(hosts []string, err error) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hosts, r.err = hosts, err
	return r.lookups
}

func (r *fakeResolver) askedFor() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.asked)
}

func (r *fakeResolver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lookups
}

func (r *fakeResolver) waitApplied(t *testing.T, n int) {
	t.Helper()
	eventually(t, "re-resolution", func() bool { return r.count() >= n+2 })
}

// fakeNetwork routes the made-up addresses a resolver returns to real test servers, so
// one port can serve several "pods" and IPv6 addresses work without an IPv6 loopback.
func fakeNetwork(t *testing.T, routes map[string]string) *http.Transport {
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		real, ok := routes[addr]
		if !ok {
			return nil, fmt.Errorf("dial %s: no such host in the test network", addr)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, real)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

type pod struct {
	hits  *atomic.Int64
	hosts chan string
}

func newPod(t *testing.T) (pod, string) {
	p := pod{hosts: make(chan string, 100)}
	srv, hits := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case p.hosts <- r.Host:
		default:
		}
		okStock(w, r)
	})
	p.hits = hits
	return p, srv.Listener.Addr().String()
}

func TestDNSTarget(t *testing.T) {
	a, aAddr := newPod(t)
	b, bAddr := newPod(t)
	c3, cAddr := newPod(t)
	tr := fakeNetwork(t, map[string]string{"10.0.0.1:8080": aAddr, "[fd00::2]:8080": bAddr, "10.0.0.3:8080": cAddr})
	r := &fakeResolver{hosts: []string{"10.0.0.1"}}
	c, logs := newClient(t, peer.Options{Target: "dns://inventory.minimart.svc:8080", Resolver: r,
		ResolveEvery: 5 * time.Millisecond, Transport: tr})

	if err := get(c, true); err != nil || a.hits.Load() != 1 {
		t.Fatalf("first address: err %v, hits %d", err, a.hits.Load())
	}

	r.waitApplied(t, r.answer([]string{"fd00::2", "10.0.0.3"}, nil))
	for range 4 {
		if err := get(c, true); err != nil {
			t.Fatal(err)
		}
	}
	if a.hits.Load() != 1 || b.hits.Load() != 2 || c3.hits.Load() != 2 {
		t.Fatalf("after the answer changed: hits %d %d %d, want 1 2 2", a.hits.Load(), b.hits.Load(), c3.hits.Load())
	}
	if h := <-b.hosts; h != "[fd00::2]:8080" {
		t.Errorf("IPv6 pod was asked for host %q", h)
	}

	for _, fail := range []struct {
		hosts []string
		err   error
	}{{nil, errors.New("SERVFAIL")}, {[]string{}, nil}, {[]string{"not a host!"}, nil}} {
		r.waitApplied(t, r.answer(fail.hosts, fail.err))
		for range 4 {
			if err := get(c, true); err != nil {
				t.Fatalf("lookup %v/%v dropped the last good list: %v", fail.hosts, fail.err, err)
			}
		}
	}
	if a.hits.Load() != 1 || b.hits.Load()+c3.hits.Load() != 16 {
		t.Errorf("hits %d %d %d", a.hits.Load(), b.hits.Load(), c3.hits.Load())
	}
	if !slices.Equal(r.askedFor(), []string{"inventory.minimart.svc"}) {
		t.Errorf("resolver asked for %v", r.askedFor())
	}
	if !strings.Contains(logs.String(), "SERVFAIL") {
		t.Errorf("failed lookup not logged:\n%s", logs)
	}
}

func TestDNSUnresolvableAtStart(t *testing.T) {
	a, aAddr := newPod(t)
	tr := fakeNetwork(t, map[string]string{"10.0.0.1:8080": aAddr})
	r := &fakeResolver{err: errors.New("no such host")}
	c, _ := newClient(t, peer.Options{Target: "dns://inventory:8080", Resolver: r,
		ResolveEvery: 5 * time.Millisecond, Transport: tr, BreakerFailures: 1, BreakerOpen: time.Hour})

	for range 3 {
		assertUnavailable(t, get(c, true))
	}
	assertUnavailable(t, c.Ping(context.Background()))

	r.waitApplied(t, r.answer([]string{"10.0.0.1"}, nil))
	if err := get(c, true); err != nil {
		t.Fatalf("after the name resolved: %v", err)
	}
	if a.hits.Load() != 1 {
		t.Errorf("%d hits", a.hits.Load())
	}
}

func TestPing(t *testing.T) {
	var healthy atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		web.Liveness().ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /internal/v1/stock/{sku}", okStock)
	srv, _ := serve(t, mux.ServeHTTP)
	c, _ := newClient(t, peer.Options{Target: srv.URL, BreakerFailures: 1, BreakerOpen: time.Hour})

	for range 3 {
		assertUnavailable(t, c.Ping(context.Background()))
	}
	if err := get(c, true); err != nil {
		t.Fatalf("failed pings fed the breaker: %v", err)
	}
	healthy.Store(true)
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	down, _ := newClient(t, peer.Options{Target: "http://" + ln.Addr().String()})
	assertUnavailable(t, down.Ping(context.Background()))
}

func TestRequireToken(t *testing.T) {
	guarded := func(tok string) (http.Handler, *atomic.Int64) {
		var passed atomic.Int64
		return peer.RequireToken(tok)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			passed.Add(1)
			w.WriteHeader(http.StatusNoContent)
		})), &passed
	}
	tests := []struct {
		name   string
		token  string // configured
		header string // Authorization sent; "" sends none
		pass   bool
	}{
		{"right token", token, "Bearer " + token, true},
		{"scheme is case-insensitive", token, "bearer " + token, true},
		{"missing", token, "", false},
		{"wrong token", token, "Bearer not-the-token", false},
		{"prefix of the token", token, "Bearer " + token[:5], false},
		{"token with more after it", token, "Bearer " + token + "x", false},
		{"buyer JWT", token, "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl", false},
		{"basic scheme", token, "Basic " + token, false},
		{"no scheme", token, token, false},
		{"empty bearer", token, "Bearer ", false},
		{"no token configured refuses everything", "", "Bearer ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, passed := guarded(tt.token)
			req := httptest.NewRequest(http.MethodPost, "/internal/v1/reservations", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if tt.pass {
				if rec.Code != http.StatusNoContent || passed.Load() != 1 {
					t.Fatalf("status %d, passed %d", rec.Code, passed.Load())
				}
				return
			}
			var body web.ErrorBody
			json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != http.StatusUnauthorized || body.Error.Code != "invalid_service_token" || passed.Load() != 0 {
				t.Errorf("status %d code %q passed %d", rec.Code, body.Error.Code, passed.Load())
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != `Bearer realm="minimart-internal"` {
				t.Errorf("WWW-Authenticate = %q", got)
			}
		})
	}

	t.Run("client and guard agree", func(t *testing.T) {
		h, _ := guarded(token)
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		good, _ := newClient(t, peer.Options{Target: srv.URL})
		if err := good.Call(context.Background(), http.MethodPost, "/internal/v1/x", struct{}{}, nil, false); err != nil {
			t.Fatal(err)
		}
		bad, logs := newClient(t, peer.Options{Target: srv.URL, Token: "stale-token"})
		assertUnavailable(t, bad.Call(context.Background(), http.MethodPost, "/internal/v1/x", struct{}{}, nil, false))
		if l := logs.String(); !strings.Contains(l, "invalid_service_token") || !strings.Contains(l, `"level":"ERROR"`) {
			t.Errorf("a refused token must be logged as an error naming the code:\n%s", l)
		}
	})
}

func TestConcurrentCalls(t *testing.T) {
	a, aHits := serve(t, okStock)
	b, bHits := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("fail") != "" {
			failing(w, r)
			return
		}
		okStock(w, r)
	})
	c, _ := newClient(t, peer.Options{Target: a.URL + "," + b.URL, FailCooldown: time.Millisecond, BreakerFailures: 1000})
	var wg sync.WaitGroup
	var failed atomic.Int64
	for g := range 20 {
		wg.Go(func() {
			for i := range 25 {
				path := "/internal/v1/stock/A-1"
				if (g+i)%5 == 0 {
					path += "?fail=1"
				}
				var out stock
				if err := c.Call(context.Background(), http.MethodGet, path, nil, &out, true); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Errorf("%d calls failed although one address always answers", failed.Load())
	}
	if aHits.Load() == 0 || bHits.Load() == 0 {
		t.Errorf("hits a=%d b=%d", aHits.Load(), bHits.Load())
	}
}

// TestAttemptsSpreadUnderConcurrency checks that a call's retries go to addresses it has
// not tried, even while other calls move the shared round-robin position.
func TestAttemptsSpreadUnderConcurrency(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]map[int]int{} // call id → address index → hits
	var targets []string
	for i := range 3 {
		srv, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			id := r.URL.Query().Get("call")
			if seen[id] == nil {
				seen[id] = map[int]int{}
			}
			seen[id][i]++
			mu.Unlock()
			failing(w, r)
		})
		targets = append(targets, srv.URL)
	}
	c, _ := newClient(t, peer.Options{Target: strings.Join(targets, ","), FailCooldown: time.Nanosecond, BreakerFailures: 1 << 20})
	var wg sync.WaitGroup
	for g := range 40 {
		wg.Go(func() {
			path := fmt.Sprintf("/internal/v1/stock/A-1?call=%d", g)
			if err := c.Call(context.Background(), http.MethodGet, path, nil, &stock{}, true); !errors.Is(err, peer.ErrUnavailable) {
				t.Errorf("call %d: %v", g, err)
			}
		})
	}
	wg.Wait()
	for id, byAddr := range seen {
		if len(byAddr) != 3 {
			t.Errorf("call %s: attempts per address %v, want one on each of 3", id, byAddr)
		}
	}
	if len(seen) != 40 {
		t.Errorf("%d calls reached the peers", len(seen))
	}
}

func TestNew(t *testing.T) {
	bad := []string{
		"", " ", ",", "ftp://x", "http://x/path", "dns://nohostport", "dns://:80", "dns://a:1/x",
		"dns://a:1,http://b:2", "http://b:2,dns://a:1", "http://", "http://a:0", "http://a:99999",
		"http://a:", "http://user:pw@a:1", "http://a:1?x=1", "http://a:1#f", "http://a:1,", "a:1",
		"inventory", "http://a_b c:1", "http://[::1", "//a:1", "http://a..b:1",
	}
	for _, target := range bad {
		c, err := peer.New(peer.Options{Module: "inventory", Target: target})
		if err == nil {
			c.Close()
			t.Errorf("target %q accepted", target)
		} else if !strings.Contains(err.Error(), "inventory") {
			t.Errorf("target %q: error %q does not name the peer", target, err)
		}
	}
	if _, err := peer.New(peer.Options{Target: "http://a:1"}); err == nil || !strings.Contains(err.Error(), "Module") {
		t.Errorf("missing Module: err = %v", err)
	}
	if _, err := peer.New(peer.Options{Module: "inventory", Target: "http://a:1", Known: []*errs.Error{nil}}); err == nil {
		t.Error("nil Known entry accepted")
	}

	good := []string{
		"http://a:1", "https://inventory.example", "http://a:1/", "http://a:1, http://b:2",
		"http://[::1]:8080", "HTTP://A:1", "dns://inventory.minimart.svc.cluster.local:8080", "DNS://inventory:80",
		"dns://[fd00::1]:80",
	}
	for _, target := range good {
		c, err := peer.New(peer.Options{Module: "inventory", Target: target, Resolver: &fakeResolver{err: errors.New("offline")},
			Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Errorf("target %q: %v", target, err)
			continue
		}
		c.Close()
		c.Close() // idempotent
	}
}

func TestParseTargetCanonical(t *testing.T) {
	tests := []struct {
		in         string
		urls       []string
		host, port string
	}{
		{in: "http://A.Example:0080/", urls: []string{"http://a.example:80"}},
		{in: " http://a:1 , http://a:1,https://b", urls: []string{"http://a:1", "https://b"}},
		{in: "http://[::1]:8080", urls: []string{"http://[::1]:8080"}},
		{in: "http://[::1]", urls: []string{"http://[::1]"}},
		{in: "http://[fe80::1%25eth0]:80", urls: []string{"http://[fe80::1%25eth0]:80"}},
		{in: "dns://Inventory.svc:8080", host: "inventory.svc", port: "8080"},
		{in: "dns://[fd00::1]:80/", host: "fd00::1", port: "80"},
	}
	for _, tt := range tests {
		urls, host, port, err := peer.ParseTarget(tt.in)
		if err != nil || !slices.Equal(urls, tt.urls) || host != tt.host || port != tt.port {
			t.Errorf("%q → %q %q %q %v; want %q %q %q", tt.in, urls, host, port, err, tt.urls, tt.host, tt.port)
		}
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{
		"http://a:1", "https://b", "http://a:1,http://b:2", "http://[::1]:8080", "http://[fe80::1%25eth0]:80",
		"dns://inventory:8080", "dns://[::1]:80", "", "ftp://x", "http://x/path", "dns://nohostport",
		"http://user@a", "http://a:1?q#f", "http://a:65536", " http://A:1/ ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		urls, host, port, err := peer.ParseTarget(s)
		if err != nil {
			if urls != nil || host != "" || port != "" {
				t.Fatalf("%q: error %v with a result", s, err)
			}
			return
		}
		if (len(urls) == 0) == (host == "") {
			t.Fatalf("%q: want either URLs or a DNS name, got %q and %q", s, urls, host)
		}
		if host != "" {
			if port == "" || port[0] == '0' || len(port) > 5 {
				t.Fatalf("%q: port %q", s, port)
			}
			again := "dns://" + net.JoinHostPort(host, port)
			if _, h2, p2, err := peer.ParseTarget(again); err != nil || h2 != host || p2 != port {
				t.Fatalf("%q → %q does not parse back the same: %q %q %v", s, again, h2, p2, err)
			}
			return
		}
		for _, raw := range urls {
			u, err := url.Parse(raw)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" ||
				u.Path != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "/") {
				t.Fatalf("%q gave an unusable base URL %q", s, raw)
			}
			if _, err := http.NewRequest(http.MethodGet, raw+"/internal/v1/x", nil); err != nil {
				t.Fatalf("%q gave base URL %q that cannot make a request: %v", s, raw, err)
			}
		}
		again, _, _, err := peer.ParseTarget(strings.Join(urls, ","))
		if err != nil || !slices.Equal(again, urls) {
			t.Fatalf("%q: canonical form %q parses to %q, %v", s, urls, again, err)
		}
	})
}
