// Package catalogclient is the catalog module reached over HTTP, for services that run
// without it. Client has the same methods, with the same meaning and errors, as the parts of
// catalog.Service that other modules use, so the composition root adapts either one to their
// ports.
package catalogclient

import (
	"context"
	"net/http"
	"net/url"

	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/catalog/cataloghttp"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/peer"
)

// Errors are the catalog errors that cross the wire as themselves; any other answer from the
// peer is peer.ErrUnavailable.
var Errors = []*errs.Error{catalog.ErrSKUNotFound, catalog.ErrProductNotFound, errs.ErrValidation}

// Client calls a remote catalog module. Every call is a read, so each may be retried.
type Client struct{ peer *peer.Client }

// New wraps a peer client built with Errors as its known errors.
func New(p *peer.Client) *Client { return &Client{peer: p} }

// SKURefs returns the SKUs the catalog knows among skuIDs (deleted ones included, marked).
func (c *Client) SKURefs(ctx context.Context, skuIDs []ids.ID) ([]catalog.SKURef, error) {
	if len(skuIDs) == 0 {
		return nil, nil
	}
	var out cataloghttp.SKURefsResponse
	err := c.peer.Call(ctx, http.MethodPost, cataloghttp.PathSKURefs, cataloghttp.SKURefsRequest{SKUIDs: skuIDs}, &out, true)
	return out.Items, err
}

// ProductOfSKU returns the product id of a live SKU, or catalog.ErrSKUNotFound.
func (c *Client) ProductOfSKU(ctx context.Context, skuID ids.ID) (ids.ID, error) {
	var out cataloghttp.IDResponse
	err := c.peer.Call(ctx, http.MethodGet, cataloghttp.PathSKUs+skuID.String()+"/product", nil, &out, true)
	return out.ID, err
}

// SKUByCode returns the id of the live SKU with this code, or catalog.ErrSKUNotFound.
func (c *Client) SKUByCode(ctx context.Context, code string) (ids.ID, error) {
	if code == "" {
		return 0, catalog.ErrSKUNotFound
	}
	var out cataloghttp.IDResponse
	err := c.peer.Call(ctx, http.MethodGet, cataloghttp.PathSKUByCode+"?code="+url.QueryEscape(code), nil, &out, true)
	return out.ID, err
}

// LiveSKUsOfProduct returns a live product's live SKUs in ascending order, or
// catalog.ErrProductNotFound.
func (c *Client) LiveSKUsOfProduct(ctx context.Context, productID ids.ID) ([]ids.ID, error) {
	var out cataloghttp.IDsResponse
	err := c.peer.Call(ctx, http.MethodGet, cataloghttp.PathProductSKUs+productID.String()+"/live-skus", nil, &out, true)
	return out.IDs, err
}
