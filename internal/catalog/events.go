package catalog

import "github.com/minimart/minimart/internal/platform/ids"

// EventProductChanged is published whenever a product or one of its SKUs is created,
// changed, shelved, unshelved or deleted.
const EventProductChanged = "catalog.product.changed"

// Kinds of product change.
const (
	ChangeCreated  = "created"
	ChangeUpdated  = "updated"
	ChangeOnShelf  = "on_shelf"
	ChangeOffShelf = "off_shelf"
	ChangeDeleted  = "deleted"
)

// ProductChanged is the payload of catalog.product.changed.
type ProductChanged struct {
	ProductID ids.ID   `json:"product_id"`
	Change    string   `json:"change"`
	SKUIDs    []ids.ID `json:"sku_ids"`
	Status    Status   `json:"status"`
}

// EventCategoryChanged is published when a category is created, changed or deleted.
const EventCategoryChanged = "catalog.category.changed"

// CategoryChanged is the payload of catalog.category.changed.
type CategoryChanged struct {
	CategoryID ids.ID `json:"category_id"`
	Change     string `json:"change"`
}
