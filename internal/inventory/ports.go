package inventory

import (
	"context"

	"github.com/minimart/minimart/internal/platform/ids"
)

// Catalog tells inventory which product a SKU belongs to, and that it exists, and finds
// the SKU an external stock update means; the catalog module satisfies it in process, an
// HTTP client when catalog runs as its own service. Errors match the sentinels of this
// package by code (errs.Error.Is), so a catalog error crosses the port unchanged.
type Catalog interface {
	// ProductOfSKU returns the product id of a live SKU, or ErrSKUNotFound.
	ProductOfSKU(ctx context.Context, skuID ids.ID) (ids.ID, error)
	// SKUByCode returns the id of the live SKU with this code (codes are matched exactly),
	// or ErrSKUNotFound.
	SKUByCode(ctx context.Context, code string) (ids.ID, error)
	// LiveSKUsOfProduct returns the ids of a live product's live SKUs in ascending order
	// (empty when it has none), or ErrProductNotFound when the product does not exist or
	// was deleted.
	LiveSKUsOfProduct(ctx context.Context, productID ids.ID) ([]ids.ID, error)
}

// Orders tells inventory which holds belong to recorded orders; the order module satisfies it
// in process, an HTTP client when orders run as their own service. A hold is made before its
// order is written, so a crash or a failed write in between leaves stock held by no order:
// the unplaced sweep asks here and releases those.
type Orders interface {
	// Placed returns the order numbers among orderNos that name a recorded order (in any
	// status). An order number it does not return was never recorded.
	Placed(ctx context.Context, orderNos []string) ([]string, error)
}

// SKUNames names SKUs for staff: the catalog module satisfies it in process, an HTTP client
// when the catalog runs as its own service (both through an adapter of the composition
// root).
type SKUNames interface {
	// SKUNames returns the names of the SKUs among skuIDs that still exist (neither they
	// nor their product deleted); deleted and unknown SKUs are absent.
	SKUNames(ctx context.Context, skuIDs []ids.ID) (map[ids.ID]SKUName, error)
}

// SKUName is how staff know a SKU: its product and the values of its specs.
type SKUName struct {
	ProductID ids.ID
	Title     string
	Specs     map[string]string
}
