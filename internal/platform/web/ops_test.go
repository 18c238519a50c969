package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minimart/minimart/internal/platform/web"
)

// The operator handler serves metrics, pprof and readiness with each check's details; the
// public readiness answer carries the status alone.
func TestOps(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "minimart_test_total", Help: "A test counter."}))
	checks := []web.Check{
		{Name: "database", Critical: true, Ping: func(context.Context) error { return nil }},
		{Name: "cache", Ping: func(context.Context) error { return errors.New("dial tcp 10.0.0.7:6379: refused") }},
	}
	ops := web.Ops(reg, checks...)
	get := func(h http.Handler, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	for _, tt := range []struct {
		path   string
		status int
		has    string
	}{
		{"/metrics", 200, "minimart_test_total 0"},
		{"/readyz", 200, `"cache":{"status":"down","error":"dial tcp 10.0.0.7:6379: refused"}`},
		{"/healthz", 200, `"status":"ok"`},
		{"/debug/pprof/", 200, "goroutine"},
		{"/debug/pprof/goroutine?debug=1", 200, "goroutine profile"},
		{"/debug/pprof/cmdline", 200, ""},
		{"/api/v1/products", 404, `"code":"route_not_found"`},
	} {
		rec := get(ops, tt.path)
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.has) {
			t.Errorf("ops GET %s: %d %.300s, want %d containing %q", tt.path, rec.Code, rec.Body, tt.status, tt.has)
		}
	}
	public := get(web.ReadinessStatus(checks...), "/readyz")
	if public.Code != 200 || public.Body.String() != `{"status":"degraded"}`+"\n" {
		t.Errorf("public readyz: %d %q, want 200 with the status alone", public.Code, public.Body)
	}
	checks[0].Ping = func(context.Context) error { return errors.New("database is down") }
	if rec := get(web.ReadinessStatus(checks...), "/readyz"); rec.Code != 503 || rec.Body.String() != `{"status":"unavailable"}`+"\n" {
		t.Errorf("public readyz without a database: %d %q, want 503 unavailable alone", rec.Code, rec.Body)
	}
}
