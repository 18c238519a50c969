package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/inventory/inventoryevents"
	"github.com/minimart/minimart/internal/order/orderevents"
	"github.com/minimart/minimart/internal/platform/clip"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/events"
)

// Reservation limits.
const (
	MaxRefLen          = 64
	MaxReserveLines    = 50
	MaxReserveQuantity = 99_999
)

const (
	// sweepBatch is how many expired refs SweepExpired lists at a time.
	sweepBatch      = 100
	expiredReason   = "reservation expired"
	cancelledReason = "order cancelled"
	unplacedReason  = "order never recorded"
	// reservationSource is the source of stock events a reservation causes.
	reservationSource = "order"
)

// validRef reports whether ref can key a reservation: 1–64 ASCII letters, digits and
// "-_.:". Order numbers are digits; the narrow alphabet compares the same on every engine.
func validRef(ref string) bool {
	if ref == "" || len(ref) > MaxRefLen {
		return false
	}
	for _, c := range []byte(ref) {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

func checkRef(f *errs.Fields, ref string) {
	if !validRef(ref) {
		f.Add("ref", "must be 1 to 64 characters: letters, digits, '-', '_', '.' or ':'")
	}
}

// Reserve holds lines for ref (an order number) until expiresAt: every line or none.
// Calling it again with the same ref returns the first reservation unchanged, whatever
// lines and expiry are given. Several lines of one SKU are merged into one (their
// quantities summed). Not enough stock for some line: ErrOutOfStock, whose details.skus
// lists each short SKU with what is available, and nothing is held. Concurrent calls share
// transactions (group commit); each gets its own answer.
func (s *Service) Reserve(ctx context.Context, ref string, lines []ReserveLine, expiresAt time.Time) (Reservation, error) {
	return s.reserve(ctx, Reservation{Ref: ref, Lines: lines, ExpiresAt: expiresAt})
}

// Hold is Reserve for a hold whose owner records it before asking (a flash sale holding
// its units): the sweep of holds whose order never came to be leaves it alone.
func (s *Service) Hold(ctx context.Context, ref string, lines []ReserveLine, expiresAt time.Time) (Reservation, error) {
	return s.reserve(ctx, Reservation{Ref: ref, Lines: lines, ExpiresAt: expiresAt, Placed: true})
}

// ReserveFrom is Reserve taking the units out of the held reservation `from` (a flash
// sale's hold) instead of available stock: ErrOutOfStock when that holds too few (details
// name what it still holds), or when it is no longer held. Releasing the new reservation
// while `from` is still held gives the units back to it.
func (s *Service) ReserveFrom(ctx context.Context, ref, from string, lines []ReserveLine, expiresAt time.Time) (Reservation, error) {
	if !validRef(from) || from == ref {
		var f errs.Fields
		f.Add("from", "must be the ref of another reservation")
		return Reservation{}, f.Err()
	}
	return s.reserve(ctx, Reservation{Ref: ref, From: from, Lines: lines, ExpiresAt: expiresAt})
}

func (s *Service) reserve(ctx context.Context, r Reservation) (Reservation, error) {
	ref, lines, expiresAt := r.Ref, r.Lines, r.ExpiresAt
	var f errs.Fields
	checkRef(&f, ref)
	switch {
	case len(lines) == 0:
		f.Add("lines", "must hold at least one line")
	case len(lines) > MaxReserveLines:
		f.Add("lines", fmt.Sprintf("must hold at most %d lines", MaxReserveLines))
	}
	for i, l := range lines {
		if l.SKUID <= 0 {
			f.Add(fmt.Sprintf("lines[%d].sku_id", i), "is required")
		}
		if l.Quantity < 1 || l.Quantity > MaxReserveQuantity {
			f.Add(fmt.Sprintf("lines[%d].quantity", i), fmt.Sprintf("must be between 1 and %d", MaxReserveQuantity))
		}
	}
	if f.Err() == nil {
		for _, l := range MergeLines(lines) {
			if l.Quantity > MaxReserveQuantity {
				f.Add("lines", fmt.Sprintf("SKU %s is ordered %d times across lines; at most %d", l.SKUID, l.Quantity, MaxReserveQuantity))
			}
		}
	}
	if !expiresAt.After(s.now()) {
		f.Add("expires_at", "must be in the future")
	}
	if err := f.Err(); err != nil {
		return Reservation{}, err
	}
	r.Lines = MergeLines(lines)
	res, err := s.reserves.Do(ctx, r)
	if errors.Is(err, ErrOutOfStock) {
		s.metrics.refused()
	}
	return res, err
}

// Release returns a held reservation's stock to available. Releasing a released
// reservation returns it unchanged; a committed one is ErrReservationCommitted.
func (s *Service) Release(ctx context.Context, ref, reason string) (Reservation, error) {
	var f errs.Fields
	checkRef(&f, ref)
	checkReason(&f, reason, false)
	if err := f.Err(); err != nil {
		return Reservation{}, err
	}
	return s.store.Settle(ctx, ref, Released, reason, s.ids.New, s.stockEvent)
}

// Commit turns a held reservation into sold stock. Committing a committed reservation
// returns it unchanged; a released one is ErrReservationReleased.
func (s *Service) Commit(ctx context.Context, ref string) (Reservation, error) {
	var f errs.Fields
	checkRef(&f, ref)
	if err := f.Err(); err != nil {
		return Reservation{}, err
	}
	return s.store.Settle(ctx, ref, Committed, "", s.ids.New, s.stockEvent)
}

// Reservation returns the reservation for ref.
func (s *Service) Reservation(ctx context.Context, ref string) (Reservation, error) {
	if !validRef(ref) {
		return Reservation{}, ErrReservationNotFound
	}
	return s.store.Reservation(ctx, ref)
}

func (s *Service) stockEvent(before, after Level, reason string) (events.Event, error) {
	return events.New(s.ids.New(), inventoryevents.TypeStockChanged, after.SKUID.String(), inventoryevents.StockChanged{
		SKUID: after.SKUID, ProductID: after.ProductID, Available: after.Available, Reserved: after.Reserved, Sold: after.Sold,
		DeltaAvailable: after.Available - before.Available, Reason: reason, Source: reservationSource,
	})
}

// SweepExpired releases every held reservation that expired before now and says how many
// it released. Reservations another instance settles meanwhile are skipped: each is
// released exactly once whoever gets there first. A failure to release one does not stop
// the others; the failures are returned together.
func (s *Service) SweepExpired(ctx context.Context, now time.Time) (released int, err error) {
	failed := map[string]bool{}
	var errList []error
	for {
		refs, err := s.store.Expired(ctx, now, sweepBatch+len(failed))
		if err != nil {
			return released, errors.Join(append(errList, err)...)
		}
		progress := false
		for _, ref := range refs {
			if failed[ref] {
				continue
			}
			if err := ctx.Err(); err != nil {
				return released, errors.Join(append(errList, err)...)
			}
			moved := false
			_, err := s.store.Settle(ctx, ref, Released, expiredReason, s.ids.New, func(before, after Level, reason string) (events.Event, error) {
				moved = true
				return s.stockEvent(before, after, reason)
			})
			switch {
			case err == nil:
				progress = true
				if moved {
					released++
				}
			case errors.Is(err, ErrReservationCommitted), errors.Is(err, ErrReservationNotFound):
				// Paid between the listing and now: the sale stands. (Reservations are never
				// deleted, so not found cannot happen; it is no reason to fail the sweep.)
				progress = true
			default:
				failed[ref] = true
				errList = append(errList, fmt.Errorf("release expired reservation %s: %w", ref, err))
			}
		}
		if !progress || len(refs) < sweepBatch+len(failed) {
			return released, errors.Join(errList...)
		}
	}
}

// SweepUnplaced releases the holds, made before `before`, whose order was never recorded:
// the order service crashed or failed between holding the stock and writing the order. It
// asks orders which of the holds' order numbers exist; those are marked placed and never
// asked about again. When orders cannot answer nothing is released (the next sweep asks
// again), so a hold is only freed once its order is known to be absent.
func (s *Service) SweepUnplaced(ctx context.Context, orders Orders, before time.Time) (released int, err error) {
	for {
		refs, err := s.store.Unplaced(ctx, before, sweepBatch)
		if err != nil || len(refs) == 0 {
			return released, err
		}
		placed, err := orders.Placed(ctx, refs)
		if err != nil {
			return released, fmt.Errorf("ask orders which holds are placed: %w", err)
		}
		if err := s.store.MarkPlaced(ctx, placed); err != nil {
			return released, err
		}
		for _, ref := range refs {
			if slices.Contains(placed, ref) {
				continue
			}
			moved := false
			_, err := s.store.Settle(ctx, ref, Released, unplacedReason, s.ids.New, func(before, after Level, reason string) (events.Event, error) {
				moved = true
				return s.stockEvent(before, after, reason)
			})
			switch {
			case err == nil:
				if moved {
					released++
				}
			case errors.Is(err, ErrReservationCommitted):
				// Cannot happen without an order; if it does, the sale stands.
			default:
				return released, fmt.Errorf("release unplaced reservation %s: %w", ref, err)
			}
		}
		if len(refs) < sweepBatch {
			return released, nil
		}
	}
}

// Sweeps are the inventory schedules: expired holds, and holds whose order was never
// recorded (when Orders is set; asked about once they are UnplacedAfter old).
type Sweeps struct {
	Every         time.Duration
	Orders        Orders
	UnplacedAfter time.Duration
}

// RunSweeper runs the sweeps now and then every interval until ctx ends, logging failures;
// it returns nil once ctx is cancelled.
func (s *Service) RunSweeper(ctx context.Context, sw Sweeps) error {
	if sw.Every <= 0 {
		return errors.New("inventory: sweeper interval must be positive")
	}
	t := time.NewTicker(sw.Every)
	defer t.Stop()
	for {
		n, err := s.SweepExpired(ctx, s.now())
		if err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "sweeping expired reservations failed", "released", n, "err", err)
		} else if n > 0 {
			s.log.InfoContext(ctx, "released expired reservations", "released", n)
		}
		if sw.Orders != nil {
			n, err := s.SweepUnplaced(ctx, sw.Orders, s.now().Add(-sw.UnplacedAfter))
			if err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "sweeping holds of unrecorded orders failed; trying again next time", "released", n, "err", err)
			} else if n > 0 {
				s.log.InfoContext(ctx, "released holds of orders that were never recorded", "released", n)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// EventTypes are the events HandleEvent consumes.
var EventTypes = []string{orderevents.TypePaid, orderevents.TypeCancelled}

// HandleEvent follows the order saga: order.paid commits the order's reservation and
// order.cancelled releases it. Both are idempotent. What cannot succeed on a retry is
// logged and acknowledged (nil) rather than asked for again forever: a payment for an
// already released reservation (an error-level line; the payment side refunds), a
// cancellation of a committed one, an unknown order number, an unreadable payload.
// Storage failures return the error so the event comes again.
func (s *Service) HandleEvent(ctx context.Context, e events.Event) error {
	if e.Type != orderevents.TypePaid && e.Type != orderevents.TypeCancelled {
		return nil
	}
	var c orderevents.Changed
	if err := json.Unmarshal(e.Payload, &c); err != nil || !validRef(c.OrderNo) {
		s.log.ErrorContext(ctx, "unreadable order event ignored", "event_id", e.ID, "type", e.Type, "order_no", c.OrderNo, "err", err)
		return nil
	}
	log := s.log.With("event_id", e.ID, "type", e.Type, "order_no", c.OrderNo)
	var err error
	if e.Type == orderevents.TypePaid {
		_, err = s.Commit(ctx, c.OrderNo)
	} else {
		reason := strings.TrimSpace(c.Reason)
		if reason == "" {
			reason = cancelledReason
		}
		_, err = s.Release(ctx, c.OrderNo, clip.Runes(reason, maxReasonLen))
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrReservationReleased):
		log.ErrorContext(ctx, "payment for released reservation", "order_id", c.OrderID, "payable", c.Payable)
		return nil
	case errors.Is(err, ErrReservationCommitted):
		log.ErrorContext(ctx, "cancellation of a committed reservation: stock stays sold", "order_id", c.OrderID)
		return nil
	case errors.Is(err, ErrReservationNotFound):
		log.WarnContext(ctx, "order event for an unknown reservation ignored")
		return nil
	default:
		return err
	}
}

const maxReasonLen = 200
