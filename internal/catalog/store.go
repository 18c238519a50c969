package catalog

import (
	"context"

	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// ListFilter selects products for a list page.
type ListFilter struct {
	// CategoryIDs limits to products filed under any of these (the caller expands a category
	// to its descendants); empty means any.
	CategoryIDs []ids.ID
	MinPrice    money.Fen
	MaxPrice    money.Fen // 0: no upper bound
	// Status limits to one status; empty means any (staff lists).
	Status Status
	// TitleLike is a staff search on titles.
	TitleLike string
	Sort      string
	Offset    int
	Limit     int
	// WithSKUs loads each product's SKUs too (one more query for the whole page).
	WithSKUs bool
}

// SKURef is a SKU as other modules see it: enough to price, name and check it, including
// SKUs that were deleted or whose product is off shelf, so carts can show them as
// unavailable instead of losing them.
type SKURef struct {
	SKU
	ProductTitle  string `json:"product_title"`
	ProductImage  string `json:"product_image,omitempty"`
	ProductStatus Status `json:"product_status"`
	Deleted       bool   `json:"deleted"`
}

// CategoryCheck is given a category about to be written and every category as its write
// transaction sees them, which no other category write can change before it commits; it
// sets what follows from the tree (the level) and refuses a write that would break it
// (a cycle, more than MaxCategoryDepth levels, a missing parent) by returning an error.
type CategoryCheck func(c *Category, all []Category) error

// Storer is the persistence the catalog needs; catalogdb implements it on SQLite and MySQL.
type Storer interface {
	Categories(ctx context.Context) ([]Category, error)
	// CreateCategory, UpdateCategory and DeleteCategory record ev in the same transaction,
	// and category writes run one at a time. CreateCategory stores c as check leaves it
	// (check may be nil); UpdateCategory lets fn change the stored category.
	CreateCategory(ctx context.Context, c Category, check CategoryCheck, ev events.Event) (Category, error)
	UpdateCategory(ctx context.Context, id ids.ID, fn CategoryCheck, ev events.Event) (Category, error)
	// DeleteCategory refuses with ErrCategoryNotEmpty while children or products remain.
	DeleteCategory(ctx context.Context, id ids.ID, ev events.Event) error

	// CreateProduct stores p with its SKUs and ev in one transaction.
	CreateProduct(ctx context.Context, p Product, ev events.Event) error
	// UpdateProduct loads the product with its SKUs, lets fn change both and returns the event
	// to record; SKUs fn removed are deleted, new ones inserted, all in one transaction.
	UpdateProduct(ctx context.Context, id ids.ID, fn func(*Product) (events.Event, error)) (Product, error)
	// DeleteProduct marks the product and its SKUs deleted and records ev.
	DeleteProduct(ctx context.Context, id ids.ID, ev events.Event) error
	// Product returns a product that is not deleted, with its SKUs.
	Product(ctx context.Context, id ids.ID) (Product, error)
	// Products lists products (without SKUs) and counts all matches.
	Products(ctx context.Context, f ListFilter) ([]Product, int, error)
	// ProductsByIDs returns the existing products among ids, without SKUs (search results
	// show summaries), in no given order.
	ProductsByIDs(ctx context.Context, productIDs []ids.ID) ([]Product, error)
	// SKURefs returns the SKUs among ids, deleted ones included.
	SKURefs(ctx context.Context, skuIDs []ids.ID) ([]SKURef, error)
	// SKUByCode returns the id of the live SKU (of a live product) whose code is exactly
	// code, or ErrSKUNotFound.
	SKUByCode(ctx context.Context, code string) (ids.ID, error)
	// LiveSKUsOfProduct returns the ids of a live product's live SKUs in ascending order,
	// empty when it has none, or ErrProductNotFound when the product is missing or deleted.
	LiveSKUsOfProduct(ctx context.Context, productID ids.ID) ([]ids.ID, error)
	// OnShelfAfter pages through on-shelf products in id order, for rebuilding the index.
	OnShelfAfter(ctx context.Context, after ids.ID, limit int) ([]Product, error)

	// IndexSource is what a search index of this catalog must have been built from to be
	// current.
	IndexSource(ctx context.Context) (IndexSource, error)
	// RaiseIndexVersion makes every search index built so far out of date, and returns the
	// new version.
	RaiseIndexVersion(ctx context.Context) (int64, error)
}
