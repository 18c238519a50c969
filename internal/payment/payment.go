// Package payment takes buyers' payments through WeChat Pay, Alipay or the built-in sandbox:
// it starts a payment at the provider, applies the provider's verified result exactly once
// (from a notify or, when a notify is lost, from an active query), closes payments of
// cancelled orders, refunds, and reconciles against the providers' daily bills.
package payment

import (
	"time"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// Status is where a payment is.
type Status string

const (
	Pending   Status = "pending"   // started at the provider, not paid (yet)
	Succeeded Status = "succeeded" // the provider says it is paid; refunds do not change this
	Closed    Status = "closed"    // closed unpaid: the order was cancelled or it expired
)

// Payment is one attempt to pay an order through one provider. The order number is the
// out_trade_no, so an order has at most one payment per provider.
type Payment struct {
	ID            ids.ID       `json:"id"`
	OrderID       ids.ID       `json:"order_id"`
	OrderNo       string       `json:"order_no"`
	UserID        ids.ID       `json:"user_id"`
	Provider      string       `json:"provider"`
	Method        Method       `json:"method"`
	Amount        money.Fen    `json:"amount"`
	Refunded      money.Fen    `json:"refunded"`
	Status        Status       `json:"status"`
	TransactionID string       `json:"transaction_id,omitempty"`
	Instructions  Instructions `json:"-"`
	ExpiresAt     time.Time    `json:"expires_at"`
	PaidAt        *time.Time   `json:"paid_at,omitempty"`
	ClosedAt      *time.Time   `json:"closed_at,omitempty"`
	// NextQueryAt is when the provider is next asked about a pending payment.
	NextQueryAt   *time.Time `json:"-"`
	QueryAttempts int        `json:"-"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// RefundStatus is where a refund is.
type RefundStatus string

const (
	RefundRequested RefundStatus = "pending"
	RefundDone      RefundStatus = "succeeded"
	RefundRejected  RefundStatus = "failed"
)

// Refund is money returned from a payment, all of it or part.
type Refund struct {
	ID          ids.ID       `json:"id"`
	PaymentID   ids.ID       `json:"payment_id"`
	OrderID     ids.ID       `json:"order_id"`
	OrderNo     string       `json:"order_no"`
	OutRefundNo string       `json:"out_refund_no"`
	Amount      money.Fen    `json:"amount"`
	Reason      string       `json:"reason"`
	Status      RefundStatus `json:"status"`
	// Automatic refunds return a payment nobody should have made (the order was cancelled
	// or already paid another way).
	Automatic   bool       `json:"automatic"`
	RequestedBy string     `json:"requested_by"`
	RefundID    string     `json:"provider_refund_id,omitempty"`
	NextQueryAt *time.Time `json:"-"`
	CreatedAt   time.Time  `json:"created_at"`
	CompletedAt *time.Time `json:"completed_at,omitempty"`
}

// Outcome is what became of a notification or query result.
type Outcome string

const (
	OutcomeApplied   Outcome = "applied"   // changed a payment or refund
	OutcomeDuplicate Outcome = "duplicate" // already applied: answered success, changed nothing
	OutcomeIgnored   Outcome = "ignored"   // verified but not a result to act on (e.g. still unpaid)
	OutcomeRejected  Outcome = "rejected"  // failed verification or a check: refused, changed nothing
	OutcomeError     Outcome = "error"     // our own failure (the database, say): the provider retries
)

// Notification is one received provider notify as it was logged.
type Notification struct {
	ID          ids.ID    `json:"id"`
	Provider    string    `json:"provider"`
	Kind        string    `json:"kind"`
	OutTradeNo  string    `json:"out_trade_no"`
	OutRefundNo string    `json:"out_refund_no,omitempty"`
	Verified    bool      `json:"verified"`
	Outcome     Outcome   `json:"outcome"`
	Reason      string    `json:"reason,omitempty"`
	Headers     string    `json:"headers"`
	Body        string    `json:"body"`
	ReceivedAt  time.Time `json:"received_at"`
}

// Limits of input.
const (
	MaxIdemKeyBytes   = 64
	MaxReasonRunes    = 80 // WeChat's refund reason limit
	MaxNotifyBodySize = 64 << 10
)

// Errors with their stable codes.
var (
	ErrMethodUnavailable   = errs.New(errs.Invalid, "payment_method_unavailable", "this payment method is not offered here")
	ErrOrderNotPayable     = errs.New(errs.Conflict, "order_not_payable", "the order is not waiting for payment")
	ErrPayDeadlinePassed   = errs.New(errs.Conflict, "payment_deadline_passed", "the order's time to pay has passed")
	ErrOpenIDRequired      = errs.New(errs.Invalid, "openid_required", "wechat_jsapi needs a buyer who logged in through the mini-program")
	ErrPaymentNotFound     = errs.New(errs.NotFound, "payment_not_found", "no such payment")
	ErrNotPaid             = errs.New(errs.Conflict, "order_not_paid", "the order has no successful payment to refund")
	ErrRefundTooLarge      = errs.New(errs.Unprocessable, "refund_exceeds_paid", "the refund would return more than was paid")
	ErrNotRefundable       = errs.New(errs.Conflict, "order_not_refundable", "the order is not in a state that allows this refund")
	ErrIdempotencyRequired = errs.New(errs.Invalid, "idempotency_key_required", "send an Idempotency-Key header (1–64 bytes) so a retried request is not applied twice")
	ErrIdempotencyMismatch = errs.New(errs.Unprocessable, "idempotency_key_reused", "this Idempotency-Key was used with a different request body")
	ErrRefundNotFound      = errs.New(errs.NotFound, "refund_not_found", "no such refund")
	ErrUnknownProvider     = errs.New(errs.NotFound, "unknown_provider", "no such payment provider")
)
