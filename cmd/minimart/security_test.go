package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and localhost and its key as PEM files, and
// returns a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "minimart test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeTLS starts `minimart serve` with a certificate: it prints https URLs for the API
// (the operator listener stays plain HTTP, on loopback) and answers over HTTP/2 with HSTS on
// every answer.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	vars := safeEnv(t, map[string]string{"MINIMART_ADDR": "127.0.0.1:0", "MINIMART_TLS_CERT_FILE": certFile,
		"MINIMART_TLS_KEY_FILE": keyFile, "MINIMART_BOOTSTRAP_ADMIN": "0", "MINIMART_DEMO": "0"})
	ctx, cancel := context.WithCancel(context.Background())
	stdout, banner := io.Pipe()
	var stderr bytes.Buffer // read only once run has returned
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"serve"}, env(vars), banner, &stderr)
		banner.Close()
		done <- err
	}()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { stop() })

	// The banner is printed once the port is open; it ends with the metrics line.
	var printed []string
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		printed = append(printed, lines.Text())
		if strings.HasPrefix(strings.TrimSpace(lines.Text()), "metrics") {
			break
		}
	}
	go io.Copy(io.Discard, stdout) // whatever else it prints
	urls := map[string]string{}
	for _, l := range printed {
		if f := strings.Fields(l); len(f) == 2 {
			urls[f[0]] = f[1]
		}
	}
	for _, name := range []string{"API", "docs"} {
		if !strings.HasPrefix(urls[name], "https://127.0.0.1:") {
			t.Fatalf("banner %q: the %s URL is not https://127.0.0.1:<port> (serve: %v)", printed, name, stop())
		}
	}
	if !strings.HasPrefix(urls["metrics"], "http://127.0.0.1:") || !strings.HasSuffix(urls["metrics"], "/metrics") {
		t.Fatalf("banner %q: the metrics URL is not http://127.0.0.1:<port>/metrics (serve: %v)", printed, stop())
	}
	base := strings.TrimSuffix(urls["API"], "/api/v1")

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	defer client.CloseIdleConnections()
	for _, path := range []string{"/healthz", "/docs", "/api/v1/no-such-route"} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.Proto != "HTTP/2.0" || resp.TLS == nil {
			t.Errorf("GET %s: %s over TLS %v, want HTTP/2.0 over TLS", path, resp.Proto, resp.TLS != nil)
		}
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=63072000; includeSubDomains" {
			t.Errorf("GET %s: Strict-Transport-Security %q", path, got)
		}
	}
	// Plain HTTP on the TLS port gets no answer from the shop.
	if resp, err := http.Get(strings.Replace(base, "https://", "http://", 1) + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP on the TLS port answered 200")
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr.String())
	}
}

// TestBadTLSSettings: a certificate without its key, or files that cannot be used, stop
// serve with a usage error (exit status 2) naming the variable.
func TestBadTLSSettings(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t)
	otherCert, _, _ := selfSigned(t)
	cases := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"cert without key", map[string]string{"MINIMART_TLS_CERT_FILE": certFile}, "MINIMART_TLS_KEY_FILE"},
		{"key without cert", map[string]string{"MINIMART_TLS_KEY_FILE": keyFile}, "MINIMART_TLS_CERT_FILE"},
		{"missing cert file", map[string]string{"MINIMART_TLS_CERT_FILE": certFile + ".gone", "MINIMART_TLS_KEY_FILE": keyFile}, "MINIMART_TLS_CERT_FILE"},
		{"missing key file", map[string]string{"MINIMART_TLS_CERT_FILE": certFile, "MINIMART_TLS_KEY_FILE": keyFile + ".gone"}, "MINIMART_TLS_KEY_FILE"},
		{"key of another certificate", map[string]string{"MINIMART_TLS_CERT_FILE": otherCert, "MINIMART_TLS_KEY_FILE": keyFile}, "MINIMART_TLS_CERT_FILE"},
		{"not PEM", map[string]string{"MINIMART_TLS_CERT_FILE": keyFile, "MINIMART_TLS_KEY_FILE": keyFile}, "MINIMART_TLS_CERT_FILE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := runTest(t, []string{"serve"}, safeEnv(t, c.vars))
			var u *usageError
			if !errors.As(err, &u) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("serve = %v (%T), want a usage error naming %s", err, err, c.want)
			}
			if strings.Contains(out, "API ") {
				t.Errorf("started serving: %s", out)
			}
		})
	}
}

// TestBadRateLimitSetting: a limit that is not N/duration (or 0) stops every command with a
// usage error (exit status 2) naming the variable.
func TestBadRateLimitSetting(t *testing.T) {
	for _, bad := range []string{"abc", "10/", "-1/1m"} {
		for _, args := range [][]string{{"serve"}, {"migrate", "status"}} {
			_, _, err := runTest(t, args, safeEnv(t, map[string]string{"MINIMART_RATELIMIT_ORDER": bad}))
			var u *usageError
			if !errors.As(err, &u) || !strings.Contains(err.Error(), "MINIMART_RATELIMIT_ORDER") {
				t.Errorf("%q with MINIMART_RATELIMIT_ORDER=%s: %v (%T), want a usage error naming the variable", args, bad, err, err)
			}
		}
	}
}
