// Package catalogevents is the catalog module's contract with other modules: the events it
// publishes and their payloads. It imports only platform packages, so any module (or
// service) may depend on it without depending on the catalog.
package catalogevents

import "github.com/minimart/minimart/internal/platform/ids"

// TypeProductChanged is published whenever a product or one of its SKUs is created,
// changed, shelved, unshelved or deleted.
const TypeProductChanged = "catalog.product.changed"

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
	// Status is the product's status after the change: "on_shelf" or "off_shelf".
	Status string `json:"status"`
}

// TypeCategoryChanged is published when a category is created, changed or deleted.
const TypeCategoryChanged = "catalog.category.changed"

// CategoryChanged is the payload of catalog.category.changed.
type CategoryChanged struct {
	CategoryID ids.ID `json:"category_id"`
	Change     string `json:"change"`
}
