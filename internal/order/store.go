package order

import (
	"context"
	"time"

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

// Storer is the persistence the order module needs; orderdb implements it.
type Storer interface {
	// ClaimKey records an in-progress Idempotency-Key. If the key exists it returns the
	// stored claim and claimed = false.
	ClaimKey(ctx context.Context, k Idempotency) (existing Idempotency, claimed bool, err error)
	// Key reads a claim without writing; found is false when there is none.
	Key(ctx context.Context, userID ids.ID, key string) (k Idempotency, found bool, err error)
	// DropKey removes the in-progress claim k (matched by user, key and CreatedAt, so a newer
	// claim of the same key stays) whose request failed or whose process died, so the key can
	// be retried.
	DropKey(ctx context.Context, k Idempotency) error

	// Create stores o with its lines, its first history row and ev, and completes the
	// idempotency claim (if key is not "") with o.ID, in one transaction.
	Create(ctx context.Context, o Order, t Transition, key string, ev events.Event) error
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
}
