package user

import (
	"context"
	"time"

	"github.com/minimart/minimart/internal/platform/audit"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
)

// Storer is the persistence the user service needs; userdb implements it on SQLite and
// MySQL. Methods return this package's errors (ErrUsernameTaken, ErrUserNotFound…) so the
// service never sees driver errors for expected cases.
type Storer interface {
	// CreateUser stores u and writes ev to the outbox in the same transaction.
	CreateUser(ctx context.Context, u User, ev events.Event) error
	UserByID(ctx context.Context, id ids.ID) (User, error)
	// UserByLogin finds a buyer by username or mobile.
	UserByLogin(ctx context.Context, login string) (User, error)
	// UserByOpenID finds a buyer by WeChat openid.
	UserByOpenID(ctx context.Context, openID string) (User, error)
	// UpdateUser loads the user, lets fn change it and saves it, in one transaction.
	UpdateUser(ctx context.Context, id ids.ID, fn func(*User) error) (User, error)
	// SearchUsers lists buyers whose username, mobile or nickname contains q, newest first,
	// with ids below before (0: from the newest).
	SearchUsers(ctx context.Context, q string, before ids.ID, limit int) ([]User, error)

	CreateStaff(ctx context.Context, s Staff) error
	// StaffByUsername finds an account that is not deleted (a deleted one's name is free).
	StaffByUsername(ctx context.Context, username string) (Staff, error)
	// StaffByID finds an account whatever its status: the audit log names deleted ones too.
	StaffByID(ctx context.Context, id ids.ID) (Staff, error)
	// CountStaff counts the active accounts with role.
	CountStaff(ctx context.Context, role string) (int, error)
	// ListStaff lists the accounts that are not deleted, newest first, with ids below before
	// (0: from the newest).
	ListStaff(ctx context.Context, before ids.ID, limit int) ([]Staff, error)
	// ChangeStaff loads the account (not deleted: else ErrStaffNotFound) and counts the active
	// admins, with both locked against concurrent changes, lets fn change the account, and
	// saves its role, status and password hash, in one transaction. When fn says endSessions,
	// the account's refresh-token sessions are revoked in the same transaction.
	ChangeStaff(ctx context.Context, id ids.ID, now time.Time, fn func(st *Staff, activeAdmins int) (endSessions bool, err error)) (Staff, error)

	// RecordAudit stores an audit entry; one stored before (the same id) is left as it is.
	RecordAudit(ctx context.Context, e audit.Entry) error
	// AuditLog lists the entries that match f, newest (highest id) first.
	AuditLog(ctx context.Context, f AuditFilter, limit int) ([]audit.Entry, error)

	CreateSession(ctx context.Context, s Session) error
	// RotateSession replaces the live session with token hash by next(old), in one
	// transaction. A used or revoked token revokes its whole family and returns
	// ErrRefreshTokenReused; an unknown or expired one ErrInvalidRefreshToken. A session of
	// another kind than kind (SubjectBuyer, SubjectStaff; AnySubject takes both) is unknown
	// here and left untouched.
	RotateSession(ctx context.Context, hash []byte, kind string, now time.Time, next func(old Session) Session) (Session, error)
	// RevokeFamily revokes every session of the family the token belongs to, when the token's
	// session is of kind (AnySubject: either).
	RevokeFamily(ctx context.Context, hash []byte, kind string, now time.Time) error

	Addresses(ctx context.Context, userID ids.ID) ([]Address, error)
	AddressByID(ctx context.Context, userID, id ids.ID) (Address, error)
	// CreateAddress enforces MaxAddresses and the single default in one transaction.
	CreateAddress(ctx context.Context, a Address) (Address, error)
	UpdateAddress(ctx context.Context, userID, id ids.ID, fn func(*Address) error) (Address, error)
	// DeleteAddress removes the address; if it was the default, the newest other becomes it.
	DeleteAddress(ctx context.Context, userID, id ids.ID) error
}
