package order

import (
	"context"
	"time"

	"github.com/minimart/minimart/internal/platform/batch"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
)

// Idempotency is a claimed Idempotency-Key: who sent it, a hash of the request, and once
// done, the order it created.
type Idempotency struct {
	UserID      ids.ID
	Key         string
	RequestHash string
	OrderID     ids.ID // 0 while the request is in progress
	CreatedAt   time.Time
	// ClaimedBy is the liveness instance of the process whose request holds the key ("" when
	// unknown): a retry takes over a key whose holder died without waiting out claimAbandoned.
	ClaimedBy string
}

// ListFilter selects orders for a list page.
type ListFilter struct {
	UserID  ids.ID // 0: every buyer (staff lists)
	Status  Status // "": any
	OrderNo string // exact match
	From    time.Time
	To      time.Time // exclusive; zero: no bound
	Offset  int
	Limit   int
}

// KeyClaim is the answer to claiming a key: Claimed, or the claim already Existing.
type KeyClaim struct {
	Existing Idempotency
	Claimed  bool
}

// NewOrder is an order to store with its first history row, its event and the
// Idempotency-Key (if not "") whose claim it completes.
type NewOrder struct {
	Order      Order
	Transition Transition
	Key        string
	Event      events.Event
}

// Storer is the persistence the order module needs; orderdb implements it.
type Storer interface {
	// ClaimKeys records each in-progress Idempotency-Key of ks in one transaction and
	// answers each: Claimed with the claim as stored, or the stored claim when the key
	// exists (or appears earlier in ks). An error for the batch claims nothing.
	ClaimKeys(ctx context.Context, ks []Idempotency) ([]batch.Result[KeyClaim], error)
	// Key reads a claim without writing; found is false when there is none.
	Key(ctx context.Context, userID ids.ID, key string) (k Idempotency, found bool, err error)
	// DropKey removes the in-progress claim k (matched by user, key and CreatedAt, so a newer
	// claim of the same key stays) whose request failed or whose process died, so the key can
	// be retried.
	DropKey(ctx context.Context, k Idempotency) error

	// CreateBatch stores each order of os with its lines, first history row and event, and
	// completes its idempotency claim (if its key is not "") with its id, in one
	// transaction. An order whose claim is no longer in progress gets an error and is not
	// stored; its neighbours are. An error for the batch stores nothing.
	CreateBatch(ctx context.Context, os []NewOrder) ([]batch.Result[struct{}], error)
	// WriteConcurrency is how many batches may usefully be written at once.
	WriteConcurrency() int
	// Order returns an order with its lines. userID 0 reads any buyer's order.
	Order(ctx context.Context, id, userID ids.ID) (Order, error)
	// Orders lists orders newest first and counts all matches.
	Orders(ctx context.Context, f ListFilter) ([]Order, int, error)
	// History lists an order's transitions, oldest first.
	History(ctx context.Context, id ids.ID) ([]Transition, error)
	// Update loads the order (locked), lets fn change it and return the transition and
	// event to record (a zero Transition records none, e.g. for a staff note), and saves all
	// in one transaction. fn returning an error changes nothing.
	Update(ctx context.Context, id ids.ID, fn func(*Order) (Transition, *events.Event, error)) (Order, error)
	// Due returns the ids of up to limit orders in status whose deadline column (pay_deadline
	// for pending_payment, auto_complete_at for shipped) is before now, oldest first. Several
	// instances may call it at once: each then re-checks the order inside Update.
	Due(ctx context.Context, status Status, now time.Time, limit int) ([]ids.ID, error)
	// Placed returns the order numbers among nos that name a recorded order.
	Placed(ctx context.Context, nos []string) ([]string, error)
	// DayTotals totals the orders placed in [from, to) and the orders paid in [from, to) per
	// calendar day of the zone offsetSeconds east of UTC, keyed by that day as YYYY-MM-DD;
	// days without either are absent.
	DayTotals(ctx context.Context, from, to time.Time, offsetSeconds int) (map[string]DayTotals, error)
	// StatusCounts counts the orders now in each of statuses; a status without orders is absent.
	StatusCounts(ctx context.Context, statuses ...Status) (map[Status]int, error)
}
