// Package userdb stores accounts, sessions and addresses in SQLite or MySQL with explicit
// SQL; the statements are the same on both engines, only the DDL differs.
package userdb

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/user"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations is the user module's schema.
var Migrations = sqldb.Migrations{Module: "user", FS: migrationFiles, Dir: "migrations"}

// Store implements user.Storer.
type Store struct {
	db     *sqldb.DB
	outbox *events.Outbox
}

var _ user.Storer = (*Store)(nil)

// New returns a store over db that writes its events to outbox.
func New(db *sqldb.DB, outbox *events.Outbox) *Store { return &Store{db: db, outbox: outbox} }

func usernameKey(name string) any {
	if name == "" {
		return nil
	}
	return strings.ToLower(name)
}

const userColumns = "id, username, mobile, nickname, password_hash, wechat_openid, wechat_unionid, created_at"

func scanUser(row interface{ Scan(...any) error }) (user.User, error) {
	var u user.User
	var username, mobile, openID, unionID sql.NullString
	if err := row.Scan(&u.ID, &username, &mobile, &u.Nickname, &u.PasswordHash, &openID, &unionID, &u.CreatedAt); err != nil {
		return user.User{}, err
	}
	u.Username, u.Mobile, u.OpenID, u.UnionID = username.String, mobile.String, openID.String, unionID.String
	u.HasWeChat = u.OpenID != ""
	u.CreatedAt = u.CreatedAt.UTC()
	return u, nil
}

// CreateUser inserts u and writes ev to the outbox in one transaction.
func (s *Store) CreateUser(ctx context.Context, u user.User, ev events.Event) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users
			(id, username, username_key, mobile, nickname, password_hash, wechat_openid, wechat_unionid, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.ID, sqldb.NullString(u.Username), usernameKey(u.Username), sqldb.NullString(u.Mobile), u.Nickname, u.PasswordHash,
			sqldb.NullString(u.OpenID), sqldb.NullString(u.UnionID), u.CreatedAt, u.CreatedAt)
		if sqldb.IsUniqueViolation(err) {
			return s.whichUserConflict(ctx, tx, u)
		}
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		return s.outbox.Write(ctx, tx, ev)
	})
}

// whichUserConflict names the unique column a failed insert collided on; drivers word
// this differently, so ask the table instead of parsing messages.
func (s *Store) whichUserConflict(ctx context.Context, tx *sqldb.Tx, u user.User) error {
	checks := []struct {
		query string
		arg   any
		err   error
	}{
		{"SELECT 1 FROM users WHERE username_key = ?", usernameKey(u.Username), user.ErrUsernameTaken},
		{"SELECT 1 FROM users WHERE mobile = ?", sqldb.NullString(u.Mobile), user.ErrMobileTaken},
		{"SELECT 1 FROM users WHERE wechat_openid = ?", sqldb.NullString(u.OpenID), user.ErrOpenIDTaken},
	}
	for _, c := range checks {
		if c.arg == nil {
			continue
		}
		var one int
		err := tx.QueryRowContext(ctx, c.query, c.arg).Scan(&one)
		if err == nil {
			return c.err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	return user.ErrUsernameTaken
}

func (s *Store) userWhere(ctx context.Context, q sqldb.Querier, where string, args ...any) (user.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE "+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return user.User{}, user.ErrUserNotFound
	}
	if err != nil {
		return user.User{}, fmt.Errorf("select user: %w", err)
	}
	return u, nil
}

// UserByID finds a buyer by id.
func (s *Store) UserByID(ctx context.Context, id ids.ID) (user.User, error) {
	return s.userWhere(ctx, s.db.Read(), "id = ?", id)
}

// UserByLogin finds a buyer by username (case-insensitive) or mobile number.
func (s *Store) UserByLogin(ctx context.Context, login string) (user.User, error) {
	return s.userWhere(ctx, s.db.Read(), "username_key = ? OR mobile = ?", strings.ToLower(login), login)
}

// UserByOpenID finds a buyer by WeChat openid.
func (s *Store) UserByOpenID(ctx context.Context, openID string) (user.User, error) {
	return s.userWhere(ctx, s.db.Read(), "wechat_openid = ?", openID)
}

// UpdateUser changes a buyer in one transaction; the row is locked while fn runs.
func (s *Store) UpdateUser(ctx context.Context, id ids.ID, fn func(*user.User) error) (user.User, error) {
	var out user.User
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		u, err := s.userWhere(ctx, tx, "id = ?"+tx.ForUpdate(), id)
		if err != nil {
			return err
		}
		if err := fn(&u); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET nickname = ?, wechat_unionid = ?, updated_at = ? WHERE id = ?`,
			u.Nickname, sqldb.NullString(u.UnionID), time.Now().UTC(), id)
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		out = u
		return nil
	})
	return out, err
}

var likeEscaper = strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")

// likePattern escapes LIKE wildcards with '!' (the same escape works on both engines).
func likePattern(q string) string { return "%" + likeEscaper.Replace(q) + "%" }

// prefixPattern matches what starts with p, p's wildcards escaped as in likePattern.
func prefixPattern(p string) string { return likeEscaper.Replace(p) + "%" }

// SearchUsers lists buyers newest first.
func (s *Store) SearchUsers(ctx context.Context, q string, before ids.ID, limit int) ([]user.User, error) {
	query := "SELECT " + userColumns + " FROM users WHERE 1 = 1"
	var args []any
	if before > 0 {
		query += " AND id < ?"
		args = append(args, before)
	}
	if q != "" {
		p := likePattern(q)
		query += " AND (username LIKE ? ESCAPE '!' OR mobile LIKE ? ESCAPE '!' OR nickname LIKE ? ESCAPE '!')"
		args = append(args, p, p, p)
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := s.db.Read().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	defer rows.Close()
	var out []user.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CreateStaff inserts a staff account.
func (s *Store) CreateStaff(ctx context.Context, st user.Staff) error {
	_, err := s.db.Write().ExecContext(ctx, `INSERT INTO staff (id, username, username_key, role, status, password_hash, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, st.ID, st.Username, staffKey(st), st.Role, st.Status, st.PasswordHash, st.CreatedAt)
	if sqldb.IsUniqueViolation(err) {
		return user.ErrStaffTaken
	}
	if err != nil {
		return fmt.Errorf("insert staff: %w", err)
	}
	return nil
}

// staffKey is what the unique username_key holds: the lowercased username, except for a
// deleted account, whose key is made from its id so that its name is free again. No live
// username can equal it: usernames never start with a space.
func staffKey(st user.Staff) string {
	if st.Status == user.StaffDeleted {
		return " deleted:" + st.ID.String()
	}
	return strings.ToLower(st.Username)
}

const staffColumns = "id, username, role, status, password_hash, created_at"

func scanStaff(row sqldb.Scanner) (user.Staff, error) {
	var st user.Staff
	if err := row.Scan(&st.ID, &st.Username, &st.Role, &st.Status, &st.PasswordHash, &st.CreatedAt); err != nil {
		return user.Staff{}, err
	}
	st.CreatedAt = st.CreatedAt.UTC()
	return st, nil
}

func (s *Store) staffWhere(ctx context.Context, q sqldb.Querier, where string, arg any) (user.Staff, error) {
	st, err := scanStaff(q.QueryRowContext(ctx, "SELECT "+staffColumns+" FROM staff WHERE "+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return user.Staff{}, user.ErrStaffNotFound
	}
	if err != nil {
		return user.Staff{}, fmt.Errorf("select staff: %w", err)
	}
	return st, nil
}

// StaffByUsername finds a staff account that is not deleted, case-insensitively.
func (s *Store) StaffByUsername(ctx context.Context, username string) (user.Staff, error) {
	return s.staffWhere(ctx, s.db.Read(), "username_key = ?", strings.ToLower(username))
}

// StaffByID finds a staff account by id, whatever its status.
func (s *Store) StaffByID(ctx context.Context, id ids.ID) (user.Staff, error) {
	return s.staffWhere(ctx, s.db.Read(), "id = ?", id)
}

// CountStaff counts the active staff accounts with role.
func (s *Store) CountStaff(ctx context.Context, role string) (int, error) {
	var n int
	err := s.db.Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM staff WHERE role = ? AND status = ?", role, user.StaffActive).Scan(&n)
	return n, err
}

// ListStaff lists the accounts that are not deleted, newest first.
func (s *Store) ListStaff(ctx context.Context, before ids.ID, limit int) ([]user.Staff, error) {
	query := "SELECT " + staffColumns + " FROM staff WHERE status <> ?"
	args := []any{user.StaffDeleted}
	if before > 0 {
		query += " AND id < ?"
		args = append(args, before)
	}
	rows, err := s.db.Read().QueryContext(ctx, query+" ORDER BY id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	defer rows.Close()
	var out []user.Staff
	for rows.Next() {
		st, err := scanStaff(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// ChangeStaff changes an account in one transaction. The active admins are locked first,
// always in id order, then the account: every change that could leave the shop without an
// admin sees the others' outcome instead of a count that is about to be wrong. (SQLite's
// single writer serializes these transactions anyway.)
func (s *Store) ChangeStaff(ctx context.Context, id ids.ID, now time.Time,
	fn func(st *user.Staff, activeAdmins int) (bool, error)) (user.Staff, error) {
	var out user.Staff
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT id FROM staff WHERE role = ? AND status = ? ORDER BY id"+tx.ForUpdate(),
			auth.RoleAdmin, user.StaffActive)
		if err != nil {
			return fmt.Errorf("lock admins: %w", err)
		}
		admins := 0
		for rows.Next() {
			admins++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("lock admins: %w", err)
		}
		st, err := s.staffWhere(ctx, tx, "id = ?"+tx.ForUpdate(), id)
		if err != nil {
			return err
		}
		if st.Status == user.StaffDeleted {
			return user.ErrStaffNotFound
		}
		endSessions, err := fn(&st, admins)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE staff SET username_key = ?, role = ?, status = ?, password_hash = ? WHERE id = ?",
			staffKey(st), st.Role, st.Status, st.PasswordHash, st.ID)
		if err != nil {
			return fmt.Errorf("update staff: %w", err)
		}
		if endSessions {
			_, err := tx.ExecContext(ctx, "UPDATE sessions SET revoked_at = ? WHERE subject_id = ? AND subject_kind = ? AND revoked_at IS NULL",
				now, st.ID, user.SubjectStaff)
			if err != nil {
				return fmt.Errorf("revoke staff sessions: %w", err)
			}
		}
		out = st
		return nil
	})
	return out, err
}
