package userhttp_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzAuthRequests throws arbitrary bodies at every auth endpoint through the real router:
// whatever arrives, the answer is JSON, never a 500, and a 2xx only for well-formed input.
func FuzzAuthRequests(f *testing.F) {
	seeds := []string{
		`{"username":"alice","password":"passw0rd-ok"}`,
		`{"mobile":"13800000000","password":"passw0rd-ok"}`,
		`{"username":"alice","password":1}`,
		`{"username":"` + strings.Repeat("字", 40) + `","password":"passw0rd-ok"}`,
		`{"refresh_token":"abc"}`, `{"code":"x"}`, `{}`, `[]`, `null`, `"str"`, `{"a":`, "\x00\xff", ``,
		`{"username":"a\u0000b","password":"passw0rd-ok1"}`, `{"username":"x","username":"y","password":"z"}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	// Every input comes from one address: the per-IP limits would answer most with 429.
	s := start(f, map[string]string{"MINIMART_RATELIMITS": "0"})
	h := s.App.Handler()
	paths := []string{"/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/refresh",
		"/api/v1/auth/logout", "/api/v1/auth/wechat", "/api/v1/admin/auth/login"}
	f.Fuzz(func(t *testing.T, body string) {
		for _, p := range paths {
			req := httptest.NewRequest(http.MethodPost, p, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("%s %q: status %d: %s", p, body, rec.Code, rec.Body)
			}
			if rec.Code == http.StatusNoContent {
				continue
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s %q: answer is not JSON: %q", p, body, rec.Body)
			}
			if rec.Code < 300 && !json.Valid([]byte(body)) {
				t.Fatalf("%s accepted invalid JSON %q", p, body)
			}
		}
	})
}
