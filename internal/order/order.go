// Package order holds buyers' orders: creation with price and address snapshots and a held
// stock reservation, the state machine, payment and delivery transitions, and the schedules
// that cancel unpaid orders and complete delivered ones.
package order

import (
	"time"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// Order is a buyer's order with everything it was sold at, frozen when it was placed.
type Order struct {
	ID          ids.ID          `json:"id"`
	OrderNo     string          `json:"order_no"`
	UserID      ids.ID          `json:"user_id"`
	Status      Status          `json:"status"`
	Lines       []Line          `json:"lines"`
	ItemsTotal  money.Fen       `json:"items_total"`
	ShippingFee money.Fen       `json:"shipping_fee"`
	Payable     money.Fen       `json:"payable"`
	Remark      string          `json:"remark,omitempty"`
	Address     AddressSnapshot `json:"address"`
	PayDeadline time.Time       `json:"pay_deadline"`
	PaidAt      *time.Time      `json:"paid_at,omitempty"`
	// PaymentID is the payment that paid the order.
	PaymentID   ids.ID     `json:"payment_id,omitempty"`
	ShippedAt   *time.Time `json:"shipped_at,omitempty"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	CancelledAt *time.Time `json:"cancelled_at,omitempty"`
	// AutoCompleteAt is when a shipped order completes if the buyer does not confirm receipt.
	AutoCompleteAt *time.Time `json:"auto_complete_at,omitempty"`
	Carrier        string     `json:"carrier,omitempty"`
	TrackingNo     string     `json:"tracking_no,omitempty"`
	// StaffNote is for staff only; buyer answers leave it out.
	StaffNote string    `json:"staff_note,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Line is one ordered SKU with its price and names as they were when the order was placed.
type Line struct {
	SKUID     ids.ID            `json:"sku_id"`
	ProductID ids.ID            `json:"product_id"`
	Title     string            `json:"title"`
	Specs     map[string]string `json:"specs"`
	Image     string            `json:"image,omitempty"`
	UnitPrice money.Fen         `json:"unit_price"`
	Quantity  int               `json:"quantity"`
	LineTotal money.Fen         `json:"line_total"`
}

// AddressSnapshot is the delivery address as it was when the order was placed.
type AddressSnapshot struct {
	Recipient string `json:"recipient"`
	Phone     string `json:"phone"`
	Province  string `json:"province"`
	City      string `json:"city"`
	District  string `json:"district"`
	Detail    string `json:"detail"`
}

// Transition is one recorded change of an order's status.
type Transition struct {
	From      Status    `json:"from,omitempty"`
	To        Status    `json:"to"`
	Actor     string    `json:"actor"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

// Limits of order input.
const (
	MaxLines        = 50
	MaxQuantity     = 99
	MaxRemarkRunes  = 200
	MaxIdemKeyBytes = 64
)

// Errors with their stable codes.
var (
	ErrOrderNotFound       = errs.New(errs.NotFound, "order_not_found", "no such order")
	ErrInvalidState        = errs.New(errs.Conflict, "invalid_order_state", "the order is not in a state that allows this")
	ErrSKUUnavailable      = errs.New(errs.Conflict, "sku_unavailable", "some items do not exist or are off shelf; details.skus lists them")
	ErrIdempotencyRequired = errs.New(errs.Invalid, "idempotency_key_required", "send an Idempotency-Key header (1–64 bytes) so a retried request cannot create a second order")
	ErrIdempotencyMismatch = errs.New(errs.Unprocessable, "idempotency_key_reused", "this Idempotency-Key was used with a different request body")
	ErrRequestInProgress   = errs.New(errs.Conflict, "request_in_progress", "a request with this Idempotency-Key is still being processed; retry shortly")
	ErrTooSlow             = errs.New(errs.Unavailable, "order_not_recorded", "the order could not be recorded in time; try again").With(map[string]any{errs.RetryAfterSeconds: int64(1)})
	ErrEmptyOrder          = errs.New(errs.Invalid, "empty_order", "the order has no items (none given, or no selected cart lines)")
)
