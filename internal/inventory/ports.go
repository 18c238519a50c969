package inventory

import (
	"context"

	"github.com/minimart/minimart/internal/platform/ids"
)

// Catalog tells inventory which product a SKU belongs to, and that it exists; the catalog
// module satisfies it in process, an HTTP client when catalog runs as its own service.
type Catalog interface {
	// ProductOfSKU returns the product id of a live SKU, or ErrSKUNotFound.
	ProductOfSKU(ctx context.Context, skuID ids.ID) (ids.ID, error)
}
