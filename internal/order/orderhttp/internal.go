package orderhttp

import (
	"errors"
	"net/http"

	"github.com/minimart/minimart/internal/order"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
	"github.com/minimart/minimart/internal/platform/web"
)

// The internal API other Minimart services call (through orderclient) when orders run as
// their own service. Its models are declared here once; the client decodes into them.

// Internal paths.
const (
	PathOrders = "/internal/v1/orders/" // {id}?user_id=, {id}/refunding
	PathPlaced = "/internal/v1/orders/placed"
	// PathSaleOrders takes the orders of accepted flash-sale attempts (idempotent by attempt).
	PathSaleOrders = "/internal/v1/sale-orders"
)

// SaleOrderRequest is order.SaleInput on the wire.
type SaleOrderRequest struct {
	AttemptID ids.ID    `json:"attempt_id"`
	SaleID    ids.ID    `json:"sale_id"`
	UserID    ids.ID    `json:"user_id"`
	SKUID     ids.ID    `json:"sku_id"`
	AddressID ids.ID    `json:"address_id"`
	Quantity  int       `json:"quantity"`
	UnitPrice money.Fen `json:"unit_price"`
	StockRef  string    `json:"stock_ref"`
}

// OrderResponse is an order as peers see it (staff fields included).
type OrderResponse struct {
	Order order.Order `json:"order"`
}

// Check rejects an answer that names no order.
func (r *OrderResponse) Check() error {
	if r.Order.ID == 0 || r.Order.OrderNo == "" || !r.Order.Status.Valid() {
		return errors.New("order is missing or has no status")
	}
	return nil
}

// RefundingRequest moves a paid or shipped order to refunding.
type RefundingRequest struct {
	Actor  string `json:"actor"`
	Reason string `json:"reason"`
}

// PlacedRequest asks which order numbers name recorded orders.
type PlacedRequest struct {
	OrderNos []string `json:"order_nos"`
}

// PlacedResponse lists the recorded ones.
type PlacedResponse struct {
	Placed []string `json:"placed"`
}

// Check rejects an answer without the list.
func (r *PlacedResponse) Check() error {
	if r.Placed == nil {
		return errors.New("placed is missing")
	}
	return nil
}

// InternalRoutes registers the peer endpoints behind guard (the service-token check).
func InternalRoutes(rt *web.Router, svc *order.Service, guard func(http.Handler) http.Handler) {
	h := &handlers{svc: svc}
	rt.Handle("GET "+PathOrders+"{id}", guard(web.HandlerFunc(h.internalOrder)))
	rt.Handle("POST "+PathOrders+"{id}/refunding", guard(web.HandlerFunc(h.internalRefunding)))
	rt.Handle("POST "+PathPlaced, guard(web.HandlerFunc(h.internalPlaced)))
	rt.Handle("POST "+PathSaleOrders, guard(web.HandlerFunc(h.internalSaleOrder)))
}

func (h *handlers) internalSaleOrder(w http.ResponseWriter, r *http.Request) error {
	var in SaleOrderRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	o, err := h.svc.CreateForSale(r.Context(), order.SaleInput(in))
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, OrderResponse{Order: o})
	return nil
}

func (h *handlers) internalOrder(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var userID ids.ID // 0: any buyer's
	if q := r.URL.Query().Get("user_id"); q != "" {
		if userID, err = ids.Parse(q); err != nil {
			return web.ErrInvalidParam.Withf("user_id must be an id")
		}
	}
	o, err := h.svc.Order(r.Context(), userID, id)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, OrderResponse{Order: o})
	return nil
}

func (h *handlers) internalRefunding(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in RefundingRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	if err := h.svc.StartFullRefund(r.Context(), id, in.Actor, in.Reason); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handlers) internalPlaced(w http.ResponseWriter, r *http.Request) error {
	var in PlacedRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	placed, err := h.svc.Placed(r.Context(), in.OrderNos)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, PlacedResponse{Placed: placed})
	return nil
}
