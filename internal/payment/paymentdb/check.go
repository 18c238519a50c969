package paymentdb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

// SettledPayment is a succeeded payment with what has been refunded of it, for
// `minimart check`.
type SettledPayment struct {
	ID      ids.ID
	OrderNo string
	Amount  int64
	// Refunded is the payment's own running total of refunds that succeeded.
	Refunded int64
	// PaidAt is when it succeeded; zero for one that did not.
	PaidAt time.Time
	// RefundsSucceeded and RefundsPending add up its refund rows by status.
	RefundsSucceeded, RefundsPending int64
}

// SucceededPayments lists every succeeded payment with its refund totals.
func (s *Store) SucceededPayments(ctx context.Context) ([]SettledPayment, error) {
	return s.settled(ctx, "p.status = 'succeeded'")
}

// PaymentsByID returns the payments with the given ids (any status; refund totals included).
func (s *Store) PaymentsByID(ctx context.Context, list []ids.ID) (map[ids.ID]PaymentState, error) {
	out := make(map[ids.ID]PaymentState, len(list))
	for start := 0; start < len(list); start += 500 {
		in, args := sqldb.InList(list[start:min(start+500, len(list))])
		rows, err := s.db.Read().QueryContext(ctx, "SELECT id, order_no, status, amount FROM payments WHERE id IN ("+in+")", args...)
		if err != nil {
			return nil, fmt.Errorf("payments by id: %w", err)
		}
		for rows.Next() {
			var p PaymentState
			if err := rows.Scan(&p.ID, &p.OrderNo, &p.Status, &p.Amount); err != nil {
				rows.Close()
				return nil, fmt.Errorf("payments by id: %w", err)
			}
			out[p.ID] = p
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("payments by id: %w", err)
		}
	}
	return out, nil
}

// PaymentState is a payment's status and amount, and the order it is for.
type PaymentState struct {
	ID      ids.ID
	OrderNo string
	Status  string
	Amount  int64
}

// OverRefundedPayments lists the payments (any status) whose refunds, succeeded or still
// pending, or whose running refunded total, exceed the amount paid.
func (s *Store) OverRefundedPayments(ctx context.Context) ([]SettledPayment, error) {
	return s.settled(ctx, "(p.refunded > p.amount OR COALESCE(r.ok, 0) + COALESCE(r.pending, 0) > p.amount)")
}

func (s *Store) settled(ctx context.Context, where string) ([]SettledPayment, error) {
	rows, err := s.db.Read().QueryContext(ctx, `
SELECT p.id, p.order_no, p.amount, p.refunded, p.paid_at, COALESCE(r.ok, 0), COALESCE(r.pending, 0)
FROM payments p
LEFT JOIN (
    SELECT payment_id,
           SUM(CASE WHEN status = 'succeeded' THEN amount ELSE 0 END) AS ok,
           SUM(CASE WHEN status = 'pending' THEN amount ELSE 0 END) AS pending
    FROM payment_refunds GROUP BY payment_id
) r ON r.payment_id = p.id
WHERE `+where+` ORDER BY p.id`)
	if err != nil {
		return nil, fmt.Errorf("settled payments: %w", err)
	}
	defer rows.Close()
	var out []SettledPayment
	for rows.Next() {
		var p SettledPayment
		var paidAt sql.NullTime
		if err := rows.Scan(&p.ID, &p.OrderNo, &p.Amount, &p.Refunded, &paidAt, &p.RefundsSucceeded, &p.RefundsPending); err != nil {
			return nil, fmt.Errorf("settled payments: %w", err)
		}
		p.PaidAt = paidAt.Time.UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}
