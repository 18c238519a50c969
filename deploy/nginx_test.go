package deploy_test

import (
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// These tests run the real nginx on the real files in nginx/, with the main file written by
// local/nginx-conf.sh (as local/split.sh does), in front of small Go backends that say which
// service and instance answered and what they received.

// nginxBinary finds nginx, or skips the test (fails it when MINIMART_REQUIRE_SERVICES=1, as in CI).
func nginxBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	// /usr/sbin is not on every user's PATH.
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	if os.Getenv("MINIMART_REQUIRE_SERVICES") == "1" {
		t.Fatal("nginx is not installed and MINIMART_REQUIRE_SERVICES=1")
	}
	t.Skip("nginx is not installed (apt-get install nginx); skipping")
	return ""
}

// seen is what a backend received, as it reports it in its answer.
type seen struct {
	Service       string `json:"service"`
	Instance      string `json:"instance"`
	Method        string `json:"method"`
	URI           string `json:"uri"`
	Host          string `json:"host"`
	RequestID     string `json:"request_id"`
	ForwardedFor  string `json:"forwarded_for"`
	ForwardedProt string `json:"forwarded_proto"`
	Connection    string `json:"connection"`
	BodyBytes     int64  `json:"body_bytes"`
	// Padding makes every answer larger than gzip_min_length, so compression is decided by
	// the content type and the client's Accept-Encoding alone.
	Padding string `json:"padding"`
}

// backend is one fake Minimart instance.
type backend struct {
	service, instance string
	status            int // answer status; 0 means 200
	hits              atomic.Int64
	all               *atomic.Int64 // hits on every backend of the fixture
	srv               *httptest.Server
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.hits.Add(1)
	b.all.Add(1)
	n, _ := io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	// Minimart's media handler sets its own; nginx must answer with the long one regardless.
	w.Header().Set("Cache-Control", "no-store")
	if b.status != 0 {
		w.WriteHeader(b.status)
	}
	json.NewEncoder(w).Encode(seen{
		Service: b.service, Instance: b.instance, Method: r.Method, URI: r.RequestURI, Host: r.Host,
		RequestID: r.Header.Get("X-Request-ID"), ForwardedFor: r.Header.Get("X-Forwarded-For"),
		ForwardedProt: r.Header.Get("X-Forwarded-Proto"), Connection: r.Header.Get("Connection"),
		BodyBytes: n, Padding: strings.Repeat("minimart ", 300),
	})
}

// fixture is nginx in front of backends, as the tests configure it.
type fixture struct {
	base, tlsBase string         // http://127.0.0.1:port and, with TLS, https://127.0.0.1:port
	caPool        *x509.CertPool // trusts the TLS server's self-signed certificate
	backends      map[string][]*backend
	all           atomic.Int64
	errors        *syncBuffer // nginx's stderr
}

type fixtureOptions struct {
	rateLimits bool
	tls        bool
	// instances per service: the statuses its backends answer with (0 = 200, -1 = no instance
	// listening: its port is closed). Services not listed get one healthy instance.
	instances map[string][]int
}

var services = []string{"user", "product", "order", "payment"}

// startNginx starts backends and nginx, waits until nginx answers, and stops both when the
// test ends.
func startNginx(t *testing.T, opt fixtureOptions) *fixture {
	t.Helper()
	bin := nginxBinary(t)
	f := &fixture{backends: map[string][]*backend{}, errors: &syncBuffer{}}
	var upstreamArgs []string
	for _, svc := range services {
		statuses := opt.instances[svc]
		if statuses == nil {
			statuses = []int{0}
		}
		var addrs []string
		for i, st := range statuses {
			b := &backend{service: svc, instance: strconv.Itoa(i + 1), all: &f.all}
			b.srv = httptest.NewServer(b)
			addrs = append(addrs, b.srv.Listener.Addr().String())
			if st == -1 {
				b.srv.Close() // refuses connections from now on
			} else {
				b.status = st
				t.Cleanup(b.srv.Close)
			}
			f.backends[svc] = append(f.backends[svc], b)
		}
		upstreamArgs = append(upstreamArgs, svc+"="+strings.Join(addrs, ","))
	}

	// nginx's workers run as an unprivileged user when the tests run as root; they must reach
	// the temporary files under the prefix, which t.TempDir (0700) would not let them.
	prefix, err := os.MkdirTemp("", "minimart-nginx-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(prefix) })
	if err := os.Chmod(prefix, 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "NGINX_RATELIMITS=0")
	if opt.rateLimits {
		env = append(env, "NGINX_RATELIMITS=1")
	}
	if opt.tls {
		certFile, keyFile, pool := selfSignedCert(t, prefix)
		f.caPool = pool
		env = append(env, "NGINX_TLS_CERT="+certFile, "NGINX_TLS_KEY="+keyFile)
	}

	// A free port can be taken between our probe and nginx's bind; try again then.
	for attempt := 1; ; attempt++ {
		httpAddr, tlsAddr := freeAddr(t), ""
		runEnv := env
		if opt.tls {
			tlsAddr = freeAddr(t)
			runEnv = append(runEnv, "NGINX_TLS_ADDR="+tlsAddr)
		}
		args := append([]string{"local/nginx-conf.sh", prefix, httpAddr}, upstreamArgs...)
		gen := exec.Command("bash", args...)
		gen.Env = runEnv
		if out, err := gen.CombinedOutput(); err != nil {
			t.Fatalf("nginx-conf.sh: %v\n%s", err, out)
		}
		f.errors = &syncBuffer{}
		cmd := exec.Command(bin, "-p", prefix+"/", "-c", filepath.Join(prefix, "nginx.conf"), "-e", "stderr", "-g", "daemon off;")
		cmd.Stdout, cmd.Stderr = f.errors, f.errors
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		f.base = "http://" + httpAddr
		if tlsAddr != "" {
			f.tlsBase = "https://" + tlsAddr
		}
		err := waitHealthy(f.base, exited)
		if err == nil {
			t.Cleanup(func() { stopProcess(t, cmd, exited) })
			return f
		}
		stopProcess(t, cmd, exited)
		if attempt < 3 && strings.Contains(f.errors.String(), "Address already in use") {
			continue
		}
		t.Fatalf("nginx did not start: %v\n%s", err, f.errors.String())
	}
}

// waitHealthy polls nginx's own /healthz until it answers, nginx exits, or 10 s pass.
func waitHealthy(base string, exited <-chan struct{}) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("nginx exited")
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer on %s/healthz in 10s (last error: %v)", base, err)
		}
	}
}

// stopProcess asks a process to stop (SIGTERM: nginx's fast shutdown) and kills it after 10 s.
func stopProcess(t *testing.T, cmd *exec.Cmd, exited <-chan struct{}) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Errorf("%s did not stop on SIGTERM; killing it", cmd.Path)
		cmd.Process.Kill()
		<-exited
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// selfSignedCert writes a P-256 certificate for 127.0.0.1 and localhost, and its key, into dir.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "minimart test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:    []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// syncBuffer collects a process's output written from another goroutine.
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

// answer is one response, read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
	proto  string
}

func (a answer) seen(t *testing.T) seen {
	t.Helper()
	var s seen
	if err := json.Unmarshal(a.body, &s); err != nil || s.Service == "" {
		t.Fatalf("answer is not from a backend (status %d): %.300s", a.status, a.body)
	}
	return s
}

// errorCode is the code of a body in Minimart's error shape, "" when it is not one.
func (a answer) errorCode() string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(a.body, &e) != nil || e.Error.Message == "" {
		return ""
	}
	return e.Error.Code
}

// do sends one request with client c (nil: a plain client) and reads the whole answer.
func do(t *testing.T, c *http.Client, method, url string, body io.Reader, header map[string]string) answer {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b, proto: resp.Proto}
}

func TestNginxRoutesEachPathToItsService(t *testing.T) {
	f := startNginx(t, fixtureOptions{})
	cases := []struct {
		method, path, service string
	}{
		{"POST", "/api/v1/auth/login", "user"},
		{"POST", "/api/v1/auth/register", "user"},
		{"POST", "/api/v1/auth/refresh", "user"},
		{"POST", "/api/v1/auth/logout", "user"},
		{"POST", "/api/v1/auth/wechat", "user"},
		{"GET", "/api/v1/me", "user"},
		{"POST", "/api/v1/me/addresses", "user"},
		{"PUT", "/api/v1/me/addresses/42", "user"},
		{"POST", "/api/v1/admin/auth/login", "user"},
		{"GET", "/api/v1/admin/me", "user"},
		{"GET", "/api/v1/admin/users?limit=5", "user"},
		{"GET", "/api/v1/admin/users/42", "user"},
		{"POST", "/api/v1/admin/staff", "user"},
		{"POST", "/api/v1/admin/staff/123/disable", "user"},
		{"GET", "/api/v1/admin/audit-log?limit=5", "user"},
		{"GET", "/openapi.yaml", "user"},
		{"GET", "/docs", "user"},
		{"GET", "/", "user"},
		{"GET", "/admin", "user"},
		{"GET", "/admin/", "user"},
		{"GET", "/ui/vendor/preact-htm.js", "user"},
		{"GET", "/ui/admin/screens/orders.js", "user"},
		{"POST", "/api/v1/admin/auth/refresh", "user"},
		{"POST", "/api/v1/admin/auth/logout", "user"},
		// CORS preflights reach Minimart, which answers them (MINIMART_CORS_ORIGINS).
		{"OPTIONS", "/api/v1/auth/login", "user"},
		{"OPTIONS", "/api/v1/products", "product"},
		{"OPTIONS", "/api/v1/orders", "order"},

		{"GET", "/api/v1/categories", "product"},
		{"GET", "/api/v1/products?sort=price_asc&page=2", "product"},
		{"GET", "/api/v1/products/123", "product"},
		{"GET", "/api/v1/search?q=%E6%89%8B%E6%9C%BA", "product"},
		{"POST", "/api/v1/admin/categories", "product"},
		{"PUT", "/api/v1/admin/products/7", "product"},
		{"POST", "/api/v1/admin/products/7/on-shelf", "product"},
		{"PUT", "/api/v1/admin/skus/9/stock", "product"},
		{"GET", "/api/v1/admin/stock/low?threshold=5&limit=20", "product"},
		{"POST", "/api/v1/admin/images", "product"},
		{"GET", "/media/0123abcd.jpg", "product"},

		{"GET", "/api/v1/cart", "order"},
		{"POST", "/api/v1/cart/items", "order"},
		{"POST", "/api/v1/orders", "order"},
		{"GET", "/api/v1/orders?limit=10", "order"},
		{"GET", "/api/v1/orders/55", "order"},
		{"POST", "/api/v1/orders/55/cancel", "order"},
		{"POST", "/api/v1/orders/55/confirm-receipt", "order"},
		{"GET", "/api/v1/admin/orders", "order"},
		{"GET", "/api/v1/admin/orders/55", "order"},
		{"GET", "/api/v1/admin/orders/summary?days=30", "order"},
		{"POST", "/api/v1/admin/orders/55/ship", "order"},
		{"POST", "/api/v1/admin/orders/55/note", "order"},
		{"GET", "/api/v1/admin/events/dead-letters", "order"},
		{"GET", "/api/v1/flash-sales", "order"},
		{"POST", "/api/v1/flash-sales/77/attempts", "order"},
		{"GET", "/api/v1/flash-sales/attempts/88", "order"},
		{"POST", "/api/v1/admin/flash-sales", "order"},
		{"POST", "/api/v1/admin/flash-sales/77/cancel", "order"},

		// Payment endpoints under an order's path win over the order prefixes.
		{"POST", "/api/v1/orders/55/payments", "payment"},
		{"GET", "/api/v1/orders/55/payments", "payment"},
		{"GET", "/api/v1/orders/55/payments?x=1", "payment"},
		{"GET", "/api/v1/admin/orders/55/payments", "payment"},
		{"POST", "/api/v1/admin/orders/55/refunds", "payment"},
		// …but only exactly those: deeper or other paths stay with order.
		{"GET", "/api/v1/orders/55/payments/extra", "order"},
		{"GET", "/api/v1/orders/payments", "order"},
		{"POST", "/api/v1/admin/orders/55/refund", "order"},
		{"GET", "/api/v1/payments/987", "payment"},
		{"POST", "/api/v1/payments/notify/wechat", "payment"},
		{"POST", "/api/v1/payments/notify/alipay", "payment"},
		{"GET", "/api/v1/payment-methods", "payment"},
		{"GET", "/api/v1/admin/payments/notifications?outcome=rejected", "payment"},
		{"GET", "/api/v1/admin/payments/reconciliation?date=2026-12-06", "payment"},
		{"GET", "/sandbox/pay/20261122000001", "payment"},
		{"POST", "/sandbox/pay/20261122000001/pay", "payment"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			a := do(t, nil, c.method, f.base+c.path, strings.NewReader("{}"), nil)
			if a.status != http.StatusOK {
				t.Fatalf("status %d, want 200 from %s: %.300s", a.status, c.service, a.body)
			}
			s := a.seen(t)
			if s.Service != c.service {
				t.Errorf("reached %s, want %s", s.Service, c.service)
			}
			// The request arrives as the client sent it (path and query untouched).
			if s.Method != c.method || s.URI != c.path {
				t.Errorf("backend saw %s %s, want %s %s", s.Method, s.URI, c.method, c.path)
			}
		})
	}
}

// nginx answers these itself: no request may reach an instance.
func TestNginxOwnAnswers(t *testing.T) {
	f := startNginx(t, fixtureOptions{})
	cases := []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/internal/v1/x", 403, "forbidden"},
		{"POST", "/internal/v1/inventory/reservations", 403, "forbidden"},
		// Encoded and dotted spellings are normalised before the match.
		{"GET", "/%69nternal/v1/x", 403, "forbidden"},
		{"GET", "/api/v1/products/../../../internal/v1/x", 403, "forbidden"},
		{"GET", "/api/v1/products/..%2F..%2F..%2Finternal/v1/x", 403, "forbidden"},
		{"GET", "/./internal/v1/x", 403, "forbidden"},
		{"GET", "/metrics", 404, "route_not_found"},
		{"GET", "/debug/pprof/", 404, "route_not_found"},
		{"GET", "/debug/pprof/index.html", 404, "route_not_found"},
		{"GET", "/internal/v1/page.html", 403, "forbidden"},
		{"GET", "/readyz", 404, "route_not_found"},
		{"GET", "/index.html", 404, "route_not_found"},
		{"GET", "/admin/index.html", 404, "route_not_found"},
		{"GET", "/uix/app.js", 404, "route_not_found"},
		{"GET", "/api/v1/nothing-here", 404, "route_not_found"},
		{"GET", "/api/v2/products", 404, "route_not_found"},
		{"GET", "/wp-login.php", 404, "route_not_found"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			req, err := http.NewRequest(c.method, f.base+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			// Sent exactly as written: Go would otherwise clean dots and escapes itself.
			req.URL.Opaque = c.path
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			a := answer{status: resp.StatusCode, header: resp.Header, body: body}
			if a.status != c.status || a.errorCode() != c.code {
				t.Errorf("got %d %s, want %d with code %q", a.status, body, c.status, c.code)
			}
			if ct := a.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
		})
	}
	a := do(t, nil, "GET", f.base+"/healthz", nil, nil)
	if a.status != 200 || string(a.body) != `{"status":"ok"}` {
		t.Errorf("nginx's /healthz: %d %s", a.status, a.body)
	}
	if n := f.all.Load(); n != 0 {
		t.Errorf("%d of these requests reached a backend; none may", n)
	}
}

func TestNginxForwardsRequestIDAndClient(t *testing.T) {
	f := startNginx(t, fixtureOptions{})

	s := do(t, nil, "GET", f.base+"/api/v1/products/1", nil, map[string]string{"X-Request-ID": "abc-123_x.y"}).seen(t)
	if s.RequestID != "abc-123_x.y" {
		t.Errorf("X-Request-ID %q reached the backend, want the client's abc-123_x.y", s.RequestID)
	}

	// None given, or one Minimart would refuse: nginx's own random id (32 hex digits).
	hexID := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, given := range []string{"", "bad id with spaces", strings.Repeat("a", 65)} {
		s := do(t, nil, "GET", f.base+"/api/v1/products/1", nil, map[string]string{"X-Request-ID": given}).seen(t)
		if !hexID.MatchString(s.RequestID) {
			t.Errorf("given %q, the backend saw X-Request-ID %q; want nginx's $request_id", given, s.RequestID)
		}
	}

	s = do(t, nil, "GET", f.base+"/api/v1/me", nil, nil).seen(t)
	if s.ForwardedFor != "127.0.0.1" || s.ForwardedProt != "http" || s.Host != "127.0.0.1" {
		t.Errorf("backend saw X-Forwarded-For %q, X-Forwarded-Proto %q, Host %q; want 127.0.0.1, http, 127.0.0.1",
			s.ForwardedFor, s.ForwardedProt, s.Host)
	}
	// Upstream connections are kept alive: nginx sends no "Connection: close".
	if s.Connection != "" {
		t.Errorf("backend saw Connection %q, want none (keepalive)", s.Connection)
	}
	// nginx appends the address it sees; Minimart (MINIMART_TRUSTED_PROXIES) reads from the right.
	s = do(t, nil, "GET", f.base+"/api/v1/me", nil, map[string]string{"X-Forwarded-For": "203.0.113.9"}).seen(t)
	if s.ForwardedFor != "203.0.113.9, 127.0.0.1" {
		t.Errorf("X-Forwarded-For %q, want %q", s.ForwardedFor, "203.0.113.9, 127.0.0.1")
	}
}

func TestNginxCompressesJSON(t *testing.T) {
	f := startNginx(t, fixtureOptions{})
	c := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	t.Cleanup(c.CloseIdleConnections)

	a := do(t, c, "GET", f.base+"/api/v1/products", nil, map[string]string{"Accept-Encoding": "gzip"})
	if a.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", a.header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(a.body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if s := (answer{body: plain}).seen(t); s.Service != "product" {
		t.Errorf("decompressed answer from %s", s.Service)
	}
	if !strings.Contains(a.header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary %q, want Accept-Encoding (caches must keep both forms)", a.header.Get("Vary"))
	}

	a = do(t, c, "GET", f.base+"/api/v1/products", nil, nil)
	if a.header.Get("Content-Encoding") != "" {
		t.Errorf("compressed (%q) for a client that did not ask", a.header.Get("Content-Encoding"))
	}
}

func TestNginxBodyLimits(t *testing.T) {
	f := startNginx(t, fixtureOptions{})
	twoMiB := bytes.Repeat([]byte("x"), 2<<20)

	a := do(t, nil, "POST", f.base+"/api/v1/orders", bytes.NewReader(twoMiB), map[string]string{"Content-Type": "application/json"})
	if a.status != http.StatusRequestEntityTooLarge || a.errorCode() != "body_too_large" {
		t.Errorf("2 MiB of JSON: %d %.200s, want 413 body_too_large", a.status, a.body)
	}
	if n := f.all.Load(); n != 0 {
		t.Errorf("the oversized body reached a backend (%d hits)", n)
	}

	a = do(t, nil, "POST", f.base+"/api/v1/admin/images", bytes.NewReader(twoMiB), map[string]string{"Content-Type": "multipart/form-data; boundary=x"})
	if a.status != http.StatusOK {
		t.Fatalf("2 MiB image upload: %d %.200s, want 200", a.status, a.body)
	}
	if s := a.seen(t); s.Service != "product" || s.BodyBytes != int64(len(twoMiB)) {
		t.Errorf("upload reached %s with %d bytes, want product with %d", s.Service, s.BodyBytes, len(twoMiB))
	}

	a = do(t, nil, "POST", f.base+"/api/v1/admin/images", bytes.NewReader(make([]byte, 6<<20)), nil)
	if a.status != http.StatusRequestEntityTooLarge || a.errorCode() != "body_too_large" {
		t.Errorf("6 MiB upload: %d %.200s, want 413 body_too_large", a.status, a.body)
	}

	// Just under the JSON limit still passes.
	a = do(t, nil, "POST", f.base+"/api/v1/cart/items", bytes.NewReader(make([]byte, 1<<20-1)), nil)
	if a.status != http.StatusOK {
		t.Errorf("1 MiB - 1 byte: %d, want 200", a.status)
	}
}

func TestNginxMediaCacheHeaders(t *testing.T) {
	f := startNginx(t, fixtureOptions{})
	a := do(t, nil, "GET", f.base+"/media/"+strings.Repeat("ab", 32)+".jpg", nil, nil)
	if got, want := a.header.Values("Cache-Control"), []string{"public, max-age=31536000, immutable"}; strings.Join(got, "|") != want[0] {
		t.Errorf("media Cache-Control %q, want only %q", got, want)
	}
	a = do(t, nil, "GET", f.base+"/api/v1/products/1", nil, nil)
	if got := a.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("API Cache-Control %q, want the backend's own no-store", got)
	}
}

func TestNginxSkipsAnInstanceThatIsDown(t *testing.T) {
	f := startNginx(t, fixtureOptions{instances: map[string][]int{"product": {0, -1}, "payment": {-1}}})
	up := f.backends["product"][0]
	// A refused connection means the request was never sent, so nginx may retry even a POST.
	for i := range 6 {
		method := []string{"GET", "POST"}[i%2]
		a := do(t, nil, method, f.base+"/api/v1/admin/products", nil, nil)
		if a.status != 200 || a.seen(t).Instance != "1" {
			t.Fatalf("%s #%d: %d %.200s, want 200 from the live instance", method, i, a.status, a.body)
		}
	}
	if n := up.hits.Load(); n != 6 {
		t.Errorf("live instance served %d of 6", n)
	}

	// With every instance of a service down, nginx answers for it, in Minimart's shape.
	a := do(t, nil, "GET", f.base+"/api/v1/payment-methods", nil, nil)
	if a.status != http.StatusBadGateway || a.errorCode() != "dependency_unavailable" || a.header.Get("Retry-After") == "" {
		t.Errorf("all payment instances down: %d Retry-After=%q %s; want 502 dependency_unavailable with Retry-After",
			a.status, a.header.Get("Retry-After"), a.body)
	}
}

func TestNginxRetriesOnlyIdempotentRequests(t *testing.T) {
	// Each service's first instance answers every request with 502; its second is healthy.
	// One service per method below, because each 502 counts towards its instance's max_fails
	// (3), after which nginx would stop sending it anything.
	broken := []int{http.StatusBadGateway, 0}
	f := startNginx(t, fixtureOptions{instances: map[string][]int{
		"user": broken, "product": broken, "order": broken, "payment": broken,
	}})

	// GET, PUT and DELETE that meet the broken instance are tried again on the healthy one.
	for _, c := range []struct{ method, path, service string }{
		{"GET", "/api/v1/products/1", "product"},
		{"PUT", "/api/v1/me/addresses/1", "user"},
		{"DELETE", "/api/v1/cart/items/1", "order"},
	} {
		bad := f.backends[c.service][0]
		for i := 0; bad.hits.Load() == 0; i++ {
			if i == 4 {
				t.Fatalf("%s: the broken instance got no request in 4 tries", c.method)
			}
			a := do(t, nil, c.method, f.base+c.path, nil, nil)
			if a.status != 200 || a.seen(t).Instance != "2" {
				t.Fatalf("%s: %d %.200s, want 200 from the healthy instance", c.method, a.status, a.body)
			}
		}
	}

	// A POST that reached the broken instance is not sent again: its 502 comes back as is.
	bad, good := f.backends["payment"][0], f.backends["payment"][1]
	posts := 0
	for bad.hits.Load() == 0 {
		if posts == 4 {
			t.Fatal("POST: the broken instance got no request in 4 tries")
		}
		posts++
		a := do(t, nil, "POST", f.base+"/api/v1/orders/1/payments", strings.NewReader("{}"), nil)
		if bad.hits.Load() == 0 {
			if a.status != http.StatusOK {
				t.Fatalf("POST to the healthy instance: %d %.200s", a.status, a.body)
			}
			continue
		}
		if a.status != http.StatusBadGateway || a.seen(t).Instance != "1" {
			t.Errorf("a POST that met the broken instance answered %d %.200s; want the broken instance's own 502, not a retry", a.status, a.body)
		}
	}
	if got := bad.hits.Load() + good.hits.Load(); got != int64(posts) {
		t.Errorf("%d POSTs made %d backend requests; a retried POST could take a payment twice", posts, got)
	}
}

func TestNginxRateLimits(t *testing.T) {
	f := startNginx(t, fixtureOptions{rateLimits: true})

	// A burst of logins from one address: the first ones pass (burst 10), then 429.
	var ok, limited int
	for i := range 40 {
		a := do(t, nil, "POST", f.base+"/api/v1/auth/login", strings.NewReader("{}"), nil)
		switch a.status {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			limited++
			if a.errorCode() != "rate_limited" || a.header.Get("Retry-After") == "" {
				t.Fatalf("429 body %s, Retry-After %q; want rate_limited with Retry-After", a.body, a.header.Get("Retry-After"))
			}
		default:
			t.Fatalf("login #%d: %d %.200s", i, a.status, a.body)
		}
		if i < 10 && limited > 0 {
			t.Fatalf("login #%d limited inside the burst", i)
		}
	}
	if limited == 0 {
		t.Errorf("40 quick logins from one address: none limited")
	}

	// Listing orders is not limited; placing them is.
	for i := range 40 {
		if a := do(t, nil, "GET", f.base+"/api/v1/orders", nil, nil); a.status != 200 {
			t.Fatalf("GET /api/v1/orders #%d: %d", i, a.status)
		}
	}
	limited = 0
	for range 40 {
		if a := do(t, nil, "POST", f.base+"/api/v1/orders", strings.NewReader("{}"), nil); a.status == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Errorf("40 quick order placements from one address: none limited")
	}
}

func TestNginxRateLimitsOff(t *testing.T) {
	f := startNginx(t, fixtureOptions{rateLimits: false})
	for i := range 40 {
		if a := do(t, nil, "POST", f.base+"/api/v1/auth/login", strings.NewReader("{}"), nil); a.status != 200 {
			t.Fatalf("login #%d with ratelimit-off.conf: %d", i, a.status)
		}
	}
}

func TestNginxTLS(t *testing.T) {
	f := startNginx(t, fixtureOptions{tls: true})
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.caPool}, ForceAttemptHTTP2: true}
	c := &http.Client{Transport: tr}
	t.Cleanup(tr.CloseIdleConnections)

	a := do(t, c, "GET", f.tlsBase+"/api/v1/orders/5/payments", nil, nil)
	if a.proto != "HTTP/2.0" {
		t.Errorf("protocol %s, want HTTP/2.0", a.proto)
	}
	if got := a.header.Get("Strict-Transport-Security"); got != "max-age=63072000; includeSubDomains" {
		t.Errorf("Strict-Transport-Security %q", got)
	}
	if s := a.seen(t); s.Service != "payment" || s.ForwardedProt != "https" {
		t.Errorf("over TLS reached %s with X-Forwarded-Proto %q; want payment, https", s.Service, s.ForwardedProt)
	}
	// nginx's own answers carry HSTS too (their locations set headers of their own).
	a = do(t, c, "GET", f.tlsBase+"/nowhere", nil, nil)
	if a.status != 404 || a.header.Get("Strict-Transport-Security") == "" {
		t.Errorf("404 over TLS: status %d, HSTS %q", a.status, a.header.Get("Strict-Transport-Security"))
	}

	// TLS 1.1 and older are refused.
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: f.caPool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11,
	}}}
	if resp, err := old.Get(f.tlsBase + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("a TLS 1.1 client was served")
	}

	// Plain HTTP must not send HSTS (a browser only honours it over TLS anyway).
	if a := do(t, nil, "GET", f.base+"/api/v1/products", nil, nil); a.header.Get("Strict-Transport-Security") != "" {
		t.Errorf("plain HTTP sent Strict-Transport-Security")
	}
}

// nginx -t on each shape's configuration as it is deployed: compose's deploy/nginx directory,
// the Kubernetes ConfigMap's files, and what local/nginx-conf.sh writes for split.sh.
func TestNginxConfigsAreValid(t *testing.T) {
	bin := nginxBinary(t)

	t.Run("compose", func(t *testing.T) {
		dir := t.TempDir()
		files, err := filepath.Glob("nginx/*.conf")
		if err != nil || len(files) == 0 {
			t.Fatalf("no nginx/*.conf: %v", err)
		}
		for _, f := range files {
			writeFile(t, filepath.Join(dir, filepath.Base(f)), readFile(t, f))
		}
		checkNginxConfig(t, bin, dir)
	})

	t.Run("kubernetes", func(t *testing.T) {
		cm, ok := find(loadManifests(t), "ConfigMap", "nginx-config")
		if !ok {
			t.Fatal("no nginx-config ConfigMap")
		}
		dir := t.TempDir()
		for name, content := range cm.Data {
			writeFile(t, filepath.Join(dir, name), []byte(content))
		}
		checkNginxConfig(t, bin, dir)
	})

	for _, c := range []struct {
		name string
		env  []string
		tls  bool
	}{
		{"local", nil, false},
		{"local without rate limits, with TLS", []string{"NGINX_RATELIMITS=0", "NGINX_TLS_ADDR=127.0.0.1:18443"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			env := append(os.Environ(), c.env...)
			if c.tls {
				certFile, keyFile, _ := selfSignedCert(t, dir)
				env = append(env, "NGINX_TLS_CERT="+certFile, "NGINX_TLS_KEY="+keyFile)
			}
			gen := exec.Command("bash", "local/nginx-conf.sh", dir, "127.0.0.1:18080",
				"user=127.0.0.1:18081,127.0.0.1:18082", "product=127.0.0.1:18083,127.0.0.1:18084",
				"order=127.0.0.1:18085,127.0.0.1:18086", "payment=127.0.0.1:18087,127.0.0.1:18088")
			gen.Env = env
			if out, err := gen.CombinedOutput(); err != nil {
				t.Fatalf("nginx-conf.sh: %v\n%s", err, out)
			}
			nginxTest(t, bin, dir, filepath.Join(dir, "nginx.conf"))
		})
	}
}

// checkNginxConfig runs nginx -t on a container shape's directory (nginx.conf and the files it
// includes). nginx resolves upstream names at load, and user-1 or product exist only inside
// compose or the cluster, so they are pointed at 127.0.0.1 here (TestComposeWiring and
// TestKubernetesNginxUpstreams check the names); the certificate nginx.conf expects in certs/
// is a fresh self-signed one.
func checkNginxConfig(t *testing.T, bin, dir string) {
	t.Helper()
	up := filepath.Join(dir, "upstreams.conf")
	server := regexp.MustCompile(`(?m)^(\s*server\s+)[A-Za-z0-9.-]+(:\d+)`)
	writeFile(t, up, server.ReplaceAll(readFile(t, up), []byte("${1}127.0.0.1${2}")))
	if err := os.MkdirAll(filepath.Join(dir, "certs"), 0o755); err != nil {
		t.Fatal(err)
	}
	selfSignedCert(t, filepath.Join(dir, "certs"))
	nginxTest(t, bin, dir, filepath.Join(dir, "nginx.conf"))
}

func nginxTest(t *testing.T, bin, prefix, conf string) {
	t.Helper()
	out, err := exec.Command(bin, "-t", "-p", prefix+"/", "-c", conf, "-e", "stderr").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "test is successful") {
		t.Fatalf("nginx -t %s: %v\n%s", conf, err, out)
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
