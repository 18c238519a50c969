package userhttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/minimart/minimart/internal/apptest"
)

// TestTokenAnswersAreNotCached: every answer that carries tokens tells caches (a shared
// proxy, the browser's history) not to keep it, per endpoint.
func TestTokenAnswersAreNotCached(t *testing.T) {
	wx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"openid":"oOpenID-nostore","session_key":"sk=="}`))
	}))
	defer wx.Close()
	s := start(t, map[string]string{"MINIMART_WECHAT_APPID": "wxapp", "MINIMART_WECHAT_SECRET": "wxsecret", "MINIMART_WECHAT_API_BASE": wx.URL})
	if _, err := s.App.Users.CreateStaff(context.Background(), "boss", "staff-pass-123", "admin"); err != nil {
		t.Fatal(err)
	}
	_, buyer := s.Register("nostore", "passw0rd-ok")

	cases := []struct {
		name, path string
		body       any
		status     int
	}{
		{"register", "/api/v1/auth/register", map[string]string{"username": "nostore2", "password": "passw0rd-ok"}, 201},
		{"login", "/api/v1/auth/login", map[string]string{"username": "nostore", "password": "passw0rd-ok"}, 200},
		{"wechat login", "/api/v1/auth/wechat", map[string]string{"code": "any"}, 201},
		{"refresh", "/api/v1/auth/refresh", map[string]string{"refresh_token": buyer.RefreshToken}, 200},
		{"admin login", "/api/v1/admin/auth/login", map[string]string{"username": "boss", "password": "staff-pass-123"}, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.Do("POST", c.path, "", c.body)
			var out struct{ Tokens apptest.Tokens }
			r.Decode(t, &out)
			if r.Status != c.status || out.Tokens.AccessToken == "" {
				t.Fatalf("%d %s, want %d with tokens", r.Status, r.Body, c.status)
			}
			if cc, p := r.Header.Get("Cache-Control"), r.Header.Get("Pragma"); cc != "no-store" || p != "no-cache" {
				t.Errorf("Cache-Control %q, Pragma %q; want no-store, no-cache", cc, p)
			}
		})
	}
}
