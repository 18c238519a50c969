package web_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minimart/minimart/internal/platform/web"
)

const pagePolicy = "default-src 'none'; style-src 'sha256-abc'"

// securityRoutes answers each kind of response the shop sends, behind the app's middleware.
func securityRoutes() http.Handler {
	rt := web.NewRouter()
	rt.HandleFunc("GET /json", func(w http.ResponseWriter, r *http.Request) error {
		web.WriteJSON(w, http.StatusOK, map[string]string{"a": "b"})
		return nil
	})
	rt.HandleFunc("GET /error", func(w http.ResponseWriter, r *http.Request) error { return web.ErrInvalidParam })
	rt.HandleFunc("GET /empty", func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	rt.HandleFunc("GET /nothing-written", func(w http.ResponseWriter, r *http.Request) error { return nil })
	rt.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) error { panic("boom") })
	rt.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", pagePolicy)
		w.Write([]byte("<!doctype html><p>hi"))
		return nil
	})
	rt.HandleFunc("GET /page-without-policy", func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<!doctype html><p>hi"))
		return nil
	})
	rt.HandleFunc("GET /page-type-spelled-otherwise", func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", " Text/HTML ;charset=utf-8")
		w.Write([]byte("<!doctype html><p>hi"))
		return nil
	})
	rt.HandleFunc("GET /html-lookalike", func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/html-fragment")
		w.Write([]byte("<p>hi"))
		return nil
	})
	rt.HandleFunc("GET /empty-policy", func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Security-Policy", "")
		web.WriteJSON(w, http.StatusOK, nil)
		return nil
	})
	rt.HandleFunc("GET /frame-twice", func(w http.ResponseWriter, r *http.Request) error {
		// Adding to a header the middleware set must not change it for other answers.
		w.Header().Add("X-Frame-Options", "SAMEORIGIN")
		w.Header().Add("X-Content-Type-Options", "other")
		web.WriteJSON(w, http.StatusOK, nil)
		return nil
	})
	rt.HandleFunc("GET /json-own-policy", func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Security-Policy", "sandbox")
		web.WriteJSON(w, http.StatusOK, nil)
		return nil
	})
	log := slog.New(slog.DiscardHandler)
	// The app's order: Recover outside SecurityHeaders.
	return web.Chain(rt, web.Observe(log, web.NewMetrics(prometheus.NewRegistry())), web.Recover(), web.SecurityHeaders())
}

func TestSecurityHeaders(t *testing.T) {
	h := securityRoutes()
	cases := []struct{ path, csp string }{
		{"/json", web.DefaultCSP},
		{"/error", web.DefaultCSP},
		{"/no/such/route", web.DefaultCSP},
		{"/empty", web.DefaultCSP},
		{"/nothing-written", web.DefaultCSP},
		{"/panic", web.DefaultCSP},
		{"/page", pagePolicy},           // an HTML page keeps its own policy
		{"/page-without-policy", ""},    // and is not given one that would break it
		{"/json-own-policy", "sandbox"}, // a handler's own policy is never replaced
		{"/page-type-spelled-otherwise", ""},
		{"/html-lookalike", web.DefaultCSP},
		{"/empty-policy", web.DefaultCSP},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, c.path, nil))
			if got := w.Header().Get("Content-Security-Policy"); got != c.csp {
				t.Errorf("%s (%d): Content-Security-Policy %q, want %q", c.path, w.Code, got, c.csp)
			}
			if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("X-Frame-Options") != "DENY" {
				t.Errorf("%s: headers %v", c.path, w.Header())
			}
			if got := w.Header().Get("Strict-Transport-Security"); got != "" {
				t.Errorf("%s over plain HTTP: Strict-Transport-Security %q; browsers ignore it there, and it must come from the TLS server", c.path, got)
			}
		})
	}
}

func TestHSTSOverTLS(t *testing.T) {
	srv := httptest.NewTLSServer(securityRoutes())
	defer srv.Close()
	for _, path := range []string{"/json", "/page", "/no/such/route"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=63072000; includeSubDomains" {
			t.Errorf("%s over TLS: Strict-Transport-Security %q", path, got)
		}
	}
}

// The headers every answer carries are shared values: a handler adding to one changes its
// own answer only.
func TestSecurityHeadersNotShared(t *testing.T) {
	h := securityRoutes()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/frame-twice", nil))
	if got := w.Header().Values("X-Frame-Options"); len(got) != 2 || got[0] != "DENY" || got[1] != "SAMEORIGIN" {
		t.Fatalf("X-Frame-Options %q", got)
	}
	for i := 0; i < 2; i++ {
		w = httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/json", nil))
		if got := w.Header().Values("X-Frame-Options"); len(got) != 1 || got[0] != "DENY" {
			t.Fatalf("after another answer added to it: X-Frame-Options %q", got)
		}
		if got := w.Header().Values("X-Content-Type-Options"); len(got) != 1 || got[0] != "nosniff" {
			t.Fatalf("after another answer added to it: X-Content-Type-Options %q", got)
		}
	}
}
