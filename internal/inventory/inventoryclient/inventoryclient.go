// Package inventoryclient is the inventory module reached over HTTP, for services that run
// without it. Client has the same methods, with the same meaning and errors, as the parts of
// inventory.Service that other modules use, so the composition root adapts either one to
// their ports.
package inventoryclient

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/inventory/inventoryhttp"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/peer"
)

// Errors are the inventory errors that cross the wire as themselves; any other answer from
// the peer is peer.ErrUnavailable.
var Errors = []*errs.Error{
	inventory.ErrOutOfStock, inventory.ErrReservationNotFound, inventory.ErrReservationCommitted,
	inventory.ErrReservationReleased, inventory.ErrSKUNotFound, errs.ErrValidation,
}

// Client calls a remote inventory module.
type Client struct{ peer *peer.Client }

// New wraps a peer client built with Errors as its known errors.
func New(p *peer.Client) *Client { return &Client{peer: p} }

// Available gives the available stock of SKUs; SKUs without stock have no entry.
func (c *Client) Available(ctx context.Context, skuIDs []ids.ID) (map[ids.ID]int64, error) {
	if len(skuIDs) == 0 {
		return map[ids.ID]int64{}, nil
	}
	var out inventoryhttp.AvailableResponse
	err := c.peer.Call(ctx, http.MethodPost, inventoryhttp.PathAvailable,
		inventoryhttp.AvailableRequest{SKUIDs: skuIDs}, &out, true)
	return out.Available, err
}

// Reserve holds lines for ref until expiresAt, all or none; it is keyed by ref, so a retry
// returns the first reservation and the call is safe to repeat.
func (c *Client) Reserve(ctx context.Context, ref string, lines []inventory.ReserveLine, expiresAt time.Time) (inventory.Reservation, error) {
	return c.reserve(ctx, ref, inventoryhttp.ReserveRequest{Lines: lines, ExpiresAt: expiresAt})
}

// Hold is Reserve for an owner that records the hold itself (a flash sale).
func (c *Client) Hold(ctx context.Context, ref string, lines []inventory.ReserveLine, expiresAt time.Time) (inventory.Reservation, error) {
	return c.reserve(ctx, ref, inventoryhttp.ReserveRequest{Lines: lines, ExpiresAt: expiresAt, Hold: true})
}

// ReserveFrom is Reserve taking the units out of the held reservation from.
func (c *Client) ReserveFrom(ctx context.Context, ref, from string, lines []inventory.ReserveLine, expiresAt time.Time) (inventory.Reservation, error) {
	return c.reserve(ctx, ref, inventoryhttp.ReserveRequest{Lines: lines, ExpiresAt: expiresAt, From: from})
}

func (c *Client) reserve(ctx context.Context, ref string, req inventoryhttp.ReserveRequest) (inventory.Reservation, error) {
	var out inventoryhttp.ReservationResponse
	err := c.peer.Call(ctx, http.MethodPut, inventoryhttp.PathReservations+url.PathEscape(ref), req, &out, true)
	return out.Reservation, err
}

// Release returns a held reservation's stock; releasing again changes nothing.
func (c *Client) Release(ctx context.Context, ref, reason string) (inventory.Reservation, error) {
	var out inventoryhttp.ReservationResponse
	err := c.peer.Call(ctx, http.MethodPost, inventoryhttp.PathReservations+url.PathEscape(ref)+"/release",
		inventoryhttp.ReleaseRequest{Reason: reason}, &out, true)
	return out.Reservation, err
}
