package inventory

import (
	"context"

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
	// Levels returns the stock rows that exist among skuIDs.
	Levels(ctx context.Context, skuIDs []ids.ID) ([]Level, error)
	// Ledger lists a SKU's changes, newest first, with Seq below beforeSeq (0: from the newest).
	Ledger(ctx context.Context, skuID ids.ID, beforeSeq int64, limit int) ([]LedgerEntry, error)
}
