package carthttp

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/minimart/minimart/internal/cart"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/web"
)

// The internal API other Minimart services call (through cartclient) when the cart runs as
// its own service. Its models are declared here once; the client decodes into them.

// PathCarts is the prefix of the internal cart endpoints: {user_id}/selected and
// {user_id}/remove.
const PathCarts = "/internal/v1/carts/"

// SelectedLine is a selected cart line.
type SelectedLine struct {
	SKUID    ids.ID `json:"sku_id"`
	Quantity int    `json:"quantity"`
}

// SelectedResponse lists a buyer's selected cart lines.
type SelectedResponse struct {
	Lines []SelectedLine `json:"lines"`
}

// Check rejects an answer without the list or with a line that names no SKU.
func (r *SelectedResponse) Check() error {
	if r.Lines == nil {
		return errors.New("lines is missing")
	}
	for _, l := range r.Lines {
		if l.SKUID == 0 || l.Quantity < 1 {
			return errors.New("a line has no SKU or quantity")
		}
	}
	return nil
}

// RemoveRequest names the SKUs to take out of a buyer's cart.
type RemoveRequest struct {
	SKUIDs []ids.ID `json:"sku_ids"`
}

// InternalRoutes registers the peer endpoints behind guard (the service-token check).
func InternalRoutes(rt *web.Router, svc *cart.Service, guard func(http.Handler) http.Handler) {
	h := &Handlers{svc: svc}
	rt.Handle("GET "+PathCarts+"{user_id}/selected", guard(web.HandlerFunc(h.internalSelected)))
	rt.Handle("POST "+PathCarts+"{user_id}/remove", guard(web.HandlerFunc(h.internalRemove)))
}

func (h *Handlers) internalSelected(w http.ResponseWriter, r *http.Request) error {
	userID, err := web.PathID(r, "user_id")
	if err != nil {
		return err
	}
	lines, err := h.svc.Selected(r.Context(), userID)
	if err != nil {
		return err
	}
	out := SelectedResponse{Lines: make([]SelectedLine, len(lines))}
	for i, l := range lines {
		out.Lines[i] = SelectedLine{SKUID: l.SKUID, Quantity: l.Quantity}
	}
	web.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handlers) internalRemove(w http.ResponseWriter, r *http.Request) error {
	userID, err := web.PathID(r, "user_id")
	if err != nil {
		return err
	}
	var in RemoveRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	if len(in.SKUIDs) > cart.MaxLines {
		var f errs.Fields
		f.Add("sku_ids", fmt.Sprintf("at most %d per call", cart.MaxLines))
		return f.Err()
	}
	if err := h.svc.RemoveSKUs(r.Context(), userID, in.SKUIDs); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
