package user

import (
	"context"
	"time"

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
	StaffByUsername(ctx context.Context, username string) (Staff, error)
	StaffByID(ctx context.Context, id ids.ID) (Staff, error)
	CountStaff(ctx context.Context, role string) (int, error)

	CreateSession(ctx context.Context, s Session) error
	// RotateSession replaces the live session with token hash by next(old), in one
	// transaction. A used or revoked token revokes its whole family and returns
	// ErrRefreshTokenReused; an unknown or expired one ErrInvalidRefreshToken.
	RotateSession(ctx context.Context, hash []byte, now time.Time, next func(old Session) Session) (Session, error)
	// RevokeFamily revokes every session of the family the token belongs to.
	RevokeFamily(ctx context.Context, hash []byte, now time.Time) error

	Addresses(ctx context.Context, userID ids.ID) ([]Address, error)
	AddressByID(ctx context.Context, userID, id ids.ID) (Address, error)
	// CreateAddress enforces MaxAddresses and the single default in one transaction.
	CreateAddress(ctx context.Context, a Address) (Address, error)
	UpdateAddress(ctx context.Context, userID, id ids.ID, fn func(*Address) error) (Address, error)
	// DeleteAddress removes the address; if it was the default, the newest other becomes it.
	DeleteAddress(ctx context.Context, userID, id ids.ID) error
}
