// Package carthttp serves the buyer's cart: view it, add SKUs, change quantities and
// selection, remove lines, empty it. Every change answers with the whole cart view, so the
// mini-program redraws from one response.
package carthttp

import (
	"net/http"

	"github.com/minimart/minimart/internal/cart"
	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/web"
)

// Handlers serves the cart module over HTTP.
type Handlers struct{ svc *cart.Service }

// Routes registers every cart endpoint on rt; all of them need a buyer token.
func Routes(rt *web.Router, svc *cart.Service, tokens *auth.Tokens) {
	h := &Handlers{svc: svc}
	buyer := tokens.Buyer
	rt.Handle("GET /api/v1/cart", buyer(web.HandlerFunc(h.view)))
	rt.Handle("DELETE /api/v1/cart", buyer(web.HandlerFunc(h.clear)))
	rt.Handle("POST /api/v1/cart/items", buyer(web.HandlerFunc(h.add)))
	rt.Handle("PUT /api/v1/cart/items/{sku_id}", buyer(web.HandlerFunc(h.update)))
	rt.Handle("DELETE /api/v1/cart/items/{sku_id}", buyer(web.HandlerFunc(h.remove)))
	rt.Handle("POST /api/v1/cart/selection", buyer(web.HandlerFunc(h.selection)))
}

// answer writes the buyer's cart as it is after a change.
func (h *Handlers) answer(w http.ResponseWriter, r *http.Request) error {
	v, err := h.svc.View(r.Context(), auth.PrincipalOf(r).ID)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, v)
	return nil
}

func (h *Handlers) view(w http.ResponseWriter, r *http.Request) error { return h.answer(w, r) }

type addRequest struct {
	SKUID ids.ID `json:"sku_id"`
	// Quantity defaults to 1 when omitted.
	Quantity *int `json:"quantity"`
}

func (h *Handlers) add(w http.ResponseWriter, r *http.Request) error {
	var in addRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	qty := 1
	if in.Quantity != nil {
		qty = *in.Quantity
	}
	if err := h.svc.Add(r.Context(), auth.PrincipalOf(r).ID, in.SKUID, qty); err != nil {
		return err
	}
	return h.answer(w, r)
}

type updateRequest struct {
	Quantity *int  `json:"quantity"`
	Selected *bool `json:"selected"`
}

func (h *Handlers) update(w http.ResponseWriter, r *http.Request) error {
	sku, err := web.PathID(r, "sku_id")
	if err != nil {
		return err
	}
	var in updateRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	if err := h.svc.UpdateLine(r.Context(), auth.PrincipalOf(r).ID, sku, cart.LineUpdate{Quantity: in.Quantity, Selected: in.Selected}); err != nil {
		return err
	}
	return h.answer(w, r)
}

func (h *Handlers) remove(w http.ResponseWriter, r *http.Request) error {
	sku, err := web.PathID(r, "sku_id")
	if err != nil {
		return err
	}
	if err := h.svc.Remove(r.Context(), auth.PrincipalOf(r).ID, sku); err != nil {
		return err
	}
	return h.answer(w, r)
}

type selectionRequest struct {
	// SKUIDs omitted or empty means every line.
	SKUIDs   []ids.ID `json:"sku_ids"`
	Selected *bool    `json:"selected"`
}

func (h *Handlers) selection(w http.ResponseWriter, r *http.Request) error {
	var in selectionRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	if in.Selected == nil {
		var f errs.Fields
		f.Add("selected", "is required: true or false")
		return f.Err()
	}
	if err := h.svc.SetSelected(r.Context(), auth.PrincipalOf(r).ID, in.SKUIDs, *in.Selected); err != nil {
		return err
	}
	return h.answer(w, r)
}

func (h *Handlers) clear(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.Clear(r.Context(), auth.PrincipalOf(r).ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
