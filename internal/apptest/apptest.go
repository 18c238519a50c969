// Package apptest builds the real application in-process for HTTP tests: the same
// composition root as the binary, on a temporary SQLite data dir, behind httptest.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/app"
	"github.com/minimart/minimart/internal/platform/config"
	"github.com/minimart/minimart/internal/platform/ids"
)

// Server is a running app and a client for it.
type Server struct {
	App  *app.App
	URL  string
	t    testing.TB
	stop func()
}

// Start builds the app with env (over test defaults: cheap password hashing, no bootstrap
// admin) and serves it on a new loopback port until the test ends.
func Start(t testing.TB, env map[string]string) *Server {
	t.Helper()
	return StartOn(t, Listen(t), env)
}

// Listen opens a loopback listener, so a test can know a server's address before the
// server starts (services that name each other as peers).
func Listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// StartOn is Start serving on ln.
func StartOn(t testing.TB, ln net.Listener, env map[string]string) *Server {
	t.Helper()
	defaults := map[string]string{"MINIMART_PASSWORD_COST": "4", "MINIMART_BOOTSTRAP_ADMIN": "0"}
	cfg, err := config.Load(func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return defaults[k]
	}, config.Overrides{DataDir: dataDir(t, env)})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		ln.Close()
		t.Fatalf("app: %v", err)
	}
	// The whole app runs, relay and event consumers included, so tests see events applied.
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln, nil) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("app run: %v", err)
			}
			a.Close()
		})
	}
	t.Cleanup(stop)
	return &Server{App: a, URL: "http://" + ln.Addr().String(), t: t, stop: stop}
}

// Stop shuts the app down as SIGTERM would; the test's cleanup does it if the test does not.
func (s *Server) Stop() { s.stop() }

// dataDir is MINIMART_DATA_DIR from env (to restart on the same data), else a new one.
func dataDir(t testing.TB, env map[string]string) string {
	if d := env["MINIMART_DATA_DIR"]; d != "" {
		return d
	}
	return t.TempDir()
}

// EventsSettled waits until every committed event has been published and handled.
func (s *Server) EventsSettled() {
	s.t.Helper()
	Eventually(s.t, "outbox drained", func() bool {
		n, err := s.App.PendingEvents(context.Background())
		return err == nil && n == 0
	})
}

// Eventually retries check until it returns true or three seconds pass; for effects that
// arrive through events.
func Eventually(t testing.TB, what string, check func() bool) {
	t.Helper()
	EventuallyWithin(t, 3*time.Second, what, check)
}

// EventuallyWithin is Eventually with its own bound, for what waits on a schedule.
func EventuallyWithin(t testing.TB, limit time.Duration, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Response is an answer with its body read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// ErrorCode is the error.code of a JSON error answer, "" for a JSON answer without one, and
// a text no code can equal for an answer that is not JSON.
func (r Response) ErrorCode() string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &e); err != nil {
		return "(not JSON: " + err.Error() + ")"
	}
	return e.Error.Code
}

// Decode unmarshals the body into v, failing the test if it is not JSON.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("response is not JSON (%v): %s", err, r.Body)
	}
}

// Do sends a request with an optional JSON body (a string is sent verbatim) and bearer token.
func (s *Server) Do(method, path, token string, body any) Response {
	s.t.Helper()
	return s.DoWith(method, path, token, body, nil)
}

// Ops answers a GET of path on the operator listener (metrics, readiness details, pprof),
// served in process: the test server opens no operator port.
func (s *Server) Ops(path string) Response {
	s.t.Helper()
	rec := httptest.NewRecorder()
	s.App.OpsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// DoWith is Do with extra request headers.
func (s *Server) DoWith(method, path, token string, body any, headers map[string]string) Response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Expect sends a request like DoWith, fails the test unless the answer has status, and
// returns the answer's JSON object (empty for an empty body).
func (s *Server) Expect(status int, method, path, token string, body any, headers map[string]string) map[string]any {
	s.t.Helper()
	r := s.DoWith(method, path, token, body, headers)
	if r.Status != status {
		s.t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
	}
	out := map[string]any{}
	if len(r.Body) > 0 {
		r.Decode(s.t, &out)
	}
	return out
}

// Tokens is the token pair in login answers.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// Register creates a buyer and returns its id and tokens.
func (s *Server) Register(username, password string) (string, Tokens) {
	s.t.Helper()
	r := s.Do("POST", "/api/v1/auth/register", "", map[string]string{"username": username, "password": password})
	if r.Status != http.StatusCreated {
		s.t.Fatalf("register %s: %d %s", username, r.Status, r.Body)
	}
	var out struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		Tokens Tokens `json:"tokens"`
	}
	r.Decode(s.t, &out)
	return out.User.ID, out.Tokens
}

// StaffToken creates a staff account with role and logs it in.
func (s *Server) StaffToken(username, role string) string {
	s.t.Helper()
	const password = "staff-pass-123"
	if _, err := s.App.Users.CreateStaff(context.Background(), username, password, role); err != nil {
		s.t.Fatalf("create staff: %v", err)
	}
	r := s.Do("POST", "/api/v1/admin/auth/login", "", map[string]string{"username": username, "password": password})
	if r.Status != http.StatusOK {
		s.t.Fatalf("staff login: %d %s", r.Status, r.Body)
	}
	var out struct {
		Tokens Tokens `json:"tokens"`
	}
	r.Decode(s.t, &out)
	return out.Tokens.AccessToken
}

// PayOrder pays a pending order the way the payment module does when a payment succeeds
// (order.Service.PaymentSucceeded), for tests about what follows payment. The payment id it
// records is the order's own id: a payment the payment module never made.
func PayOrder(t testing.TB, a *app.App, orderID string) {
	t.Helper()
	id, err := ids.Parse(orderID)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	o, err := a.Orders.Order(ctx, 0, id)
	if err != nil {
		t.Fatal(err)
	}
	unwanted, reason, err := a.Orders.PaymentSucceeded(ctx, o.ID, o.ID, o.Payable)
	if err != nil || unwanted {
		t.Fatalf("pay order %s: unwanted %v (%s), %v", orderID, unwanted, reason, err)
	}
}
