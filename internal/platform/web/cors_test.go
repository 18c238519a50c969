package web_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/minimart/minimart/internal/platform/web"
)

// corsRoutes is a router with one JSON endpoint behind CORS and the security headers, as the
// app stacks them; reached tells whether a request got to the handler.
func corsRoutes(origins []string, reached *int) http.Handler {
	rt := web.NewRouter()
	rt.HandleFunc("POST /api/v1/thing", func(w http.ResponseWriter, r *http.Request) error {
		*reached++
		web.WriteJSON(w, http.StatusOK, map[string]string{"ok": "yes"})
		return nil
	})
	return web.Chain(rt, web.SecurityHeaders(), web.CORS(origins))
}

func corsRequest(method, origin string, preflight bool) *http.Request {
	r := httptest.NewRequest(method, "/api/v1/thing", strings.NewReader(`{}`))
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	if preflight {
		r.Header.Set("Access-Control-Request-Method", "POST")
		r.Header.Set("Access-Control-Request-Headers", "authorization, content-type, x-session-transport")
	}
	return r
}

var corsHeaders = []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
	"Access-Control-Allow-Headers", "Access-Control-Max-Age", "Access-Control-Expose-Headers"}

func noCORSHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	for _, k := range corsHeaders {
		if v := h.Get(k); v != "" {
			t.Errorf("%s: %s: %s, want no CORS headers", what, k, v)
		}
	}
}

func TestCORSListedOrigin(t *testing.T) {
	var reached int
	h := corsRoutes([]string{"https://shop.example.com", "http://localhost:5173"}, &reached)

	for _, origin := range []string{"https://shop.example.com", "http://localhost:5173"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, corsRequest("OPTIONS", origin, true))
		if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
			t.Fatalf("preflight from %s: %d %s", origin, w.Code, w.Body.String())
		}
		want := map[string]string{
			"Access-Control-Allow-Origin":      origin,
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Methods":     "GET, POST, PUT, PATCH, DELETE",
			"Access-Control-Allow-Headers":     "Authorization, Content-Type, Idempotency-Key, X-Request-ID, X-Session-Transport",
			"Access-Control-Max-Age":           "600",
		}
		for k, v := range want {
			if got := w.Header().Get(k); got != v {
				t.Errorf("preflight from %s: %s = %q, want %q", origin, k, got, v)
			}
		}
		if !slices.Contains(w.Header().Values("Vary"), "Origin") {
			t.Errorf("preflight: Vary %q lacks Origin", w.Header().Values("Vary"))
		}
	}
	if reached != 0 {
		t.Fatalf("a preflight reached the handler")
	}

	w := httptest.NewRecorder()
	h.ServeHTTP(w, corsRequest("POST", "https://shop.example.com", false))
	if w.Code != 200 || reached != 1 {
		t.Fatalf("request from a listed origin: %d, reached %d", w.Code, reached)
	}
	if w.Header().Get("Access-Control-Allow-Origin") != "https://shop.example.com" || w.Header().Get("Access-Control-Allow-Credentials") != "true" ||
		w.Header().Get("Access-Control-Expose-Headers") != "X-Request-ID, Idempotent-Replayed, Retry-After" {
		t.Errorf("request from a listed origin: %v", w.Header())
	}
	if !slices.Contains(w.Header().Values("Vary"), "Origin") {
		t.Errorf("Vary %q lacks Origin", w.Header().Values("Vary"))
	}
}

func TestCORSOtherOrigins(t *testing.T) {
	var reached int
	h := corsRoutes([]string{"https://shop.example.com"}, &reached)
	for _, origin := range []string{"https://evil.example.com", "https://shop.example.com.evil.test", "http://shop.example.com",
		"https://SHOP.example.com", "null", "*"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, corsRequest("OPTIONS", origin, true))
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), `"cors_origin_not_allowed"`) {
			t.Errorf("preflight from %s: %d %s", origin, w.Code, w.Body.String())
		}
		noCORSHeaders(t, "preflight from "+origin, w.Header())
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("preflight refusal is %q", ct)
		}

		// The request itself is served (a form post needs no preflight, and CORS is not an
		// access control on the server), but the browser is given nothing to share it with.
		w = httptest.NewRecorder()
		h.ServeHTTP(w, corsRequest("POST", origin, false))
		if w.Code != 200 {
			t.Errorf("request from %s: %d", origin, w.Code)
		}
		noCORSHeaders(t, "request from "+origin, w.Header())
	}

	// The shop's own pages send Origin on a POST, and need nothing.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, corsRequest("POST", "", false))
	if w.Code != 200 {
		t.Fatalf("same-origin request: %d", w.Code)
	}
	noCORSHeaders(t, "same-origin request", w.Header())

	// An OPTIONS that is not a preflight is routed as any request: this API has none.
	w = httptest.NewRecorder()
	h.ServeHTTP(w, corsRequest("OPTIONS", "https://shop.example.com", false))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("plain OPTIONS: %d %s", w.Code, w.Body.String())
	}
}

// With no origins listed (the default), nothing carries a CORS header, and a preflight is
// told why it fails instead of meeting the router's 405.
func TestCORSDefaultIsSameOriginOnly(t *testing.T) {
	var reached int
	h := corsRoutes(nil, &reached)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, corsRequest("POST", "https://shop.example.com", false))
	if w.Code != 200 || reached != 1 {
		t.Fatalf("request: %d", w.Code)
	}
	noCORSHeaders(t, "request", w.Header())
	if v := w.Header().Values("Vary"); len(v) != 0 {
		t.Errorf("Vary %q with no origins listed", v)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, corsRequest("OPTIONS", "https://shop.example.com", true))
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "cors_origin_not_allowed") {
		t.Errorf("preflight: %d %s", w.Code, w.Body.String())
	}
	noCORSHeaders(t, "preflight", w.Header())
}

func TestHTTPSBehindTrustedProxy(t *testing.T) {
	ips, err := web.NewClientIPs("10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, remote, proto string
		tls                 bool
		want                bool
	}{
		{"TLS on the connection", "203.0.113.9:5000", "", true, true},
		{"plain from a client", "203.0.113.9:5000", "", false, false},
		{"a client claiming https", "203.0.113.9:5000", "https", false, false},
		{"trusted proxy says https", "10.1.2.3:5000", "https", false, true},
		{"trusted proxy says HTTPS", "10.1.2.3:5000", " HTTPS ", false, true},
		{"trusted proxy says http", "10.1.2.3:5000", "http", false, false},
		{"trusted proxy says nothing", "10.1.2.3:5000", "", false, false},
		{"trusted proxy, a list", "10.1.2.3:5000", "https, http", false, false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.proto != "" {
			r.Header.Set("X-Forwarded-Proto", c.proto)
		}
		if c.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if got := ips.HTTPS(r); got != c.want {
			t.Errorf("%s: HTTPS = %v, want %v", c.name, got, c.want)
		}
	}
}
