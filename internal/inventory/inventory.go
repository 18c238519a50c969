// Package inventory owns stock per SKU — available, reserved and sold — and the ledger of
// every change. Each change is one conditional statement in the database, so concurrent
// buyers and staff can never drive stock below zero.
package inventory

import (
	"time"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
)

// Level is the stock of one SKU. Available can be sold; reserved is held by unpaid orders;
// sold has left the shop.
type Level struct {
	SKUID     ids.ID    `json:"sku_id"`
	ProductID ids.ID    `json:"product_id"`
	Available int64     `json:"available"`
	Reserved  int64     `json:"reserved"`
	Sold      int64     `json:"sold"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// LedgerEntry records one change of a SKU's stock: who, why, and the levels before and after.
type LedgerEntry struct {
	ID    ids.ID `json:"id"`
	SKUID ids.ID `json:"sku_id"`
	// Seq numbers a SKU's changes 1, 2, 3… in the order they were applied.
	Seq             int64     `json:"seq"`
	Actor           string    `json:"actor"`
	Reason          string    `json:"reason"`
	Source          string    `json:"source"`
	AvailableBefore int64     `json:"available_before"`
	AvailableAfter  int64     `json:"available_after"`
	ReservedBefore  int64     `json:"reserved_before"`
	ReservedAfter   int64     `json:"reserved_after"`
	SoldBefore      int64     `json:"sold_before"`
	SoldAfter       int64     `json:"sold_after"`
	CreatedAt       time.Time `json:"created_at"`
}

// MaxStock bounds one SKU's available stock; larger numbers are typing mistakes.
const MaxStock = 100_000_000

// Errors with their stable codes.
var (
	ErrSKUNotFound       = errs.New(errs.NotFound, "sku_not_found", "no such SKU")
	ErrInsufficientStock = errs.New(errs.Conflict, "insufficient_stock", "the adjustment would take available stock below zero")
	// ErrProductNotFound has the catalog's code, so the catalog's own error matches it.
	ErrProductNotFound = errs.New(errs.NotFound, "product_not_found", "no such product")
	// ErrProductHasSeveralSKUs refuses an update that names a product whose stock is kept
	// per SKU in several SKUs: the update must say which one.
	ErrProductHasSeveralSKUs = errs.New(errs.Unprocessable, "product_has_several_skus",
		"the product has several SKUs; name the one to update with sku_id or sku_code")
)
