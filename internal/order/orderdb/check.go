package orderdb

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

// OrderState is what `minimart check` compares of an order with its payment and its hold.
type OrderState struct {
	ID      ids.ID
	OrderNo string
	Status  string
	Payable int64
	// PaymentID is the payment that paid the order; 0 when none did.
	PaymentID ids.ID
}

// paidStatuses are the states an order reaches only once paid.
const paidStatuses = "'paid', 'shipped', 'completed', 'refunding', 'refunded'"

// PaidOrders lists every order that has been paid (paid, shipped, completed, refunding or
// refunded).
func (s *Store) PaidOrders(ctx context.Context) ([]OrderState, error) {
	return s.orderStates(ctx, "SELECT id, order_no, status, payable, payment_id FROM orders WHERE status IN ("+paidStatuses+") ORDER BY id")
}

// OrdersByNumber returns the orders with the given numbers, by number; numbers of no order
// are absent.
func (s *Store) OrdersByNumber(ctx context.Context, numbers []string) (map[string]OrderState, error) {
	out := make(map[string]OrderState, len(numbers))
	for start := 0; start < len(numbers); start += 500 {
		in, args := sqldb.InList(numbers[start:min(start+500, len(numbers))])
		list, err := s.orderStates(ctx, "SELECT id, order_no, status, payable, payment_id FROM orders WHERE order_no IN ("+in+")", args...)
		if err != nil {
			return nil, err
		}
		for _, o := range list {
			out[o.OrderNo] = o
		}
	}
	return out, nil
}

func (s *Store) orderStates(ctx context.Context, query string, args ...any) ([]OrderState, error) {
	rows, err := s.db.Read().QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("order states: %w", err)
	}
	defer rows.Close()
	var out []OrderState
	for rows.Next() {
		var o OrderState
		var payment sql.NullInt64
		if err := rows.Scan(&o.ID, &o.OrderNo, &o.Status, &o.Payable, &payment); err != nil {
			return nil, fmt.Errorf("order states: %w", err)
		}
		o.PaymentID = ids.ID(payment.Int64)
		out = append(out, o)
	}
	return out, rows.Err()
}
