package userdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/minimart/minimart/internal/platform/audit"
	"github.com/minimart/minimart/internal/platform/clip"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/user"
)

const auditColumns = `id, occurred_at, actor_id, actor_username, actor_role, method, route, path, target_id, status,
	before_json, after_json, client_ip, user_agent, request_id, service`

// RecordAudit inserts the entry; an entry already stored (a redelivered event) is left as
// it is. Text is clipped to its column: the entry comes from another service, and a
// too-long field must not make it unstorable.
func (s *Store) RecordAudit(ctx context.Context, e audit.Entry) error {
	_, err := s.db.Write().ExecContext(ctx, "INSERT INTO audit_log ("+auditColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		e.ID, sqldb.Time(e.OccurredAt), e.ActorID, clip.Runes(e.ActorUsername, 64), clip.Runes(e.ActorRole, 16),
		clip.Runes(e.Method, 8), clip.Runes(e.Route, 255), clip.Runes(e.Path, 1024), clip.Runes(e.Target, 64), e.Status,
		nullJSON(e.Before), nullJSON(e.After), clip.Runes(e.ClientIP, 64), clip.Runes(e.UserAgent, 512),
		clip.Runes(e.Request, 64), clip.Runes(e.Service, 128))
	if sqldb.IsUniqueViolation(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("insert audit entry: %w", err)
	}
	return nil
}

func nullJSON(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	return string(raw)
}

// AuditLog lists the entries matching f, newest (highest id) first. The route filter is a
// prefix, its LIKE wildcards escaped.
func (s *Store) AuditLog(ctx context.Context, f user.AuditFilter, limit int) ([]audit.Entry, error) {
	query := "SELECT " + auditColumns + " FROM audit_log WHERE 1 = 1"
	var args []any
	add := func(cond string, arg any) {
		query += " AND " + cond
		args = append(args, arg)
	}
	if f.Before > 0 {
		add("id < ?", f.Before)
	}
	if f.ActorID > 0 {
		add("actor_id = ?", f.ActorID)
	}
	if f.Method != "" {
		add("method = ?", f.Method)
	}
	if f.RoutePrefix != "" {
		add("route LIKE ? ESCAPE '!'", prefixPattern(f.RoutePrefix))
	}
	if f.TargetID != "" {
		add("target_id = ?", f.TargetID)
	}
	if !f.From.IsZero() {
		add("occurred_at >= ?", sqldb.Time(f.From))
	}
	if !f.To.IsZero() {
		add("occurred_at < ?", sqldb.Time(f.To))
	}
	rows, err := s.db.Read().QueryContext(ctx, query+" ORDER BY id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		var e audit.Entry
		var before, after sql.NullString
		if err := rows.Scan(&e.ID, &e.OccurredAt, &e.ActorID, &e.ActorUsername, &e.ActorRole, &e.Method, &e.Route, &e.Path,
			&e.Target, &e.Status, &before, &after, &e.ClientIP, &e.UserAgent, &e.Request, &e.Service); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		e.OccurredAt = e.OccurredAt.UTC()
		if before.Valid {
			e.Before = json.RawMessage(before.String)
		}
		if after.Valid {
			e.After = json.RawMessage(after.String)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
