package user

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"

	"github.com/minimart/minimart/internal/platform/audit"
	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
)

// Staff management, for administrators. Every change that could leave the shop without a
// way in is refused: nobody disables, deletes or demotes their own account (ErrOwnAccount),
// and the last active admin stays one (ErrLastAdmin). Both are decided with the active
// admins locked (Storer.ChangeStaff), so two admins demoting each other at once cannot
// both succeed.

// StaffRole is the staff account's current role, "" when it may not act (disabled, deleted
// or unknown): the check behind every staff token (auth.StaffStatus).
func (s *Service) StaffRole(ctx context.Context, id ids.ID) (string, error) {
	st, err := s.store.StaffByID(ctx, id)
	switch {
	case errors.Is(err, ErrStaffNotFound):
		return "", nil
	case err != nil:
		return "", err
	case st.Status != StaffActive:
		return "", nil
	}
	return st.Role, nil
}

// StaffAccount returns a staff account that is not deleted.
func (s *Service) StaffAccount(ctx context.Context, id ids.ID) (Staff, error) {
	st, err := s.store.StaffByID(ctx, id)
	if err == nil && st.Status == StaffDeleted {
		return Staff{}, ErrStaffNotFound
	}
	return st, err
}

// ListStaff lists the staff accounts that are not deleted, newest first; cursor is the
// next_cursor of the previous page.
func (s *Service) ListStaff(ctx context.Context, cursor string, limit int) (ListPage[Staff], error) {
	var f errs.Fields
	before := parseCursor(&f, cursor)
	if err := f.Err(); err != nil {
		return ListPage[Staff]{}, err
	}
	page := newPage[Staff](limit)
	list, err := s.store.ListStaff(ctx, before, page.Limit+1)
	if err != nil {
		return ListPage[Staff]{}, err
	}
	return page.fill(list, func(st Staff) ids.ID { return st.ID }), nil
}

func validRole(f *errs.Fields, role string) {
	if role != auth.RoleAdmin && role != auth.RoleOperator {
		f.Add("role", "must be admin or operator")
	}
}

// ChangeStaffRole gives the account role. actor is the admin asking.
func (s *Service) ChangeStaffRole(ctx context.Context, actor, id ids.ID, role string) (Staff, error) {
	var f errs.Fields
	validRole(&f, role)
	if err := f.Err(); err != nil {
		return Staff{}, err
	}
	return s.changeStaff(ctx, id, func(st *Staff, activeAdmins int) (bool, error) {
		if st.Role == role {
			return false, nil
		}
		if err := keepsAdmin(actor, st, activeAdmins); err != nil {
			return false, err
		}
		st.Role = role
		return false, nil
	})
}

// DisableStaff stops the account: its logins and refresh tokens end at once, and its access
// tokens are refused within seconds (auth.Tokens.CheckingStaff). Disabling a disabled
// account changes nothing.
func (s *Service) DisableStaff(ctx context.Context, actor, id ids.ID) (Staff, error) {
	return s.changeStaff(ctx, id, func(st *Staff, activeAdmins int) (bool, error) {
		if st.Status == StaffDisabled {
			return false, nil
		}
		if err := keepsAdmin(actor, st, activeAdmins); err != nil {
			return false, err
		}
		st.Status = StaffDisabled
		return true, nil
	})
}

// EnableStaff lets a disabled account log in again (its old sessions stay ended).
func (s *Service) EnableStaff(ctx context.Context, id ids.ID) (Staff, error) {
	return s.changeStaff(ctx, id, func(st *Staff, _ int) (bool, error) {
		st.Status = StaffActive
		return false, nil
	})
}

// ResetStaffPassword sets a new password and ends the account's sessions, so whoever held a
// refresh token made with the old one must log in again.
func (s *Service) ResetStaffPassword(ctx context.Context, id ids.ID, password string) (Staff, error) {
	st, err := s.StaffAccount(ctx, id)
	if err != nil {
		return Staff{}, err
	}
	var f errs.Fields
	validatePassword(&f, password, st.Username)
	if err := f.Err(); err != nil {
		return Staff{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.cfg.PasswordCost)
	if err != nil {
		return Staff{}, fmt.Errorf("hash password: %w", err)
	}
	return s.changeStaff(ctx, id, func(st *Staff, _ int) (bool, error) {
		st.PasswordHash = hash
		return true, nil
	})
}

// DeleteStaff removes the account from the shop (soft: the audit log still names it) and
// frees its username; its sessions end at once, its access tokens within seconds.
func (s *Service) DeleteStaff(ctx context.Context, actor, id ids.ID) error {
	_, err := s.changeStaff(ctx, id, func(st *Staff, activeAdmins int) (bool, error) {
		if err := keepsAdmin(actor, st, activeAdmins); err != nil {
			return false, err
		}
		st.Status = StaffDeleted
		return true, nil
	})
	return err
}

// keepsAdmin refuses a change that takes st away from the active admins (a demotion, a
// disable, a delete) when st is the actor's own account or the last active admin.
func keepsAdmin(actor ids.ID, st *Staff, activeAdmins int) error {
	if st.ID == actor {
		return ErrOwnAccount
	}
	if st.Role == auth.RoleAdmin && st.Status == StaffActive && activeAdmins <= 1 {
		return ErrLastAdmin
	}
	return nil
}

// changeStaff applies fn through the store and tells the audit log what the account was
// before (password hash aside: Staff does not render it).
func (s *Service) changeStaff(ctx context.Context, id ids.ID, fn func(st *Staff, activeAdmins int) (bool, error)) (Staff, error) {
	var before Staff
	st, err := s.store.ChangeStaff(ctx, id, s.now().UTC(), func(st *Staff, activeAdmins int) (bool, error) {
		before = *st
		return fn(st, activeAdmins)
	})
	if err != nil {
		return Staff{}, err
	}
	audit.SetBefore(ctx, before)
	return st, nil
}
