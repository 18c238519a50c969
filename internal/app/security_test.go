package app_test

import (
	"strings"
	"testing"

	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/platform/web"
)

// JSON answers get the strict default policy; the docs page keeps its own, which allows its
// stylesheet by hash and no script at all.
func TestContentSecurityPolicies(t *testing.T) {
	s := apptest.Start(t, nil)
	for _, path := range []string{"/healthz", "/api/v1/categories", "/api/v1/no-such-route", "/openapi.yaml"} {
		if got := s.Do("GET", path, "", nil).Header.Get("Content-Security-Policy"); got != web.DefaultCSP {
			t.Errorf("%s: Content-Security-Policy %q, want %q", path, got, web.DefaultCSP)
		}
	}
	docs := s.Do("GET", "/docs", "", nil)
	csp := docs.Header.Get("Content-Security-Policy")
	if docs.Status != 200 || !strings.HasPrefix(docs.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "style-src 'sha256-") ||
		strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
		t.Errorf("/docs: %d, Content-Security-Policy %q", docs.Status, csp)
	}
	if strings.Contains(string(docs.Body), "<script") {
		t.Error("/docs has a script")
	}
}
