package userhttp_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/minimart/minimart/internal/apptest"
)

// browser is a client with a cookie jar, as a page is: it sends back the cookies the server
// set, by their path, and drops the ones the server clears.
type browser struct {
	t      *testing.T
	s      *apptest.Server
	client *http.Client
}

func newBrowser(t *testing.T, s *apptest.Server) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, s: s, client: &http.Client{Jar: jar}}
}

// answer is a response with its body read and the cookies it set.
type answer struct {
	apptest.Response
	cookies []*http.Cookie
}

// post sends body (a string verbatim, else JSON) with X-Session-Transport: cookie and the
// extra headers; a header given as "" is not sent.
func (b *browser) post(path string, body any, headers map[string]string) answer {
	b.t.Helper()
	raw, ok := body.(string)
	if !ok {
		j, err := json.Marshal(body)
		if err != nil {
			b.t.Fatal(err)
		}
		raw = string(j)
	}
	req, err := http.NewRequest("POST", b.s.URL+path, strings.NewReader(raw))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Session-Transport", "cookie")
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return answer{apptest.Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, resp.Cookies()}
}

// cookie is the jar's value of the named cookie for path ("" when it holds none).
func (b *browser) cookie(path, name string) string {
	u, err := url.Parse(b.s.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// tokensOf reads the answer's tokens and fails unless the refresh token stayed out of the
// JSON; it returns the access token.
func tokensOf(t *testing.T, a answer) string {
	t.Helper()
	var out struct {
		Tokens map[string]any `json:"tokens"`
	}
	a.Decode(t, &out)
	if _, ok := out.Tokens["refresh_token"]; ok {
		t.Fatalf("refresh_token in the JSON of a cookie-transport answer: %s", a.Body)
	}
	access, _ := out.Tokens["access_token"].(string)
	if access == "" || out.Tokens["refresh_token_expires_at"] == nil {
		t.Fatalf("tokens without access_token or refresh_token_expires_at: %s", a.Body)
	}
	if cc := a.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q on an answer with tokens", cc)
	}
	return access
}

// setCookie is the one Set-Cookie of name in a, checked for the attributes every session
// cookie has; it fails when there is none.
func setCookie(t *testing.T, a answer, name, path string) *http.Cookie {
	t.Helper()
	var found *http.Cookie
	for _, c := range a.cookies {
		if c.Name == name {
			if found != nil {
				t.Fatalf("two Set-Cookie of %s", name)
			}
			found = c
		}
	}
	if found == nil {
		t.Fatalf("no Set-Cookie of %s: %v", name, a.Header["Set-Cookie"])
	}
	if found.Path != path || !found.HttpOnly || found.SameSite != http.SameSiteStrictMode || found.Domain != "" {
		t.Errorf("cookie %s: Path %q HttpOnly %v SameSite %v Domain %q; want %s, HttpOnly, Strict, host-only",
			name, found.Path, found.HttpOnly, found.SameSite, found.Domain, path)
	}
	return found
}

const (
	buyerCookie = "minimart_buyer_refresh"
	staffCookie = "minimart_staff_refresh"
)

// TestBuyerCookieSession: a browser logs in, refreshes and logs out with the refresh token
// only ever in an HttpOnly cookie; rotation and reuse detection work as with JSON tokens.
func TestBuyerCookieSession(t *testing.T) {
	s := start(t, map[string]string{"MINIMART_REFRESH_TOKEN_TTL": "48h"})
	b := newBrowser(t, s)

	reg := b.post("/api/v1/auth/register", map[string]string{"username": "cookie", "password": "passw0rd-ok"}, nil)
	if reg.Status != 201 {
		t.Fatalf("register: %d %s", reg.Status, reg.Body)
	}
	tokensOf(t, reg)
	c := setCookie(t, reg, buyerCookie, "/api/v1/auth")
	if c.MaxAge < 48*3600-60 || c.MaxAge > 48*3600 || c.Secure {
		t.Errorf("Max-Age %d Secure %v; want the 48 h refresh TTL, not Secure over plain HTTP", c.MaxAge, c.Secure)
	}
	first := b.cookie("/api/v1/auth/refresh", buyerCookie)
	if b.cookie("/api/v1/me", buyerCookie) != "" || b.cookie("/api/v1/admin/auth/refresh", buyerCookie) != "" {
		t.Fatal("the buyer cookie is sent beyond /api/v1/auth")
	}

	// The page reloads: the cookie alone gets a new access token, and a new cookie.
	ref := b.post("/api/v1/auth/refresh", "{}", nil)
	if ref.Status != 200 {
		t.Fatalf("cookie refresh: %d %s", ref.Status, ref.Body)
	}
	access := tokensOf(t, ref)
	setCookie(t, ref, buyerCookie, "/api/v1/auth")
	second := b.cookie("/api/v1/auth/refresh", buyerCookie)
	if second == "" || second == first {
		t.Fatalf("the refresh did not rotate the cookie")
	}
	if me := s.Do("GET", "/api/v1/me", access, nil); me.Status != 200 {
		t.Fatalf("me with the refreshed access token: %d %s", me.Status, me.Body)
	}

	// The first cookie, replayed (stolen): the login ends, and the answer drops the cookie.
	thief := newBrowser(t, s)
	reuse := thief.post("/api/v1/auth/refresh", "{}", map[string]string{"Cookie": buyerCookie + "=" + first})
	if reuse.Status != 401 || reuse.ErrorCode() != "refresh_token_reused" {
		t.Fatalf("replayed cookie: %d %s", reuse.Status, reuse.Body)
	}
	if gone := setCookie(t, reuse, buyerCookie, "/api/v1/auth"); gone.MaxAge >= 0 || gone.Value != "" {
		t.Errorf("a dead token's cookie is kept: %+v", gone)
	}
	if r := b.post("/api/v1/auth/refresh", "{}", nil); r.Status != 401 || r.ErrorCode() != "invalid_refresh_token" {
		t.Fatalf("the owner's cookie after the replay: %d %s", r.Status, r.Body)
	}
	if b.cookie("/api/v1/auth/refresh", buyerCookie) != "" {
		t.Error("the browser still holds a revoked cookie")
	}

	// Log in again, log out: the login is revoked and the cookie dropped.
	if r := b.post("/api/v1/auth/login", map[string]string{"username": "cookie", "password": "passw0rd-ok"}, nil); r.Status != 200 {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	} else {
		tokensOf(t, r)
	}
	loggedIn := b.cookie("/api/v1/auth/refresh", buyerCookie)
	out := b.post("/api/v1/auth/logout", "{}", nil)
	if out.Status != 204 {
		t.Fatalf("logout: %d %s", out.Status, out.Body)
	}
	if gone := setCookie(t, out, buyerCookie, "/api/v1/auth"); gone.MaxAge >= 0 {
		t.Errorf("logout kept the cookie: %+v", gone)
	}
	if r := b.post("/api/v1/auth/refresh", "{}", nil); r.Status != 401 || r.ErrorCode() != "invalid_refresh_token" {
		t.Fatalf("refresh after logout: %d %s", r.Status, r.Body)
	}
	if r := s.Do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": loggedIn}); r.Status != 401 {
		t.Fatalf("the logged-out token still refreshes in JSON: %d %s", r.Status, r.Body)
	}

	// Without the header nothing changes: the token is in the JSON and no cookie is set.
	plain := b.post("/api/v1/auth/login", map[string]string{"username": "cookie", "password": "passw0rd-ok"},
		map[string]string{"X-Session-Transport": ""})
	var body struct{ Tokens apptest.Tokens }
	plain.Decode(t, &body)
	if plain.Status != 200 || body.Tokens.RefreshToken == "" || len(plain.cookies) != 0 {
		t.Fatalf("JSON login: %d, refresh token %q, cookies %v", plain.Status, body.Tokens.RefreshToken, plain.cookies)
	}
}

// TestStaffCookieSession: the console's session has its own cookie and endpoints, and the
// two audiences' refresh tokens are not interchangeable there. A token refused at the wrong
// endpoint is not used up: it still works where it belongs.
func TestStaffCookieSession(t *testing.T) {
	s := start(t, nil)
	if _, err := s.App.Users.CreateStaff(context.Background(), "boss", "staff-pass-123", "admin"); err != nil {
		t.Fatal(err)
	}
	_, buyer := s.Register("shopper", "passw0rd-ok")
	b := newBrowser(t, s)

	login := b.post("/api/v1/admin/auth/login", map[string]string{"username": "boss", "password": "staff-pass-123"}, nil)
	if login.Status != 200 {
		t.Fatalf("staff login: %d %s", login.Status, login.Body)
	}
	tokensOf(t, login)
	setCookie(t, login, staffCookie, "/api/v1/admin/auth")
	staffToken := b.cookie("/api/v1/admin/auth/refresh", staffCookie)
	if b.cookie("/api/v1/auth/refresh", staffCookie) != "" || b.cookie("/api/v1/admin/me", staffCookie) != "" {
		t.Fatal("the staff cookie is sent beyond /api/v1/admin/auth")
	}

	// The buyer endpoint with the staff token as its cookie, and the staff endpoint with a
	// buyer's token as JSON: both refused, neither token spent.
	swapped := newBrowser(t, s).post("/api/v1/auth/refresh", "{}", map[string]string{"Cookie": buyerCookie + "=" + staffToken})
	if swapped.Status != 401 || swapped.ErrorCode() != "invalid_refresh_token" {
		t.Fatalf("staff token in the buyer cookie: %d %s", swapped.Status, swapped.Body)
	}
	asStaff := s.Do("POST", "/api/v1/admin/auth/refresh", "", map[string]string{"refresh_token": buyer.RefreshToken})
	if asStaff.Status != 401 || asStaff.ErrorCode() != "invalid_refresh_token" {
		t.Fatalf("buyer token at the staff refresh: %d %s", asStaff.Status, asStaff.Body)
	}
	if r := s.Do("POST", "/api/v1/admin/auth/logout", "", map[string]string{"refresh_token": buyer.RefreshToken}); r.Status != 204 {
		t.Fatalf("staff logout with a buyer token: %d %s", r.Status, r.Body)
	}
	var rotated struct{ Tokens apptest.Tokens }
	if r := s.Do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": buyer.RefreshToken}); r.Status != 200 {
		t.Fatalf("the buyer token after being refused as staff: %d %s", r.Status, r.Body)
	} else {
		r.Decode(t, &rotated)
	}
	buyerCookieJar := newBrowser(t, s)
	if r := buyerCookieJar.post("/api/v1/admin/auth/refresh", "{}",
		map[string]string{"Cookie": staffCookie + "=" + rotated.Tokens.RefreshToken}); r.Status != 401 || r.ErrorCode() != "invalid_refresh_token" {
		t.Fatalf("buyer token in the staff cookie: %d %s", r.Status, r.Body)
	}

	ref := b.post("/api/v1/admin/auth/refresh", "{}", nil)
	if ref.Status != 200 {
		t.Fatalf("staff cookie refresh: %d %s", ref.Status, ref.Body)
	}
	access := tokensOf(t, ref)
	setCookie(t, ref, staffCookie, "/api/v1/admin/auth")
	if me := s.Do("GET", "/api/v1/admin/me", access, nil); me.Status != 200 {
		t.Fatalf("admin me with the refreshed token: %d %s", me.Status, me.Body)
	}
	if r := newBrowser(t, s).post("/api/v1/admin/auth/refresh", "{}", map[string]string{"Cookie": staffCookie + "=" + staffToken}); r.Status != 401 || r.ErrorCode() != "refresh_token_reused" {
		t.Fatalf("replayed staff cookie: %d %s", r.Status, r.Body)
	}

	// The staff endpoints in JSON, for API clients: a pair in, a pair out, logout ends it.
	_, tok := staffLogin(t, s, "boss", "staff-pass-123")
	var next struct{ Tokens apptest.Tokens }
	r := s.Do("POST", "/api/v1/admin/auth/refresh", "", map[string]string{"refresh_token": tok.RefreshToken})
	r.Decode(t, &next)
	if r.Status != 200 || next.Tokens.RefreshToken == "" || next.Tokens.RefreshToken == tok.RefreshToken {
		t.Fatalf("staff JSON refresh: %d %s", r.Status, r.Body)
	}
	if r := s.Do("POST", "/api/v1/admin/auth/logout", "", map[string]string{"refresh_token": next.Tokens.RefreshToken}); r.Status != 204 {
		t.Fatalf("staff JSON logout: %d %s", r.Status, r.Body)
	}
	if r := s.Do("POST", "/api/v1/admin/auth/refresh", "", map[string]string{"refresh_token": next.Tokens.RefreshToken}); r.Status != 401 {
		t.Fatalf("refresh after staff logout: %d %s", r.Status, r.Body)
	}

	// The shared /api/v1/auth/refresh served cookie requests above; each request decides its
	// own audience, so it still takes a staff token in JSON.
	_, shared := staffLogin(t, s, "boss", "staff-pass-123")
	if r := s.Do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": shared.RefreshToken}); r.Status != 200 {
		t.Fatalf("staff JSON refresh at the shared endpoint after cookie requests: %d %s", r.Status, r.Body)
	}

	// Cookie logout of the console.
	if _, err := s.App.Users.CreateStaff(context.Background(), "clerk", "staff-pass-123", "operator"); err != nil {
		t.Fatal(err)
	}
	c := newBrowser(t, s)
	if r := c.post("/api/v1/admin/auth/login", map[string]string{"username": "clerk", "password": "staff-pass-123"}, nil); r.Status != 200 {
		t.Fatalf("clerk login: %d %s", r.Status, r.Body)
	}
	clerkToken := c.cookie("/api/v1/admin/auth/refresh", staffCookie)
	if r := c.post("/api/v1/admin/auth/logout", "{}", nil); r.Status != 204 {
		t.Fatalf("staff cookie logout: %d %s", r.Status, r.Body)
	}
	if c.cookie("/api/v1/admin/auth/refresh", staffCookie) != "" {
		t.Error("staff logout kept the cookie")
	}
	if r := s.Do("POST", "/api/v1/admin/auth/refresh", "", map[string]string{"refresh_token": clerkToken}); r.Status != 401 {
		t.Fatalf("the logged-out staff token still refreshes: %d %s", r.Status, r.Body)
	}
}

func TestCookieTransportBadInput(t *testing.T) {
	s := start(t, nil)
	b := newBrowser(t, s)
	cases := []struct {
		name, path string
		body       any
		headers    map[string]string
		status     int
		code       string
	}{
		{"unknown transport on login", "/api/v1/auth/login", map[string]string{"username": "x", "password": "y"},
			map[string]string{"X-Session-Transport": "localStorage"}, 400, "invalid_parameter"},
		{"unknown transport on refresh", "/api/v1/auth/refresh", "{}", map[string]string{"X-Session-Transport": "json"}, 400, "invalid_parameter"},
		{"unknown transport on staff login", "/api/v1/admin/auth/login", map[string]string{"username": "x", "password": "y"},
			map[string]string{"X-Session-Transport": "x"}, 400, "invalid_parameter"},
		{"no cookie", "/api/v1/auth/refresh", "{}", nil, 401, "invalid_refresh_token"},
		{"no staff cookie", "/api/v1/admin/auth/refresh", "{}", nil, 401, "invalid_refresh_token"},
		{"token in the body too", "/api/v1/auth/refresh", map[string]string{"refresh_token": "abc"}, nil, 400, "validation_failed"},
		{"token in the staff body too", "/api/v1/admin/auth/logout", map[string]string{"refresh_token": "abc"}, nil, 400, "validation_failed"},
		{"empty body", "/api/v1/auth/refresh", "", nil, 400, "empty_body"},
		{"unknown field", "/api/v1/admin/auth/refresh", `{"token":"x"}`, nil, 400, "unknown_field"},
		{"garbage cookie", "/api/v1/auth/refresh", "{}", map[string]string{"Cookie": buyerCookie + "=" + strings.Repeat("z", 300)}, 401, "invalid_refresh_token"},
		{"logout without cookie", "/api/v1/auth/logout", "{}", nil, 204, ""},
		{"staff JSON refresh, no token", "/api/v1/admin/auth/refresh", "{}", map[string]string{"X-Session-Transport": ""}, 401, "invalid_refresh_token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := b.post(c.path, c.body, c.headers)
			if r.Status != c.status || c.code != "" && r.ErrorCode() != c.code {
				t.Fatalf("%d %s, want %d %s", r.Status, r.Body, c.status, c.code)
			}
		})
	}
}

// TestSecureCookieBehindTLS: the cookie is Secure when the client's connection is HTTPS,
// which a trusted proxy reports in X-Forwarded-Proto; anyone else's header is not believed.
func TestSecureCookieBehindTLS(t *testing.T) {
	s := start(t, map[string]string{"MINIMART_TRUSTED_PROXIES": "127.0.0.1"})
	untrusted := start(t, nil)
	if _, err := s.App.Users.CreateStaff(context.Background(), "boss", "staff-pass-123", "admin"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, username string
		s              *apptest.Server
		proto          string
		secure         bool
	}{
		{"https through the trusted proxy", "viahttps", s, "https", true},
		{"http through the trusted proxy", "viahttp", s, "http", false},
		{"https claimed by a client", "claimshttps", untrusted, "https", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newBrowser(t, c.s).post("/api/v1/auth/register", map[string]string{"username": c.username, "password": "passw0rd-ok"},
				map[string]string{"X-Forwarded-Proto": c.proto})
			if r.Status != 201 {
				t.Fatalf("register: %d %s", r.Status, r.Body)
			}
			if got := setCookie(t, r, buyerCookie, "/api/v1/auth"); got.Secure != c.secure {
				t.Errorf("Secure = %v, want %v", got.Secure, c.secure)
			}
		})
	}
	staff := newBrowser(t, s).post("/api/v1/admin/auth/login", map[string]string{"username": "boss", "password": "staff-pass-123"},
		map[string]string{"X-Forwarded-Proto": "https"})
	if got := setCookie(t, staff, staffCookie, "/api/v1/admin/auth"); !got.Secure {
		t.Error("staff cookie over HTTPS is not Secure")
	}
}

// TestCookieRefreshIsRateLimited: refreshes by cookie and at the staff endpoint count
// against the same per-client limit as JSON refreshes.
func TestCookieRefreshIsRateLimited(t *testing.T) {
	s := start(t, map[string]string{"MINIMART_RATELIMIT_REFRESH": "3/1m"})
	b := newBrowser(t, s)
	for i, path := range []string{"/api/v1/auth/refresh", "/api/v1/admin/auth/refresh", "/api/v1/auth/refresh"} {
		if r := b.post(path, "{}", nil); r.Status != 401 {
			t.Fatalf("refresh %d at %s: %d %s, want 401 while under the limit", i+1, path, r.Status, r.Body)
		}
	}
	for _, path := range []string{"/api/v1/admin/auth/refresh", "/api/v1/auth/refresh"} {
		r := b.post(path, "{}", nil)
		if r.Status != 429 || r.ErrorCode() != "rate_limited" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("%s over the limit: %d %s", path, r.Status, r.Body)
		}
	}
	if r := s.Do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": "x"}); r.Status != 429 {
		t.Fatalf("JSON refresh after the cookie refreshes used the limit: %d", r.Status)
	}
}
