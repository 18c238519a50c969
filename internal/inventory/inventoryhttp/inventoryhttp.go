// Package inventoryhttp serves stock administration: set (the seed's updateProductStock),
// adjust by a delta with a reason, read a SKU's level with its ledger, and list the SKUs
// running low.
package inventoryhttp

import (
	"math"
	"net/http"
	"strconv"

	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/web"
)

type handlers struct{ svc *inventory.Service }

// Routes registers the stock endpoints for admins and operators.
func Routes(rt *web.Router, svc *inventory.Service, tokens *auth.Tokens) {
	h := &handlers{svc: svc}
	staff := func(f web.HandlerFunc) http.Handler { return tokens.Staff(auth.RoleAdmin, auth.RoleOperator)(f) }
	rt.Handle("GET /api/v1/admin/skus/{id}/stock", staff(h.level))
	rt.Handle("PUT /api/v1/admin/skus/{id}/stock", staff(h.set))
	rt.Handle("POST /api/v1/admin/skus/{id}/stock/adjustments", staff(h.adjust))
	rt.Handle("GET /api/v1/admin/stock/low", staff(h.low))
}

func actor(r *http.Request) string {
	return "staff:" + auth.PrincipalOf(r).ID.String()
}

func (h *handlers) set(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Stock  *int64 `json:"stock"`
		Reason string `json:"reason"`
	}
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	if in.Stock == nil {
		var f errs.Fields
		f.Add("stock", "is required: the new available stock")
		return f.Err()
	}
	l, err := h.svc.SetStock(r.Context(), actor(r), id, *in.Stock, in.Reason)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, l)
	return nil
}

func (h *handlers) adjust(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Delta  int64  `json:"delta"`
		Reason string `json:"reason"`
	}
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	l, err := h.svc.AdjustStock(r.Context(), actor(r), id, in.Delta, in.Reason)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, l)
	return nil
}

func (h *handlers) level(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	limit, err := web.QueryInt(r, "limit", 20, 1, math.MaxInt)
	if err != nil {
		return err
	}
	limit = min(limit, 100)
	before, err := web.QueryInt(r, "cursor", int64(0), 1, math.MaxInt64)
	if err != nil {
		return web.ErrInvalidParam.Withf("cursor must be the next_cursor of a previous page")
	}
	l, err := h.svc.Level(r.Context(), id)
	if err != nil {
		return err
	}
	entries, err := h.svc.Ledger(r.Context(), id, before, limit+1)
	if err != nil {
		return err
	}
	next := ""
	if len(entries) > limit {
		entries = entries[:limit]
		next = strconv.FormatInt(entries[limit-1].Seq, 10)
	}
	web.WriteJSON(w, http.StatusOK, struct {
		Level      inventory.Level         `json:"level"`
		Ledger     []inventory.LedgerEntry `json:"ledger"`
		NextCursor string                  `json:"next_cursor,omitempty"`
	}{l, entries, next})
	return nil
}

func (h *handlers) low(w http.ResponseWriter, r *http.Request) error {
	threshold, err := web.QueryInt(r, "threshold", int64(10), 0, inventory.MaxLowStockThreshold)
	if err != nil {
		return err
	}
	limit, err := web.QueryInt(r, "limit", 50, 1, inventory.MaxLowStockItems)
	if err != nil {
		return err
	}
	items, err := h.svc.LowStock(r.Context(), threshold, limit)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, struct {
		Threshold int64                    `json:"threshold"`
		Items     []inventory.LowStockItem `json:"items"`
	}{threshold, items})
	return nil
}
