package order_test

import (
	"testing"

	"github.com/minimart/minimart/internal/order"
)

// Every pair of statuses, allowed or refused, against the state machine of DESIGN.md.
func TestTransitions(t *testing.T) {
	allowed := map[[2]order.Status]bool{
		{order.PendingPayment, order.Paid}:      true,
		{order.PendingPayment, order.Cancelled}: true,
		{order.Paid, order.Shipped}:             true,
		{order.Paid, order.Refunding}:           true,
		{order.Shipped, order.Completed}:        true,
		{order.Shipped, order.Refunding}:        true,
		{order.Refunding, order.Refunded}:       true,
	}
	for _, from := range order.Statuses {
		for _, to := range order.Statuses {
			t.Run(string(from)+"→"+string(to), func(t *testing.T) {
				if got, want := order.CanTransition(from, to), allowed[[2]order.Status{from, to}]; got != want {
					t.Fatalf("CanTransition = %v, want %v", got, want)
				}
			})
		}
	}
	if order.Status("lost").Valid() || !order.Refunded.Valid() {
		t.Fatal("Valid")
	}
}
