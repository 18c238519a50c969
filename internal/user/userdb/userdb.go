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

// likePattern escapes LIKE wildcards with '!' (the same escape works on both engines).
func likePattern(q string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return "%" + r.Replace(q) + "%"
}

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
	_, err := s.db.Write().ExecContext(ctx, `INSERT INTO staff (id, username, username_key, role, password_hash, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, st.ID, st.Username, strings.ToLower(st.Username), st.Role, st.PasswordHash, st.CreatedAt)
	if sqldb.IsUniqueViolation(err) {
		return user.ErrStaffTaken
	}
	if err != nil {
		return fmt.Errorf("insert staff: %w", err)
	}
	return nil
}

func (s *Store) staffWhere(ctx context.Context, where string, arg any) (user.Staff, error) {
	var st user.Staff
	err := s.db.Read().QueryRowContext(ctx, "SELECT id, username, role, password_hash, created_at FROM staff WHERE "+where, arg).
		Scan(&st.ID, &st.Username, &st.Role, &st.PasswordHash, &st.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return user.Staff{}, user.ErrStaffNotFound
	}
	if err != nil {
		return user.Staff{}, fmt.Errorf("select staff: %w", err)
	}
	st.CreatedAt = st.CreatedAt.UTC()
	return st, nil
}

// StaffByUsername finds a staff account, case-insensitively.
func (s *Store) StaffByUsername(ctx context.Context, username string) (user.Staff, error) {
	return s.staffWhere(ctx, "username_key = ?", strings.ToLower(username))
}

// StaffByID finds a staff account by id.
func (s *Store) StaffByID(ctx context.Context, id ids.ID) (user.Staff, error) {
	return s.staffWhere(ctx, "id = ?", id)
}

// CountStaff counts staff accounts with role.
func (s *Store) CountStaff(ctx context.Context, role string) (int, error) {
	var n int
	err := s.db.Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM staff WHERE role = ?", role).Scan(&n)
	return n, err
}
