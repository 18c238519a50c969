// Package orderhttp serves orders: the buyer's create (the seed's createOrder), read (the
// seed's getOrderInfo), list, cancel and confirm-receipt, and the staff's search, detail
// with history, shipping and notes, and the dashboard's summary.
package orderhttp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/minimart/minimart/internal/order"
	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/logging"
	"github.com/minimart/minimart/internal/platform/web"
)

type handlers struct{ svc *order.Service }

// Routes registers the order endpoints. createLimit wraps order creation inside buyer
// authentication, so it can count per buyer.
func Routes(rt *web.Router, svc *order.Service, tokens *auth.Tokens, createLimit web.Middleware) {
	h := &handlers{svc: svc}
	buyer := func(f web.HandlerFunc) http.Handler { return tokens.Buyer(f) }
	staff := func(f web.HandlerFunc) http.Handler { return tokens.Staff(auth.RoleAdmin, auth.RoleOperator)(f) }
	rt.Handle("POST /api/v1/orders", tokens.Buyer(createLimit(web.HandlerFunc(h.create))))
	rt.Handle("GET /api/v1/orders", buyer(h.list))
	rt.Handle("GET /api/v1/orders/{id}", buyer(h.get))
	rt.Handle("POST /api/v1/orders/{id}/cancel", buyer(h.cancel))
	rt.Handle("POST /api/v1/orders/{id}/confirm-receipt", buyer(h.confirm))
	rt.Handle("GET /api/v1/admin/orders", staff(h.staffList))
	rt.Handle("GET /api/v1/admin/orders/summary", staff(h.summary))
	rt.Handle("GET /api/v1/admin/orders/{id}", staff(h.staffGet))
	rt.Handle("POST /api/v1/admin/orders/{id}/ship", staff(h.ship))
	rt.Handle("POST /api/v1/admin/orders/{id}/note", staff(h.note))
}

type createRequest struct {
	Items []struct {
		SKUID    ids.ID `json:"sku_id"`
		Quantity int    `json:"quantity"`
	} `json:"items"`
	FromCart  bool   `json:"from_cart"`
	AddressID ids.ID `json:"address_id"`
	Remark    string `json:"remark"`
}

func (h *handlers) create(w http.ResponseWriter, r *http.Request) error {
	key := r.Header.Get("Idempotency-Key")
	if key == "" || len(key) > order.MaxIdemKeyBytes {
		return order.ErrIdempotencyRequired
	}
	var in createRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	// The hash is of the decoded request, so the same order sent with other whitespace or
	// field order counts as the same body.
	canonical, err := json.Marshal(in)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(canonical)
	ci := order.CreateInput{UserID: auth.PrincipalOf(r).ID, FromCart: in.FromCart, AddressID: in.AddressID, Remark: in.Remark,
		IdempotencyKey: key, RequestHash: hex.EncodeToString(sum[:])}
	for _, it := range in.Items {
		ci.Items = append(ci.Items, order.LineRef{SKUID: it.SKUID, Quantity: it.Quantity})
	}
	o, replayed, err := h.svc.Create(r.Context(), ci)
	if err != nil {
		return err
	}
	logging.SetOrderNo(r.Context(), o.OrderNo)
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	web.WriteJSON(w, http.StatusCreated, forBuyer(o))
	return nil
}

// page parses page and page_size: page 1–500, page_size capped at 100 and said so.
func page(r *http.Request) (offset, size int, capped bool, err error) {
	q := r.URL.Query()
	var f errs.Fields
	p, size := 1, 20
	if v := q.Get("page"); v != "" {
		if p, err = strconv.Atoi(v); err != nil || p < 1 || p > 500 {
			f.Add("page", "must be a page number from 1 to 500")
		}
	}
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 1:
			f.Add("page_size", "must be a positive number")
		case n > 100:
			size, capped = 100, true
		default:
			size = n
		}
	}
	return (p - 1) * size, size, capped, f.Err()
}

type listPage struct {
	Items          []order.Order `json:"items"`
	Page           int           `json:"page"`
	PageSize       int           `json:"page_size"`
	Total          int           `json:"total"`
	PageSizeCapped bool          `json:"page_size_capped,omitempty"`
}

func (h *handlers) listWith(w http.ResponseWriter, r *http.Request, f order.ListFilter) error {
	offset, size, capped, err := page(r)
	if err != nil {
		return err
	}
	f.Offset, f.Limit = offset, size
	list, total, err := h.svc.Orders(r.Context(), f)
	if err != nil {
		return err
	}
	if f.UserID != 0 && auth.PrincipalOf(r).Audience == auth.AudienceBuyer {
		for i := range list {
			list[i] = forBuyer(list[i])
		}
	}
	web.WriteJSON(w, http.StatusOK, listPage{Items: list, Page: offset/size + 1, PageSize: size, Total: total, PageSizeCapped: capped})
	return nil
}

func (h *handlers) list(w http.ResponseWriter, r *http.Request) error {
	return h.listWith(w, r, order.ListFilter{UserID: auth.PrincipalOf(r).ID, Status: order.Status(r.URL.Query().Get("status"))})
}

// forBuyer leaves out what only staff may read.
func forBuyer(o order.Order) order.Order {
	o.StaffNote = ""
	return o
}

func (h *handlers) get(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	o, err := h.svc.Order(r.Context(), auth.PrincipalOf(r).ID, id)
	if err != nil {
		return err
	}
	logging.SetOrderNo(r.Context(), o.OrderNo)
	web.WriteJSON(w, http.StatusOK, forBuyer(o))
	return nil
}

func (h *handlers) cancel(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	o, err := h.svc.Cancel(r.Context(), auth.PrincipalOf(r).ID, id)
	if err != nil {
		return err
	}
	logging.SetOrderNo(r.Context(), o.OrderNo)
	web.WriteJSON(w, http.StatusOK, forBuyer(o))
	return nil
}

func (h *handlers) confirm(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	o, err := h.svc.ConfirmReceipt(r.Context(), auth.PrincipalOf(r).ID, id)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, forBuyer(o))
	return nil
}

func (h *handlers) staffList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := order.ListFilter{Status: order.Status(q.Get("status")), OrderNo: q.Get("order_no")}
	var fe errs.Fields
	if v := q.Get("user_id"); v != "" {
		id, err := ids.Parse(v)
		if err != nil {
			fe.Add("user_id", "must be a user id")
		}
		f.UserID = id
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				fe.Add(p.name, "must be an RFC 3339 time such as 2026-11-01T00:00:00Z")
			}
			*p.dst = t.UTC()
		}
	}
	if err := fe.Err(); err != nil {
		return err
	}
	return h.listWith(w, r, f)
}

func (h *handlers) staffGet(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	o, history, err := h.svc.StaffOrder(r.Context(), id)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, struct {
		order.Order
		History []order.Transition `json:"history"`
	}{o, history})
	return nil
}

// summary answers the dashboard's counts of the last `days` days (1–90, default 7).
func (h *handlers) summary(w http.ResponseWriter, r *http.Request) error {
	days, err := web.QueryInt(r, "days", 7, 1, order.MaxSummaryDays)
	if err != nil {
		return err
	}
	s, err := h.svc.Summary(r.Context(), days)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, s)
	return nil
}

func staffActor(r *http.Request) string { return "staff:" + auth.PrincipalOf(r).ID.String() }

func (h *handlers) ship(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Carrier    string `json:"carrier"`
		TrackingNo string `json:"tracking_no"`
	}
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	o, err := h.svc.Ship(r.Context(), staffActor(r), id, in.Carrier, in.TrackingNo)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, o)
	return nil
}

func (h *handlers) note(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Note string `json:"note"`
	}
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	o, err := h.svc.Note(r.Context(), id, in.Note)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, o)
	return nil
}
