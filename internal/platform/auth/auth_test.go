package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/errs"
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

// staffBook is a StaffStatus over a map of current roles, counting the questions it is asked.
type staffBook struct {
	mu    sync.Mutex
	roles map[ids.ID]string
	err   error
	asked int
}

func (b *staffBook) StaffRole(_ context.Context, id ids.ID) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.asked++
	return b.roles[id], b.err
}

func (b *staffBook) set(id ids.ID, role string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roles[id], b.err = role, err
}

func (b *staffBook) questions() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.asked
}

// TestStaffStatus: with CheckingStaff, a staff token works only while its account is active,
// in the account's current role; answers are remembered for the freshness given, and an
// unknown status refuses with 503.
func TestStaffStatus(t *testing.T) {
	plain, err := auth.NewTokens([]byte(strings.Repeat("k", 32)), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	book := &staffBook{roles: map[ids.ID]string{1: auth.RoleAdmin, 2: ""}}
	const fresh = 200 * time.Millisecond
	tokens, err := plain.CheckingStaff(book, fresh)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(p auth.Principal) string {
		tok, _, err := plain.Issue(p)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	admin := issue(auth.Principal{ID: 1, Audience: auth.AudienceStaff, Role: auth.RoleAdmin})
	disabled := issue(auth.Principal{ID: 2, Audience: auth.AudienceStaff, Role: auth.RoleOperator})
	buyer := issue(auth.Principal{ID: 3, Audience: auth.AudienceBuyer})
	h := tokens.Staff(auth.RoleAdmin)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	call := func(tok string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/x", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	code := func(w *httptest.ResponseRecorder) string {
		var e struct{ Error struct{ Code string } }
		json.Unmarshal(w.Body.Bytes(), &e)
		return e.Error.Code
	}

	if w := call(admin); w.Code != http.StatusNoContent {
		t.Fatalf("active admin: %d %s", w.Code, w.Body)
	}
	// A disabled account hears so even where its role would not do (operator on an admin route).
	if w := call(disabled); w.Code != http.StatusUnauthorized || code(w) != "account_disabled" || w.Header().Get("WWW-Authenticate") == "" {
		t.Fatalf("disabled: %d %s %v", w.Code, w.Body, w.Header())
	}
	if w := call(buyer); w.Code != http.StatusForbidden {
		t.Fatalf("buyer: %d %s", w.Code, w.Body)
	}
	if n := book.questions(); n != 2 {
		t.Fatalf("asked %d times, want once per staff account and never for a buyer", n)
	}
	call(admin)
	if n := book.questions(); n != 2 {
		t.Fatalf("asked %d times: the answer was not remembered", n)
	}

	// Demoted, then disabled: each refused once the remembered answer is older than fresh.
	within := func(what string, want int) {
		t.Helper()
		deadline := time.Now().Add(10 * fresh)
		for call(admin).Code != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not answered %d within %s of the change", what, want, 10*fresh)
			}
			time.Sleep(fresh / 10)
		}
	}
	book.set(1, auth.RoleOperator, nil)
	within("demoted", http.StatusForbidden)
	book.set(1, "", nil)
	within("disabled", http.StatusUnauthorized)

	// The status cannot be read: refused (fail closed), and not remembered. A local failure
	// is internal; a peer's own 503 keeps its details.
	other := issue(auth.Principal{ID: 4, Audience: auth.AudienceStaff, Role: auth.RoleAdmin})
	book.set(4, auth.RoleAdmin, errors.New("database is down"))
	if w := call(other); w.Code != http.StatusInternalServerError || code(w) != "internal" {
		t.Fatalf("status unknown: %d %s %v", w.Code, w.Body, w.Header())
	}
	book.set(4, auth.RoleAdmin, errs.New(errs.Unavailable, "dependency_unavailable", "user service down").With(map[string]any{errs.RetryAfterSeconds: int64(3)}))
	if w := call(other); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "3" {
		t.Fatalf("peer down: %d %s %v", w.Code, w.Body, w.Header())
	}
	book.set(4, auth.RoleAdmin, nil)
	if w := call(other); w.Code != http.StatusNoContent {
		t.Fatalf("status back: %d %s", w.Code, w.Body)
	}

	// Without CheckingStaff nothing is asked: tokens are trusted until they expire.
	before := book.questions()
	plainHandler := plain.Staff(auth.RoleAdmin)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req := httptest.NewRequest("GET", "/x", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	plainHandler.ServeHTTP(httptest.NewRecorder(), req)
	if book.questions() != before {
		t.Fatal("tokens without CheckingStaff asked for a status")
	}
}

// StaffClaim names the staff member of a valid token without any other check, and nobody for
// buyer, bad or missing tokens.
func TestStaffClaim(t *testing.T) {
	tokens, err := auth.NewTokens([]byte(strings.Repeat("k", 32)), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	staff, _, _ := tokens.Issue(auth.Principal{ID: 7, Audience: auth.AudienceStaff, Role: auth.RoleOperator})
	buyer, _, _ := tokens.Issue(auth.Principal{ID: 8, Audience: auth.AudienceBuyer})
	for _, c := range []struct {
		header string
		want   ids.ID
	}{{"Bearer " + staff, 7}, {"Bearer " + buyer, 0}, {"Bearer garbage", 0}, {"", 0}} {
		req := httptest.NewRequest("POST", "/x", nil)
		req.Header.Set("Authorization", c.header)
		p, ok := tokens.StaffClaim(req)
		if ok != (c.want != 0) || p.ID != c.want || (ok && p.Role != auth.RoleOperator) {
			t.Errorf("%.20q: %+v %v, want %s", c.header, p, ok, c.want)
		}
	}
}
