// Package orderclient is the order module reached over HTTP, for services that run without
// it. Client has the same methods, with the same meaning and errors, as the parts of
// order.Service that other modules use, so the composition root adapts either one to their
// ports.
package orderclient

import (
	"context"
	"net/http"

	"github.com/minimart/minimart/internal/order"
	"github.com/minimart/minimart/internal/order/orderhttp"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/peer"
)

// Errors are the order errors that cross the wire as themselves; any other answer from the
// peer is peer.ErrUnavailable.
var Errors = []*errs.Error{order.ErrOrderNotFound, order.ErrInvalidState, errs.ErrValidation}

// Client calls a remote order module. Every call may be retried: reads, and a move to
// refunding that leaves a refunding order as it is.
type Client struct{ peer *peer.Client }

// New wraps a peer client built with Errors as its known errors.
func New(p *peer.Client) *Client { return &Client{peer: p} }

// Order returns an order; userID 0 reads any buyer's, another buyer's is
// order.ErrOrderNotFound.
func (c *Client) Order(ctx context.Context, userID, id ids.ID) (order.Order, error) {
	path := orderhttp.PathOrders + id.String()
	if userID != 0 {
		path += "?user_id=" + userID.String()
	}
	var out orderhttp.OrderResponse
	if err := c.peer.Call(ctx, http.MethodGet, path, nil, &out, true); err != nil {
		return order.Order{}, err
	}
	return out.Order, nil
}

// StartFullRefund moves a paid or shipped order to refunding; a refunding one stays so.
func (c *Client) StartFullRefund(ctx context.Context, id ids.ID, actor, reason string) error {
	return c.peer.Call(ctx, http.MethodPost, orderhttp.PathOrders+id.String()+"/refunding",
		orderhttp.RefundingRequest{Actor: actor, Reason: reason}, nil, true)
}

// CreateForSale places the order of an accepted flash-sale attempt; it is idempotent by
// attempt, so the call is safe to repeat.
func (c *Client) CreateForSale(ctx context.Context, in order.SaleInput) (order.Order, error) {
	var out orderhttp.OrderResponse
	if err := c.peer.Call(ctx, http.MethodPost, orderhttp.PathSaleOrders, orderhttp.SaleOrderRequest(in), &out, true); err != nil {
		return order.Order{}, err
	}
	return out.Order, nil
}

// Placed returns the order numbers among orderNos that name a recorded order.
func (c *Client) Placed(ctx context.Context, orderNos []string) ([]string, error) {
	if len(orderNos) == 0 {
		return []string{}, nil
	}
	var out orderhttp.PlacedResponse
	if err := c.peer.Call(ctx, http.MethodPost, orderhttp.PathPlaced, orderhttp.PlacedRequest{OrderNos: orderNos}, &out, true); err != nil {
		return nil, err
	}
	return out.Placed, nil
}
