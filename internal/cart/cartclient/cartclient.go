// Package cartclient is the cart module reached over HTTP, for services that run without
// it. Client has the same methods, with the same meaning and errors, as the parts of
// cart.Service that other modules use, so the composition root adapts either one to their
// ports.
package cartclient

import (
	"context"
	"net/http"

	"github.com/minimart/minimart/internal/cart"
	"github.com/minimart/minimart/internal/cart/carthttp"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/peer"
)

// Errors are the cart errors that cross the wire as themselves; any other answer from the
// peer is peer.ErrUnavailable.
var Errors = []*errs.Error{errs.ErrValidation}

// Client calls a remote cart module.
type Client struct{ peer *peer.Client }

// New wraps a peer client built with Errors as its known errors.
func New(p *peer.Client) *Client { return &Client{peer: p} }

// Selected returns the buyer's selected cart lines.
func (c *Client) Selected(ctx context.Context, userID ids.ID) ([]cart.SelectedLine, error) {
	var out carthttp.SelectedResponse
	if err := c.peer.Call(ctx, http.MethodGet, carthttp.PathCarts+userID.String()+"/selected", nil, &out, true); err != nil {
		return nil, err
	}
	lines := make([]cart.SelectedLine, len(out.Lines))
	for i, l := range out.Lines {
		lines[i] = cart.SelectedLine{SKUID: l.SKUID, Quantity: l.Quantity}
	}
	return lines, nil
}

// RemoveSKUs takes SKUs out of the buyer's cart; removing what is not there changes nothing,
// so the call may be retried.
func (c *Client) RemoveSKUs(ctx context.Context, userID ids.ID, skuIDs []ids.ID) error {
	return c.peer.Call(ctx, http.MethodPost, carthttp.PathCarts+userID.String()+"/remove",
		carthttp.RemoveRequest{SKUIDs: skuIDs}, nil, true)
}
