package user

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
)

// AddressInput is what a buyer sends to create or replace an address.
type AddressInput struct {
	Recipient string
	Phone     string
	Province  string
	City      string
	District  string
	Detail    string
	// IsDefault nil keeps the address's current default flag (false for a new one).
	IsDefault *bool
}

var phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 -]{4,18}[0-9]$`)

func (in AddressInput) validate() error {
	var f errs.Fields
	text := func(field, v string, max int) {
		n := utf8.RuneCountInString(v)
		if strings.TrimSpace(v) == "" {
			f.Add(field, "is required")
		} else if n > max {
			f.Add(field, "must be at most "+strconv.Itoa(max)+" characters")
		}
	}
	text("recipient", in.Recipient, 32)
	text("province", in.Province, 32)
	text("city", in.City, 32)
	text("district", in.District, 32)
	text("detail", in.Detail, 200)
	if !phonePattern.MatchString(in.Phone) {
		f.Add("phone", "must be a phone number of 6 to 20 digits, spaces or dashes")
	}
	return f.Err()
}

func (in AddressInput) apply(a *Address) {
	a.Recipient, a.Phone, a.Province, a.City, a.District, a.Detail =
		in.Recipient, in.Phone, in.Province, in.City, in.District, in.Detail
	if in.IsDefault != nil {
		a.IsDefault = *in.IsDefault
	}
}

// Addresses lists the buyer's addresses, the default first.
func (s *Service) Addresses(ctx context.Context, userID ids.ID) ([]Address, error) {
	return s.store.Addresses(ctx, userID)
}

// Address returns one of the buyer's addresses; another buyer's is not found.
func (s *Service) Address(ctx context.Context, userID, id ids.ID) (Address, error) {
	return s.store.AddressByID(ctx, userID, id)
}

// CreateAddress adds an address; the first one becomes the default.
func (s *Service) CreateAddress(ctx context.Context, userID ids.ID, in AddressInput) (Address, error) {
	if err := in.validate(); err != nil {
		return Address{}, err
	}
	now := s.now().UTC()
	a := Address{ID: s.ids.New(), UserID: userID, CreatedAt: now, UpdatedAt: now}
	in.apply(&a)
	return s.store.CreateAddress(ctx, a)
}

// UpdateAddress replaces an address. Clearing is_default on the default is refused: a
// buyer with addresses always has exactly one default; make another one default instead.
func (s *Service) UpdateAddress(ctx context.Context, userID, id ids.ID, in AddressInput) (Address, error) {
	if err := in.validate(); err != nil {
		return Address{}, err
	}
	return s.store.UpdateAddress(ctx, userID, id, func(a *Address) error {
		if a.IsDefault && in.IsDefault != nil && !*in.IsDefault {
			var f errs.Fields
			f.Add("is_default", "this is the default address; set another address as default instead")
			return f.Err()
		}
		in.apply(a)
		a.UpdatedAt = s.now().UTC()
		return nil
	})
}

// DeleteAddress removes an address.
func (s *Service) DeleteAddress(ctx context.Context, userID, id ids.ID) error {
	return s.store.DeleteAddress(ctx, userID, id)
}
