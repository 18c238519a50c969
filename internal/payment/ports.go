package payment

import (
	"context"
	"time"

	"github.com/minimart/minimart/internal/order/orderevents"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// PayableOrder is an order as the payment module needs it.
type PayableOrder struct {
	ID          ids.ID
	OrderNo     string
	UserID      ids.ID
	Status      orderevents.Status
	Payable     money.Fen
	PayDeadline time.Time
	Description string
}

// Orders is what payment needs from the order module. Errors match this package's
// sentinels by code.
type Orders interface {
	// Order returns an order; userID 0 reads any buyer's. Another buyer's is the order
	// module's order_not_found error, which payment passes on as it is.
	Order(ctx context.Context, userID, orderID ids.ID) (PayableOrder, error)
	// StartFullRefund moves a paid or shipped order to refunding (a refunding one stays);
	// any other status is ErrNotRefundable.
	StartFullRefund(ctx context.Context, orderID ids.ID, actor, reason string) error
}

// Buyers gives the buyer's WeChat openid ("" when the buyer never logged in through the
// mini-program).
type Buyers interface {
	OpenID(ctx context.Context, userID ids.ID) (string, error)
}
