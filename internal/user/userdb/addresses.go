package userdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/user"
)

const addressColumns = "id, user_id, recipient, phone, province, city, district, detail, is_default, created_at, updated_at"

func scanAddress(row interface{ Scan(...any) error }) (user.Address, error) {
	var a user.Address
	err := row.Scan(&a.ID, &a.UserID, &a.Recipient, &a.Phone, &a.Province, &a.City, &a.District, &a.Detail,
		&a.IsDefault, &a.CreatedAt, &a.UpdatedAt)
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return a, err
}

// Addresses lists a buyer's addresses, the default first, then newest first.
func (s *Store) Addresses(ctx context.Context, userID ids.ID) ([]user.Address, error) {
	return listAddresses(ctx, s.db.Read(), userID)
}

func listAddresses(ctx context.Context, q sqldb.Querier, userID ids.ID) ([]user.Address, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+addressColumns+
		" FROM addresses WHERE user_id = ? ORDER BY is_default DESC, id DESC", userID)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	defer rows.Close()
	out := []user.Address{}
	for rows.Next() {
		a, err := scanAddress(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func addressByID(ctx context.Context, q sqldb.Querier, userID, id ids.ID) (user.Address, error) {
	a, err := scanAddress(q.QueryRowContext(ctx, "SELECT "+addressColumns+
		" FROM addresses WHERE id = ? AND user_id = ?", id, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return user.Address{}, user.ErrAddressNotFound
	}
	if err != nil {
		return user.Address{}, fmt.Errorf("select address: %w", err)
	}
	return a, nil
}

// AddressByID returns one of the buyer's addresses.
func (s *Store) AddressByID(ctx context.Context, userID, id ids.ID) (user.Address, error) {
	return addressByID(ctx, s.db.Read(), userID, id)
}

// lockUser serialises address changes of one buyer, so the count limit and the single
// default hold under concurrent requests.
func lockUser(ctx context.Context, tx *sqldb.Tx, userID ids.ID) error {
	var id ids.ID
	err := tx.QueryRowContext(ctx, "SELECT id FROM users WHERE id = ?"+tx.ForUpdate(), userID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return user.ErrUserNotFound
	}
	return err
}

func clearDefault(ctx context.Context, tx *sqldb.Tx, userID, except ids.ID) error {
	_, err := tx.ExecContext(ctx, "UPDATE addresses SET is_default = ? WHERE user_id = ? AND id <> ? AND is_default = ?",
		false, userID, except, true)
	return err
}

// CreateAddress inserts a; the buyer's first address becomes the default whatever was asked.
func (s *Store) CreateAddress(ctx context.Context, a user.Address) (user.Address, error) {
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		if err := lockUser(ctx, tx, a.UserID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM addresses WHERE user_id = ?", a.UserID).Scan(&n); err != nil {
			return err
		}
		if n >= user.MaxAddresses {
			return user.ErrTooManyAddresses
		}
		if n == 0 {
			a.IsDefault = true
		}
		if a.IsDefault {
			if err := clearDefault(ctx, tx, a.UserID, a.ID); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO addresses ("+addressColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			a.ID, a.UserID, a.Recipient, a.Phone, a.Province, a.City, a.District, a.Detail, a.IsDefault, a.CreatedAt, a.UpdatedAt)
		if err != nil {
			return fmt.Errorf("insert address: %w", err)
		}
		return nil
	})
	return a, err
}

// UpdateAddress lets fn change the address and saves it; making it default clears the others.
func (s *Store) UpdateAddress(ctx context.Context, userID, id ids.ID, fn func(*user.Address) error) (user.Address, error) {
	var out user.Address
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		a, err := addressByID(ctx, tx, userID, id)
		if err != nil {
			return err
		}
		if err := fn(&a); err != nil {
			return err
		}
		if a.IsDefault {
			if err := clearDefault(ctx, tx, userID, id); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE addresses SET recipient = ?, phone = ?, province = ?, city = ?, district = ?,
			detail = ?, is_default = ?, updated_at = ? WHERE id = ? AND user_id = ?`,
			a.Recipient, a.Phone, a.Province, a.City, a.District, a.Detail, a.IsDefault, a.UpdatedAt, id, userID)
		if err != nil {
			return fmt.Errorf("update address: %w", err)
		}
		out = a
		return nil
	})
	return out, err
}

// DeleteAddress removes the address; a deleted default passes to the newest remaining one.
func (s *Store) DeleteAddress(ctx context.Context, userID, id ids.ID) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		a, err := addressByID(ctx, tx, userID, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM addresses WHERE id = ? AND user_id = ?", id, userID); err != nil {
			return fmt.Errorf("delete address: %w", err)
		}
		if !a.IsDefault {
			return nil
		}
		var next ids.ID
		err = tx.QueryRowContext(ctx, "SELECT id FROM addresses WHERE user_id = ? ORDER BY id DESC LIMIT 1", userID).Scan(&next)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE addresses SET is_default = ? WHERE id = ?", true, next)
		return err
	})
}
