package inventory

import (
	"context"
	"time"

	"github.com/minimart/minimart/internal/platform/batch"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
)

// Change is one stock change to apply atomically.
type Change struct {
	SKUID     ids.ID
	ProductID ids.ID
	// Set, when not nil, makes available exactly *Set (reserved and sold are kept).
	Set *int64
	// Delta is added to available when Set is nil; the change is refused if available would
	// go below zero.
	Delta  int64
	Actor  string
	Reason string
	Source string
}

// Storer is the persistence inventory needs; inventorydb implements it.
type Storer interface {
	// Apply performs the change, writes its ledger row and the event built by event from the
	// resulting level, all in one transaction. A SKU without a stock row starts at zero.
	Apply(ctx context.Context, c Change, entryID ids.ID, event func(before, after Level) (events.Event, error)) (Level, error)
	// ApplySync is Apply for an update from an outside stock system, with a staleness
	// check in the same transaction. Per SKU the store keeps the newest version and
	// updatedAt applied so far. An update whose version is at most the kept version, or
	// whose updatedAt is not after the kept updatedAt, is stale: nothing changes and the
	// result is (false, the current level, nil). Otherwise the change, its ledger row, its
	// event and the new marks (a nil version or updatedAt keeps the kept one) are written
	// together and the result is (true, the level after, nil). An update with neither
	// version nor updatedAt is never stale. On error nothing is written, marks included.
	// updatedAt is compared and kept to the microsecond.
	ApplySync(ctx context.Context, c Change, version *int64, updatedAt *time.Time, entryID ids.ID,
		event func(before, after Level) (events.Event, error)) (applied bool, level Level, err error)
	// Levels returns the stock rows that exist among skuIDs.
	Levels(ctx context.Context, skuIDs []ids.ID) ([]Level, error)
	// LowLevels lists up to limit stock rows whose available stock is at most threshold,
	// ordered by available then SKU id, after the row `after` of that order (the zero Level:
	// from the first).
	LowLevels(ctx context.Context, threshold int64, after Level, limit int) ([]Level, error)
	// Ledger lists a SKU's changes, newest first, with Seq below beforeSeq (0: from the newest).
	Ledger(ctx context.Context, skuID ids.ID, beforeSeq int64, limit int) ([]LedgerEntry, error)

	// ReserveBatch holds each reservation of rs (status held, its ExpiresAt), all its lines
	// or none, in one transaction, and answers each its own. Lines are merged per SKU. A
	// reservation From a parent takes its units out of that held reservation's lines instead
	// of available stock (no stock level moves); any other takes them from available stock
	// with one ledger row (id from newID, actor and source "order", reason "reserve <ref>")
	// and the event built by event per line; a SKU without a stock row has nothing available.
	// A ref that exists (or appears earlier in rs) answers the stored reservation unchanged,
	// whatever the item says. An item short of stock answers ErrOutOfStock with details
	// {"skus": []Shortage} naming every short line, and holds nothing; its neighbours are
	// unaffected. An error for the batch means nothing of it was held.
	ReserveBatch(ctx context.Context, rs []Reservation, newID func() ids.ID,
		event func(before, after Level, reason string) (events.Event, error)) ([]batch.Result[Reservation], error)
	// WriteConcurrency is how many ReserveBatch calls may usefully run at once.
	WriteConcurrency() int
	// Settle moves a held reservation to Released (its stock back to available) or Committed
	// (its stock sold), line by line in SKU order with a ledger row and event each, in one
	// transaction that locks the reservation. Releasing a reservation made From a parent that
	// is still held gives its units back to the parent instead (no stock level moves).
	// Settling to the status it already has changes
	// nothing and returns it. Released→Committed is ErrReservationReleased,
	// Committed→Released ErrReservationCommitted, an unknown ref ErrReservationNotFound.
	// The ledger and event reason is "release <ref>" or "commit <ref>", followed by
	// ": reason" when reason is not empty.
	Settle(ctx context.Context, ref string, to ReservationStatus, reason string, newID func() ids.ID,
		event func(before, after Level, reason string) (events.Event, error)) (Reservation, error)
	// Reservation returns the reservation for ref, or ErrReservationNotFound.
	Reservation(ctx context.Context, ref string) (Reservation, error)
	// Expired lists up to limit refs of held reservations that expired before now, the
	// earliest expiry first.
	Expired(ctx context.Context, now time.Time, limit int) ([]string, error)
	// Unplaced lists up to limit refs of held reservations created before `before` that are
	// not yet known to belong to a recorded order, the oldest first.
	Unplaced(ctx context.Context, before time.Time, limit int) ([]string, error)
	// MarkPlaced records that refs belong to recorded orders, so Unplaced leaves them out.
	MarkPlaced(ctx context.Context, refs []string) error
}
