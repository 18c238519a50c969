package userdb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/audit"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
	"github.com/minimart/minimart/internal/user"
	"github.com/minimart/minimart/internal/user/userdb"
	"github.com/minimart/minimart/internal/user/userevents"
)

var sets = []sqldb.Migrations{events.OutboxMigrations, userdb.Migrations}

// TestStoreConformance runs the same behaviour checks on SQLite and MariaDB.
func TestStoreConformance(t *testing.T) {
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		gen, err := ids.NewGenerator(1)
		if err != nil {
			t.Fatal(err)
		}
		h := harness{t: t, db: db, store: userdb.New(db, events.NewOutbox()), gen: gen}
		t.Run("users", h.users)
		t.Run("sessions", h.sessions)
		t.Run("addresses", h.addresses)
		t.Run("staff", h.staff)
		t.Run("audit", h.audit)
	})
}

type harness struct {
	t     *testing.T
	db    *sqldb.DB
	store *userdb.Store
	gen   *ids.Generator
}

var ctx = context.Background()

func (h harness) newUser(t *testing.T, u user.User) user.User {
	t.Helper()
	u.ID = h.gen.New()
	u.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
	ev, err := events.New(h.gen.New(), userevents.TypeRegistered, u.ID.String(), userevents.Registered{UserID: u.ID, Via: "password"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.CreateUser(ctx, u, ev); err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
}

func (h harness) outboxCount(t *testing.T, key string) int {
	t.Helper()
	var n int
	if err := h.db.Read().QueryRow("SELECT COUNT(*) FROM outbox_events WHERE event_key = ?", key).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (h harness) users(t *testing.T) {
	injection := "robert'); DROP TABLE users;--"
	u := h.newUser(t, user.User{Username: injection, PasswordHash: []byte("hash")})
	if n := h.outboxCount(t, u.ID.String()); n != 1 {
		t.Fatalf("outbox rows for new user = %d, want 1 (written with the user)", n)
	}
	got, err := h.store.UserByLogin(ctx, injection)
	if err != nil || got.ID != u.ID || got.Username != injection || !bytes.Equal(got.PasswordHash, []byte("hash")) {
		t.Fatalf("UserByLogin = %+v, %v; want the stored user verbatim", got, err)
	}
	if _, err := h.store.UserByLogin(ctx, "ROBERT'); drop table users;--"); err != nil {
		t.Fatalf("login lookup must be case-insensitive: %v", err)
	}

	cases := []struct {
		name string
		u    user.User
		want error
	}{
		{"same username other case", user.User{Username: "ROBERT'); drop TABLE users;--"}, user.ErrUsernameTaken},
		{"same mobile", user.User{Mobile: "13800000001"}, user.ErrMobileTaken},
		{"same openid", user.User{OpenID: "o-1"}, user.ErrOpenIDTaken},
	}
	h.newUser(t, user.User{Mobile: "13800000001"})
	h.newUser(t, user.User{OpenID: "o-1"})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.u.ID = h.gen.New()
			c.u.CreatedAt = time.Now().UTC()
			ev, _ := events.New(h.gen.New(), userevents.TypeRegistered, c.u.ID.String(), nil)
			err := h.store.CreateUser(ctx, c.u, ev)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if n := h.outboxCount(t, c.u.ID.String()); n != 0 {
				t.Fatalf("a refused user left %d outbox rows", n)
			}
		})
	}

	if got, err := h.store.UserByOpenID(ctx, "o-1"); err != nil || !got.HasWeChat {
		t.Fatalf("UserByOpenID = %+v, %v", got, err)
	}
	if _, err := h.store.UserByID(ctx, 12345); !errors.Is(err, user.ErrUserNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	upd, err := h.store.UpdateUser(ctx, u.ID, func(u *user.User) error { u.UnionID = "union-9"; return nil })
	if err != nil || upd.UnionID != "union-9" {
		t.Fatalf("UpdateUser = %+v, %v", upd, err)
	}
	if got, _ := h.store.UserByID(ctx, u.ID); got.UnionID != "union-9" {
		t.Fatalf("update not stored: %+v", got)
	}

	// Search: wildcards in the query are literal, and pages do not overlap.
	for _, name := range []string{"shop_100%", "shopA100", "shop_101"} {
		h.newUser(t, user.User{Username: name})
	}
	if got, _ := h.store.SearchUsers(ctx, "100%", 0, 10); len(got) != 1 || got[0].Username != "shop_100%" {
		t.Fatalf("search for a literal %% = %+v", got)
	}
	if got, _ := h.store.SearchUsers(ctx, "shop_", 0, 10); len(got) != 2 {
		t.Fatalf("search for a literal _ = %d users, want 2", len(got))
	}
	first, _ := h.store.SearchUsers(ctx, "shop", 0, 2)
	rest, _ := h.store.SearchUsers(ctx, "shop", first[1].ID, 2)
	if len(first) != 2 || len(rest) != 1 || first[0].ID < first[1].ID || rest[0].ID >= first[1].ID {
		t.Fatalf("paging: first=%v rest=%v", first, rest)
	}
}

func (h harness) sessions(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	subject := h.gen.New()
	first := user.Session{ID: h.gen.New(), SubjectKind: user.SubjectBuyer, SubjectID: subject,
		TokenHash: bytes.Repeat([]byte{1}, 32), ExpiresAt: now.Add(time.Hour), CreatedAt: now}
	first.FamilyID = first.ID
	if err := h.store.CreateSession(ctx, first); err != nil {
		t.Fatal(err)
	}
	next := func(hash byte) func(user.Session) user.Session {
		return func(old user.Session) user.Session {
			return user.Session{ID: h.gen.New(), FamilyID: old.FamilyID, SubjectKind: old.SubjectKind,
				SubjectID: old.SubjectID, TokenHash: bytes.Repeat([]byte{hash}, 32), ExpiresAt: now.Add(time.Hour), CreatedAt: now}
		}
	}
	second, err := h.store.RotateSession(ctx, first.TokenHash, user.AnySubject, now, next(2))
	if err != nil || second.FamilyID != first.ID || second.SubjectID != subject {
		t.Fatalf("rotate = %+v, %v", second, err)
	}
	// The first token again: reuse revokes the family, so the second stops working too.
	if _, err := h.store.RotateSession(ctx, first.TokenHash, user.AnySubject, now, next(3)); !errors.Is(err, user.ErrRefreshTokenReused) {
		t.Fatalf("reuse: %v", err)
	}
	if _, err := h.store.RotateSession(ctx, second.TokenHash, user.AnySubject, now, next(4)); !errors.Is(err, user.ErrInvalidRefreshToken) {
		t.Fatalf("after reuse the family must be revoked: %v", err)
	}
	if _, err := h.store.RotateSession(ctx, bytes.Repeat([]byte{9}, 32), user.AnySubject, now, next(5)); !errors.Is(err, user.ErrInvalidRefreshToken) {
		t.Fatalf("unknown token: %v", err)
	}

	// A buyer's token asked for as a staff session is unknown there, and stays usable: it
	// was neither used nor revoked.
	buyerSession := user.Session{ID: h.gen.New(), SubjectKind: user.SubjectBuyer, SubjectID: subject,
		TokenHash: bytes.Repeat([]byte{0x30}, 32), ExpiresAt: now.Add(time.Hour), CreatedAt: now}
	buyerSession.FamilyID = buyerSession.ID
	if err := h.store.CreateSession(ctx, buyerSession); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.RotateSession(ctx, buyerSession.TokenHash, user.SubjectStaff, now, next(0x31)); !errors.Is(err, user.ErrInvalidRefreshToken) {
		t.Fatalf("buyer token as staff: %v", err)
	}
	if err := h.store.RevokeFamily(ctx, buyerSession.TokenHash, user.SubjectStaff, now); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.RotateSession(ctx, buyerSession.TokenHash, user.SubjectBuyer, now, next(0x32)); err != nil {
		t.Fatalf("buyer token after being refused as staff: %v", err)
	}

	expiring := user.Session{ID: h.gen.New(), SubjectKind: user.SubjectStaff, SubjectID: subject,
		TokenHash: bytes.Repeat([]byte{6}, 32), ExpiresAt: now.Add(time.Minute), CreatedAt: now}
	expiring.FamilyID = expiring.ID
	if err := h.store.CreateSession(ctx, expiring); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.RotateSession(ctx, expiring.TokenHash, user.AnySubject, now.Add(2*time.Minute), next(7)); !errors.Is(err, user.ErrInvalidRefreshToken) {
		t.Fatalf("expired token: %v", err)
	}
	if err := h.store.RevokeFamily(ctx, expiring.TokenHash, user.AnySubject, now); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.RotateSession(ctx, expiring.TokenHash, user.AnySubject, now, next(8)); !errors.Is(err, user.ErrInvalidRefreshToken) {
		t.Fatalf("revoked token: %v", err)
	}
	if err := h.store.RevokeFamily(ctx, bytes.Repeat([]byte{0xee}, 32), user.AnySubject, now); err != nil {
		t.Fatalf("revoking an unknown token is not an error: %v", err)
	}

	// Concurrent rotations of one token: exactly one wins.
	race := user.Session{ID: h.gen.New(), SubjectKind: user.SubjectBuyer, SubjectID: subject,
		TokenHash: bytes.Repeat([]byte{0x10}, 32), ExpiresAt: now.Add(time.Hour), CreatedAt: now}
	race.FamilyID = race.ID
	if err := h.store.CreateSession(ctx, race); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 8 {
		wg.Go(func() {
			_, err := h.store.RotateSession(ctx, race.TokenHash, user.AnySubject, now, next(byte(0x20+i)))
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else if !errors.Is(err, user.ErrRefreshTokenReused) && !errors.Is(err, user.ErrInvalidRefreshToken) {
				t.Errorf("concurrent rotate: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent rotations of one token succeeded, want 1", wins)
	}
}

func (h harness) addresses(t *testing.T) {
	owner := h.newUser(t, user.User{Username: "addr-owner"})
	other := h.newUser(t, user.User{Username: "addr-other"})
	now := time.Now().UTC().Truncate(time.Microsecond)
	mk := func(uid ids.ID, def bool) user.Address {
		a, err := h.store.CreateAddress(ctx, user.Address{ID: h.gen.New(), UserID: uid, Recipient: "张三", Phone: "13800000000",
			Province: "广东省", City: "深圳市", District: "南山区", Detail: "科技园 1 号", IsDefault: def, CreatedAt: now, UpdatedAt: now})
		if err != nil {
			t.Fatalf("create address: %v", err)
		}
		return a
	}
	defaults := func() []ids.ID {
		list, err := h.store.Addresses(ctx, owner.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []ids.ID
		for _, a := range list {
			if a.IsDefault {
				out = append(out, a.ID)
			}
		}
		return out
	}
	a1 := mk(owner.ID, false)
	if d := defaults(); len(d) != 1 || d[0] != a1.ID {
		t.Fatalf("first address must become the default: %v", d)
	}
	a2 := mk(owner.ID, true)
	if d := defaults(); len(d) != 1 || d[0] != a2.ID {
		t.Fatalf("a new default replaces the old: %v", d)
	}
	if _, err := h.store.AddressByID(ctx, other.ID, a1.ID); !errors.Is(err, user.ErrAddressNotFound) {
		t.Fatalf("another buyer's address must be not found: %v", err)
	}
	if err := h.store.DeleteAddress(ctx, other.ID, a1.ID); !errors.Is(err, user.ErrAddressNotFound) {
		t.Fatalf("deleting another buyer's address: %v", err)
	}
	upd, err := h.store.UpdateAddress(ctx, owner.ID, a1.ID, func(a *user.Address) error { a.IsDefault = true; a.Detail = "新地址"; return nil })
	if err != nil || upd.Detail != "新地址" {
		t.Fatalf("update: %+v %v", upd, err)
	}
	if d := defaults(); len(d) != 1 || d[0] != a1.ID {
		t.Fatalf("update to default: %v", d)
	}
	if err := h.store.DeleteAddress(ctx, owner.ID, a1.ID); err != nil {
		t.Fatal(err)
	}
	if d := defaults(); len(d) != 1 || d[0] != a2.ID {
		t.Fatalf("deleting the default passes it on: %v", d)
	}

	// The limit holds under concurrent creates.
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			_, err := h.store.CreateAddress(ctx, user.Address{ID: h.gen.New(), UserID: owner.ID, Recipient: "李四", Phone: "13800000000",
				Province: "p", City: "c", District: "d", Detail: "x", CreatedAt: now, UpdatedAt: now})
			if err != nil && !errors.Is(err, user.ErrTooManyAddresses) {
				t.Errorf("create: %v", err)
			}
		})
	}
	wg.Wait()
	list, _ := h.store.Addresses(ctx, owner.ID)
	if len(list) != user.MaxAddresses {
		t.Fatalf("%d addresses after a concurrent burst, want exactly %d", len(list), user.MaxAddresses)
	}
	if d := defaults(); len(d) != 1 {
		t.Fatalf("defaults after burst: %v", d)
	}
}

func (h harness) staff(t *testing.T) {
	st := user.Staff{ID: h.gen.New(), Username: "Boss", Role: "admin", Status: user.StaffActive, PasswordHash: []byte("h"), CreatedAt: time.Now().UTC()}
	if err := h.store.CreateStaff(ctx, st); err != nil {
		t.Fatal(err)
	}
	dup := st
	dup.ID, dup.Username = h.gen.New(), "boss"
	if err := h.store.CreateStaff(ctx, dup); !errors.Is(err, user.ErrStaffTaken) {
		t.Fatalf("duplicate staff: %v", err)
	}
	if got, err := h.store.StaffByUsername(ctx, "BOSS"); err != nil || got.ID != st.ID || got.Role != "admin" {
		t.Fatalf("StaffByUsername = %+v, %v", got, err)
	}
	if n, err := h.store.CountStaff(ctx, "admin"); err != nil || n != 1 {
		t.Fatalf("CountStaff = %d, %v", n, err)
	}
	if _, err := h.store.StaffByID(ctx, 1); !errors.Is(err, user.ErrStaffNotFound) {
		t.Fatalf("unknown staff: %v", err)
	}
	t.Run("changes", h.staffChanges)
}

// staffChanges: ChangeStaff saves role, status and password, counts active admins, ends
// sessions when asked, and a deleted account frees its name and is gone from lists.
func (h harness) staffChanges(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	add := func(name, role string) user.Staff {
		t.Helper()
		st := user.Staff{ID: h.gen.New(), Username: name, Role: role, Status: user.StaffActive, PasswordHash: []byte("h"), CreatedAt: now}
		if err := h.store.CreateStaff(ctx, st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	ann, ben := add("ann", "admin"), add("ben", "operator")
	sess := user.Session{ID: h.gen.New(), SubjectKind: user.SubjectStaff, SubjectID: ben.ID,
		TokenHash: bytes.Repeat([]byte{42}, 32), ExpiresAt: now.Add(time.Hour), CreatedAt: now}
	sess.FamilyID = sess.ID
	if err := h.store.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	var seenAdmins int
	got, err := h.store.ChangeStaff(ctx, ben.ID, now, func(st *user.Staff, admins int) (bool, error) {
		seenAdmins = admins
		st.Role, st.PasswordHash = "admin", []byte("new-hash")
		return false, nil
	})
	if err != nil || got.Role != "admin" || seenAdmins != 2 { // Boss and ann
		t.Fatalf("promote = %+v, %v (admins seen %d)", got, err, seenAdmins)
	}
	if st, _ := h.store.StaffByID(ctx, ben.ID); st.Role != "admin" || string(st.PasswordHash) != "new-hash" {
		t.Fatalf("stored %+v", st)
	}
	if n, _ := h.store.CountStaff(ctx, "admin"); n != 3 {
		t.Fatalf("active admins = %d, want 3", n)
	}
	// A failing fn changes nothing.
	refused := errors.New("refused")
	if _, err := h.store.ChangeStaff(ctx, ben.ID, now, func(st *user.Staff, _ int) (bool, error) {
		st.Status = user.StaffDisabled
		return true, refused
	}); !errors.Is(err, refused) {
		t.Fatalf("refused change: %v", err)
	}
	if _, err := h.store.RotateSession(ctx, sess.TokenHash, user.AnySubject, now, func(old user.Session) user.Session {
		next := old
		next.ID, next.TokenHash = h.gen.New(), bytes.Repeat([]byte{43}, 32)
		return next
	}); err != nil {
		t.Fatalf("a refused change ended the session: %v", err)
	}
	// Disabled with its sessions ended: no longer an active admin, its refresh token dead.
	if _, err := h.store.ChangeStaff(ctx, ben.ID, now, func(st *user.Staff, _ int) (bool, error) {
		st.Status = user.StaffDisabled
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.RotateSession(ctx, bytes.Repeat([]byte{43}, 32), user.AnySubject, now, func(old user.Session) user.Session { return old }); !errors.Is(err, user.ErrInvalidRefreshToken) {
		t.Fatalf("session of a disabled account: %v", err)
	}
	if n, _ := h.store.CountStaff(ctx, "admin"); n != 2 {
		t.Fatalf("active admins = %d, want 2", n)
	}
	list, err := h.store.ListStaff(ctx, 0, 10)
	if err != nil || len(list) != 3 || list[0].ID != ben.ID || list[0].Status != user.StaffDisabled {
		t.Fatalf("list = %+v, %v; want ben (disabled), ann, Boss", list, err)
	}
	if page, _ := h.store.ListStaff(ctx, ben.ID, 1); len(page) != 1 || page[0].ID != ann.ID {
		t.Fatalf("page after ben = %+v", page)
	}

	// Deleted: kept by id, gone from lists and from username lookups, its name free.
	if _, err := h.store.ChangeStaff(ctx, ann.ID, now, func(st *user.Staff, _ int) (bool, error) {
		st.Status = user.StaffDeleted
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if st, err := h.store.StaffByID(ctx, ann.ID); err != nil || st.Status != user.StaffDeleted || st.Username != "ann" {
		t.Fatalf("deleted by id = %+v, %v", st, err)
	}
	if _, err := h.store.StaffByUsername(ctx, "ann"); !errors.Is(err, user.ErrStaffNotFound) {
		t.Fatalf("deleted by name: %v", err)
	}
	if _, err := h.store.ChangeStaff(ctx, ann.ID, now, func(*user.Staff, int) (bool, error) { return false, nil }); !errors.Is(err, user.ErrStaffNotFound) {
		t.Fatalf("changing a deleted account: %v", err)
	}
	if list, _ := h.store.ListStaff(ctx, 0, 10); len(list) != 2 {
		t.Fatalf("list after delete = %+v", list)
	}
	add("ANN", "operator")
	if _, err := h.store.ChangeStaff(ctx, 12345, now, func(*user.Staff, int) (bool, error) { return false, nil }); !errors.Is(err, user.ErrStaffNotFound) {
		t.Fatalf("unknown account: %v", err)
	}

	// Two admins demoting each other at once: the counts each sees are decided in turn, so
	// the last admin stays one.
	if n, _ := h.store.CountStaff(ctx, "admin"); n != 1 {
		t.Fatalf("active admins = %d, want only Boss", n)
	}
	cat := add("cat", "admin")
	boss, _ := h.store.StaffByUsername(ctx, "boss")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, id := range []ids.ID{boss.ID, cat.ID} {
		wg.Go(func() {
			_, errs[i] = h.store.ChangeStaff(ctx, id, now, func(st *user.Staff, admins int) (bool, error) {
				if admins <= 1 {
					return false, user.ErrLastAdmin
				}
				st.Role = "operator"
				return false, nil
			})
		})
	}
	wg.Wait()
	if n, _ := h.store.CountStaff(ctx, "admin"); n != 1 || (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("after racing demotions: %d admins, errors %v", n, errs)
	}
}

func (h harness) audit(t *testing.T) {
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	entry := func(i int, actor ids.ID, method, route, target string) audit.Entry {
		return audit.Entry{ID: h.gen.New(), ActorID: actor, ActorUsername: "boss", ActorRole: "admin", Method: method, Route: route,
			Path: strings.ReplaceAll(route, "{id}", target), Target: target, Status: 200, After: json.RawMessage(`{"stock":1}`),
			ClientIP: "203.0.113.9", UserAgent: strings.Repeat("u", 600), Request: "req", Service: "catalog,inventory",
			OccurredAt: base.Add(time.Duration(i) * time.Minute)}
	}
	a, b := ids.ID(501), ids.ID(502)
	list := []audit.Entry{
		entry(0, a, "PUT", "/api/v1/admin/skus/{id}/stock", "9"),
		entry(1, a, "POST", "/api/v1/admin/products", "7"),
		entry(2, b, "DELETE", "/api/v1/admin/products/{id}", "7"),
		entry(3, b, "POST", "/api/v1/admin/staff", "8"),
	}
	list[3].Before, list[3].After = json.RawMessage(`{"role":"operator"}`), nil
	for _, e := range list {
		if err := h.store.RecordAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.store.RecordAudit(ctx, list[0]); err != nil {
		t.Fatalf("a redelivered entry: %v", err)
	}
	all, err := h.store.AuditLog(ctx, user.AuditFilter{}, 10)
	if err != nil || len(all) != 4 || all[0].ID != list[3].ID || all[3].ID != list[0].ID {
		t.Fatalf("all = %+v, %v", all, err)
	}
	got := all[3]
	if !got.OccurredAt.Equal(list[0].OccurredAt) || got.ActorID != a || got.Route != list[0].Route || got.Target != "9" ||
		string(got.After) != `{"stock":1}` || got.Before != nil || len(got.UserAgent) != 512 || got.ClientIP != "203.0.113.9" ||
		got.Service != "catalog,inventory" || got.Status != 200 || got.ActorUsername != "boss" {
		t.Fatalf("stored entry = %+v", got)
	}
	if string(all[0].Before) != `{"role":"operator"}` || all[0].After != nil {
		t.Fatalf("before/after = %s / %s", all[0].Before, all[0].After)
	}
	cases := []struct {
		name string
		f    user.AuditFilter
		want []int
	}{
		{"actor", user.AuditFilter{ActorID: a}, []int{1, 0}},
		{"method", user.AuditFilter{Method: "DELETE"}, []int{2}},
		{"route prefix", user.AuditFilter{RoutePrefix: "/api/v1/admin/products"}, []int{2, 1}},
		{"route wildcard is text", user.AuditFilter{RoutePrefix: "/api/v1/admin/%"}, nil},
		{"target", user.AuditFilter{TargetID: "7"}, []int{2, 1}},
		{"from", user.AuditFilter{From: base.Add(2 * time.Minute)}, []int{3, 2}},
		{"to", user.AuditFilter{To: base.Add(time.Minute)}, []int{0}},
		{"cursor", user.AuditFilter{Before: list[2].ID}, []int{1, 0}},
		{"together", user.AuditFilter{ActorID: b, TargetID: "7", From: base, To: base.Add(time.Hour)}, []int{2}},
	}
	for _, c := range cases {
		got, err := h.store.AuditLog(ctx, c.f, 10)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var idx []int
		for _, e := range got {
			idx = append(idx, slices.IndexFunc(list, func(x audit.Entry) bool { return x.ID == e.ID }))
		}
		if !slices.Equal(idx, c.want) {
			t.Errorf("%s: entries %v, want %v", c.name, idx, c.want)
		}
	}
	if got, _ := h.store.AuditLog(ctx, user.AuditFilter{}, 2); len(got) != 2 {
		t.Fatalf("limit 2 gave %d", len(got))
	}
}
