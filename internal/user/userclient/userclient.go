// Package userclient is the user module reached over HTTP, for services that run without
// it. Client has the same methods, with the same meaning and errors, as the parts of
// user.Service that other modules use, so the composition root adapts either one to their
// ports.
package userclient

import (
	"context"
	"net/http"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/peer"
	"github.com/minimart/minimart/internal/user"
	"github.com/minimart/minimart/internal/user/userhttp"
)

// Errors are the user errors that cross the wire as themselves; any other answer from the
// peer is peer.ErrUnavailable.
var Errors = []*errs.Error{user.ErrAddressNotFound, user.ErrUserNotFound}

// Client calls a remote user module. Every call is a read, so each may be retried.
type Client struct{ peer *peer.Client }

// New wraps a peer client built with Errors as its known errors.
func New(p *peer.Client) *Client { return &Client{peer: p} }

// Address returns one of a buyer's addresses; another buyer's is user.ErrAddressNotFound.
func (c *Client) Address(ctx context.Context, userID, id ids.ID) (user.Address, error) {
	var out userhttp.AddressResponse
	if err := c.peer.Call(ctx, http.MethodGet, userhttp.PathUsers+userID.String()+"/addresses/"+id.String(), nil, &out, true); err != nil {
		return user.Address{}, err
	}
	out.Address.UserID = userID // not on the wire: it is the caller's own question
	return out.Address, nil
}

// StaffRole is the staff account's current role, "" when it may not act (disabled,
// deleted or unknown); it satisfies auth.StaffStatus for services without the user module.
func (c *Client) StaffRole(ctx context.Context, id ids.ID) (string, error) {
	var out userhttp.StaffStatusResponse
	if err := c.peer.Call(ctx, http.MethodGet, userhttp.PathStaff+id.String()+"/status", nil, &out, true); err != nil {
		return "", err
	}
	return out.Role, nil
}

// OpenID is the buyer's WeChat openid: "" when they never logged in through the mini-program.
func (c *Client) OpenID(ctx context.Context, userID ids.ID) (string, error) {
	var out userhttp.OpenIDResponse
	if err := c.peer.Call(ctx, http.MethodGet, userhttp.PathUsers+userID.String()+"/openid", nil, &out, true); err != nil {
		return "", err
	}
	return *out.OpenID, nil
}
