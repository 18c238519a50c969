package promotion

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
)

// Order worker tuning.
const (
	// claimBatch is how many accepted attempts one round claims.
	claimBatch = 100
	// orderConcurrency is how many orders a round makes at once: enough for the order
	// module's own group commit to write them in a few transactions.
	orderConcurrency = 16
	// orderCallTimeout bounds one CreateForSale call.
	orderCallTimeout = 30 * time.Second
	// maxRetryWait is the longest wait before an order that failed for a passing reason is
	// tried again.
	maxRetryWait = 30 * time.Second
)

// RunOrderWorker turns accepted attempts into orders until ctx ends: at once when attempts
// are accepted in this process, and every poll for those accepted elsewhere or left by a
// process that died (the attempts table is the queue). Several processes may run it.
func (s *Service) RunOrderWorker(ctx context.Context, poll time.Duration) error {
	if poll <= 0 {
		return errors.New("promotion: order worker poll interval must be positive")
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		n, err := s.MakeOrders(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "making flash-sale orders failed; trying again", slog.String("error", err.Error()))
		}
		if n == claimBatch && err == nil {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-t.C:
		}
	}
}

type failure struct {
	attempt Attempt
	reason  string
}

// MakeOrders claims one round of accepted attempts and makes their orders: each becomes
// ordered, or failed (its unit back to the sale) when the order module refuses it, or is
// tried again later when the refusal may pass. It says how many it claimed.
func (s *Service) MakeOrders(ctx context.Context) (int, error) {
	list, err := s.store.ClaimAccepted(ctx, s.cfg.Claimant, s.now(), claimBatch)
	if err != nil || len(list) == 0 {
		return 0, err
	}
	sales := map[ids.ID]Sale{}
	for _, a := range list {
		if _, ok := sales[a.SaleID]; ok {
			continue
		}
		sale, err := s.store.Sale(ctx, a.SaleID)
		if err != nil {
			// The claims stay this process's: the next round takes them again.
			return len(list), err
		}
		sales[a.SaleID] = sale
	}
	var (
		mu      sync.Mutex
		ordered []OrderedAttempt
		retry   = map[time.Time][]ids.ID{}
		failed  []failure
		passing error // one of the passing errors, for the log
	)
	var g errgroup.Group
	g.SetLimit(orderConcurrency)
	for _, a := range list {
		sale := sales[a.SaleID]
		g.Go(func() error {
			callCtx, cancel := context.WithTimeout(ctx, orderCallTimeout)
			defer cancel()
			placed, err := s.orders.CreateForSale(callCtx, SaleOrder{AttemptID: a.ID, SaleID: sale.ID, UserID: a.UserID,
				SKUID: sale.SKUID, AddressID: a.AddressID, Quantity: a.Quantity, UnitPrice: sale.Price, StockRef: sale.StockRef()})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ordered = append(ordered, OrderedAttempt{AttemptID: a.ID, Order: placed})
			case s.mayPass(a, err):
				next := s.now().Add(min(time.Second<<min(a.Tries, 10), maxRetryWait)).Truncate(time.Second)
				retry[next] = append(retry[next], a.ID)
				passing = err
			default:
				failed = append(failed, failure{attempt: a, reason: failReason(err)})
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil { // each call records its outcome above and returns nil
		return len(list), err
	}
	var errList []error
	if len(ordered) > 0 {
		if err := s.store.MarkOrdered(ctx, ordered, s.stamp()); err != nil {
			errList = append(errList, err)
		} else {
			for _, o := range ordered {
				if o.Order.Cancelled {
					errList = append(errList, s.returnOrder(ctx, o.Order.ID, o.Order.OrderNo))
				}
			}
		}
	}
	for next, list := range retry {
		if err := s.store.RetryLater(ctx, list, next); err != nil {
			errList = append(errList, err)
		}
	}
	if passing != nil {
		n := 0
		for _, l := range retry {
			n += len(l)
		}
		s.log.WarnContext(ctx, "flash-sale orders not made yet; tried again shortly", slog.Int("attempts", n), slog.String("error", passing.Error()))
	}
	for _, f := range failed {
		if err := s.failAttempt(ctx, f.attempt, f.reason); err != nil {
			errList = append(errList, err)
		}
	}
	return len(list), errors.Join(errList...)
}

// mayPass says whether an order refused for an attempt may be made if tried again later:
// a transient failure, or a short hold while units may be on their way back to it
// (Config.OutOfStockPatience).
func (s *Service) mayPass(a Attempt, err error) bool {
	if transient(err) {
		return true
	}
	e, _ := errs.As(err)
	return e.Code == "out_of_stock" && s.now().Sub(a.CreatedAt) < s.cfg.OutOfStockPatience
}

// failAttempt fails an attempt whose order cannot be made and gives its units back to the
// sale, in the database and then the filter.
func (s *Service) failAttempt(ctx context.Context, a Attempt, reason string) error {
	failed, ok, err := s.store.FailAttempt(ctx, a.ID, reason, s.stamp())
	if err != nil {
		return fmt.Errorf("fail flash-sale attempt %s: %w", a.ID, err)
	}
	if !ok {
		return nil
	}
	s.log.InfoContext(ctx, "flash-sale attempt failed; its units went back to the sale", slog.String("attempt_id", a.ID.String()),
		slog.String("sale_id", a.SaleID.String()), slog.String("reason", reason))
	if err := s.filter.Return(ctx, failed.SaleID, failed.UserID, failed.Quantity); err != nil {
		// The filter stays behind the database until its sold-out check catches up.
		s.log.WarnContext(ctx, "flash-sale filter not given back a failed attempt", slog.String("attempt_id", a.ID.String()),
			slog.String("error", err.Error()))
	}
	return nil
}
