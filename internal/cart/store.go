package cart

import (
	"context"
	"time"

	"github.com/minimart/minimart/internal/platform/ids"
)

// Storer is the persistence the cart service needs; cartdb implements it on SQLite and
// MySQL. Methods return this package's errors (ErrCartFull, ErrLineNotFound) for expected
// cases.
type Storer interface {
	// Lines lists the buyer's lines, newest first (by AddedAt, then SKU id).
	Lines(ctx context.Context, userID ids.ID) ([]Line, error)
	// AddLine stores l as a new line or, when the buyer already has a line of l.SKUID,
	// lets merge change that line and stores the result. It runs under a lock on the
	// buyer's cart, so a new line beyond MaxLines is refused with ErrCartFull even when
	// many adds arrive at once.
	AddLine(ctx context.Context, l Line, merge func(existing *Line) error) (Line, error)
	// UpdateLine lets fn change the buyer's line of skuID and stores it; ErrLineNotFound
	// when there is none.
	UpdateLine(ctx context.Context, userID, skuID ids.ID, fn func(*Line) error) (Line, error)
	// SetSelected sets the selected flag of the lines of skuIDs, or of every line when
	// skuIDs is empty. If any of skuIDs is not in the cart nothing changes and the error is
	// ErrLineNotFound naming them.
	SetSelected(ctx context.Context, userID ids.ID, skuIDs []ids.ID, selected bool, now time.Time) error
	// RemoveLines deletes the buyer's lines of skuIDs and says how many there were.
	RemoveLines(ctx context.Context, userID ids.ID, skuIDs []ids.ID) (int, error)
	// Clear deletes every line of the buyer.
	Clear(ctx context.Context, userID ids.ID) error
}
