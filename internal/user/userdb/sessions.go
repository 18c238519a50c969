package userdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/user"
)

// CreateSession stores a new refresh-token session.
func (s *Store) CreateSession(ctx context.Context, se user.Session) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error { return insertSession(ctx, tx, se) })
}

func insertSession(ctx context.Context, tx *sqldb.Tx, se user.Session) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO sessions
		(id, family_id, subject_kind, subject_id, token_hash, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		se.ID, se.FamilyID, se.SubjectKind, se.SubjectID, se.TokenHash, se.ExpiresAt, se.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// sessionByHash finds the session of a token, when it is of kind (user.AnySubject: either);
// a token of the other kind answers as unknown, so presenting it at the wrong endpoint
// neither uses nor revokes it.
func sessionByHash(ctx context.Context, tx *sqldb.Tx, hash []byte, kind string) (user.Session, error) {
	var se user.Session
	var used, revoked sql.NullTime
	err := tx.QueryRowContext(ctx, `SELECT id, family_id, subject_kind, subject_id, token_hash, expires_at, created_at, used_at, revoked_at
		FROM sessions WHERE token_hash = ?`+tx.ForUpdate(), hash).
		Scan(&se.ID, &se.FamilyID, &se.SubjectKind, &se.SubjectID, &se.TokenHash, &se.ExpiresAt, &se.CreatedAt, &used, &revoked)
	if errors.Is(err, sql.ErrNoRows) || err == nil && kind != user.AnySubject && se.SubjectKind != kind {
		return user.Session{}, user.ErrInvalidRefreshToken
	}
	if err != nil {
		return user.Session{}, fmt.Errorf("select session: %w", err)
	}
	if used.Valid {
		se.UsedAt = &used.Time
	}
	if revoked.Valid {
		se.RevokedAt = &revoked.Time
	}
	return se, nil
}

func revokeFamily(ctx context.Context, tx *sqldb.Tx, family any, now time.Time) error {
	_, err := tx.ExecContext(ctx, "UPDATE sessions SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL", now, family)
	if err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return nil
}

// RotateSession marks the presented token used and stores its successor. Presenting a
// token that was already used revokes its family; that revocation is committed even though
// the call fails, which is why the error is decided after the transaction.
func (s *Store) RotateSession(ctx context.Context, hash []byte, kind string, now time.Time, next func(old user.Session) user.Session) (user.Session, error) {
	var out user.Session
	reused := false
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		reused = false
		old, err := sessionByHash(ctx, tx, hash, kind)
		if err != nil {
			return err
		}
		if old.RevokedAt != nil || !now.Before(old.ExpiresAt) {
			return user.ErrInvalidRefreshToken
		}
		if old.UsedAt != nil {
			reused = true
			return revokeFamily(ctx, tx, old.FamilyID, now)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE sessions SET used_at = ? WHERE id = ?", now, old.ID); err != nil {
			return fmt.Errorf("use session: %w", err)
		}
		out = next(old)
		return insertSession(ctx, tx, out)
	})
	if err != nil {
		return user.Session{}, err
	}
	if reused {
		return user.Session{}, user.ErrRefreshTokenReused
	}
	return out, nil
}

// RevokeFamily ends the login the token belongs to; an unknown token changes nothing.
func (s *Store) RevokeFamily(ctx context.Context, hash []byte, kind string, now time.Time) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		se, err := sessionByHash(ctx, tx, hash, kind)
		if errors.Is(err, user.ErrInvalidRefreshToken) {
			return nil
		}
		if err != nil {
			return err
		}
		return revokeFamily(ctx, tx, se.FamilyID, now)
	})
}
