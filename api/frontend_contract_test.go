package api_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// cookieOf is the value the answer set for the named cookie, failing when it set none.
func cookieOf(t *testing.T, r result, name string) string {
	t.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	t.Fatalf("no Set-Cookie of %s: %v", name, r.header["Set-Cookie"])
	return ""
}

// testFrontend fetches the storefront, the console and their files, and runs the browser
// sessions (refresh tokens in HttpOnly cookies) of buyers and staff, checking every answer
// against the document.
func testFrontend(t *testing.T, h *harness) {
	const get, post = http.MethodGet, http.MethodPost
	cookie := func(extra ...string) http.Header {
		hd := http.Header{"X-Session-Transport": {"cookie"}}
		if len(extra) == 2 {
			hd.Set(extra[0], extra[1])
		}
		return hd
	}

	t.Run("pages and files", func(t *testing.T) {
		for _, path := range []string{"/", "/admin/"} {
			page := h.do(t, "page "+path, call{method: get, path: path, want: 200})
			if !strings.Contains(string(page.body), "<html") || !strings.Contains(page.header.Get("Content-Security-Policy"), "script-src 'self'") {
				t.Errorf("%s: not the page with its policy: %q", path, page.header.Get("Content-Security-Policy"))
			}
			h.do(t, "page "+path+" unchanged", call{method: get, path: path, header: http.Header{"If-None-Match": {page.header.Get("ETag")}}, want: 304})
		}
		lib := h.do(t, "UI library", call{method: get, path: "/ui/vendor/preact-htm.js", want: 200})
		h.do(t, "UI library unchanged", call{method: get, path: "/ui/vendor/preact-htm.js", header: http.Header{"If-None-Match": {lib.header.Get("ETag")}}, want: 304})
		h.do(t, "shared module", call{method: get, path: "/ui/shared/api.js", want: 200})
		h.do(t, "no such file", call{method: get, path: "/ui/store/no-such-file.js", want: 404, code: "route_not_found"})
		h.do(t, "no such area", call{method: get, path: "/ui/secrets/key.pem", want: 404, code: "route_not_found", specRejects: true})

		// /admin moves to /admin/: checked as sent, without following the redirect.
		req, err := http.NewRequestWithContext(t.Context(), get, h.url+"/admin", nil)
		if err != nil {
			t.Fatal(err)
		}
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/admin/" {
			t.Fatalf("/admin: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if err := h.c.check(req, nil, resp.StatusCode, resp.Header, body, false); err != nil {
			t.Error(err)
		}
	})

	t.Run("buyer cookie session", func(t *testing.T) {
		reg := h.do(t, "register", call{method: post, path: "/api/v1/auth/register", header: cookie(),
			body: map[string]any{"username": "browser.buyer", "password": "window-42"}, want: 201})
		if strings.Contains(string(reg.body), "refresh_token\"") {
			t.Errorf("the refresh token is in the JSON: %s", reg.body)
		}
		first := cookieOf(t, reg, "minimart_buyer_refresh")
		ref := h.do(t, "refresh", call{method: post, path: "/api/v1/auth/refresh", raw: "{}", hasRaw: true,
			header: cookie("Cookie", "minimart_buyer_refresh="+first), want: 200})
		next := cookieOf(t, ref, "minimart_buyer_refresh")
		h.do(t, "replayed cookie", call{method: post, path: "/api/v1/auth/refresh", raw: "{}", hasRaw: true,
			header: cookie("Cookie", "minimart_buyer_refresh="+first), want: 401, code: "refresh_token_reused"})
		h.do(t, "no cookie", call{method: post, path: "/api/v1/auth/refresh", raw: "{}", hasRaw: true, header: cookie(), want: 401, code: "invalid_refresh_token"})
		h.do(t, "token in the body too", call{method: post, path: "/api/v1/auth/refresh", body: map[string]any{"refresh_token": next},
			header: cookie(), want: 400, code: "validation_failed"})
		h.do(t, "unknown transport", call{method: post, path: "/api/v1/auth/refresh", raw: "{}", hasRaw: true,
			header: http.Header{"X-Session-Transport": {"local-storage"}}, want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "unknown transport on login", call{method: post, path: "/api/v1/auth/login", body: map[string]any{"username": "browser.buyer", "password": "window-42"},
			header: http.Header{"X-Session-Transport": {"local-storage"}}, want: 400, code: "invalid_parameter", specRejects: true})
		login := h.do(t, "login", call{method: post, path: "/api/v1/auth/login", header: cookie(),
			body: map[string]any{"username": "browser.buyer", "password": "window-42"}, want: 200})
		out := h.do(t, "logout", call{method: post, path: "/api/v1/auth/logout", raw: "{}", hasRaw: true,
			header: cookie("Cookie", "minimart_buyer_refresh="+cookieOf(t, login, "minimart_buyer_refresh")), want: 204})
		if v := cookieOf(t, out, "minimart_buyer_refresh"); v != "" {
			t.Errorf("logout set the cookie to %q, want it cleared", v)
		}
		h.do(t, "logout, token in the body too", call{method: post, path: "/api/v1/auth/logout", body: map[string]any{"refresh_token": "x"},
			header: cookie(), want: 400, code: "validation_failed"})
	})

	t.Run("staff sessions", func(t *testing.T) {
		if _, err := h.app.Users.CreateStaff(context.Background(), "console.op", "console-42", "operator"); err != nil {
			t.Fatal(err)
		}
		const refresh, logout = "/api/v1/admin/auth/refresh", "/api/v1/admin/auth/logout"
		creds := map[string]any{"username": "console.op", "password": "console-42"}
		login := h.do(t, "cookie login", call{method: post, path: "/api/v1/admin/auth/login", header: cookie(), body: creds, want: 200})
		first := cookieOf(t, login, "minimart_staff_refresh")
		ref := h.do(t, "cookie refresh", call{method: post, path: refresh, raw: "{}", hasRaw: true,
			header: cookie("Cookie", "minimart_staff_refresh="+first), want: 200})
		h.do(t, "replayed cookie", call{method: post, path: refresh, raw: "{}", hasRaw: true,
			header: cookie("Cookie", "minimart_staff_refresh="+first), want: 401, code: "refresh_token_reused"})
		h.do(t, "revoked by the replay", call{method: post, path: refresh, raw: "{}", hasRaw: true,
			header: cookie("Cookie", "minimart_staff_refresh="+cookieOf(t, ref, "minimart_staff_refresh")), want: 401, code: "invalid_refresh_token"})

		buyer := decode[userLogin](t, h.do(t, "a buyer", call{method: post, path: "/api/v1/auth/register",
			body: map[string]any{"username": "not.staff", "password": "shopper-42"}, want: 201}))
		h.do(t, "buyer token", call{method: post, path: refresh, body: map[string]any{"refresh_token": buyer.Tokens.RefreshToken},
			want: 401, code: "invalid_refresh_token"})
		h.do(t, "buyer token at the staff logout", call{method: post, path: logout, body: map[string]any{"refresh_token": buyer.Tokens.RefreshToken}, want: 204})
		h.do(t, "buyer token still good", call{method: post, path: "/api/v1/auth/refresh", body: map[string]any{"refresh_token": buyer.Tokens.RefreshToken}, want: 200})

		pair := decode[staffLogin](t, h.do(t, "JSON login", call{method: post, path: "/api/v1/admin/auth/login", body: creds, want: 200}))
		next := decode[struct{ Tokens tokens }](t, h.do(t, "JSON refresh", call{method: post, path: refresh,
			body: map[string]any{"refresh_token": pair.Tokens.RefreshToken}, want: 200}))
		h.do(t, "JSON logout", call{method: post, path: logout, body: map[string]any{"refresh_token": next.Tokens.RefreshToken}, want: 204})
		h.do(t, "after logout", call{method: post, path: refresh, body: map[string]any{"refresh_token": next.Tokens.RefreshToken},
			want: 401, code: "invalid_refresh_token"})
		h.do(t, "cookie logout", call{method: post, path: logout, raw: "{}", hasRaw: true, header: cookie(), want: 204})

		for _, path := range []string{refresh, logout} {
			h.do(t, path+" unknown transport", call{method: post, path: path, raw: "{}", hasRaw: true,
				header: http.Header{"X-Session-Transport": {"yes"}}, want: 400, code: "invalid_parameter", specRejects: true})
			h.do(t, path+" token in the body too", call{method: post, path: path, body: map[string]any{"refresh_token": "x"},
				header: cookie(), want: 400, code: "validation_failed"})
			h.do(t, path+" unknown field", call{method: post, path: path, body: map[string]any{"token": "x"}, want: 400, code: "unknown_field", specRejects: true})
			h.do(t, path+" wrong type", call{method: post, path: path, body: map[string]any{"refresh_token": 7}, want: 400, code: "wrong_type", specRejects: true})
			h.do(t, path+" bad JSON", call{method: post, path: path, raw: "{", hasRaw: true, want: 400, code: "invalid_json", specRejects: true})
			h.do(t, path+" empty body", call{method: post, path: path, raw: "", hasRaw: true, contentType: "application/json",
				want: 400, code: "empty_body", specRejects: true})
			h.do(t, path+" text/plain", call{method: post, path: path, raw: "x", hasRaw: true, contentType: "text/plain",
				want: 415, code: "unsupported_media_type", specRejects: true})
			h.do(t, path+" over the limit", call{method: post, path: path, body: map[string]any{"refresh_token": strings.Repeat("x", 5000)},
				want: 413, code: "body_too_large"})
		}
	})
}
