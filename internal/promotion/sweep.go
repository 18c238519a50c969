package promotion

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// sweepBatch is how many sales one sweep finishes or settles at most.
const sweepBatch = 100

// RunSweeper sweeps every interval until ctx ends; several processes may run it.
func (s *Service) RunSweeper(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		return errors.New("promotion: sweeper interval must be positive")
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "flash-sale sweep failed; trying again", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Sweep moves sales along: finishes the hold of sales whose creator did not (it crashed
// between recording and holding), ends sales whose time is up, and settles ended, cancelled
// and failed sales once none of their attempts is still waiting for its order: what their
// hold still has goes back to available stock. Every step is safe to repeat and to run in
// several processes at once (holds and releases are idempotent by reference).
func (s *Service) Sweep(ctx context.Context) error {
	var errList []error
	if err := s.finishHolding(ctx); err != nil {
		errList = append(errList, err)
	}
	if n, err := s.store.EndDue(ctx, s.stamp()); err != nil {
		errList = append(errList, err)
	} else if n > 0 {
		s.log.InfoContext(ctx, "flash sales ended", slog.Int("sales", n))
	}
	if err := s.settle(ctx); err != nil {
		errList = append(errList, err)
	}
	return errors.Join(errList...)
}

func (s *Service) finishHolding(ctx context.Context) error {
	list, err := s.store.SalesHolding(ctx, s.now().Add(-holdingPatience), sweepBatch)
	if err != nil {
		return err
	}
	var errList []error
	for _, sale := range list {
		if !s.now().Before(sale.EndsAt) {
			// Too late to run. Settlement releases whatever the creator may have held.
			_, _, err := s.store.SetSaleStatus(ctx, sale.ID, []SaleStatus{Holding}, Failed, "not_held_in_time", false, s.stamp())
			errList = append(errList, err)
			continue
		}
		holdCtx, cancel := context.WithTimeout(ctx, holdTimeout)
		err := s.stock.Hold(holdCtx, sale.StockRef(), sale.SKUID, sale.Quantity, sale.EndsAt.Add(s.cfg.HoldGrace))
		cancel()
		switch {
		case err == nil:
			_, _, err = s.store.SetSaleStatus(ctx, sale.ID, []SaleStatus{Holding}, Scheduled, "", false, s.stamp())
			errList = append(errList, err)
		case !transient(err):
			// Refused by inventory: nothing is held.
			_, _, err = s.store.SetSaleStatus(ctx, sale.ID, []SaleStatus{Holding}, Failed, failReason(err), true, s.stamp())
			errList = append(errList, err)
		default:
			errList = append(errList, fmt.Errorf("hold stock of flash sale %s: %w", sale.ID, err))
		}
	}
	return errors.Join(errList...)
}

func (s *Service) settle(ctx context.Context) error {
	list, err := s.store.Settleable(ctx, sweepBatch)
	if err != nil {
		return err
	}
	var errList []error
	for _, sale := range list {
		if err := s.stock.Release(ctx, sale.StockRef(), "flash sale "+string(sale.Status)); err != nil {
			errList = append(errList, fmt.Errorf("release stock of flash sale %s: %w", sale.ID, err))
			continue
		}
		if err := s.store.MarkSettled(ctx, sale.ID, s.stamp()); err != nil {
			errList = append(errList, err)
			continue
		}
		s.log.InfoContext(ctx, "flash sale settled: unsold stock back to available", slog.String("sale_id", sale.ID.String()),
			slog.String("status", string(sale.Status)), slog.Int("remaining", sale.Remaining))
	}
	return errors.Join(errList...)
}
