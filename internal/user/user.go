// Package user holds buyer and staff accounts: registration, password and mini-program
// login, refresh-token sessions, buyers' delivery addresses, staff roles and the audit log
// of staff changes made in every module.
package user

import (
	"time"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
)

// User is a buyer account. A buyer has a username, a mobile number, a WeChat openid, or
// several of them; only those with a username or mobile can log in with a password.
type User struct {
	ID        ids.ID    `json:"id"`
	Username  string    `json:"username,omitempty"`
	Mobile    string    `json:"mobile,omitempty"`
	Nickname  string    `json:"nickname,omitempty"`
	HasWeChat bool      `json:"has_wechat"`
	CreatedAt time.Time `json:"created_at"`

	PasswordHash []byte `json:"-"`
	OpenID       string `json:"-"`
	UnionID      string `json:"-"`
}

// Staff is an administrator or operator of the shop; staff accounts are separate from
// buyers and log in at their own endpoint.
type Staff struct {
	ID        ids.ID    `json:"id"`
	Username  string    `json:"username"`
	Role      string    `json:"role"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`

	PasswordHash []byte `json:"-"`
}

// Staff statuses. Only an active account may log in or use its tokens. A deleted account
// is kept (the audit log names it) but is gone from the API, and its username is free again.
const (
	StaffActive   = "active"
	StaffDisabled = "disabled"
	StaffDeleted  = "deleted"
)

// Address is a buyer's delivery address.
type Address struct {
	ID        ids.ID    `json:"id"`
	UserID    ids.ID    `json:"-"`
	Recipient string    `json:"recipient"`
	Phone     string    `json:"phone"`
	Province  string    `json:"province"`
	City      string    `json:"city"`
	District  string    `json:"district"`
	Detail    string    `json:"detail"`
	IsDefault bool      `json:"is_default"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// MaxAddresses is how many addresses one buyer may keep.
const MaxAddresses = 20

// Subject kinds of a refresh-token session.
const (
	SubjectBuyer = "buyer"
	SubjectStaff = "staff"
	// AnySubject, as the kind a session lookup asks for, takes buyer and staff sessions alike
	// (the shared /api/v1/auth/refresh and /logout, which serve both).
	AnySubject = ""
)

// Session is one refresh token. Tokens of one login form a family: each refresh replaces
// the token with a new one of the same family, and presenting a replaced token again
// revokes the whole family (the token was stolen, or the client is broken).
type Session struct {
	ID          ids.ID
	FamilyID    ids.ID
	SubjectKind string
	SubjectID   ids.ID
	TokenHash   []byte
	ExpiresAt   time.Time
	CreatedAt   time.Time
	UsedAt      *time.Time
	RevokedAt   *time.Time
}

// Errors with their stable codes.
var (
	ErrUsernameTaken       = errs.New(errs.Conflict, "username_taken", "this username is already registered")
	ErrMobileTaken         = errs.New(errs.Conflict, "mobile_taken", "this mobile number is already registered")
	ErrInvalidCredentials  = errs.New(errs.Unauthorized, "invalid_credentials", "username or password is wrong")
	ErrTooManyAttempts     = errs.New(errs.TooManyRequests, "too_many_attempts", "too many failed logins; wait before trying again")
	ErrInvalidRefreshToken = errs.New(errs.Unauthorized, "invalid_refresh_token", "refresh token is invalid, expired or revoked; log in again")
	ErrRefreshTokenReused  = errs.New(errs.Unauthorized, "refresh_token_reused", "this refresh token was already used; every session of this login is now revoked, log in again")
	ErrUserNotFound        = errs.New(errs.NotFound, "user_not_found", "no such user")
	ErrOpenIDTaken         = errs.New(errs.Conflict, "openid_taken", "this WeChat account is already registered")
	ErrStaffNotFound       = errs.New(errs.NotFound, "staff_not_found", "no such staff account")
	ErrStaffTaken          = errs.New(errs.Conflict, "username_taken", "this staff username already exists")
	ErrOwnAccount          = errs.New(errs.Conflict, "own_account", "you cannot disable, delete or demote your own account; ask another administrator")
	ErrLastAdmin           = errs.New(errs.Conflict, "last_admin", "the shop must keep at least one active administrator; promote or enable another one first")
	ErrAddressNotFound     = errs.New(errs.NotFound, "address_not_found", "no such address")
	ErrTooManyAddresses    = errs.New(errs.Conflict, "too_many_addresses", "an account may keep at most 20 addresses; delete one first")
	ErrWeChatNotConfigured = errs.New(errs.Unavailable, "wechat_not_configured", "mini-program login is not configured on this server (MINIMART_WECHAT_APPID, MINIMART_WECHAT_SECRET)")
)
