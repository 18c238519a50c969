package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/minimart/minimart/internal/cart"
	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/order"
	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/user"
)

// The adapters below satisfy each module's own ports with the other modules' services, in
// process. Split into services, the same ports are satisfied by HTTP clients instead.

func onSale(r catalog.SKURef) bool { return !r.Deleted && r.ProductStatus == catalog.OnShelf }

func image(r catalog.SKURef) string {
	if r.Image != "" {
		return r.Image
	}
	return r.ProductImage
}

type orderCatalog struct{ svc *catalog.Service }

func (c orderCatalog) Items(ctx context.Context, skuIDs []ids.ID) (map[ids.ID]order.Item, error) {
	refs, err := c.svc.SKURefs(ctx, skuIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[ids.ID]order.Item, len(refs))
	for _, r := range refs {
		out[r.ID] = order.Item{SKUID: r.ID, ProductID: r.ProductID, Title: r.ProductTitle, Specs: r.Specs,
			Image: image(r), Price: r.Price, OnSale: onSale(r)}
	}
	return out, nil
}

type cartCatalog struct{ svc *catalog.Service }

func (c cartCatalog) Items(ctx context.Context, skuIDs []ids.ID) (map[ids.ID]cart.Item, error) {
	refs, err := c.svc.SKURefs(ctx, skuIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[ids.ID]cart.Item, len(refs))
	for _, r := range refs {
		out[r.ID] = cart.Item{SKUID: r.ID, ProductID: r.ProductID, Title: r.ProductTitle, Specs: r.Specs,
			Image: image(r), Price: r.Price, OnSale: onSale(r), Deleted: r.Deleted}
	}
	return out, nil
}

type orderStock struct{ svc *inventory.Service }

func (s orderStock) Reserve(ctx context.Context, orderNo string, lines []order.LineRef, expiresAt time.Time) error {
	rl := make([]inventory.ReserveLine, len(lines))
	for i, l := range lines {
		rl[i] = inventory.ReserveLine{SKUID: l.SKUID, Quantity: int64(l.Quantity)}
	}
	_, err := s.svc.Reserve(ctx, orderNo, rl, expiresAt)
	return err
}

func (s orderStock) Release(ctx context.Context, orderNo, reason string) error {
	_, err := s.svc.Release(ctx, orderNo, reason)
	if errors.Is(err, inventory.ErrReservationNotFound) {
		return nil // nothing was held
	}
	return err
}

type orderAddresses struct{ svc *user.Service }

func (a orderAddresses) Address(ctx context.Context, userID, addressID ids.ID) (order.AddressSnapshot, error) {
	ad, err := a.svc.Address(ctx, userID, addressID)
	if err != nil {
		return order.AddressSnapshot{}, err
	}
	return order.AddressSnapshot{Recipient: ad.Recipient, Phone: ad.Phone, Province: ad.Province, City: ad.City,
		District: ad.District, Detail: ad.Detail}, nil
}

type orderCart struct{ svc *cart.Service }

func (c orderCart) Selected(ctx context.Context, userID ids.ID) ([]order.LineRef, error) {
	lines, err := c.svc.Selected(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]order.LineRef, len(lines))
	for i, l := range lines {
		out[i] = order.LineRef{SKUID: l.SKUID, Quantity: l.Quantity}
	}
	return out, nil
}

func (c orderCart) Remove(ctx context.Context, userID ids.ID, skuIDs []ids.ID) error {
	return c.svc.RemoveSKUs(ctx, userID, skuIDs)
}

type paymentOrders struct{ svc *order.Service }

func (o paymentOrders) Order(ctx context.Context, userID, orderID ids.ID) (payment.PayableOrder, error) {
	ord, err := o.svc.Order(ctx, userID, orderID)
	if err != nil {
		return payment.PayableOrder{}, err
	}
	desc := "Minimart " + ord.OrderNo
	if len(ord.Lines) > 0 {
		desc = ord.Lines[0].Title
		if len(ord.Lines) > 1 {
			desc += fmt.Sprintf(" 等%d件", len(ord.Lines))
		}
	}
	return payment.PayableOrder{ID: ord.ID, OrderNo: ord.OrderNo, UserID: ord.UserID, Status: string(ord.Status),
		Payable: ord.Payable, PayDeadline: ord.PayDeadline, Description: desc}, nil
}

func (o paymentOrders) StartFullRefund(ctx context.Context, orderID ids.ID, actor, reason string) error {
	err := o.svc.StartFullRefund(ctx, orderID, actor, reason)
	if e, ok := errs.As(err); ok && errors.Is(err, order.ErrInvalidState) {
		return payment.ErrNotRefundable.Withf("%s", e.Message)
	}
	return err
}

type paymentBuyers struct{ svc *user.Service }

func (b paymentBuyers) OpenID(ctx context.Context, userID ids.ID) (string, error) {
	u, err := b.svc.Me(ctx, userID)
	if err != nil {
		return "", err
	}
	return u.OpenID, nil
}
