package inventoryhttp

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/web"
)

// The internal API other Minimart services call (through inventoryclient) when inventory
// runs as its own service. Its request and answer models are declared here, once, and the
// client decodes into the same types.

// Internal paths.
const (
	PathAvailable    = "/internal/v1/inventory/available"
	PathReservations = "/internal/v1/inventory/reservations/"
)

// MaxAvailableSKUs bounds one availability question (a cart holds at most 100 lines, a
// product page a few dozen SKUs).
const MaxAvailableSKUs = 1000

// AvailableRequest asks for the available stock of SKUs.
type AvailableRequest struct {
	SKUIDs []ids.ID `json:"sku_ids"`
}

// AvailableResponse maps SKU ids to available stock; SKUs without stock have no entry.
type AvailableResponse struct {
	Available map[ids.ID]int64 `json:"available"`
}

// Check rejects an answer without the map, which a healthy peer always sends.
func (r *AvailableResponse) Check() error {
	if r.Available == nil {
		return errors.New("available is missing")
	}
	return nil
}

// ReserveRequest holds stock for an order (Reserve), for an owner that records the hold
// itself (Hold: a flash sale), or out of another held reservation (From: a sale's order).
type ReserveRequest struct {
	Lines     []inventory.ReserveLine `json:"lines"`
	ExpiresAt time.Time               `json:"expires_at"`
	Hold      bool                    `json:"hold,omitempty"`
	From      string                  `json:"from,omitempty"`
}

// ReleaseRequest frees an order's stock.
type ReleaseRequest struct {
	Reason string `json:"reason"`
}

// ReservationResponse is a reservation as peers see it.
type ReservationResponse struct {
	Reservation inventory.Reservation `json:"reservation"`
}

// Check rejects an answer that does not name a reservation.
func (r *ReservationResponse) Check() error {
	if r.Reservation.Ref == "" || r.Reservation.Status == "" {
		return errors.New("reservation is missing")
	}
	return nil
}

// InternalRoutes registers the peer endpoints behind guard (the service-token check).
func InternalRoutes(rt *web.Router, svc *inventory.Service, guard func(http.Handler) http.Handler) {
	h := &handlers{svc: svc}
	rt.Handle("POST "+PathAvailable, guard(web.HandlerFunc(h.available)))
	rt.Handle("PUT "+PathReservations+"{ref}", guard(web.HandlerFunc(h.reserve)))
	rt.Handle("POST "+PathReservations+"{ref}/release", guard(web.HandlerFunc(h.release)))
}

func (h *handlers) available(w http.ResponseWriter, r *http.Request) error {
	var in AvailableRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	if len(in.SKUIDs) > MaxAvailableSKUs {
		var f errs.Fields
		f.Add("sku_ids", fmt.Sprintf("at most %d per call", MaxAvailableSKUs))
		return f.Err()
	}
	m, err := h.svc.Available(r.Context(), in.SKUIDs)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, AvailableResponse{Available: m})
	return nil
}

func (h *handlers) reserve(w http.ResponseWriter, r *http.Request) error {
	var in ReserveRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	ref := r.PathValue("ref")
	var res inventory.Reservation
	var err error
	switch {
	case in.Hold && in.From != "":
		var f errs.Fields
		f.Add("from", "a hold takes available stock; give hold or from, not both")
		err = f.Err()
	case in.Hold:
		res, err = h.svc.Hold(r.Context(), ref, in.Lines, in.ExpiresAt)
	case in.From != "":
		res, err = h.svc.ReserveFrom(r.Context(), ref, in.From, in.Lines, in.ExpiresAt)
	default:
		res, err = h.svc.Reserve(r.Context(), ref, in.Lines, in.ExpiresAt)
	}
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, ReservationResponse{Reservation: res})
	return nil
}

func (h *handlers) release(w http.ResponseWriter, r *http.Request) error {
	var in ReleaseRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	res, err := h.svc.Release(r.Context(), r.PathValue("ref"), in.Reason)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, ReservationResponse{Reservation: res})
	return nil
}
