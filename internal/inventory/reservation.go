package inventory

import (
	"cmp"
	"slices"
	"time"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
)

// ReservationStatus is where a reservation is: held stock is out of available and counted
// as reserved; it ends released (back to available) or committed (sold).
type ReservationStatus string

const (
	Held      ReservationStatus = "held"
	Released  ReservationStatus = "released"
	Committed ReservationStatus = "committed"
)

// ReserveLine is a quantity of one SKU to hold.
type ReserveLine struct {
	SKUID    ids.ID `json:"sku_id"`
	Quantity int64  `json:"quantity"`
}

// Reservation is stock held for one order, keyed by its order number (Ref), or for a flash
// sale. A reservation made From another (a sale's order from the sale's hold) takes its units
// out of that held reservation instead of available stock, and gives them back to it when
// released while it is still held.
type Reservation struct {
	Ref    string            `json:"ref"`
	Status ReservationStatus `json:"status"`
	// Lines are what the reservation holds now: a parent's lines leave out what its children
	// took.
	Lines []ReserveLine `json:"lines"`
	From  string        `json:"from,omitempty"`
	// Placed marks a hold whose owner is recorded when it is made (a sale's hold), so the
	// sweep of holds whose order never came to be leaves it alone.
	Placed    bool      `json:"-"`
	ExpiresAt time.Time `json:"expires_at"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Shortage names a SKU that could not be reserved and how much was there.
type Shortage struct {
	SKUID     ids.ID `json:"sku_id"`
	Requested int64  `json:"requested"`
	Available int64  `json:"available"`
}

// Reservation errors. ErrOutOfStock carries details {"skus": []Shortage}; its code is the
// one buyers see on a refused order.
var (
	ErrOutOfStock           = errs.New(errs.Conflict, "out_of_stock", "not enough stock for some items; details.skus lists them")
	ErrReservationNotFound  = errs.New(errs.NotFound, "reservation_not_found", "no reservation for this reference")
	ErrReservationCommitted = errs.New(errs.Conflict, "reservation_committed", "the reserved stock was already sold and cannot be released")
	ErrReservationReleased  = errs.New(errs.Conflict, "reservation_released", "the reservation was released (cancelled or expired) and cannot be committed")
)

// MergeLines returns one line per SKU, quantities summed, in ascending SKU order — the
// order in which stock rows are locked, so that concurrent reservations never wait on each
// other in a cycle. lines itself is not changed.
func MergeLines(lines []ReserveLine) []ReserveLine {
	sum := make(map[ids.ID]int64, len(lines))
	out := make([]ReserveLine, 0, len(lines))
	for _, l := range lines {
		if _, seen := sum[l.SKUID]; !seen {
			out = append(out, ReserveLine{SKUID: l.SKUID})
		}
		sum[l.SKUID] += l.Quantity
	}
	for i := range out {
		out[i].Quantity = sum[out[i].SKUID]
	}
	slices.SortFunc(out, func(a, b ReserveLine) int { return cmp.Compare(a.SKUID, b.SKUID) })
	return out
}
