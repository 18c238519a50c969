package audit_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/audit"
	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
	"github.com/minimart/minimart/internal/platform/web"
)

type fixture struct {
	t       *testing.T
	db      *sqldb.DB
	h       http.Handler
	tokens  *auth.Tokens
	staff   string // an operator's token
	outer   *http.Request
	panicky bool
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := sqldbtest.SQLite(t, events.OutboxMigrations)
	gen, err := ids.NewGenerator(3)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens([]byte(strings.Repeat("k", 32)), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	staff, _, err := tokens.Issue(auth.Principal{ID: 77, Audience: auth.AudienceStaff, Role: auth.RoleOperator})
	if err != nil {
		t.Fatal(err)
	}
	ips, err := web.NewClientIPs("192.0.2.1") // httptest's RemoteAddr, as a trusted proxy
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, tokens: tokens, staff: staff}
	rt := web.NewRouter()
	rt.HandleFunc("PUT /api/v1/admin/skus/{id}/stock", func(w http.ResponseWriter, r *http.Request) error {
		var in map[string]any
		if err := web.Decode(r, &in); err != nil {
			return err
		}
		audit.SetBefore(r.Context(), map[string]any{"stock": 3, "api_key": "old-key"})
		// The entry is committed before the client sees any of the answer.
		if n := f.entries(); len(n) != 0 {
			t.Errorf("entry recorded while the handler still runs")
		}
		web.WriteJSON(w, http.StatusOK, map[string]any{"stock": in["stock"]})
		return nil
	})
	rt.HandleFunc("POST /api/v1/admin/staff", func(w http.ResponseWriter, r *http.Request) error {
		if f.panicky {
			panic("boom")
		}
		var in map[string]any
		if err := web.Decode(r, &in); err != nil {
			return err
		}
		web.WriteJSON(w, http.StatusCreated, map[string]any{"id": "4242", "username": in["username"]})
		return nil
	})
	rt.HandleFunc("POST /api/v1/admin/images", func(w http.ResponseWriter, r *http.Request) error {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
		return nil
	})
	rt.HandleFunc("GET /api/v1/admin/skus/{id}", func(w http.ResponseWriter, r *http.Request) error { return nil })
	rt.HandleFunc("POST /api/v1/auth/register", func(w http.ResponseWriter, r *http.Request) error { return nil })
	rec := audit.NewRecorder(db, events.NewOutbox(), gen, "catalog,inventory", slog.New(slog.DiscardHandler))
	// What web.Observe does: read the route pattern once the request is served.
	observe := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f.outer = r
			next.ServeHTTP(w, r)
		})
	}
	f.h = web.Chain(rt, observe, web.Recover(), audit.Middleware(rec, tokens.StaffClaim, ips))
	return f
}

// send serves one request and returns the recorder.
func (f *fixture) send(method, path, token, contentType string, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	req.Header.Set("User-Agent", "console/1.0")
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	return w
}

// entries are the audit.recorded events in the outbox, oldest first.
func (f *fixture) entries() []audit.Entry {
	f.t.Helper()
	rows, err := f.db.Read().Query("SELECT payload FROM outbox_events WHERE type = ? ORDER BY id", audit.TypeRecorded)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		var payload string
		if err := rows.Scan(&payload); err != nil {
			f.t.Fatal(err)
		}
		ev, err := events.Decode([]byte(payload))
		if err != nil {
			f.t.Fatal(err)
		}
		e, err := audit.Decode(ev)
		if err != nil {
			f.t.Fatal(err)
		}
		if ev.Key != e.ActorID.String() || ev.ID != e.ID {
			f.t.Errorf("event %s keyed %q for entry %s of actor %s", ev.ID, ev.Key, e.ID, e.ActorID)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		f.t.Fatal(err)
	}
	return out
}

func TestMiddlewareRecordsStaffWrites(t *testing.T) {
	f := newFixture(t)
	w := f.send("PUT", "/api/v1/admin/skus/9001/stock", f.staff, "application/json",
		`{"stock": 12, "password": "hunter22x", "nested": [{"refresh_token": "rt", "note": "ok"}], "big": 9007199254740993}`)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"stock":12`) {
		t.Fatalf("answer: %d %s", w.Code, w.Body)
	}
	if f.outer.Pattern != "PUT /api/v1/admin/skus/{id}/stock" {
		t.Errorf("the outer middleware sees pattern %q", f.outer.Pattern)
	}
	list := f.entries()
	if len(list) != 1 {
		t.Fatalf("%d entries, want 1", len(list))
	}
	e := list[0]
	if e.ActorID != 77 || e.ActorRole != "operator" || e.Method != "PUT" || e.Route != "/api/v1/admin/skus/{id}/stock" ||
		e.Path != "/api/v1/admin/skus/9001/stock" || e.Target != "9001" || e.Status != 200 || e.ClientIP != "203.0.113.9" ||
		e.UserAgent != "console/1.0" || e.Service != "catalog,inventory" || e.OccurredAt.IsZero() {
		t.Errorf("entry = %+v", e)
	}
	var after map[string]any
	dec := json.NewDecoder(bytes.NewReader(e.After))
	dec.UseNumber()
	if err := dec.Decode(&after); err != nil {
		t.Fatal(err)
	}
	nested := after["nested"].([]any)[0].(map[string]any)
	if after["password"] != audit.Redacted || nested["refresh_token"] != audit.Redacted || nested["note"] != "ok" ||
		after["stock"] != json.Number("12") || after["big"] != json.Number("9007199254740993") {
		t.Errorf("after = %s", e.After)
	}
	if strings.Contains(string(e.After), "hunter22x") || strings.Contains(string(e.Before), "old-key") {
		t.Errorf("a secret was kept: after %s, before %s", e.After, e.Before)
	}
	if string(e.Before) != `{"api_key":"[redacted]","stock":3}` {
		t.Errorf("before = %s", e.Before)
	}

	// A create's target is the id its answer names; a refused write is recorded with its status.
	f.send("POST", "/api/v1/admin/staff", f.staff, "application/json", `{"username":"zoe","password":"s3cretpass"}`)
	f.send("POST", "/api/v1/admin/staff", f.staff, "application/json", `{"username":`)
	// An upload is noted, not kept.
	f.send("POST", "/api/v1/admin/images", f.staff, "multipart/form-data; boundary=x", strings.Repeat("b", 100))
	list = f.entries()
	if len(list) != 4 {
		t.Fatalf("%d entries, want 4", len(list))
	}
	if c := list[1]; c.Target != "4242" || c.Status != 201 || strings.Contains(string(c.After), "s3cretpass") {
		t.Errorf("create = %+v %s", c, c.After)
	}
	if bad := list[2]; bad.Status != 400 || bad.Target != "" || !strings.Contains(string(bad.After), "omitted") {
		t.Errorf("refused create = %+v %s", bad, bad.After)
	}
	if up := list[3]; !strings.Contains(string(up.After), "multipart/form-data body of 100 bytes") {
		t.Errorf("upload after = %s", up.After)
	}
}

func TestMiddlewareSkipsWhatIsNotAStaffWrite(t *testing.T) {
	f := newFixture(t)
	buyer, _, err := f.tokens.Issue(auth.Principal{ID: 5, Audience: auth.AudienceBuyer})
	if err != nil {
		t.Fatal(err)
	}
	f.send("GET", "/api/v1/admin/skus/1", f.staff, "", "")
	f.send("POST", "/api/v1/auth/register", f.staff, "application/json", `{}`)
	f.send("PUT", "/api/v1/admin/skus/1/stock", "", "application/json", `{"stock":1}`)
	f.send("PUT", "/api/v1/admin/skus/1/stock", buyer, "application/json", `{"stock":1}`)
	f.send("PUT", "/api/v1/admin/skus/1/stock", "forged.token.here", "application/json", `{"stock":1}`)
	if list := f.entries(); len(list) != 0 {
		t.Fatalf("recorded %+v", list)
	}
}

func TestMiddlewareRecordsAPanic(t *testing.T) {
	f := newFixture(t)
	f.panicky = true
	w := f.send("POST", "/api/v1/admin/staff", f.staff, "application/json", `{}`)
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("panic answered %d", w.Code)
	}
	if list := f.entries(); len(list) != 1 || list[0].Status != 500 {
		t.Fatalf("entries %+v", list)
	}
}

// With the database gone, the change's answer still reaches the client.
func TestMiddlewareAnswersWhenTheEntryIsLost(t *testing.T) {
	f := newFixture(t)
	f.db.Close()
	w := f.send("POST", "/api/v1/admin/staff", f.staff, "application/json", `{"username":"zoe"}`)
	if w.Code != http.StatusCreated || !strings.Contains(w.Body.String(), "zoe") {
		t.Fatalf("answer: %d %s", w.Code, w.Body)
	}
}
