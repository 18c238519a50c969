package payment

import (
	"context"
	"time"

	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
)

// Idempotency is a used Idempotency-Key: whose, a hash of the request, and what it made.
type Idempotency struct {
	Scope       string // "user:<id>" or "staff:<id>"
	Key         string
	RequestHash string
	ResultID    ids.ID
	CreatedAt   time.Time
}

// NotificationFilter selects logged notifies; empty fields match all.
type NotificationFilter struct {
	OutTradeNo string
	Outcome    Outcome
}

// Claimant is the process claiming query work (liveness.Instance satisfies it): claims name
// it, and Dead gives the SQL condition true for a claimer that is not alive.
type Claimant interface {
	ID() string
	Dead(column string) (cond string, arg any)
}

// Storer is the persistence the payment module needs; paymentdb implements it.
type Storer interface {
	// Key reads a used Idempotency-Key; found is false when there is none.
	Key(ctx context.Context, scope, key string) (k Idempotency, found bool, err error)
	// SaveKey records a used key; a key recorded meanwhile by a concurrent request is
	// returned with saved = false.
	SaveKey(ctx context.Context, k Idempotency) (existing Idempotency, saved bool, err error)

	// StartPayment stores p as pending, or, when the order already has a payment with this
	// provider, returns that one (with its method set to p.Method if it is still pending).
	StartPayment(ctx context.Context, p Payment) (Payment, error)
	// SetInstructions keeps what the buyer's client needs to pay.
	SetInstructions(ctx context.Context, id ids.ID, in Instructions) error
	// Payment reads a payment.
	Payment(ctx context.Context, id ids.ID) (Payment, error)
	// PaymentByTradeNo reads the order's payment through a provider.
	PaymentByTradeNo(ctx context.Context, provider, outTradeNo string) (Payment, error)
	// PaymentsOfOrder lists an order's payments, oldest first.
	PaymentsOfOrder(ctx context.Context, orderID ids.ID) ([]Payment, error)
	// UpdatePayment loads a payment locked, lets fn change it and return events to write,
	// and saves both in one transaction; fn returning an error changes nothing.
	UpdatePayment(ctx context.Context, id ids.ID, fn func(*Payment) ([]events.Event, error)) (Payment, error)
	// MarkSucceeded marks a payment that has not succeeded yet as succeeded and writes ev,
	// in one transaction; applied is false (and nothing is written) when it had succeeded.
	MarkSucceeded(ctx context.Context, id ids.ID, transactionID string, paidAt, now time.Time, ev events.Event) (applied bool, err error)
	// ClaimDuePayments returns up to limit pending payments whose next query is due, or
	// whose querier (by.Dead) died while querying, moves their next query to next and marks
	// them claimed by `by`, in one transaction that skips rows another instance is claiming.
	// by may be nil: claims then hold by the next query time alone.
	ClaimDuePayments(ctx context.Context, now time.Time, next func(Payment) time.Time, limit int, by Claimant) ([]Payment, error)
	// ReleasePaymentClaim ends by's claim on a payment once its query is done.
	ReleasePaymentClaim(ctx context.Context, id ids.ID, by Claimant) error

	// CreateRefund locks the payment, lets check see it with every refund it has, and
	// stores r (to be queried at r.NextQueryAt); check returning an error stores nothing. A refund with r.OutRefundNo that
	// exists already (of any payment) is returned instead, with created = false.
	CreateRefund(ctx context.Context, r Refund, check func(Payment, []Refund) error) (out Refund, created bool, err error)
	// Refund reads a refund.
	Refund(ctx context.Context, id ids.ID) (Refund, error)
	// RefundByOutNo reads a refund by our refund number.
	RefundByOutNo(ctx context.Context, outRefundNo string) (Refund, error)
	// RefundsOfOrder lists an order's refunds, oldest first.
	RefundsOfOrder(ctx context.Context, orderID ids.ID) ([]Refund, error)
	// UpdateRefund locks a refund and its payment, lets fn change both and return events,
	// and saves all in one transaction.
	UpdateRefund(ctx context.Context, id ids.ID, fn func(*Refund, *Payment) ([]events.Event, error)) (Refund, error)
	// ClaimDueRefunds is ClaimDuePayments for pending refunds.
	ClaimDueRefunds(ctx context.Context, now, next time.Time, limit int, by Claimant) ([]Refund, error)
	// ReleaseRefundClaim is ReleasePaymentClaim for a refund.
	ReleaseRefundClaim(ctx context.Context, id ids.ID, by Claimant) error

	// LogNotifications records received notifies.
	LogNotifications(ctx context.Context, list []Notification) error
	// Notifications lists logged notifies that match f, newest first.
	Notifications(ctx context.Context, f NotificationFilter, limit int) ([]Notification, error)

	// SucceededBetween lists payments paid in [from, to) and refunds completed in it, for
	// reconciliation.
	SucceededBetween(ctx context.Context, provider string, from, to time.Time) ([]Payment, []Refund, error)
}
