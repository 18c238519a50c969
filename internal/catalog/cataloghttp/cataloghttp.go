// Package cataloghttp serves the catalog: the buyer's category tree, lists, detail and
// search, and the staff's category, product, SKU and image administration.
package cataloghttp

import (
	"errors"
	"io"
	"net/http"

	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/blob"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
	"github.com/minimart/minimart/internal/platform/web"
)

// UploadPath is where staff upload images; it gets its own body limit.
const UploadPath = "/api/v1/admin/images"

// Upload errors.
var (
	ErrNotAnImage     = errs.New(errs.UnsupportedMedia, "not_an_image", "the upload is not a JPEG, PNG, GIF or WebP image")
	ErrUploadTooLarge = errs.New(errs.TooLarge, "upload_too_large", "the image is over the upload size limit")
	ErrNoFile         = errs.New(errs.Invalid, "validation_failed", "send the image as multipart/form-data in a part named \"file\"")
)

type handlers struct {
	svc       *catalog.Service
	views     *catalog.Views
	images    blob.Store
	maxUpload int64
}

// Routes registers the catalog endpoints. Staff routes accept admins and operators;
// searchLimit wraps search.
func Routes(rt *web.Router, svc *catalog.Service, views *catalog.Views, images blob.Store, maxUpload int64, tokens *auth.Tokens,
	searchLimit web.Middleware) {
	h := &handlers{svc: svc, views: views, images: images, maxUpload: maxUpload}
	staff := func(f web.HandlerFunc) http.Handler { return tokens.Staff(auth.RoleAdmin, auth.RoleOperator)(f) }

	rt.HandleFunc("GET /api/v1/categories", h.categoryTree)
	rt.HandleFunc("GET /api/v1/products", h.productList)
	rt.HandleFunc("GET /api/v1/products/{id}", h.productDetail)
	rt.Handle("GET /api/v1/search", searchLimit(web.HandlerFunc(h.search)))

	rt.Handle("GET /api/v1/admin/categories", staff(h.staffCategories))
	rt.Handle("POST /api/v1/admin/categories", staff(h.createCategory))
	rt.Handle("PUT /api/v1/admin/categories/{id}", staff(h.updateCategory))
	rt.Handle("DELETE /api/v1/admin/categories/{id}", staff(h.deleteCategory))
	rt.Handle("GET /api/v1/admin/products", staff(h.staffProducts))
	rt.Handle("POST /api/v1/admin/products", staff(h.createProduct))
	rt.Handle("GET /api/v1/admin/products/{id}", staff(h.staffProduct))
	rt.Handle("PUT /api/v1/admin/products/{id}", staff(h.updateProduct))
	rt.Handle("DELETE /api/v1/admin/products/{id}", staff(h.deleteProduct))
	rt.Handle("POST /api/v1/admin/products/{id}/on-shelf", staff(h.shelf(true)))
	rt.Handle("POST /api/v1/admin/products/{id}/off-shelf", staff(h.shelf(false)))
	rt.Handle("POST /api/v1/admin/products/{id}/skus", staff(h.addSKU))
	rt.Handle("PUT /api/v1/admin/skus/{id}", staff(h.updateSKU))
	rt.Handle("DELETE /api/v1/admin/skus/{id}", staff(h.deleteSKU))
	rt.Handle("POST "+UploadPath, staff(h.uploadImage))
}

func listQuery(r *http.Request) catalog.ListQuery {
	q := r.URL.Query()
	return catalog.ListQuery{Text: q.Get("q"), CategoryID: q.Get("category_id"), MinPrice: q.Get("min_price"),
		MaxPrice: q.Get("max_price"), Sort: q.Get("sort"), Page: q.Get("page"), PageSize: q.Get("page_size")}
}

func (h *handlers) categoryTree(w http.ResponseWriter, r *http.Request) error {
	b, err := h.views.CategoryTree(r.Context())
	if err != nil {
		return err
	}
	web.WriteRawJSON(w, http.StatusOK, b)
	return nil
}

func (h *handlers) productList(w http.ResponseWriter, r *http.Request) error {
	b, err := h.views.ProductList(r.Context(), listQuery(r))
	if err != nil {
		return err
	}
	web.WriteRawJSON(w, http.StatusOK, b)
	return nil
}

func (h *handlers) productDetail(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	b, err := h.views.ProductDetail(r.Context(), id)
	if err != nil {
		return err
	}
	web.WriteRawJSON(w, http.StatusOK, b)
	return nil
}

func (h *handlers) search(w http.ResponseWriter, r *http.Request) error {
	b, err := h.views.Search(r.Context(), listQuery(r))
	if err != nil {
		return err
	}
	web.WriteRawJSON(w, http.StatusOK, b)
	return nil
}

func (h *handlers) staffCategories(w http.ResponseWriter, r *http.Request) error {
	tree, err := h.svc.Categories(r.Context())
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, struct {
		Items []*catalog.Category `json:"items"`
	}{tree})
	return nil
}

type categoryRequest struct {
	ParentID  parentRef `json:"parent_id"`
	Name      string    `json:"name"`
	SortOrder int       `json:"sort_order"`
	IconURL   string    `json:"icon_url"`
	Hidden    bool      `json:"hidden"`
}

// parentRef is a category's parent as sent: an id, or null, 0 or "0" for the top level.
// Left out of an update, the category stays where it is.
type parentRef struct {
	set bool
	id  ids.ID
}

func (p *parentRef) UnmarshalJSON(b []byte) error {
	p.set = true
	switch string(b) {
	case "null", "0", `"0"`:
		p.id = 0
		return nil
	}
	return p.id.UnmarshalJSON(b)
}

func (c categoryRequest) input() catalog.CategoryInput {
	return catalog.CategoryInput{ParentID: c.ParentID.id, KeepParent: !c.ParentID.set, Name: c.Name,
		SortOrder: c.SortOrder, IconURL: c.IconURL, Hidden: c.Hidden}
}

func (h *handlers) createCategory(w http.ResponseWriter, r *http.Request) error {
	var in categoryRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	c, err := h.svc.CreateCategory(r.Context(), in.input())
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusCreated, c)
	return nil
}

func (h *handlers) updateCategory(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in categoryRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	c, err := h.svc.UpdateCategory(r.Context(), id, in.input())
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, c)
	return nil
}

func (h *handlers) deleteCategory(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteCategory(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type skuRequest struct {
	Specs     map[string]string `json:"specs"`
	Price     money.Fen         `json:"price"`
	ListPrice money.Fen         `json:"list_price"`
	Code      string            `json:"code"`
	Image     string            `json:"image"`
}

func (s skuRequest) input() catalog.SKUInput {
	return catalog.SKUInput{Specs: s.Specs, Price: s.Price, ListPrice: s.ListPrice, Code: s.Code, Image: s.Image}
}

type productRequest struct {
	CategoryID  ids.ID            `json:"category_id"`
	Title       string            `json:"title"`
	Subtitle    string            `json:"subtitle"`
	Description string            `json:"description"`
	Images      []string          `json:"images"`
	Specs       []catalog.SpecDef `json:"specs"`
}

func (p productRequest) input() catalog.ProductInput {
	return catalog.ProductInput{CategoryID: p.CategoryID, Title: p.Title, Subtitle: p.Subtitle,
		Description: p.Description, Images: p.Images, Specs: p.Specs}
}

func (h *handlers) createProduct(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		productRequest
		SKUs    []skuRequest `json:"skus"`
		OnShelf bool         `json:"on_shelf"`
	}
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	skus := make([]catalog.SKUInput, len(in.SKUs))
	for i, s := range in.SKUs {
		skus[i] = s.input()
	}
	p, err := h.svc.CreateProduct(r.Context(), in.input(), skus, in.OnShelf)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusCreated, p)
	return nil
}

func (h *handlers) staffProducts(w http.ResponseWriter, r *http.Request) error {
	b, err := h.views.StaffProductList(r.Context(), listQuery(r), r.URL.Query().Get("status"))
	if err != nil {
		return err
	}
	web.WriteRawJSON(w, http.StatusOK, b)
	return nil
}

func (h *handlers) staffProduct(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	v, err := h.views.StaffProduct(r.Context(), id)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, v)
	return nil
}

func (h *handlers) updateProduct(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in productRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	p, err := h.svc.UpdateProduct(r.Context(), id, in.input())
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, p)
	return nil
}

func (h *handlers) deleteProduct(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteProduct(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handlers) shelf(on bool) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.PathID(r, "id")
		if err != nil {
			return err
		}
		p, err := h.svc.SetShelf(r.Context(), id, on)
		if err != nil {
			return err
		}
		web.WriteJSON(w, http.StatusOK, p)
		return nil
	}
}

func (h *handlers) addSKU(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in skuRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	sku, err := h.svc.AddSKU(r.Context(), id, in.input())
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusCreated, sku)
	return nil
}

func (h *handlers) updateSKU(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in skuRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	sku, err := h.svc.UpdateSKU(r.Context(), id, in.input())
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, sku)
	return nil
}

func (h *handlers) deleteSKU(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteSKU(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// imageTypes maps the sniffed content type of an accepted image to its file extension.
var imageTypes = map[string]string{"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}

// uploadImage stores a multipart image. The type comes from the bytes, never from the file
// name or the part's declared type, so a renamed script cannot pass as a picture.
func (h *handlers) uploadImage(w http.ResponseWriter, r *http.Request) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return ErrNoFile
	}
	for {
		part, err := mr.NextPart()
		var maxErr *http.MaxBytesError
		switch {
		case errors.As(err, &maxErr):
			return ErrUploadTooLarge.Withf("the image is over the %d-byte limit", h.maxUpload)
		case errors.Is(err, io.EOF):
			return ErrNoFile
		case err != nil:
			return ErrNoFile.Withf("the multipart body is malformed")
		}
		if part.FormName() != "file" {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(part, h.maxUpload+1))
		if errors.As(err, &maxErr) || int64(len(data)) > h.maxUpload {
			return ErrUploadTooLarge.Withf("the image is over the %d-byte limit", h.maxUpload)
		}
		if err != nil {
			return ErrNoFile.Withf("the multipart body is malformed")
		}
		ext, ok := imageTypes[http.DetectContentType(data)]
		if !ok {
			return ErrNotAnImage
		}
		url, err := h.images.Put(r.Context(), data, ext)
		if err != nil {
			return err
		}
		web.WriteJSON(w, http.StatusCreated, map[string]any{"url": url, "size": len(data)})
		return nil
	}
}
