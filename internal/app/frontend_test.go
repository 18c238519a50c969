package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/web"
)

// TestPagesAndCORSThroughTheApp: the storefront and console pages with their own policy, and
// a page on a listed origin logging in with the refresh cookie across origins, through the
// whole middleware stack.
func TestPagesAndCORSThroughTheApp(t *testing.T) {
	s := apptest.Start(t, map[string]string{"MINIMART_CORS_ORIGINS": "https://shop.example.com"})
	for _, path := range []string{"/", "/admin/"} {
		r := s.Do("GET", path, "", nil)
		if r.Status != 200 || r.Header.Get("Content-Security-Policy") != web.PageCSP || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: %d %q %q", path, r.Status, r.Header.Get("Content-Type"), r.Header.Get("Content-Security-Policy"))
		}
	}
	if r := s.Do("GET", "/ui/vendor/preact-htm.js", "", nil); r.Status != 200 || r.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("the UI library: %d %q", r.Status, r.Header.Get("Content-Type"))
	}

	const origin = "https://shop.example.com"
	pre := s.DoWith("OPTIONS", "/api/v1/auth/register", "", nil, map[string]string{"Origin": origin,
		"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type, x-session-transport"})
	if pre.Status != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != origin ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "X-Session-Transport") || pre.Header.Get("X-Request-Id") == "" {
		t.Fatalf("preflight: %d %v", pre.Status, pre.Header)
	}
	reg := s.DoWith("POST", "/api/v1/auth/register", "", map[string]string{"username": "faraway", "password": "passw0rd-ok"},
		map[string]string{"Origin": origin, "X-Session-Transport": "cookie"})
	if reg.Status != 201 || reg.Header.Get("Access-Control-Allow-Origin") != origin || reg.Header.Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.HasPrefix(reg.Header.Get("Set-Cookie"), "minimart_buyer_refresh=") {
		t.Fatalf("cross-origin register: %d %v %s", reg.Status, reg.Header, reg.Body)
	}

	other := s.DoWith("OPTIONS", "/api/v1/auth/register", "", nil, map[string]string{"Origin": "https://elsewhere.example.com",
		"Access-Control-Request-Method": "POST"})
	if other.Status != http.StatusForbidden || other.ErrorCode() != "cors_origin_not_allowed" || other.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from an unlisted origin: %d %v %s", other.Status, other.Header, other.Body)
	}
}

// TestSplitServesPagesAndStaffSessions: every service serves the pages (nginx sends them to
// the user service, but any instance answers them alike), and the console's cookie session
// works on the user service, where nginx routes /api/v1/admin/auth/.
func TestSplitServesPagesAndStaffSessions(t *testing.T) {
	sp := newSplit(t)
	for _, s := range []*apptest.Server{sp.product, sp.orders} {
		for _, path := range []string{"/", "/admin/", "/ui/vendor/preact-htm.js"} {
			if r := s.Do("GET", path, "", nil); r.Status != 200 {
				t.Errorf("%s GET %s: %d", s.URL, path, r.Status)
			}
		}
	}
	cookie := map[string]string{"X-Session-Transport": "cookie"}
	login := sp.orders.DoWith("POST", "/api/v1/admin/auth/login", "", map[string]string{"username": "ops", "password": "staff-pass-123"}, cookie)
	if login.Status != 200 {
		t.Fatalf("staff cookie login: %d %s", login.Status, login.Body)
	}
	var set *http.Cookie
	for _, c := range (&http.Response{Header: login.Header}).Cookies() {
		if c.Name == "minimart_staff_refresh" {
			set = c
		}
	}
	if set == nil {
		t.Fatalf("no staff cookie: %v", login.Header)
	}
	cookie["Cookie"] = set.Name + "=" + set.Value
	ref := sp.orders.DoWith("POST", "/api/v1/admin/auth/refresh", "", "{}", cookie)
	var out struct {
		Tokens struct {
			AccessToken string `json:"access_token"`
		}
	}
	ref.Decode(t, &out)
	if ref.Status != 200 || out.Tokens.AccessToken == "" {
		t.Fatalf("staff cookie refresh: %d %s", ref.Status, ref.Body)
	}
	// The refreshed token is good on the product service, which checks it with the user one.
	sp.product.Expect(200, "PUT", "/api/v1/admin/skus/"+sp.sku.String()+"/stock", out.Tokens.AccessToken, map[string]any{"stock": 3}, nil)
	if r := sp.product.DoWith("POST", "/api/v1/admin/auth/refresh", "", "{}", cookie); r.Status != 404 || r.ErrorCode() != "route_not_found" {
		t.Fatalf("the product service answered a staff refresh: %d %s", r.Status, r.Body)
	}
}
