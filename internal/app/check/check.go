// Package check verifies the shop's live invariants across modules (`minimart check`). Each
// module's store answers the questions about its own tables; this package, beside the
// composition root, compares the answers, so no SQL crosses modules.
package check

import (
	"context"
	"fmt"
	"time"

	"github.com/minimart/minimart/internal/inventory/inventorydb"
	"github.com/minimart/minimart/internal/order/orderdb"
	"github.com/minimart/minimart/internal/payment/paymentdb"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

// Kinds of violation, stable for scripts that read the output.
const (
	StockMismatch       = "stock_mismatch"        // available + reserved + sold is not the ledger's sum
	StockNegative       = "stock_negative"        // available below zero
	ReservationOrphaned = "reservation_orphaned"  // held past its expiry with no pending order
	OrderPaymentMissing = "order_payment_missing" // a paid order without its succeeded payment of its amount
	PaymentOrderMissing = "payment_order_missing" // a succeeded payment that paid no order and is not refunded
	RefundExceeds       = "refund_exceeds_payment"
	EventStuck          = "event_stuck" // unpublished, or unhandled in process, for too long
)

// Violation is one broken invariant, naming the rows involved.
type Violation struct {
	Kind    string
	Message string
}

// Sources are the stores the check reads; a nil store is a module not reachable from here,
// and the comparisons that need it are skipped (and said so).
type Sources struct {
	Inventory *inventorydb.Store
	Orders    *orderdb.Store
	Payments  *paymentdb.Store
	// EventDBs are the databases whose outbox, in-process deliveries and dead letters are
	// checked: every database the check was given.
	EventDBs []*sqldb.DB
}

// Options tune the check.
type Options struct {
	// EventAge is how long an event may wait unpublished or unhandled.
	EventAge time.Duration
	// Grace is how long the modules may take to agree after a change crosses them (a payment
	// succeeded whose order the event has not marked paid yet; a hold the sweep has not
	// released yet).
	Grace time.Duration
	Now   func() time.Time
}

// Report is the outcome of one check.
type Report struct {
	Violations []Violation
	// Checked and Skipped name the invariants that ran and those that could not, with why.
	Checked, Skipped []string
	DeadLetters      int64
}

// maxListed bounds how many stuck events one database reports.
const maxListed = 100

// Run checks every invariant its sources allow.
func Run(ctx context.Context, src Sources, o Options) (Report, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	var r Report
	add := func(kind, format string, args ...any) {
		r.Violations = append(r.Violations, Violation{Kind: kind, Message: fmt.Sprintf(format, args...)})
	}
	if src.Inventory != nil {
		ms, err := src.Inventory.StockMismatches(ctx)
		if err != nil {
			return Report{}, err
		}
		for _, m := range ms {
			if m.Available < 0 {
				add(StockNegative, "sku %s: available %d is below zero", m.SKUID, m.Available)
			}
			if total := m.Available + m.Reserved + m.Sold; total != m.LedgerTotal {
				add(StockMismatch, "sku %s: available %d + reserved %d + sold %d = %d, the ledger sums to %d",
					m.SKUID, m.Available, m.Reserved, m.Sold, total, m.LedgerTotal)
			}
		}
		r.Checked = append(r.Checked, "stock = ledger, available ≥ 0")
		if err := checkReservations(ctx, src, now().Add(-o.Grace), &r, add); err != nil {
			return Report{}, err
		}
	} else {
		r.Skipped = append(r.Skipped, "stock and reservations: the inventory module is not reachable (--db inventory=URL)")
	}
	if src.Payments != nil {
		over, err := src.Payments.OverRefundedPayments(ctx)
		if err != nil {
			return Report{}, err
		}
		for _, p := range over {
			add(RefundExceeds, "payment %s (order %s): amount %d, refunds succeeded %d + pending %d, refunded total %d",
				p.ID, p.OrderNo, p.Amount, p.RefundsSucceeded, p.RefundsPending, p.Refunded)
		}
		r.Checked = append(r.Checked, "refunds ≤ payments")
	}
	if src.Orders != nil && src.Payments != nil {
		if err := checkPayments(ctx, src, now().Add(-o.Grace), add); err != nil {
			return Report{}, err
		}
		r.Checked = append(r.Checked, "paid orders = succeeded payments")
	} else {
		r.Skipped = append(r.Skipped, "orders ↔ payments: needs both the order and the payment module (--db order=URL, --db payment=URL)")
	}
	for _, db := range src.EventDBs {
		stuck, err := events.StuckEvents(ctx, db, now().Add(-o.EventAge), maxListed)
		if err != nil {
			return Report{}, err
		}
		for _, e := range stuck {
			where := "unpublished in the outbox"
			if e.Consumer != "" {
				where = "not handled by consumer " + e.Consumer
			}
			add(EventStuck, "event %s (%s) %s since %s (%s of %s)", e.ID, e.Type, where,
				e.CreatedAt.Format(time.RFC3339), now().Sub(e.CreatedAt).Round(time.Second), db.Target)
		}
		n, err := events.CountDeadLetters(ctx, db)
		if err != nil {
			return Report{}, err
		}
		r.DeadLetters += n
	}
	if len(src.EventDBs) > 0 {
		r.Checked = append(r.Checked, fmt.Sprintf("no event waiting over %s", o.EventAge))
	}
	return r, nil
}

// checkReservations flags holds past their expiry (by more than the grace) that no pending
// order explains. Without the order module it can only flag them all.
func checkReservations(ctx context.Context, src Sources, before time.Time, r *Report, add func(kind, format string, args ...any)) error {
	held, err := src.Inventory.HeldExpiredBefore(ctx, before)
	if err != nil {
		return err
	}
	pending := map[string]bool{}
	if src.Orders != nil {
		refs := make([]string, len(held))
		for i, h := range held {
			refs[i] = h.Ref
		}
		orders, err := src.Orders.OrdersByNumber(ctx, refs)
		if err != nil {
			return err
		}
		for no, o := range orders {
			pending[no] = o.Status == "pending_payment"
		}
		r.Checked = append(r.Checked, "held reservations have a pending order or are within their expiry")
	} else {
		r.Skipped = append(r.Skipped, "reservations ↔ orders: the order module is not reachable (--db order=URL); holds past expiry are flagged without it")
	}
	for _, h := range held {
		if !pending[h.Ref] {
			add(ReservationOrphaned, "reservation %s: held, expired %s, and no pending order has that number",
				h.Ref, h.ExpiresAt.Format(time.RFC3339))
		}
	}
	return nil
}

// checkPayments compares paid orders with succeeded payments, both ways. A succeeded
// payment younger than the grace may not have reached its order yet.
func checkPayments(ctx context.Context, src Sources, before time.Time, add func(kind, format string, args ...any)) error {
	paid, err := src.Orders.PaidOrders(ctx)
	if err != nil {
		return err
	}
	var paymentIDs []ids.ID
	for _, o := range paid {
		if o.PaymentID != 0 {
			paymentIDs = append(paymentIDs, o.PaymentID)
		}
	}
	payments, err := src.Payments.PaymentsByID(ctx, paymentIDs)
	if err != nil {
		return err
	}
	paidBy := make(map[ids.ID]ids.ID, len(paid))
	for _, o := range paid {
		p, ok := payments[o.PaymentID]
		switch {
		case o.PaymentID == 0:
			add(OrderPaymentMissing, "order %s (%s): %s but names no payment", o.OrderNo, o.ID, o.Status)
		case !ok:
			add(OrderPaymentMissing, "order %s (%s): %s by payment %s, which does not exist", o.OrderNo, o.ID, o.Status, o.PaymentID)
		case p.Status != "succeeded" || p.Amount != o.Payable || p.OrderNo != o.OrderNo:
			add(OrderPaymentMissing, "order %s (%s): %s, payable %d, by payment %s which is %s for %d of order %s",
				o.OrderNo, o.ID, o.Status, o.Payable, p.ID, p.Status, p.Amount, p.OrderNo)
		default:
			paidBy[o.PaymentID] = o.ID
		}
	}
	succeeded, err := src.Payments.SucceededPayments(ctx)
	if err != nil {
		return err
	}
	for _, p := range succeeded {
		if _, ok := paidBy[p.ID]; ok || !p.PaidAt.Before(before) {
			continue
		}
		// A payment that paid no order (a second payment, or one for a cancelled order) is
		// refunded in full.
		if p.RefundsSucceeded+p.RefundsPending == p.Amount {
			continue
		}
		add(PaymentOrderMissing, "payment %s (order %s): succeeded for %d at %s, but the order is not paid by it and it is not refunded (refunds %d)",
			p.ID, p.OrderNo, p.Amount, p.PaidAt.Format(time.RFC3339), p.RefundsSucceeded+p.RefundsPending)
	}
	return nil
}
