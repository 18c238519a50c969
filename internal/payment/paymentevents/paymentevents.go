// Package paymentevents is the payment module's contract with other modules: the events it
// publishes and their payloads. It imports only platform packages.
package paymentevents

import (
	"time"

	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// Event types the payment module publishes.
const (
	TypeSucceeded = "payment.succeeded"
	TypeFailed    = "payment.failed"
	TypeRefunded  = "payment.refunded"
)

// Paid is the payload of payment.succeeded: the provider confirmed the money arrived.
type Paid struct {
	PaymentID     ids.ID    `json:"payment_id"`
	OrderID       ids.ID    `json:"order_id"`
	OrderNo       string    `json:"order_no"`
	Provider      string    `json:"provider"`
	Method        string    `json:"method"`
	Amount        money.Fen `json:"amount"`
	TransactionID string    `json:"transaction_id"`
	PaidAt        time.Time `json:"paid_at"`
	// Source is "notify" or "query": how the result reached us.
	Source string `json:"source"`
}

// Failed is the payload of payment.failed: a payment was closed unpaid.
type Failed struct {
	PaymentID ids.ID `json:"payment_id"`
	OrderID   ids.ID `json:"order_id"`
	OrderNo   string `json:"order_no"`
	Provider  string `json:"provider"`
	Reason    string `json:"reason"`
}

// Refunded is the payload of payment.refunded: a refund reached the buyer.
type Refunded struct {
	RefundID  ids.ID    `json:"refund_id"`
	PaymentID ids.ID    `json:"payment_id"`
	OrderID   ids.ID    `json:"order_id"`
	OrderNo   string    `json:"order_no"`
	Amount    money.Fen `json:"amount"`
	// RefundedTotal is everything refunded from the payment so far, this refund included.
	RefundedTotal money.Fen `json:"refunded_total"`
	Paid          money.Fen `json:"paid"`
	// Full is true once the whole payment has been returned.
	Full      bool `json:"full"`
	Automatic bool `json:"automatic"`
}
