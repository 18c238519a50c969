package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	startTimeout = 60 * time.Second // until the binary prints its address and /readyz is 200 (migrations on a busy MariaDB are slow)
	stopTimeout  = 25 * time.Second // from SIGTERM to exit
	runTimeout   = 30 * time.Second // a one-shot command (version, migrate, admin create)
)

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// childEnv is the test's environment without any MINIMART_* variable, so a developer's
// own settings (a production MINIMART_DB_URL, say) never leak into the binary under test;
// then the given KEY=value pairs.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MINIMART_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// server is one running `minimart serve`.
type server struct {
	cmd     *exec.Cmd
	stdout  *syncBuffer
	stderr  *syncBuffer
	done    chan struct{}
	waitErr error
	addr    string // host:port it listens on
	base    string // http://host:port
	// ops is the base URL of its operator listener (MINIMART_OPS_ADDR): /metrics and the
	// readiness details.
	ops string
}

var (
	apiLine     = regexp.MustCompile(`(?m)^\s+API\s+http://(\S+)/api/v1\s*$`)
	metricsLine = regexp.MustCompile(`(?m)^\s+metrics\s+(http://\S+)/metrics\s*$`)
)

// startServer runs `minimart serve` on a free loopback port, with its operator listener on
// another, with env added to a clean environment, waits until it prints its addresses and
// /readyz answers 200, and kills it when the test ends if it is still running.
func startServer(t *testing.T, env ...string) *server {
	t.Helper()
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(binary, "serve")
	s.cmd.Dir = t.TempDir() // the default ./data must never land in the repository
	s.cmd.Env = childEnv(append([]string{"MINIMART_ADDR=127.0.0.1:0", "MINIMART_OPS_ADDR=127.0.0.1:0", "MINIMART_PASSWORD_COST=4"}, env...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", binary, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})

	deadline := time.Now().Add(startTimeout)
	for {
		// The banner comes once both ports are open; wait for its metrics line too.
		out := s.stdout.String()
		if m, ops := apiLine.FindStringSubmatch(out), metricsLine.FindStringSubmatch(out); m != nil && ops != nil {
			s.addr = m[1]
			s.base = "http://" + m[1]
			s.ops = ops[1]
			break
		}
		select {
		case <-s.done:
			t.Fatalf("minimart exited before serving: %v\n%s", s.waitErr, s.output())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("minimart printed no API and metrics addresses within %s\n%s", startTimeout, s.output())
		}
	}
	s.waitReady(t, nil)
	return s
}

// waitEventsDrained waits until the server's outbox is empty: every event written so far
// (the demo catalog's, on a first start) has been delivered, so the search index and the
// caches hold the whole catalog. Generous: under -race with the whole suite running, each
// search-index update is slow.
func (s *server) waitEventsDrained(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for !strings.Contains(string(call(t, "GET", s.ops+"/metrics", "", nil, http.StatusOK, nil)), "\nminimart_outbox_pending 0\n") {
		if time.Now().After(deadline) {
			t.Fatal("the outbox never drained")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) output() string {
	return "--- stdout:\n" + s.stdout.String() + "--- stderr:\n" + s.stderr.String()
}

// readiness is the /readyz body of the operator listener (the public one has the status alone).
type readiness struct {
	Status string `json:"status"`
	Checks map[string]struct {
		Status string `json:"status"`
		Error  string `json:"error"`
	} `json:"checks"`
}

// waitReady polls the operator listener's /readyz until it is 200 and, if given, ok(body)
// holds; bounded by startTimeout.
func (s *server) waitReady(t *testing.T, ok func(readiness) bool) readiness {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	var last string
	for {
		resp, err := httpClient.Get(s.ops + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = fmt.Sprintf("%d %s", resp.StatusCode, body)
			var r readiness
			if resp.StatusCode == http.StatusOK && json.Unmarshal(body, &r) == nil && (ok == nil || ok(r)) {
				return r
			}
		} else {
			last = err.Error()
		}
		select {
		case <-s.done:
			t.Fatalf("minimart exited while waiting for /readyz: %v\n%s", s.waitErr, s.output())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not ready within %s; last answer: %s\n%s", startTimeout, last, s.output())
		}
	}
}

// terminate sends SIGTERM.
func (s *server) terminate(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
}

// waitClean waits for the process to exit after SIGTERM and checks a clean stop: exit
// status 0, a "stopped cleanly" log line, and nothing but JSON log lines on stderr (a race
// report or a stray print would break that).
func (s *server) waitClean(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		t.Fatalf("minimart still running %s after SIGTERM\n%s", stopTimeout, s.output())
	}
	if s.waitErr != nil {
		t.Fatalf("minimart exited with %v after SIGTERM, want status 0\n%s", s.waitErr, s.output())
	}
	stopped := false
	for _, line := range strings.Split(strings.TrimSpace(s.stderr.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("stderr line is not a JSON log record: %q", line)
			continue
		}
		if rec["message"] == "stopped cleanly" {
			stopped = true
		}
	}
	if !stopped {
		t.Errorf("stderr has no JSON line with \"message\":\"stopped cleanly\"\n%s", s.output())
	}
}

// stop is terminate then waitClean.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.terminate(t)
	s.waitClean(t)
}

// waitStderr waits until the process logs substr; bounded.
func (s *server) waitStderr(t *testing.T, substr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(s.stderr.String(), substr) {
		if time.Now().After(deadline) {
			t.Fatalf("minimart did not log %q within %s\n%s", substr, timeout, s.output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var adminPasswordLine = regexp.MustCompile(`Created admin account "([^"]+)" with password (\S+)`)

// bootstrapAdmin is the admin name and password printed on the embedded first start.
func (s *server) bootstrapAdmin(t *testing.T) (username, password string) {
	t.Helper()
	m := adminPasswordLine.FindStringSubmatch(s.stdout.String())
	if m == nil {
		t.Fatalf("first embedded start printed no admin password\n%s", s.output())
	}
	return m[1], m[2]
}

// result is what a one-shot command did.
type result struct {
	code           int
	stdout, stderr string
}

// runMinimart runs the binary to completion with args, in dir, with env added to a clean
// environment.
func runMinimart(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Env = childEnv(env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("minimart %s did not finish within %s\n--- stdout:\n%s--- stderr:\n%s", strings.Join(args, " "), runTimeout, r.stdout, r.stderr)
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run minimart %s: %v", strings.Join(args, " "), err)
	}
	return r
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// call sends a JSON request (in may be nil) with an optional bearer token, checks the
// status and decodes the body into out (if not nil). It returns the raw body.
func call(t *testing.T, method, url, token string, in any, wantStatus int, out any) []byte {
	t.Helper()
	return callWith(t, method, url, token, nil, in, wantStatus, out)
}

// callWith is call with extra request headers (an Idempotency-Key, say).
func callWith(t *testing.T, method, url, token string, headers map[string]string, in any, wantStatus int, out any) []byte {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: status %d, want %d; body: %s", method, url, resp.StatusCode, wantStatus, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, url, raw, err)
		}
	}
	return raw
}

// apiError is the error envelope every failure uses.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type tokenPair struct {
	TokenType    string `json:"token_type"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

type account struct {
	ID       json.RawMessage `json:"id"`
	Username string          `json:"username"`
	Role     string          `json:"role"`
}

// id returns the account id, failing unless it is a JSON string (IDs are int64 and would
// lose precision as JavaScript numbers).
func (a account) id(t *testing.T) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(a.ID, &s); err != nil || s == "" {
		t.Fatalf("id is %s, want a non-empty JSON string", a.ID)
	}
	return s
}

type session struct {
	User   account   `json:"user"`
	Staff  account   `json:"staff"`
	Tokens tokenPair `json:"tokens"`
}

func (s session) check(t *testing.T) {
	t.Helper()
	if s.Tokens.AccessToken == "" || s.Tokens.RefreshToken == "" {
		t.Fatalf("tokens missing: %+v", s.Tokens)
	}
	if !strings.EqualFold(s.Tokens.TokenType, "bearer") {
		t.Errorf("token_type %q, want Bearer", s.Tokens.TokenType)
	}
}

type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func register(t *testing.T, base string, c credentials) session {
	t.Helper()
	var s session
	call(t, "POST", base+"/api/v1/auth/register", "", c, http.StatusCreated, &s)
	s.check(t)
	if s.User.Username != c.Username {
		t.Fatalf("registered username %q, want %q", s.User.Username, c.Username)
	}
	s.User.id(t)
	return s
}

func login(t *testing.T, base string, c credentials) session {
	t.Helper()
	var s session
	call(t, "POST", base+"/api/v1/auth/login", "", c, http.StatusOK, &s)
	s.check(t)
	return s
}

func staffLogin(t *testing.T, base string, c credentials) session {
	t.Helper()
	var s session
	call(t, "POST", base+"/api/v1/admin/auth/login", "", c, http.StatusOK, &s)
	s.check(t)
	s.Staff.id(t)
	return s
}

// me is GET /api/v1/me; it returns the user id.
func me(t *testing.T, base, token string) string {
	t.Helper()
	var u account
	call(t, "GET", base+"/api/v1/me", token, nil, http.StatusOK, &u)
	return u.id(t)
}

// newBuyer is a fresh username (unique across runs sharing a database or a Redis) and a
// password that passes the rules.
func newBuyer() credentials {
	b := make([]byte, 5)
	rand.Read(b)
	return credentials{Username: "buyer_" + hex.EncodeToString(b), Password: "Corr3ct-horse-battery"}
}

// slowRequest is a request whose handler is running, waiting for the body.
type slowRequest struct {
	conn net.Conn
	r    *bufio.Reader
	body []byte
}

// startSlowRequest sends the head of a JSON POST with "Expect: 100-continue" and returns
// once the server answers "100 Continue": that happens when the handler first reads the
// body, so from then on the request is certainly in flight (accepted, headers read, handler
// running) until finish sends the body.
func startSlowRequest(t *testing.T, addr, path string, in any) *slowRequest {
	t.Helper()
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		path, addr, len(body))
	if err != nil {
		t.Fatalf("write request head: %v", err)
	}
	r := bufio.NewReader(conn)
	status, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 100 ") {
		t.Fatalf("in-flight request: want 100 Continue, got %q (%v)", status, err)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("in-flight request: read 100 Continue: %v", err)
		}
		if line == "\r\n" {
			break
		}
	}
	return &slowRequest{conn: conn, r: r, body: body}
}

// finish sends the body and reads the final response.
func (r *slowRequest) finish(t *testing.T) (*http.Response, []byte) {
	t.Helper()
	if err := r.conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.conn.Write(r.body); err != nil {
		t.Fatalf("in-flight request: write body: %v", err)
	}
	resp, err := http.ReadResponse(r.r, nil)
	if err != nil {
		t.Fatalf("in-flight request: read response: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("in-flight request: read body: %v", err)
	}
	return resp, body
}
