// Package orderevents is the order module's contract with other modules: the events it
// publishes, their payloads, and the order statuses they carry. It imports only platform
// packages, so payment and inventory read order events without importing the order module.
package orderevents

import (
	"slices"

	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// Event types the order module publishes.
const (
	TypeCreated   = "order.created"
	TypePaid      = "order.paid"
	TypeCancelled = "order.cancelled"
	TypeShipped   = "order.shipped"
	TypeCompleted = "order.completed"
	TypeRefunding = "order.refunding"
	TypeRefunded  = "order.refunded"
	// TypePaymentRejected says an order cannot take a payment that succeeded (it was
	// cancelled, already paid, or the amount is wrong): the payment module refunds it.
	TypePaymentRejected = "order.payment_rejected"
)

// Status is where an order is in its life.
type Status string

const (
	PendingPayment Status = "pending_payment"
	Paid           Status = "paid"
	Shipped        Status = "shipped"
	Completed      Status = "completed"
	Cancelled      Status = "cancelled"
	Refunding      Status = "refunding"
	Refunded       Status = "refunded"
)

// Statuses lists every status.
var Statuses = []Status{PendingPayment, Paid, Shipped, Completed, Cancelled, Refunding, Refunded}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Changed is the payload of every order status event: the order after the change.
type Changed struct {
	OrderID ids.ID    `json:"order_id"`
	OrderNo string    `json:"order_no"`
	UserID  ids.ID    `json:"user_id"`
	Status  Status    `json:"status"`
	Payable money.Fen `json:"payable"`
	Lines   []LineRef `json:"lines"`
	Reason  string    `json:"reason,omitempty"`
}

// LineRef is an ordered SKU and quantity, for consumers that move stock or count sales.
type LineRef struct {
	SKUID     ids.ID `json:"sku_id"`
	ProductID ids.ID `json:"product_id"`
	Quantity  int    `json:"quantity"`
}

// PaymentRejected is the payload of order.payment_rejected.
type PaymentRejected struct {
	OrderID   ids.ID    `json:"order_id"`
	OrderNo   string    `json:"order_no"`
	PaymentID ids.ID    `json:"payment_id"`
	Amount    money.Fen `json:"amount"`
	Reason    string    `json:"reason"`
}
