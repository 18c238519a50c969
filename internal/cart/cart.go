// Package cart holds buyers' shopping carts: one line per SKU with a quantity and a
// selected flag. The cart stores only what the buyer chose; titles, prices and stock are
// read live from catalog and inventory each time the cart is viewed, so a cart never shows
// a stale price and an off-shelf SKU stays visible but is never counted.
package cart

import (
	"time"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// Limits of one cart.
const (
	MaxLines    = 100 // lines (distinct SKUs) per buyer
	MaxQuantity = 99  // pieces per line
)

// Line is one SKU in a buyer's cart as stored.
type Line struct {
	UserID    ids.ID
	SKUID     ids.ID
	Quantity  int
	Selected  bool
	AddedAt   time.Time
	UpdatedAt time.Time
}

// State says whether a line can be bought as it stands.
type State string

const (
	// StateInStock: the SKU is on sale and stock covers the quantity.
	StateInStock State = "in_stock"
	// StateShort: on sale, some stock, but less than the quantity (ViewLine.Available says how much).
	StateShort State = "short"
	// StateOutOfStock: on sale, no stock at all.
	StateOutOfStock State = "out_of_stock"
	// StateUnavailable: the SKU was deleted, is unknown to the catalog, or its product is off
	// shelf. The line stays in the cart but never counts in the selected totals.
	StateUnavailable State = "unavailable"
)

// ViewLine is a cart line with live catalog data and stock state.
type ViewLine struct {
	SKUID     ids.ID            `json:"sku_id"`
	ProductID ids.ID            `json:"product_id,omitzero"`
	Title     string            `json:"title"`
	Specs     map[string]string `json:"specs"`
	Image     string            `json:"image,omitempty"`
	// Price is the live unit price in fen; 0 when the catalog no longer knows the SKU.
	Price    money.Fen `json:"price"`
	Quantity int       `json:"quantity"`
	Selected bool      `json:"selected"`
	// LineTotal is Price × Quantity, also for unavailable lines; View's totals leave those out.
	LineTotal money.Fen `json:"line_total"`
	State     State     `json:"state"`
	// Available is the stock left when State is short (1 ≤ Available < Quantity); omitted otherwise.
	Available int64     `json:"available,omitempty"`
	AddedAt   time.Time `json:"added_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// View is the buyer's cart as the cart page shows it. Lines are newest first (by when the
// SKU was first added; adding more of it later keeps its place).
type View struct {
	Lines []ViewLine `json:"lines"`
	// LineCount is the number of lines, unavailable ones included (the MaxLines limit counts them).
	LineCount int `json:"line_count"`
	// SelectedCount is the number of selected lines that are not unavailable: the lines an
	// order would take.
	SelectedCount int `json:"selected_count"`
	// SelectedQuantity is the number of pieces in those lines.
	SelectedQuantity int `json:"selected_quantity"`
	// SelectedTotal is the sum of their line totals in fen.
	SelectedTotal money.Fen `json:"selected_total"`
}

// SelectedLine is a line the order module turns into an order line.
type SelectedLine struct {
	SKUID    ids.ID
	Quantity int
}

// Errors with their stable codes.
var (
	ErrCartFull       = errs.New(errs.Conflict, "cart_full", "the cart already holds 100 lines, the most it may; remove some first")
	ErrLineNotFound   = errs.New(errs.NotFound, "cart_line_not_found", "this SKU is not in the cart")
	ErrSKUNotFound    = errs.New(errs.NotFound, "sku_not_found", "no such SKU")
	ErrSKUUnavailable = errs.New(errs.Conflict, "sku_unavailable", "this SKU is not on sale (its product is off shelf) and cannot be added to the cart")
)
