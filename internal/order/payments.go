package order

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// Refunds returns money an order cannot take; the payment module satisfies it. Calling it
// again for the same payment changes nothing.
type Refunds interface {
	RefundUnwanted(ctx context.Context, paymentID ids.ID, reason string) error
}

// These end, from inside the order's lock, a transition that must not happen; the callers
// turn them into their answer.
var (
	errPaidByThis       = errors.New("order already paid by this payment")
	errUnwanted         = errors.New("order cannot take this payment")
	errNotRefunding     = errors.New("order is no longer refunding")
	errAlreadyRefunding = errors.New("order is already refunding")
)

// PaymentSucceeded marks a pending order paid by the payment. If the order cannot take
// the money — it was cancelled, another payment paid it first, or the money came after its
// stock hold ran out (inventory may have released the stock) — it changes nothing and
// returns unwanted = true with the reason, and the caller returns the money. The status
// is checked under the order's lock, so a cancel racing the payment is decided once.
func (s *Service) PaymentSucceeded(ctx context.Context, orderID, paymentID ids.ID, amount money.Fen) (unwanted bool, reason string, err error) {
	_, err = s.transition(ctx, orderID, Paid, "payment:"+paymentID.String(), "paid", func(o *Order) error {
		switch {
		case o.PaymentID == paymentID:
			return errPaidByThis
		case o.Status == Cancelled:
			reason = "the order was cancelled before the payment arrived"
		case o.Status != PendingPayment:
			reason = fmt.Sprintf("the order was already paid by payment %s", o.PaymentID)
		case amount != o.Payable:
			reason = fmt.Sprintf("the payment of %d fen does not match the order's %d fen", amount, o.Payable)
		case s.now().After(o.PayDeadline.Add(s.cfg.ReservationGrace)):
			reason = "the payment arrived after the order's stock hold ran out"
		default:
			return nil
		}
		return errUnwanted
	}, func(o *Order, _ time.Time) { o.PaymentID = paymentID })
	switch {
	case errors.Is(err, errPaidByThis):
		return false, "", nil
	case errors.Is(err, errUnwanted):
		return true, reason, nil
	}
	return false, "", err
}

// StartFullRefund moves a paid or shipped order to refunding; an order already refunding
// stays so.
func (s *Service) StartFullRefund(ctx context.Context, id ids.ID, actor, reason string) error {
	_, err := s.transition(ctx, id, Refunding, actor, reason, func(o *Order) error {
		if o.Status == Refunding {
			return errAlreadyRefunding
		}
		return nil
	}, nil)
	if errors.Is(err, errAlreadyRefunding) {
		return nil
	}
	return err
}

// PaymentEvents is the order module's consumer of payment events: a payment that succeeded
// pays its order (or is refunded when the order cannot take it), and a full refund that
// reached the buyer finishes a refunding order.
func (s *Service) PaymentEvents(refunds Refunds) events.Handler {
	return func(ctx context.Context, e events.Event) error {
		switch e.Type {
		case payment.EventSucceeded:
			var p payment.Paid
			if err := json.Unmarshal(e.Payload, &p); err != nil || p.PaymentID == 0 || p.OrderID == 0 {
				return fmt.Errorf("unreadable %s event %s: %w", e.Type, e.ID, errors.Join(err, errors.New("payment_id and order_id are required")))
			}
			unwanted, reason, err := s.PaymentSucceeded(ctx, p.OrderID, p.PaymentID, p.Amount)
			if err != nil || !unwanted {
				return err
			}
			s.log.Error("ALERT a payment arrived that its order cannot take; refunding it",
				slog.String("order_no", p.OrderNo), slog.String("payment_id", p.PaymentID.String()),
				slog.Int64("amount", int64(p.Amount)), slog.String("reason", reason))
			return refunds.RefundUnwanted(ctx, p.PaymentID, reason)
		case payment.EventRefunded:
			var r payment.Refunded
			if err := json.Unmarshal(e.Payload, &r); err != nil || r.OrderID == 0 {
				return fmt.Errorf("unreadable %s event %s: %w", e.Type, e.ID, errors.Join(err, errors.New("order_id is required")))
			}
			if !r.Full || r.Automatic {
				return nil
			}
			_, err := s.transition(ctx, r.OrderID, Refunded, "payment:"+r.PaymentID.String(), "refunded in full", func(o *Order) error {
				if o.Status != Refunding {
					return errNotRefunding
				}
				return nil
			}, nil)
			if errors.Is(err, errNotRefunding) {
				return nil
			}
			return err
		}
		return nil
	}
}
