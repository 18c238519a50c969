package order

import "github.com/minimart/minimart/internal/order/orderevents"

// Status is where an order is in its life. It is declared in the contract package because
// the order events carry it to other modules.
type Status = orderevents.Status

const (
	PendingPayment = orderevents.PendingPayment
	Paid           = orderevents.Paid
	Shipped        = orderevents.Shipped
	Completed      = orderevents.Completed
	Cancelled      = orderevents.Cancelled
	Refunding      = orderevents.Refunding
	Refunded       = orderevents.Refunded
)

// Statuses lists every status, for validating filters.
var Statuses = orderevents.Statuses

// transitions is the whole state machine: the only place that says which change is allowed.
var transitions = map[Status][]Status{
	PendingPayment: {Paid, Cancelled},
	Paid:           {Shipped, Refunding},
	Shipped:        {Completed, Refunding},
	Refunding:      {Refunded},
}

// CanTransition reports whether an order may go from one status to another.
func CanTransition(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// LineRef is an ordered SKU and quantity; the order events carry it.
type LineRef = orderevents.LineRef
