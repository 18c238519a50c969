package promotion

import (
	"context"
	"time"

	"github.com/minimart/minimart/internal/platform/ids"
)

// SaleBuyer is one buyer in one sale: the key of the per-buyer count.
type SaleBuyer struct {
	SaleID ids.ID
	UserID ids.ID
}

// BuyerKey is an Idempotency-Key in the scope it belongs to: one buyer.
type BuyerKey struct {
	UserID ids.ID
	Key    string
}

// AdmissionQuery names what deciding a batch of attempts needs read under the sales' locks.
type AdmissionQuery struct {
	SaleIDs []ids.ID
	Buyers  []SaleBuyer
	Keys    []BuyerKey
}

// AdmissionState is what the store read, under the sales' locks, for a batch.
type AdmissionState struct {
	// Sales holds each queried sale that exists.
	Sales map[ids.ID]Sale
	// Bought is each queried buyer's units counted against the sale's per-buyer limit
	// (absent: none).
	Bought map[SaleBuyer]int
	// Keys holds the attempt already recorded under each queried key, if any.
	Keys map[BuyerKey]Attempt
}

// SaleFilter selects sales for staff; the zero value lists every sale, newest first.
type SaleFilter struct {
	// Phases keeps sales in any of these phases at Now (empty: all).
	Phases []Phase
	Now    time.Time
	// BeforeID continues a listing: only sales with a smaller id (0: from the newest).
	BeforeID ids.ID
	Limit    int
}

// OrderedAttempt is an attempt whose order was made.
type OrderedAttempt struct {
	AttemptID ids.ID
	Order     PlacedOrder
}

// Storer is the persistence the promotion service needs; promotiondb implements it on
// SQLite and MySQL. Methods return this package's errors for expected cases.
type Storer interface {
	// CreateSale inserts s (status Holding) unless a live sale (holding or scheduled) of the
	// same SKU overlaps its window, which is ErrOverlap with details.sales. Creates for one
	// SKU are serialised, so two overlapping sales cannot both be inserted.
	CreateSale(ctx context.Context, s Sale) error
	// Sale reads a sale; ErrSaleNotFound.
	Sale(ctx context.Context, id ids.ID) (Sale, error)
	// Sales lists the sales f selects, newest first.
	Sales(ctx context.Context, f SaleFilter) ([]Sale, error)
	// CurrentSales lists the scheduled sales that have not ended at now (upcoming and
	// active), soonest first.
	CurrentSales(ctx context.Context, now time.Time, limit int) ([]Sale, error)
	// SetSaleStatus moves sale id to status to (with failReason when to is Failed), under
	// its row lock, if its status is one of from; changed says whether it did. Either way it
	// returns the sale as it now is. A sale moved to Failed with settled true is marked
	// settled too (nothing was held). ErrSaleNotFound.
	SetSaleStatus(ctx context.Context, id ids.ID, from []SaleStatus, to SaleStatus, failReason string, settled bool, now time.Time) (s Sale, changed bool, err error)
	// SalesHolding lists sales still Holding that were created before before.
	SalesHolding(ctx context.Context, before time.Time, limit int) ([]Sale, error)
	// EndDue marks every Scheduled sale whose EndsAt is not after now as Ended and says how
	// many it marked.
	EndDue(ctx context.Context, now time.Time) (int, error)
	// Settleable lists the ended, cancelled and failed sales not yet settled that have no
	// attempt still Accepted.
	Settleable(ctx context.Context, limit int) ([]Sale, error)
	// MarkSettled records that a sale's hold was released.
	MarkSettled(ctx context.Context, id ids.ID, now time.Time) error

	// RecordAttempts locks the queried sales, reads what decide needs, and lets decide pick
	// the attempts to accept; it inserts those, takes their units off each sale's Remaining
	// and adds them to the buyers' counts, all in one transaction. decide may run more than
	// once (a transaction retried after a deadlock) and must start afresh each time. An
	// error from decide rolls everything back.
	RecordAttempts(ctx context.Context, q AdmissionQuery, decide func(AdmissionState) ([]Attempt, error)) error
	// AdmissionSnapshot reads a sale's Remaining, the count of every buyer who ever had an
	// attempt admitted (zero for those whose units went back) and the keys of its recorded
	// attempts, consistently with RecordAttempts; ErrSaleNotFound.
	AdmissionSnapshot(ctx context.Context, saleID ids.ID) (FilterState, error)
	// BuyerRecord reads a buyer's count in a sale and the attempt recorded under key, if any.
	BuyerRecord(ctx context.Context, saleID, userID ids.ID, key string) (bought int, prior Attempt, found bool, err error)
	// Attempt reads an attempt; ErrAttemptNotFound.
	Attempt(ctx context.Context, id ids.ID) (Attempt, error)

	// ClaimAccepted claims up to limit Accepted attempts due at now for by: unclaimed ones,
	// those whose claimer died, and by's own (one worker runs per process, so those are left
	// from a round that failed). Several processes may claim at once; none gets another's.
	ClaimAccepted(ctx context.Context, by Claimant, now time.Time, limit int) ([]Attempt, error)
	// MarkOrdered records the orders of Accepted attempts (others are left as they are).
	MarkOrdered(ctx context.Context, list []OrderedAttempt, now time.Time) error
	// RetryLater frees claimed attempts to be tried again from next on, counting the try.
	RetryLater(ctx context.Context, attemptIDs []ids.ID, next time.Time) error
	// FailAttempt marks an Accepted attempt failed with reason and gives its units back to
	// the sale's Remaining and the buyer's count, in one transaction; failed is false (and
	// nothing changes) when the attempt was not Accepted.
	FailAttempt(ctx context.Context, attemptID ids.ID, reason string, now time.Time) (a Attempt, failed bool, err error)
	// ReturnOrder gives the units of the attempt whose order is orderID back to its sale and
	// buyer, if the sale is still running at now and they were not given back before;
	// returned says whether it did. An order of no attempt is ErrAttemptNotFound.
	ReturnOrder(ctx context.Context, orderID ids.ID, now time.Time) (a Attempt, returned bool, err error)
}
