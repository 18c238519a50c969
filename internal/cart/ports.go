package cart

import (
	"context"

	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// Item is a SKU as the cart shows it.
type Item struct {
	SKUID     ids.ID
	ProductID ids.ID
	Title     string
	Specs     map[string]string
	Image     string
	Price     money.Fen
	// OnSale is false for a deleted SKU and for a SKU whose product is off shelf.
	OnSale bool
	// Deleted says the SKU itself was deleted (not merely off shelf).
	Deleted bool
}

// Catalog describes SKUs; the catalog module satisfies it in process, an HTTP client when
// catalog runs as its own service. SKUs the catalog does not know are absent from the map.
type Catalog interface {
	Items(ctx context.Context, skuIDs []ids.ID) (map[ids.ID]Item, error)
}

// Stock gives the available stock of SKUs; inventory satisfies it. SKUs without an entry
// have none (read as zero).
type Stock interface {
	Available(ctx context.Context, skuIDs []ids.ID) (map[ids.ID]int64, error)
}
