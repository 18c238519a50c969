package order

import (
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// Event types the order module publishes.
const (
	EventCreated   = "order.created"
	EventPaid      = "order.paid"
	EventCancelled = "order.cancelled"
	EventShipped   = "order.shipped"
	EventCompleted = "order.completed"
	EventRefunding = "order.refunding"
	EventRefunded  = "order.refunded"
)

// Changed is the payload of every order event: the order after the change.
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
