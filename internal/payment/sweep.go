package payment

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/minimart/minimart/internal/order/orderevents"
	"github.com/minimart/minimart/internal/payment/paymentevents"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
)

// sweepBatch bounds the payments and refunds one sweep claims.
const sweepBatch = 50

// EventTypes are the events HandleEvent consumes.
var EventTypes = []string{orderevents.TypeCancelled, orderevents.TypePaymentRejected}

// HandleEvent follows the order saga. order.cancelled closes, at the provider and here, the
// open payments of the order, so the buyer can no longer pay it; order.payment_rejected
// refunds a payment its order could not take.
func (s *Service) HandleEvent(ctx context.Context, e events.Event) error {
	switch e.Type {
	case orderevents.TypeCancelled:
		var o orderevents.Changed
		if err := json.Unmarshal(e.Payload, &o); err != nil || o.OrderID == 0 {
			s.log.ErrorContext(ctx, "unreadable order event ignored", slog.String("event_id", e.ID.String()), slog.String("type", e.Type))
			return nil
		}
		return s.closeOpenPayments(ctx, o.OrderID)
	case orderevents.TypePaymentRejected:
		var r orderevents.PaymentRejected
		if err := json.Unmarshal(e.Payload, &r); err != nil || r.PaymentID == 0 {
			s.log.ErrorContext(ctx, "unreadable order event ignored", slog.String("event_id", e.ID.String()), slog.String("type", e.Type))
			return nil
		}
		return s.RefundUnwanted(ctx, r.PaymentID, r.Reason)
	}
	return nil
}

func (s *Service) closeOpenPayments(ctx context.Context, orderID ids.ID) error {
	pays, err := s.store.PaymentsOfOrder(ctx, orderID)
	if err != nil {
		return err
	}
	for _, p := range pays {
		if p.Status != Pending {
			continue
		}
		if err := s.closePayment(ctx, p, "order cancelled"); err != nil {
			return err
		}
	}
	return nil
}

// closePayment closes a pending payment at its provider, then here. If the provider says it
// was paid meanwhile, the success is applied instead (and the order decides what follows).
func (s *Service) closePayment(ctx context.Context, p Payment, reason string) error {
	prov, err := s.Provider(p.Provider)
	if err != nil {
		return err
	}
	err = prov.Close(ctx, p.OrderNo)
	if errors.Is(err, ErrTradePaid) {
		n, qerr := prov.Query(ctx, p.OrderNo)
		if qerr != nil {
			return qerr
		}
		_, err = s.applyTrade(ctx, prov, n, "query")
		return err
	}
	if err != nil {
		return err
	}
	_, err = s.store.UpdatePayment(ctx, p.ID, func(p *Payment) ([]events.Event, error) {
		if p.Status != Pending {
			return nil, nil
		}
		now := s.now().UTC()
		p.Status, p.ClosedAt, p.NextQueryAt, p.UpdatedAt = Closed, &now, nil, now
		ev, err := events.New(s.ids.New(), paymentevents.TypeFailed, p.ID.String(), paymentevents.Failed{PaymentID: p.ID, OrderID: p.OrderID,
			OrderNo: p.OrderNo, Provider: p.Provider, Reason: reason})
		if err != nil {
			return nil, err
		}
		return []events.Event{ev}, nil
	})
	return err
}

// nextQuery backs off: QueryAfter after the previous query, doubling up to QueryMaxInterval.
func (s *Service) nextQuery(now time.Time, attempts int) time.Time {
	wait := s.cfg.QueryAfter
	for i := 0; i < attempts && wait < s.cfg.QueryMaxInterval; i++ {
		wait *= 2
	}
	return now.Add(min(wait, s.cfg.QueryMaxInterval))
}

// QueryDue asks the providers about payments pending too long (their notify may be lost)
// and refunds still unconfirmed; a success found this way is applied exactly as a notify
// would be. Several instances may sweep at once: each payment is claimed by one.
func (s *Service) QueryDue(ctx context.Context, by Claimant) (int, error) {
	now := s.now().UTC()
	pays, err := s.store.ClaimDuePayments(ctx, now, func(p Payment) time.Time { return s.nextQuery(now, p.QueryAttempts) }, sweepBatch, by)
	if err != nil {
		return 0, err
	}
	done := 0
	var errList []error
	for _, p := range pays {
		err := s.queryPayment(ctx, p, now)
		if relErr := s.store.ReleasePaymentClaim(ctx, p.ID, by); relErr != nil {
			errList = append(errList, relErr)
		}
		if err != nil {
			errList = append(errList, err)
			continue
		}
		done++
	}
	refunds, err := s.store.ClaimDueRefunds(ctx, now, s.nextQuery(now, 1), sweepBatch, by)
	if err != nil {
		return done, err
	}
	for _, r := range refunds {
		err := s.queryRefund(ctx, r)
		if relErr := s.store.ReleaseRefundClaim(ctx, r.ID, by); relErr != nil {
			errList = append(errList, relErr)
		}
		if err != nil {
			errList = append(errList, err)
			continue
		}
		done++
	}
	return done, errors.Join(errList...)
}

func (s *Service) queryPayment(ctx context.Context, p Payment, now time.Time) error {
	prov, err := s.Provider(p.Provider)
	if err != nil {
		return err
	}
	n, err := prov.Query(ctx, p.OrderNo)
	expired := now.After(p.ExpiresAt.Add(closeGrace))
	result := "pending"
	defer func() { s.metrics.queries.WithLabelValues(p.Provider, result).Inc() }()
	switch {
	case errors.Is(err, ErrTradeNotFound):
		result = "not_found"
		if expired {
			return s.closePayment(ctx, p, "expired unpaid")
		}
		return nil
	case err != nil:
		result = "error"
		return err
	case n.State == TradeSuccess:
		result = "success"
		outcome, err := s.applyTrade(ctx, prov, n, "query")
		if err == nil && outcome == OutcomeApplied {
			s.log.WarnContext(ctx, "payment found paid by querying the provider; its notify did not arrive",
				slog.String("provider", p.Provider), slog.String("out_trade_no", p.OrderNo))
		}
		return err
	case n.State == TradeClosed || expired:
		result = "closed"
		return s.closePayment(ctx, p, "closed at the provider or expired unpaid")
	}
	return nil
}

func (s *Service) queryRefund(ctx context.Context, r Refund) error {
	p, err := s.store.Payment(ctx, r.PaymentID)
	if err != nil {
		return err
	}
	prov, err := s.Provider(p.Provider)
	if err != nil {
		return err
	}
	res, err := prov.QueryRefund(ctx, p.OrderNo, r.OutRefundNo)
	if errors.Is(err, ErrTradeNotFound) {
		// The request never reached the provider: send it again (same refund number).
		_, err = s.submitRefund(ctx, r)
		return err
	}
	if err != nil {
		return err
	}
	_, err = s.applyRefundResult(ctx, r.ID, res, "query")
	return err
}

// RunQuerier sweeps every interval until ctx ends; its claims name by, so a query
// interrupted by this process's death is taken over at once.
func (s *Service) RunQuerier(ctx context.Context, every time.Duration, by Claimant) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if _, err := s.QueryDue(ctx, by); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "payment query sweep", slog.String("error", err.Error()))
		}
	}
}
