package userhttp_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/user"
)

// staffStatusWithin bounds how long a changed staff account may keep its old access: the
// app remembers an account's status for 5 seconds.
const staffStatusWithin = 8 * time.Second

func staffLogin(t *testing.T, s *apptest.Server, username, password string) (id string, tok apptest.Tokens) {
	t.Helper()
	r := s.Do("POST", "/api/v1/admin/auth/login", "", map[string]string{"username": username, "password": password})
	var out struct {
		Staff  struct{ ID string }
		Tokens apptest.Tokens
	}
	r.Decode(t, &out)
	if r.Status != 200 {
		t.Fatalf("staff login %s: %d %s", username, r.Status, r.Body)
	}
	return out.Staff.ID, out.Tokens
}

// TestStaffAccessFollowsTheAccount: a staff member's tokens, already in use, stop working
// within seconds of the account being disabled or deleted, and a demotion takes the admin
// endpoints away just as fast; refresh tokens die at once.
func TestStaffAccessFollowsTheAccount(t *testing.T) {
	s := start(t, nil)
	admin := s.StaffToken("boss", "admin")
	for _, name := range []string{"wang", "liu"} {
		s.Expect(201, "POST", "/api/v1/admin/staff", admin, map[string]string{"username": name, "password": "Spring-2026", "role": "admin"}, nil)
	}
	wangID, wang := staffLogin(t, s, "wang", "Spring-2026")
	liuID, liu := staffLogin(t, s, "liu", "Spring-2026")
	// Both tokens are in use, so every check below waits out a remembered "active".
	s.Expect(200, "GET", "/api/v1/admin/users", wang.AccessToken, nil, nil)
	s.Expect(200, "GET", "/api/v1/admin/users", liu.AccessToken, nil, nil)

	s.Expect(200, "PUT", "/api/v1/admin/staff/"+wangID+"/role", admin, map[string]string{"role": "operator"}, nil)
	apptest.EventuallyWithin(t, staffStatusWithin, "the demoted admin loses the admin endpoints", func() bool {
		return s.Do("GET", "/api/v1/admin/users", wang.AccessToken, nil).ErrorCode() == "forbidden"
	})
	s.Expect(200, "GET", "/api/v1/admin/me", wang.AccessToken, nil, nil) // still an operator

	s.Expect(200, "POST", "/api/v1/admin/staff/"+wangID+"/disable", admin, nil, nil)
	if r := s.Do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": wang.RefreshToken}); r.ErrorCode() != "invalid_refresh_token" {
		t.Fatalf("refresh of a disabled account: %d %s", r.Status, r.Body)
	}
	apptest.EventuallyWithin(t, staffStatusWithin, "the disabled account's token refused", func() bool {
		r := s.Do("GET", "/api/v1/admin/me", wang.AccessToken, nil)
		return r.Status == 401 && r.ErrorCode() == "account_disabled" && r.Header.Get("WWW-Authenticate") != ""
	})

	s.Expect(204, "DELETE", "/api/v1/admin/staff/"+liuID, admin, nil, nil)
	apptest.EventuallyWithin(t, staffStatusWithin, "the deleted account's token refused", func() bool {
		return s.Do("GET", "/api/v1/admin/users", liu.AccessToken, nil).ErrorCode() == "account_disabled"
	})
	if r := s.Do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": liu.RefreshToken}); r.ErrorCode() != "invalid_refresh_token" {
		t.Fatalf("refresh of a deleted account: %d %s", r.Status, r.Body)
	}
	// A new password ends the sessions made with the old one.
	s.Expect(200, "POST", "/api/v1/admin/staff/"+wangID+"/enable", admin, nil, nil)
	_, again := staffLogin(t, s, "wang", "Spring-2026")
	s.Expect(200, "PUT", "/api/v1/admin/staff/"+wangID+"/password", admin, map[string]string{"password": "Autumn-2026"}, nil)
	if r := s.Do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": again.RefreshToken}); r.ErrorCode() != "invalid_refresh_token" {
		t.Fatalf("refresh after a password reset: %d %s", r.Status, r.Body)
	}
}

// TestLastAdminStays: whoever asks, the last active admin is never demoted, disabled or
// deleted. Over HTTP the asking admin is an active admin too, so this is reached when the
// asker's own account changed moments ago; the service decides it with the admins locked.
func TestLastAdminStays(t *testing.T) {
	s := start(t, nil)
	ctx := context.Background()
	users := s.App.Users
	last, err := users.CreateStaff(ctx, "only", "Spring-2026", "admin")
	if err != nil {
		t.Fatal(err)
	}
	op, err := users.CreateStaff(ctx, "oper", "Spring-2026", "operator")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := users.ChangeStaffRole(ctx, op.ID, last.ID, "operator"); !errors.Is(err, user.ErrLastAdmin) {
		t.Fatalf("demote the last admin: %v", err)
	}
	if _, err := users.DisableStaff(ctx, op.ID, last.ID); !errors.Is(err, user.ErrLastAdmin) {
		t.Fatalf("disable the last admin: %v", err)
	}
	if err := users.DeleteStaff(ctx, op.ID, last.ID); !errors.Is(err, user.ErrLastAdmin) {
		t.Fatalf("delete the last admin: %v", err)
	}
	if _, err := users.DisableStaff(ctx, last.ID, last.ID); !errors.Is(err, user.ErrOwnAccount) {
		t.Fatalf("disable oneself: %v", err)
	}
	// With a second admin, the first may go.
	if _, err := users.ChangeStaffRole(ctx, last.ID, op.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := users.DisableStaff(ctx, op.ID, last.ID); err != nil {
		t.Fatalf("disable one of two admins: %v", err)
	}
	if role, err := users.StaffRole(ctx, last.ID); err != nil || role != "" {
		t.Fatalf("a disabled admin's role = %q, %v", role, err)
	}
	if role, err := users.StaffRole(ctx, ids.ID(404)); err != nil || role != "" {
		t.Fatalf("an unknown account's role = %q, %v", role, err)
	}
}

// TestAuditLog: a staff write shows in the audit log with who, what, from where and the
// body without its password; only admins may read the log.
func TestAuditLog(t *testing.T) {
	s := start(t, map[string]string{"MINIMART_TRUSTED_PROXIES": "127.0.0.1"})
	admin := s.StaffToken("boss", "admin")
	operator := s.StaffToken("clerk", "operator")
	created := s.Expect(201, "POST", "/api/v1/admin/staff", admin,
		map[string]string{"username": "zhao", "password": "Secret-pass-7", "role": "operator"},
		map[string]string{"X-Forwarded-For": "198.51.100.23", "User-Agent": "console-test/1", "X-Request-ID": "audit-test-1"})
	// Refused writes are recorded too, with their status.
	s.Expect(403, "POST", "/api/v1/admin/staff", operator, map[string]string{"username": "x1x", "password": "Secret-pass-7", "role": "admin"}, nil)

	type entry struct {
		ActorID       string            `json:"actor_id"`
		ActorUsername string            `json:"actor_username"`
		ActorRole     string            `json:"actor_role"`
		Method        string            `json:"method"`
		Route         string            `json:"route"`
		Target        string            `json:"target"`
		Status        int               `json:"status"`
		After         map[string]string `json:"after"`
		ClientIP      string            `json:"client_ip"`
		UserAgent     string            `json:"user_agent"`
		Request       string            `json:"request"`
		Service       string            `json:"service"`
	}
	var page struct{ Items []entry }
	apptest.Eventually(t, "two entries for POST /api/v1/admin/staff", func() bool {
		r := s.Do("GET", "/api/v1/admin/audit-log?route="+url.QueryEscape("/api/v1/admin/staff"), admin, nil)
		r.Decode(t, &page)
		return r.Status == 200 && len(page.Items) == 2
	})
	refused, e := page.Items[0], page.Items[1]
	if e.ActorUsername != "boss" || e.ActorRole != "admin" || e.Method != "POST" || e.Route != "/api/v1/admin/staff" ||
		e.Target != created["id"] || e.Status != 201 || e.ClientIP != "198.51.100.23" || e.UserAgent != "console-test/1" ||
		e.Request != "audit-test-1" || !strings.Contains(e.Service, "user") {
		t.Errorf("entry = %+v", e)
	}
	if e.After["username"] != "zhao" || e.After["password"] != "[redacted]" {
		t.Errorf("after = %v", e.After)
	}
	if refused.ActorUsername != "clerk" || refused.Status != 403 {
		t.Errorf("refused entry = %+v", refused)
	}
	r := s.Do("GET", "/api/v1/admin/audit-log", admin, nil)
	if strings.Contains(string(r.Body), "Secret-pass-7") {
		t.Fatalf("the audit log holds a password: %s", r.Body)
	}
	var mine struct{ Items []entry }
	r = s.Do("GET", "/api/v1/admin/audit-log?actor="+e.ActorID, admin, nil)
	if r.Status != 200 {
		t.Fatalf("by actor: %d %s", r.Status, r.Body)
	}
	r.Decode(t, &mine)
	if len(mine.Items) != 1 {
		t.Errorf("entries of the admin = %+v", mine.Items)
	}
	if r := s.Do("GET", "/api/v1/admin/audit-log", operator, nil); r.Status != 403 || r.ErrorCode() != "forbidden" {
		t.Fatalf("operator reads the audit log: %d %s", r.Status, r.Body)
	}
}
