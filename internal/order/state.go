package order

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

// Statuses lists every status, for validating filters.
var Statuses = []Status{PendingPayment, Paid, Shipped, Completed, Cancelled, Refunding, Refunded}

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

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if v == s {
			return true
		}
	}
	return false
}
