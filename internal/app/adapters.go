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

// The sources are what the adapters below need of a module. Each is satisfied by the
// module's service in process and by its HTTP client (<module>client) when the module runs
// in another service, with the same meaning and errors, so the adapters do not know which.
type (
	skuSource interface {
		SKURefs(ctx context.Context, skuIDs []ids.ID) ([]catalog.SKURef, error)
	}
	stockSource interface {
		Available(ctx context.Context, skuIDs []ids.ID) (map[ids.ID]int64, error)
		Reserve(ctx context.Context, ref string, lines []inventory.ReserveLine, expiresAt time.Time) (inventory.Reservation, error)
		ReserveFrom(ctx context.Context, ref, from string, lines []inventory.ReserveLine, expiresAt time.Time) (inventory.Reservation, error)
		Hold(ctx context.Context, ref string, lines []inventory.ReserveLine, expiresAt time.Time) (inventory.Reservation, error)
		Release(ctx context.Context, ref, reason string) (inventory.Reservation, error)
	}
	userSource interface {
		Address(ctx context.Context, userID, id ids.ID) (user.Address, error)
		OpenID(ctx context.Context, userID ids.ID) (string, error)
	}
	cartSource interface {
		Selected(ctx context.Context, userID ids.ID) ([]cart.SelectedLine, error)
		RemoveSKUs(ctx context.Context, userID ids.ID, skuIDs []ids.ID) error
	}
	orderSource interface {
		Order(ctx context.Context, userID, id ids.ID) (order.Order, error)
		StartFullRefund(ctx context.Context, id ids.ID, actor, reason string) error
	}
)

// The adapters satisfy each module's own ports with the sources above.

func onSale(r catalog.SKURef) bool { return !r.Deleted && r.ProductStatus == catalog.OnShelf }

func image(r catalog.SKURef) string {
	if r.Image != "" {
		return r.Image
	}
	return r.ProductImage
}

type orderCatalog struct{ src skuSource }

func (c orderCatalog) Items(ctx context.Context, skuIDs []ids.ID) (map[ids.ID]order.Item, error) {
	refs, err := c.src.SKURefs(ctx, skuIDs)
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

type cartCatalog struct{ src skuSource }

func (c cartCatalog) Items(ctx context.Context, skuIDs []ids.ID) (map[ids.ID]cart.Item, error) {
	refs, err := c.src.SKURefs(ctx, skuIDs)
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

type inventorySKUNames struct{ src skuSource }

func (n inventorySKUNames) SKUNames(ctx context.Context, skuIDs []ids.ID) (map[ids.ID]inventory.SKUName, error) {
	refs, err := n.src.SKURefs(ctx, skuIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[ids.ID]inventory.SKUName, len(refs))
	for _, r := range refs {
		if !r.Deleted {
			out[r.ID] = inventory.SKUName{ProductID: r.ProductID, Title: r.ProductTitle, Specs: r.Specs}
		}
	}
	return out, nil
}

type orderStock struct{ src stockSource }

func (s orderStock) Reserve(ctx context.Context, orderNo string, lines []order.LineRef, expiresAt time.Time) error {
	_, err := s.src.Reserve(ctx, orderNo, reserveLines(lines), expiresAt)
	return err
}

func (s orderStock) ReserveFrom(ctx context.Context, orderNo, from string, lines []order.LineRef, expiresAt time.Time) error {
	_, err := s.src.ReserveFrom(ctx, orderNo, from, reserveLines(lines), expiresAt)
	return err
}

func reserveLines(lines []order.LineRef) []inventory.ReserveLine {
	rl := make([]inventory.ReserveLine, len(lines))
	for i, l := range lines {
		rl[i] = inventory.ReserveLine{SKUID: l.SKUID, Quantity: int64(l.Quantity)}
	}
	return rl
}

func (s orderStock) Release(ctx context.Context, orderNo, reason string) error {
	_, err := s.src.Release(ctx, orderNo, reason)
	if errors.Is(err, inventory.ErrReservationNotFound) {
		return nil // nothing was held
	}
	return err
}

type orderAddresses struct{ src userSource }

func (a orderAddresses) Address(ctx context.Context, userID, addressID ids.ID) (order.AddressSnapshot, error) {
	ad, err := a.src.Address(ctx, userID, addressID)
	if err != nil {
		return order.AddressSnapshot{}, err
	}
	return order.AddressSnapshot{Recipient: ad.Recipient, Phone: ad.Phone, Province: ad.Province, City: ad.City,
		District: ad.District, Detail: ad.Detail}, nil
}

type orderCart struct{ src cartSource }

func (c orderCart) Selected(ctx context.Context, userID ids.ID) ([]order.LineRef, error) {
	lines, err := c.src.Selected(ctx, userID)
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
	return c.src.RemoveSKUs(ctx, userID, skuIDs)
}

type paymentOrders struct{ src orderSource }

func (o paymentOrders) Order(ctx context.Context, userID, orderID ids.ID) (payment.PayableOrder, error) {
	ord, err := o.src.Order(ctx, userID, orderID)
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
	return payment.PayableOrder{ID: ord.ID, OrderNo: ord.OrderNo, UserID: ord.UserID, Status: ord.Status,
		Payable: ord.Payable, PayDeadline: ord.PayDeadline, Description: desc}, nil
}

func (o paymentOrders) StartFullRefund(ctx context.Context, orderID ids.ID, actor, reason string) error {
	err := o.src.StartFullRefund(ctx, orderID, actor, reason)
	if e, ok := errs.As(err); ok && errors.Is(err, order.ErrInvalidState) {
		return payment.ErrNotRefundable.Withf("%s", e.Message)
	}
	return err
}
