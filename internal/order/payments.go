package order

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/minimart/minimart/internal/order/orderevents"
	"github.com/minimart/minimart/internal/payment/paymentevents"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// These end, from inside the order's lock, a transition that must not happen; the callers
// turn them into their answer.
var (
	errPaidByThis       = errors.New("order already paid by this payment")
	errNotRefunding     = errors.New("order is no longer refunding")
	errAlreadyRefunding = errors.New("order is already refunding")
)

// PaymentSucceeded marks a pending order paid by the payment. If the order cannot take
// the money — it was cancelled, another payment paid it first, the amount differs, or the
// money came after its stock hold ran out (inventory may have released the stock) — the
// order stays as it is and an order.payment_rejected event, written under the order's lock,
// asks the payment module to return the money; rejected is then true with the reason. A cancel
// racing the payment is so decided once.
func (s *Service) PaymentSucceeded(ctx context.Context, orderID, paymentID ids.ID, amount money.Fen) (rejected bool, reason string, err error) {
	paid, err := s.store.Update(ctx, orderID, func(o *Order) (Transition, *events.Event, error) {
		switch {
		case o.PaymentID == paymentID:
			return Transition{}, nil, errPaidByThis
		case o.Status == Cancelled:
			reason = "the order was cancelled before the payment arrived"
		case o.Status != PendingPayment:
			reason = fmt.Sprintf("the order was already paid by payment %s", o.PaymentID)
		case amount != o.Payable:
			reason = fmt.Sprintf("the payment of %d fen does not match the order's %d fen", amount, o.Payable)
		case s.now().After(o.PayDeadline.Add(s.cfg.ReservationGrace)):
			reason = "the payment arrived after the order's stock hold ran out"
		default:
			return s.transitionTo(o, Paid, "payment:"+paymentID.String(), "paid", func(o *Order, _ time.Time) { o.PaymentID = paymentID })
		}
		rejected = true
		ev, err := events.New(s.ids.New(), orderevents.TypePaymentRejected, o.ID.String(), orderevents.PaymentRejected{
			OrderID: o.ID, OrderNo: o.OrderNo, PaymentID: paymentID, Amount: amount, Reason: reason})
		return Transition{}, &ev, err
	})
	if errors.Is(err, errPaidByThis) {
		return false, "", nil
	}
	if err != nil {
		return false, "", err
	}
	if !rejected {
		s.cfg.Metrics.reached(paid)
	}
	return rejected, reason, nil
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

// PaymentEventTypes are the events HandlePaymentEvent consumes.
var PaymentEventTypes = []string{paymentevents.TypeSucceeded, paymentevents.TypeRefunded}

// HandlePaymentEvent is the order module's consumer of payment events: a payment that
// succeeded pays its order (or is handed back to the payment module for a refund when the
// order cannot take it), and a full refund that reached the buyer finishes a refunding order.
func (s *Service) HandlePaymentEvent(ctx context.Context, e events.Event) error {
	switch e.Type {
	case paymentevents.TypeSucceeded:
		var p paymentevents.Paid
		if err := json.Unmarshal(e.Payload, &p); err != nil || p.PaymentID == 0 || p.OrderID == 0 {
			return fmt.Errorf("unreadable %s event %s: %w", e.Type, e.ID, errors.Join(err, errors.New("payment_id and order_id are required")))
		}
		rejected, reason, err := s.PaymentSucceeded(ctx, p.OrderID, p.PaymentID, p.Amount)
		if err == nil && rejected {
			s.log.ErrorContext(ctx, "ALERT a payment arrived that its order cannot take; the payment module refunds it",
				slog.String("order_no", p.OrderNo), slog.String("payment_id", p.PaymentID.String()),
				slog.Int64("amount", int64(p.Amount)), slog.String("reason", reason))
		}
		return err
	case paymentevents.TypeRefunded:
		var r paymentevents.Refunded
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
