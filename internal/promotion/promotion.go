// Package promotion holds the shop's promotions; today flash sales: a quantity of one SKU
// held out of inventory and sold at a sale price in a time window, with a per-buyer limit.
//
// A buyer's attempt is admitted in two steps. A fast filter (Admission: Redis when the shop
// has it, else this process's memory) turns away what is plainly sold out or over the limit
// without touching the database. What it lets through is decided and recorded by the
// database, which is the authority: attempts arriving together are decided in one
// transaction under the sale's row lock (group commit), so the sale can never sell more than
// it holds, whatever the filter believes. Accepted attempts become ordinary orders at the
// sale price, asynchronously, from the attempts table as a durable queue.
package promotion

import (
	"time"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// SaleStatus is what is stored about a sale's life; Phase is what it is at a given moment.
type SaleStatus string

const (
	// Holding: the sale is recorded and its stock is being set aside in inventory.
	Holding SaleStatus = "holding"
	// Scheduled: the stock is held; the sale runs from StartsAt to EndsAt.
	Scheduled SaleStatus = "scheduled"
	// Ended: EndsAt passed; nothing more is admitted.
	Ended SaleStatus = "ended"
	// Cancelled: staff stopped it; nothing more is admitted.
	Cancelled SaleStatus = "cancelled"
	// Failed: its stock could not be held; it never ran.
	Failed SaleStatus = "failed"
)

// Phase is a sale as buyers and staff see it at a moment.
type Phase string

const (
	PhasePending   Phase = "pending" // stock still being held
	PhaseUpcoming  Phase = "upcoming"
	PhaseActive    Phase = "active"
	PhaseEnded     Phase = "ended"
	PhaseCancelled Phase = "cancelled"
	PhaseFailed    Phase = "failed"
)

// Phases lists every phase, for filters.
var Phases = []Phase{PhasePending, PhaseUpcoming, PhaseActive, PhaseEnded, PhaseCancelled, PhaseFailed}

// Sale is a flash sale of one SKU.
type Sale struct {
	ID        ids.ID
	SKUID     ids.ID
	ProductID ids.ID
	// Title and Image describe the SKU as it was when the sale was created.
	Title string
	Image string
	// ListPrice is the SKU's own price when the sale was created; Price is the sale price.
	ListPrice money.Fen
	Price     money.Fen
	// Quantity is what the sale holds; Remaining is what is left to admit. Remaining goes
	// up again when an attempt fails or an unpaid sale order is cancelled while the sale runs.
	Quantity     int
	Remaining    int
	PerUserLimit int
	StartsAt     time.Time
	EndsAt       time.Time
	Status       SaleStatus
	// FailReason is the error code that failed the sale (status failed).
	FailReason string
	// SettledAt is when what the sale still held went back to available stock (an ended,
	// cancelled or failed sale whose every accepted attempt was turned into an order or failed).
	SettledAt *time.Time
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PhaseAt is the sale's phase at now.
func (s Sale) PhaseAt(now time.Time) Phase {
	switch s.Status {
	case Holding:
		return PhasePending
	case Ended:
		return PhaseEnded
	case Cancelled:
		return PhaseCancelled
	case Failed:
		return PhaseFailed
	}
	switch {
	case now.Before(s.StartsAt):
		return PhaseUpcoming
	case now.Before(s.EndsAt):
		return PhaseActive
	default:
		return PhaseEnded
	}
}

// StockRef is the inventory reservation that holds the sale's units; orders of the sale
// take their stock out of it.
func (s Sale) StockRef() string { return StockRef(s.ID) }

// StockRef is the inventory reservation of sale id.
func StockRef(saleID ids.ID) string { return "flash-" + saleID.String() }

// AttemptStatus is where an admitted attempt is.
type AttemptStatus string

const (
	// Accepted: the unit is the buyer's; the order is being made.
	Accepted AttemptStatus = "accepted"
	// Ordered: the order exists (OrderID).
	Ordered AttemptStatus = "ordered"
	// Failed: no order could be made (Reason); the unit went back to the sale.
	AttemptFailed AttemptStatus = "failed"
)

// Attempt is a buyer's admitted try at a sale. Refused tries are not recorded.
type Attempt struct {
	ID        ids.ID
	SaleID    ids.ID
	UserID    ids.ID
	AddressID ids.ID
	Quantity  int
	Status    AttemptStatus
	OrderID   ids.ID
	OrderNo   string
	// Reason is the error code that failed the attempt.
	Reason string
	// Tries counts the tries at making its order that failed for a reason that may pass.
	Tries int
	// ReturnedAt is when its units went back to the sale: its unpaid order was cancelled
	// while the sale ran.
	ReturnedAt *time.Time
	// IdempotencyKey (per buyer) and RequestHash make a retried request return this attempt.
	IdempotencyKey string
	RequestHash    string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Limits of sale and attempt input.
const (
	// MaxSaleQuantity is the most a sale may hold: inventory holds at most this much under
	// one reference.
	MaxSaleQuantity = 99_999
	// MaxPerUserLimit bounds the per-buyer limit, as an order line is bounded.
	MaxPerUserLimit = 99
	// MaxSaleLength is the longest a sale may run.
	MaxSaleLength = 31 * 24 * time.Hour
	// MaxScheduleAhead is how far ahead a sale may start.
	MaxScheduleAhead = 366 * 24 * time.Hour
	// StartTolerance lets a sale "start now" from a client whose clock is a little behind.
	StartTolerance = time.Minute
	// MaxIdemKeyBytes bounds an Idempotency-Key, as for orders.
	MaxIdemKeyBytes = 64
)

// Errors with their stable codes.
var (
	ErrSaleNotFound      = errs.New(errs.NotFound, "flash_sale_not_found", "no such flash sale")
	ErrAttemptNotFound   = errs.New(errs.NotFound, "flash_attempt_not_found", "no such flash-sale attempt")
	ErrSoldOut           = errs.New(errs.Conflict, "sold_out", "the flash sale is sold out")
	ErrLimitReached      = errs.New(errs.Conflict, "limit_reached", "you already have as many of this flash sale as one buyer may")
	ErrNotStarted        = errs.New(errs.Conflict, "not_started", "the flash sale has not started yet")
	ErrEnded             = errs.New(errs.Conflict, "ended", "the flash sale has ended")
	ErrSaleCancelled     = errs.New(errs.Conflict, "sale_cancelled", "the flash sale was cancelled")
	ErrOverlap           = errs.New(errs.Conflict, "flash_sale_overlap", "another flash sale of this SKU overlaps this time window; details.sales lists it")
	ErrSKUUnavailable    = errs.New(errs.Conflict, "sku_unavailable", "the SKU is not on sale (deleted, or its product is off shelf)")
	ErrNotCancellable    = errs.New(errs.Conflict, "flash_sale_not_cancellable", "the flash sale has already ended, been cancelled or failed")
	ErrIdempotencyNeeded = errs.New(errs.Invalid, "idempotency_key_required", "send an Idempotency-Key header (1–64 printable ASCII characters) so a retried attempt cannot count twice")
	// ErrIdempotencyMismatch has the order module's code: one meaning, one code.
	ErrIdempotencyMismatch = errs.New(errs.Unprocessable, "idempotency_key_reused", "this Idempotency-Key was used with a different request")
)
