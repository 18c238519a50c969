package promotion

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/minimart/minimart/internal/order/orderevents"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
)

// EventTypes are the events HandleEvent consumes.
var EventTypes = []string{orderevents.TypeCancelled}

// HandleEvent follows order cancellations: an unpaid sale order cancelled while its sale
// runs gives its units back to the sale and the buyer's count (inventory puts the stock back
// into the sale's hold on its side). Redelivered events give back once: the store records
// that the attempt's units went back. Orders that no attempt made are ignored, as are
// unreadable payloads (logged); storage failures return the error so the event comes again.
func (s *Service) HandleEvent(ctx context.Context, e events.Event) error {
	if e.Type != orderevents.TypeCancelled {
		return nil
	}
	var c orderevents.Changed
	if err := json.Unmarshal(e.Payload, &c); err != nil || c.OrderID <= 0 {
		s.log.ErrorContext(ctx, "unreadable order event ignored", slog.String("event_id", e.ID.String()), slog.String("type", e.Type),
			slog.Any("error", err))
		return nil
	}
	return s.returnOrder(ctx, c.OrderID, c.OrderNo)
}

// returnOrder gives the units of a cancelled sale order back to its sale (once, however
// often it is called) and to the admission filter.
func (s *Service) returnOrder(ctx context.Context, orderID ids.ID, orderNo string) error {
	a, returned, err := s.store.ReturnOrder(ctx, orderID, s.stamp())
	switch {
	case errors.Is(err, ErrAttemptNotFound):
		return nil
	case err != nil:
		return err
	case !returned:
		return nil
	}
	s.log.InfoContext(ctx, "cancelled flash-sale order: its units went back to the sale", slog.String("order_no", orderNo),
		slog.String("sale_id", a.SaleID.String()), slog.String("attempt_id", a.ID.String()))
	if err := s.filter.Return(ctx, a.SaleID, a.UserID, a.Quantity); err != nil {
		// The filter stays behind the database until its sold-out check catches up.
		s.log.WarnContext(ctx, "flash-sale filter not given back a cancelled order", slog.String("attempt_id", a.ID.String()),
			slog.String("error", err.Error()))
	}
	return nil
}
