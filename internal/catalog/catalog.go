// Package catalog holds what the shop sells: a category tree, products (SPUs) with their
// declared specs, and SKUs with prices. It answers buyers through a read-through cache and a
// search index; stock levels belong to inventory and are read through a port.
package catalog

import (
	"time"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// Status says whether buyers can see and buy a product.
type Status string

const (
	OnShelf  Status = "on_shelf"
	OffShelf Status = "off_shelf"
)

// MaxCategoryDepth is how deep the category tree may go.
const MaxCategoryDepth = 3

// Category is a node of the category tree.
type Category struct {
	ID        ids.ID      `json:"id"`
	ParentID  ids.ID      `json:"parent_id,omitempty"`
	Name      string      `json:"name"`
	SortOrder int         `json:"sort_order"`
	IconURL   string      `json:"icon_url,omitempty"`
	Hidden    bool        `json:"hidden"`
	Level     int         `json:"level"`
	Children  []*Category `json:"children,omitempty"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// SpecDef declares one spec of a product (e.g. 颜色) and the values its SKUs may take.
type SpecDef struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// Product is an SPU: what a buyer sees as one item, sold in one or more SKUs.
type Product struct {
	ID          ids.ID    `json:"id"`
	CategoryID  ids.ID    `json:"category_id"`
	Title       string    `json:"title"`
	Subtitle    string    `json:"subtitle"`
	Description string    `json:"description"`
	Images      []string  `json:"images"`
	Status      Status    `json:"status"`
	Specs       []SpecDef `json:"specs"`
	Sales       int64     `json:"sales"`
	// PriceMin and PriceMax span the SKU prices; lists sort and filter by PriceMin.
	PriceMin  money.Fen `json:"price_min"`
	PriceMax  money.Fen `json:"price_max"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	SKUs      []SKU     `json:"skus,omitempty"`
}

// SKU is one buyable variant of a product.
type SKU struct {
	ID        ids.ID            `json:"id"`
	ProductID ids.ID            `json:"product_id"`
	Specs     map[string]string `json:"specs"`
	Price     money.Fen         `json:"price"`
	ListPrice money.Fen         `json:"list_price"`
	Code      string            `json:"code,omitempty"`
	Image     string            `json:"image,omitempty"`
}

// Errors with their stable codes.
var (
	ErrProductNotFound  = errs.New(errs.NotFound, "product_not_found", "no such product")
	ErrSKUNotFound      = errs.New(errs.NotFound, "sku_not_found", "no such SKU")
	ErrCategoryNotFound = errs.New(errs.NotFound, "category_not_found", "no such category")
	ErrCategoryNotEmpty = errs.New(errs.Conflict, "category_not_empty", "the category still has subcategories or products; move or delete them first")
	ErrDuplicateSpecs   = errs.New(errs.Conflict, "duplicate_spec_values", "another SKU of this product has the same spec values")
	ErrSKUCodeTaken     = errs.New(errs.Conflict, "sku_code_taken", "another SKU already uses this SKU code")
	ErrNoSKUs           = errs.New(errs.Conflict, "product_has_no_skus", "a product needs at least one SKU to go on shelf")
)
