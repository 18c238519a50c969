package order

import (
	"context"
	"time"

	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// Item is a SKU as the order module needs it to price and describe a line.
type Item struct {
	SKUID     ids.ID
	ProductID ids.ID
	Title     string
	Specs     map[string]string
	Image     string
	Price     money.Fen
	// OnSale is false for deleted SKUs and SKUs of products off shelf.
	OnSale bool
}

// Catalog prices the SKUs being ordered; SKUs it does not know are absent from the map.
type Catalog interface {
	Items(ctx context.Context, skuIDs []ids.ID) (map[ids.ID]Item, error)
}

// Stock holds and frees stock for an order, keyed by order number; every call is
// idempotent. Reserve holds all lines or none and fails with an error whose code is
// out_of_stock (details list the short SKUs).
type Stock interface {
	Reserve(ctx context.Context, orderNo string, lines []LineRef, expiresAt time.Time) error
	// ReserveFrom is Reserve taking the units out of the held reservation `from` (a flash
	// sale's hold) instead of available stock; out_of_stock when that holds too few.
	ReserveFrom(ctx context.Context, orderNo, from string, lines []LineRef, expiresAt time.Time) error
	Release(ctx context.Context, orderNo, reason string) error
}

// Addresses reads a buyer's delivery address; another buyer's address is not found.
type Addresses interface {
	Address(ctx context.Context, userID, addressID ids.ID) (AddressSnapshot, error)
}

// Cart gives the buyer's selected cart lines and removes ordered ones.
type Cart interface {
	Selected(ctx context.Context, userID ids.ID) ([]LineRef, error)
	Remove(ctx context.Context, userID ids.ID, skuIDs []ids.ID) error
}
