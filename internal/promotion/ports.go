package promotion

import (
	"context"
	"time"

	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// Stock holds the units of a sale in inventory.
type Stock interface {
	// Hold sets aside quantity of skuID under ref until expiresAt, all or nothing; a repeat
	// with the same ref holds nothing more and returns nil. Too little available stock: an
	// error whose code is out_of_stock (details.skus).
	Hold(ctx context.Context, ref string, skuID ids.ID, quantity int, expiresAt time.Time) error
	// Release gives back whatever is still held under ref; releasing twice or an unknown
	// ref is not an error.
	Release(ctx context.Context, ref, reason string) error
}

// Item is a SKU as a sale describes it.
type Item struct {
	SKUID     ids.ID
	ProductID ids.ID
	Title     string
	Image     string
	Price     money.Fen
	// OnSale is false for a deleted SKU and for a SKU whose product is off shelf.
	OnSale bool
}

// Catalog describes SKUs; SKUs it does not know are absent from the map.
type Catalog interface {
	Items(ctx context.Context, skuIDs []ids.ID) (map[ids.ID]Item, error)
}

// Addresses checks that an address is the buyer's: another buyer's or an unknown one is an
// error with code address_not_found.
type Addresses interface {
	CheckAddress(ctx context.Context, userID, addressID ids.ID) error
}

// SaleOrder is the order an accepted attempt becomes.
type SaleOrder struct {
	AttemptID ids.ID
	SaleID    ids.ID
	UserID    ids.ID
	SKUID     ids.ID
	AddressID ids.ID
	Quantity  int
	UnitPrice money.Fen
	// StockRef is the sale's hold, out of which the order's stock is taken.
	StockRef string
}

// PlacedOrder names the order made for an attempt.
type PlacedOrder struct {
	ID      ids.ID
	OrderNo string
	// Cancelled is set when a retried call finds the order already cancelled: the process
	// that made it died before marking its attempt, so the cancellation found no attempt to
	// give units back for, and the worker gives them back instead.
	Cancelled bool
}

// Orders makes the orders of accepted attempts. CreateForSale is idempotent by AttemptID
// (a retry returns the order the first call made); its errors carry codes.
type Orders interface {
	CreateForSale(ctx context.Context, in SaleOrder) (PlacedOrder, error)
}

// Claimant is the process claiming attempts to turn into orders (liveness.Instance
// satisfies it): claims name it, and Dead gives the SQL condition true for a claimer that
// is not alive, so a dead instance's claims are taken over within seconds.
type Claimant interface {
	ID() string
	Dead(column string) (cond string, arg any)
}
