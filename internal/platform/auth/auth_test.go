package auth_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/ids"
)

// Behind Buyer the handler sees the token's user; a handler wired without the middleware
// fails loudly instead of acting as user 0.
func TestPrincipalOf(t *testing.T) {
	tokens, err := auth.NewTokens([]byte(strings.Repeat("k", 32)), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := tokens.Issue(auth.Principal{ID: 42, Audience: auth.AudienceBuyer})
	if err != nil {
		t.Fatal(err)
	}
	var seen ids.ID
	h := tokens.Buyer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = auth.PrincipalOf(r).ID }))
	req := httptest.NewRequest("GET", "/x", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if seen != 42 {
		t.Fatalf("principal %s, want 42", seen)
	}

	defer func() {
		if recover() == nil {
			t.Fatal("PrincipalOf without the middleware did not panic")
		}
	}()
	auth.PrincipalOf(httptest.NewRequest("GET", "/x", nil))
}
