// Package promotionhttp serves flash sales: the public list of current and upcoming sales,
// the buyer's attempts and their progress, and the staff's sale administration.
package promotionhttp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
	"github.com/minimart/minimart/internal/platform/web"
	"github.com/minimart/minimart/internal/promotion"
)

type handlers struct{ svc *promotion.Service }

// Routes registers the flash-sale endpoints. The list is public; attempts need a buyer
// token; the admin endpoints accept admins and operators, as the catalog's do.
func Routes(rt *web.Router, svc *promotion.Service, tokens *auth.Tokens) {
	h := &handlers{svc: svc}
	buyer := func(f web.HandlerFunc) http.Handler { return tokens.Buyer(f) }
	staff := func(f web.HandlerFunc) http.Handler { return tokens.Staff(auth.RoleAdmin, auth.RoleOperator)(f) }
	rt.HandleFunc("GET /api/v1/flash-sales", h.current)
	rt.Handle("POST /api/v1/flash-sales/{id}/attempts", buyer(h.attempt))
	rt.Handle("GET /api/v1/flash-sales/attempts/{id}", buyer(h.attemptStatus))
	rt.Handle("POST /api/v1/admin/flash-sales", staff(h.create))
	rt.Handle("GET /api/v1/admin/flash-sales", staff(h.staffList))
	rt.Handle("GET /api/v1/admin/flash-sales/{id}", staff(h.staffGet))
	rt.Handle("POST /api/v1/admin/flash-sales/{id}/cancel", staff(h.cancel))
}

// saleView is a sale as buyers see it.
type saleView struct {
	ID           ids.ID          `json:"id"`
	SKUID        ids.ID          `json:"sku_id"`
	ProductID    ids.ID          `json:"product_id"`
	Title        string          `json:"title"`
	Image        string          `json:"image,omitempty"`
	ListPrice    money.Fen       `json:"list_price"`
	Price        money.Fen       `json:"price"`
	Quantity     int             `json:"quantity"`
	Remaining    int             `json:"remaining"`
	PerUserLimit int             `json:"per_user_limit"`
	StartsAt     time.Time       `json:"starts_at"`
	EndsAt       time.Time       `json:"ends_at"`
	Status       promotion.Phase `json:"status"`
}

// staffSaleView adds what only staff may read.
type staffSaleView struct {
	saleView
	FailReason string     `json:"fail_reason,omitempty"`
	SettledAt  *time.Time `json:"settled_at,omitempty"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

func forBuyers(s promotion.Sale, now time.Time) saleView {
	return saleView{ID: s.ID, SKUID: s.SKUID, ProductID: s.ProductID, Title: s.Title, Image: s.Image, ListPrice: s.ListPrice,
		Price: s.Price, Quantity: s.Quantity, Remaining: s.Remaining, PerUserLimit: s.PerUserLimit, StartsAt: s.StartsAt,
		EndsAt: s.EndsAt, Status: s.PhaseAt(now)}
}

func forStaff(s promotion.Sale, now time.Time) staffSaleView {
	return staffSaleView{saleView: forBuyers(s, now), FailReason: s.FailReason, SettledAt: s.SettledAt, CreatedBy: s.CreatedBy,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

func (h *handlers) current(w http.ResponseWriter, r *http.Request) error {
	list, err := h.svc.CurrentSales(r.Context())
	if err != nil {
		return err
	}
	now := time.Now()
	out := struct {
		Items []saleView `json:"items"`
	}{Items: make([]saleView, len(list))}
	for i, s := range list {
		out.Items[i] = forBuyers(s, now)
	}
	web.WriteJSON(w, http.StatusOK, out)
	return nil
}

// attemptRequest is the body of a buyer's attempt.
type attemptRequest struct {
	// Quantity defaults to 1 when omitted.
	Quantity  *int   `json:"quantity"`
	AddressID ids.ID `json:"address_id"`
}

// attemptHash is what makes two attempts "the same request" for an Idempotency-Key: the
// sale and the decoded body, so other whitespace or field order counts as the same.
func attemptHash(saleID ids.ID, quantity int, addressID ids.ID) (string, error) {
	canonical, err := json.Marshal(struct {
		SaleID    ids.ID `json:"sale_id"`
		Quantity  int    `json:"quantity"`
		AddressID ids.ID `json:"address_id"`
	}{saleID, quantity, addressID})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:]), nil
}

func (h *handlers) attempt(w http.ResponseWriter, r *http.Request) error {
	saleID, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		return promotion.ErrIdempotencyNeeded
	}
	var in attemptRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	qty := 1
	if in.Quantity != nil {
		qty = *in.Quantity
	}
	hash, err := attemptHash(saleID, qty, in.AddressID)
	if err != nil {
		return err
	}
	a, replayed, err := h.svc.Admit(r.Context(), promotion.AttemptInput{SaleID: saleID, UserID: auth.PrincipalOf(r).ID,
		AddressID: in.AddressID, Quantity: qty, IdempotencyKey: key, RequestHash: hash})
	if err != nil {
		return err
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	// The answer to the attempt is its admission; its progress is at the attempt's URL.
	web.WriteJSON(w, http.StatusAccepted, struct {
		AttemptID ids.ID                  `json:"attempt_id"`
		Status    promotion.AttemptStatus `json:"status"`
	}{a.ID, promotion.Accepted})
	return nil
}

// attemptView is an attempt as its buyer sees it.
type attemptView struct {
	AttemptID ids.ID                  `json:"attempt_id"`
	SaleID    ids.ID                  `json:"sale_id"`
	Status    promotion.AttemptStatus `json:"status"`
	OrderID   ids.ID                  `json:"order_id,omitzero"`
	Reason    string                  `json:"reason,omitempty"`
}

func (h *handlers) attemptStatus(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	a, err := h.svc.AttemptOf(r.Context(), auth.PrincipalOf(r).ID, id)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, attemptView{AttemptID: a.ID, SaleID: a.SaleID, Status: a.Status, OrderID: a.OrderID, Reason: a.Reason})
	return nil
}

// createRequest is the body of a new sale.
type createRequest struct {
	SKUID        ids.ID    `json:"sku_id"`
	Price        money.Fen `json:"price"`
	Quantity     int       `json:"quantity"`
	PerUserLimit int       `json:"per_user_limit"`
	StartsAt     time.Time `json:"starts_at"`
	EndsAt       time.Time `json:"ends_at"`
}

func staffActor(r *http.Request) string { return "staff:" + auth.PrincipalOf(r).ID.String() }

func (h *handlers) create(w http.ResponseWriter, r *http.Request) error {
	var in createRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	s, err := h.svc.CreateSale(r.Context(), staffActor(r), promotion.SaleInput{SKUID: in.SKUID, Price: in.Price,
		Quantity: in.Quantity, PerUserLimit: in.PerUserLimit, StartsAt: in.StartsAt, EndsAt: in.EndsAt})
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusCreated, forStaff(s, time.Now()))
	return nil
}

// Page sizes of the staff list.
const (
	defaultPageSize = 20
	maxPageSize     = promotion.MaxListLimit
)

// staffPage is one page of the staff list.
type staffPage struct {
	Items      []staffSaleView `json:"items"`
	NextCursor ids.ID          `json:"next_cursor,omitzero"`
	Limit      int             `json:"limit"`
	// LimitCapped says the requested limit was over the maximum and was lowered.
	LimitCapped bool `json:"limit_capped,omitempty"`
}

// staffList lists sales newest first, as the other staff lists page: ?status= one or more
// phases, comma-separated; ?limit= (default 20, above 100 lowered to 100); ?cursor= the
// next_cursor of the page before.
func (h *handlers) staffList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	page := staffPage{Limit: defaultPageSize}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return web.ErrInvalidParam.Withf("limit must be a positive integer")
		}
		page.Limit = n
		if n > maxPageSize {
			page.Limit, page.LimitCapped = maxPageSize, true
		}
	}
	f := promotion.SaleFilter{Limit: page.Limit + 1} // one more: is there a next page?
	if v := q.Get("status"); v != "" {
		for _, p := range strings.Split(v, ",") {
			f.Phases = append(f.Phases, promotion.Phase(strings.TrimSpace(p)))
		}
	}
	if v := q.Get("cursor"); v != "" {
		id, err := ids.Parse(v)
		if err != nil {
			var fe errs.Fields
			fe.Add("cursor", "must be the next_cursor of a previous page")
			return fe.Err()
		}
		f.BeforeID = id
	}
	list, err := h.svc.Sales(r.Context(), f)
	if err != nil {
		return err
	}
	if len(list) > page.Limit {
		list = list[:page.Limit]
		page.NextCursor = list[len(list)-1].ID
	}
	now := time.Now()
	page.Items = make([]staffSaleView, len(list))
	for i, s := range list {
		page.Items[i] = forStaff(s, now)
	}
	web.WriteJSON(w, http.StatusOK, page)
	return nil
}

func (h *handlers) staffGet(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	s, err := h.svc.Sale(r.Context(), id)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, forStaff(s, time.Now()))
	return nil
}

func (h *handlers) cancel(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	s, err := h.svc.CancelSale(r.Context(), id)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, forStaff(s, time.Now()))
	return nil
}
