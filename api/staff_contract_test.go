package api_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/apptest"
)

type staffAccount struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Role     string `json:"role"`
	Status   string `json:"status"`
}

// testStaff drives staff management and the audit log as an administrator would, checking
// every answer against the document. admin is an admin's access token, operator an
// operator's.
func testStaff(t *testing.T, h *harness, admin, operator string) {
	const (
		get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
		staff               = "/api/v1/admin/staff"
		logs                = "/api/v1/admin/audit-log"
	)
	me := decode[staffAccount](t, h.do(t, "who is admin", call{method: get, path: "/api/v1/admin/me", token: admin, want: 200}))
	login := func(name, username, password string, want int, code string) result {
		return h.do(t, name, call{method: post, path: "/api/v1/admin/auth/login",
			body: map[string]any{"username": username, "password": password}, want: want, code: code})
	}

	var zhang staffAccount
	t.Run("create and list", func(t *testing.T) {
		zhang = decode[staffAccount](t, h.do(t, "create", call{method: post, path: staff, token: admin,
			body: map[string]any{"username": "zhang.wei", "password": "Spring-2026", "role": "operator"}, want: 201}))
		if zhang.Role != "operator" || zhang.Status != "active" {
			t.Errorf("created %+v", zhang)
		}
		h.do(t, "taken, any case", call{method: post, path: staff, token: admin,
			body: map[string]any{"username": "ZHANG.WEI", "password": "Spring-2026", "role": "operator"}, want: 409, code: "username_taken"})
		r := h.do(t, "every field bad", call{method: post, path: staff, token: admin,
			body: map[string]any{"username": "ab", "password": "short", "role": "boss"}, want: 400, code: "validation_failed", specRejects: true})
		for _, f := range []string{`"field":"username"`, `"field":"password"`, `"field":"role"`} {
			if !strings.Contains(string(r.body), f) {
				t.Errorf("validation details lack %s: %s", f, r.body)
			}
		}
		h.do(t, "weak password", call{method: post, path: staff, token: admin,
			body: map[string]any{"username": "li.na", "password": "onlyletters", "role": "operator"}, want: 400, code: "validation_failed"})
		h.do(t, "unknown field", call{method: post, path: staff, token: admin,
			body: map[string]any{"username": "li.na", "password": "Spring-2026", "role": "operator", "admin": true},
			want: 400, code: "unknown_field", specRejects: true})
		h.do(t, "create text/plain", call{method: post, path: staff, token: admin, raw: "x", hasRaw: true, contentType: "text/plain",
			want: 415, code: "unsupported_media_type", specRejects: true})
		h.do(t, "create over the limit", call{method: post, path: staff, token: admin,
			body: map[string]any{"username": strings.Repeat("x", 5000), "password": "Spring-2026", "role": "operator"},
			want: 413, code: "body_too_large", specRejects: true})
		h.do(t, "create as operator", call{method: post, path: staff, token: operator,
			body: map[string]any{"username": "li.na", "password": "Spring-2026", "role": "admin"}, want: 403, code: "forbidden"})
		h.do(t, "create without token", call{method: post, path: staff,
			body: map[string]any{"username": "li.na", "password": "Spring-2026", "role": "admin"}, want: 401, code: "missing_token", specRejects: true})

		all := decode[struct {
			Items []staffAccount
			Limit int
		}](t, h.do(t, "list", call{method: get, path: staff, token: admin, want: 200}))
		if len(all.Items) < 3 || all.Items[0].ID != zhang.ID || all.Limit != 20 {
			t.Errorf("list = %+v, want the newest (zhang.wei) first", all)
		}
		p1 := decode[struct {
			Items      []staffAccount
			NextCursor string `json:"next_cursor"`
		}](t, h.do(t, "list page 1", call{method: get, path: staff + "?limit=1", token: admin, want: 200}))
		if len(p1.Items) != 1 || p1.NextCursor == "" {
			t.Fatalf("page 1 = %+v", p1)
		}
		p2 := decode[struct{ Items []staffAccount }](t, h.do(t, "list page 2", call{method: get, path: staff + "?limit=1&cursor=" + p1.NextCursor, token: admin, want: 200}))
		if len(p2.Items) != 1 || p2.Items[0].ID == p1.Items[0].ID {
			t.Errorf("page 2 = %+v", p2)
		}
		h.do(t, "list bad cursor", call{method: get, path: staff + "?cursor=abc", token: admin, want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "list limit 0", call{method: get, path: staff + "?limit=0", token: admin, want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "list as operator", call{method: get, path: staff, token: operator, want: 403, code: "forbidden"})
		h.do(t, "list bad token", call{method: get, path: staff, token: "x.y.z", want: 401, code: "invalid_token"})

		h.do(t, "get", call{method: get, path: staff + "/" + zhang.ID, token: admin, want: 200})
		h.do(t, "get unknown", call{method: get, path: staff + "/123", token: admin, want: 404, code: "staff_not_found"})
		h.do(t, "get bad id", call{method: get, path: staff + "/abc", token: admin, want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "get as operator", call{method: get, path: staff + "/" + zhang.ID, token: operator, want: 403, code: "forbidden"})
	})

	t.Run("role and password", func(t *testing.T) {
		role := staff + "/" + zhang.ID + "/role"
		up := decode[staffAccount](t, h.do(t, "promote", call{method: put, path: role, token: admin, body: map[string]any{"role": "admin"}, want: 200}))
		if up.Role != "admin" {
			t.Errorf("promoted %+v", up)
		}
		h.do(t, "demote self", call{method: put, path: staff + "/" + me.ID + "/role", token: admin,
			body: map[string]any{"role": "operator"}, want: 409, code: "own_account"})
		h.do(t, "unknown role", call{method: put, path: role, token: admin, body: map[string]any{"role": "owner"},
			want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "role of nobody", call{method: put, path: staff + "/123/role", token: admin, body: map[string]any{"role": "admin"},
			want: 404, code: "staff_not_found"})
		h.do(t, "role as operator", call{method: put, path: role, token: operator, body: map[string]any{"role": "operator"}, want: 403, code: "forbidden"})
		h.do(t, "role text/plain", call{method: put, path: role, token: admin, raw: "admin", hasRaw: true, contentType: "text/plain",
			want: 415, code: "unsupported_media_type", specRejects: true})
		h.do(t, "role over the limit", call{method: put, path: role, token: admin, body: map[string]any{"role": strings.Repeat("a", 5000)},
			want: 413, code: "body_too_large", specRejects: true})
		h.do(t, "demote", call{method: put, path: role, token: admin, body: map[string]any{"role": "operator"}, want: 200})

		password := staff + "/" + zhang.ID + "/password"
		h.do(t, "reset password", call{method: put, path: password, token: admin, body: map[string]any{"password": "Autumn-2026"}, want: 200})
		login("old password", "zhang.wei", "Spring-2026", 401, "invalid_credentials")
		login("new password", "zhang.wei", "Autumn-2026", 200, "")
		h.do(t, "weak new password", call{method: put, path: password, token: admin, body: map[string]any{"password": "abcdefgh"},
			want: 400, code: "validation_failed"})
		h.do(t, "password of nobody", call{method: put, path: staff + "/123/password", token: admin, body: map[string]any{"password": "Autumn-2026"},
			want: 404, code: "staff_not_found"})
		h.do(t, "password unknown field", call{method: put, path: password, token: admin, body: map[string]any{"password": "Autumn-2026", "old": "x"},
			want: 400, code: "unknown_field", specRejects: true})
		h.do(t, "password text/plain", call{method: put, path: password, token: admin, raw: "x", hasRaw: true, contentType: "text/plain",
			want: 415, code: "unsupported_media_type", specRejects: true})
		h.do(t, "password over the limit", call{method: put, path: password, token: admin, body: map[string]any{"password": strings.Repeat("a1", 2500)},
			want: 413, code: "body_too_large"})
		h.do(t, "password as operator", call{method: put, path: password, token: operator, body: map[string]any{"password": "Autumn-2026"},
			want: 403, code: "forbidden"})
	})

	t.Run("disable, enable, delete", func(t *testing.T) {
		// A token zhang has not used yet: no service remembers the account as active.
		token := decode[staffLogin](t, login("zhang logs in", "zhang.wei", "Autumn-2026", 200, "")).Tokens.AccessToken
		off := decode[staffAccount](t, h.do(t, "disable", call{method: post, path: staff + "/" + zhang.ID + "/disable", token: admin, want: 200}))
		if off.Status != "disabled" {
			t.Errorf("disabled %+v", off)
		}
		h.do(t, "disable again", call{method: post, path: staff + "/" + zhang.ID + "/disable", token: admin, want: 200})
		h.do(t, "disabled account's token", call{method: get, path: "/api/v1/admin/me", token: token, want: 401, code: "account_disabled"})
		login("disabled account logs in", "zhang.wei", "Autumn-2026", 401, "account_disabled")
		login("disabled account, wrong password", "zhang.wei", "Wrong-2026", 401, "invalid_credentials")
		h.do(t, "disable self", call{method: post, path: staff + "/" + me.ID + "/disable", token: admin, want: 409, code: "own_account"})
		h.do(t, "disable nobody", call{method: post, path: staff + "/123/disable", token: admin, want: 404, code: "staff_not_found"})
		h.do(t, "disable bad id", call{method: post, path: staff + "/x/disable", token: admin, want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "disable as operator", call{method: post, path: staff + "/" + zhang.ID + "/disable", token: operator, want: 403, code: "forbidden"})

		on := decode[staffAccount](t, h.do(t, "enable", call{method: post, path: staff + "/" + zhang.ID + "/enable", token: admin, want: 200}))
		if on.Status != "active" {
			t.Errorf("enabled %+v", on)
		}
		login("enabled account logs in", "zhang.wei", "Autumn-2026", 200, "")
		h.do(t, "enable nobody", call{method: post, path: staff + "/123/enable", token: admin, want: 404, code: "staff_not_found"})
		h.do(t, "enable bad id", call{method: post, path: staff + "/x/enable", token: admin, want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "enable as operator", call{method: post, path: staff + "/" + zhang.ID + "/enable", token: operator, want: 403, code: "forbidden"})

		h.do(t, "delete self", call{method: del, path: staff + "/" + me.ID, token: admin, want: 409, code: "own_account"})
		h.do(t, "delete as operator", call{method: del, path: staff + "/" + zhang.ID, token: operator, want: 403, code: "forbidden"})
		h.do(t, "delete", call{method: del, path: staff + "/" + zhang.ID, token: admin, want: 204})
		h.do(t, "delete again", call{method: del, path: staff + "/" + zhang.ID, token: admin, want: 404, code: "staff_not_found"})
		h.do(t, "delete bad id", call{method: del, path: staff + "/x", token: admin, want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "get deleted", call{method: get, path: staff + "/" + zhang.ID, token: admin, want: 404, code: "staff_not_found"})
		login("deleted account logs in", "zhang.wei", "Autumn-2026", 401, "invalid_credentials")
		h.do(t, "the name is free again", call{method: post, path: staff, token: admin,
			body: map[string]any{"username": "zhang.wei", "password": "Winter-2026", "role": "operator"}, want: 201})
	})

	t.Run("audit log", func(t *testing.T) {
		type entry struct {
			ID            string         `json:"id"`
			ActorID       string         `json:"actor_id"`
			ActorUsername string         `json:"actor_username"`
			Route         string         `json:"route"`
			Target        string         `json:"target"`
			Status        int            `json:"status"`
			After         map[string]any `json:"after"`
			Before        map[string]any `json:"before"`
			ClientIP      string         `json:"client_ip"`
		}
		type page struct {
			Items      []entry
			NextCursor string `json:"next_cursor"`
		}
		// Filters combine: the admin's POSTs to routes under /api/v1/admin/staff about zhang
		// are the create, the two disables and the enable; its PUTs, its DELETE, the
		// operator's attempts and the other targets are left out.
		filtered := "?actor=" + me.ID + "&method=POST&route=" + url.QueryEscape(staff) + "&target=" + zhang.ID
		var first page
		apptest.Eventually(t, "the admin's four POSTs about zhang.wei in the audit log", func() bool {
			first = decode[page](t, h.do(t, "filtered", call{method: get, path: logs + filtered, token: admin, want: 200}))
			return len(first.Items) == 4
		})
		e := first.Items[len(first.Items)-1]
		if e.Route != staff || e.ActorID != me.ID || e.ActorUsername != "boss" || e.Status != 201 || e.ClientIP != "127.0.0.1" ||
			e.After["username"] != "zhang.wei" || e.After["password"] != "[redacted]" {
			t.Errorf("create entry = %+v", e)
		}
		var disables page
		apptest.Eventually(t, "the disable of zhang.wei, with what it was before", func() bool {
			disables = decode[page](t, h.do(t, "disables", call{method: get, token: admin, want: 200,
				path: logs + "?route=" + url.QueryEscape(staff+"/{id}/disable") + "&target=" + zhang.ID}))
			return len(disables.Items) == 3 // twice by the admin, once refused to the operator
		})
		if d := disables.Items[2]; d.Status != 200 || d.Before["status"] != "active" {
			t.Errorf("first disable = %+v", d)
		}
		if d := disables.Items[0]; d.Status != 403 || d.ActorUsername != "clerk" {
			t.Errorf("operator's disable = %+v", d)
		}
		p1 := decode[page](t, h.do(t, "page 1", call{method: get, path: logs + "?limit=2", token: admin, want: 200}))
		p2 := decode[page](t, h.do(t, "page 2", call{method: get, path: logs + "?limit=2&cursor=" + p1.NextCursor, token: admin, want: 200}))
		if len(p1.Items) != 2 || len(p2.Items) != 2 || mustInt(t, p2.Items[0].ID) >= mustInt(t, p1.Items[1].ID) {
			t.Errorf("pages %+v then %+v, want newest first without overlap", p1, p2)
		}
		now := time.Now().UTC()
		window := "?from=" + url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339)) + "&to=" + url.QueryEscape(now.Add(time.Hour).Format(time.RFC3339))
		if w := decode[page](t, h.do(t, "time window", call{method: get, path: logs + window, token: admin, want: 200})); len(w.Items) == 0 {
			t.Errorf("nothing in the last hour")
		}
		h.do(t, "to before from", call{method: get, token: admin, want: 400, code: "validation_failed",
			path: logs + "?from=" + url.QueryEscape(now.Format(time.RFC3339)) + "&to=" + url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339))})
		h.do(t, "bad actor", call{method: get, path: logs + "?actor=abc", token: admin, want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "bad method", call{method: get, path: logs + "?method=GET", token: admin, want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "limit 0", call{method: get, path: logs + "?limit=0", token: admin, want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "as operator", call{method: get, path: logs, token: operator, want: 403, code: "forbidden"})
		h.do(t, "no token", call{method: get, path: logs, want: 401, code: "missing_token", specRejects: true})
	})
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("id %q: %v", s, err)
	}
	return n
}
