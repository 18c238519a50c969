package cataloghttp

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/web"
)

// The internal API other Minimart services call (through catalogclient) when the catalog
// runs as its own service. Its models are declared here once; the client decodes into them.

// Internal paths.
const (
	PathSKURefs     = "/internal/v1/catalog/sku-refs"
	PathSKUs        = "/internal/v1/catalog/skus/"       // {id}/product
	PathSKUByCode   = "/internal/v1/catalog/sku-by-code" // ?code=
	PathProductSKUs = "/internal/v1/catalog/products/"   // {id}/live-skus
)

// MaxSKURefs bounds one SKU lookup (an order has at most 50 lines, a cart 100).
const MaxSKURefs = 1000

// SKURefsRequest asks for SKUs with their product's title, image and status.
type SKURefsRequest struct {
	SKUIDs []ids.ID `json:"sku_ids"`
}

// SKURefsResponse lists the SKUs the catalog knows among those asked for.
type SKURefsResponse struct {
	Items []catalog.SKURef `json:"items"`
}

// Check rejects an answer without the list or with a SKU that names no id or product.
func (r *SKURefsResponse) Check() error {
	if r.Items == nil {
		return errors.New("items is missing")
	}
	for _, it := range r.Items {
		if it.ID == 0 || it.ProductID == 0 {
			return errors.New("an item has no id or product id")
		}
	}
	return nil
}

// IDResponse carries one id.
type IDResponse struct {
	ID ids.ID `json:"id"`
}

// Check rejects an answer without the id.
func (r *IDResponse) Check() error {
	if r.ID == 0 {
		return errors.New("id is missing")
	}
	return nil
}

// IDsResponse carries a list of ids (possibly empty, never absent).
type IDsResponse struct {
	IDs []ids.ID `json:"ids"`
}

// Check rejects an answer without the list.
func (r *IDsResponse) Check() error {
	if r.IDs == nil {
		return errors.New("ids is missing")
	}
	return nil
}

// InternalRoutes registers the peer endpoints behind guard (the service-token check).
func InternalRoutes(rt *web.Router, svc *catalog.Service, guard func(http.Handler) http.Handler) {
	h := &handlers{svc: svc}
	rt.Handle("POST "+PathSKURefs, guard(web.HandlerFunc(h.skuRefs)))
	rt.Handle("GET "+PathSKUs+"{id}/product", guard(web.HandlerFunc(h.productOfSKU)))
	rt.Handle("GET "+PathSKUByCode, guard(web.HandlerFunc(h.skuByCode)))
	rt.Handle("GET "+PathProductSKUs+"{id}/live-skus", guard(web.HandlerFunc(h.liveSKUs)))
}

func (h *handlers) skuRefs(w http.ResponseWriter, r *http.Request) error {
	var in SKURefsRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	if len(in.SKUIDs) > MaxSKURefs {
		var f errs.Fields
		f.Add("sku_ids", fmt.Sprintf("at most %d per call", MaxSKURefs))
		return f.Err()
	}
	refs, err := h.svc.SKURefs(r.Context(), in.SKUIDs)
	if err != nil {
		return err
	}
	if refs == nil {
		refs = []catalog.SKURef{}
	}
	web.WriteJSON(w, http.StatusOK, SKURefsResponse{Items: refs})
	return nil
}

func (h *handlers) productOfSKU(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	productID, err := h.svc.ProductOfSKU(r.Context(), id)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, IDResponse{ID: productID})
	return nil
}

func (h *handlers) skuByCode(w http.ResponseWriter, r *http.Request) error {
	id, err := h.svc.SKUByCode(r.Context(), r.URL.Query().Get("code"))
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, IDResponse{ID: id})
	return nil
}

func (h *handlers) liveSKUs(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	list, err := h.svc.LiveSKUsOfProduct(r.Context(), id)
	if err != nil {
		return err
	}
	if list == nil {
		list = []ids.ID{}
	}
	web.WriteJSON(w, http.StatusOK, IDsResponse{IDs: list})
	return nil
}
