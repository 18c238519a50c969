// Package paymenthttp serves payments: the buyer's initiate (the seed's initiatePayment) and
// payment list, the providers' notify endpoints (the seed's paymentResultNotify), and the
// staff's refunds, payment detail, notify log and reconciliation with the providers' bills.
package paymenthttp

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/money"
	"github.com/minimart/minimart/internal/platform/web"
)

type handlers struct {
	svc *payment.Service
	ips *web.ClientIPs
}

// Routes registers the payment endpoints. initiateLimit wraps starting a payment inside
// buyer authentication, so it can count per buyer.
func Routes(rt *web.Router, svc *payment.Service, tokens *auth.Tokens, ips *web.ClientIPs, initiateLimit web.Middleware) {
	h := &handlers{svc: svc, ips: ips}
	buyer := func(f web.HandlerFunc) http.Handler { return tokens.Buyer(f) }
	staff := func(f web.HandlerFunc) http.Handler { return tokens.Staff(auth.RoleAdmin, auth.RoleOperator)(f) }
	admin := func(f web.HandlerFunc) http.Handler { return tokens.Staff(auth.RoleAdmin)(f) }
	rt.HandleFunc("GET /api/v1/payment-methods", h.methods)
	rt.Handle("POST /api/v1/orders/{id}/payments", tokens.Buyer(initiateLimit(web.HandlerFunc(h.initiate))))
	rt.Handle("GET /api/v1/orders/{id}/payments", buyer(h.list))
	rt.HandleFunc("POST /api/v1/payments/notify/{provider}", h.notify)
	rt.Handle("GET /api/v1/admin/orders/{id}/payments", staff(h.staffList))
	rt.Handle("POST /api/v1/admin/orders/{id}/refunds", admin(h.refund))
	rt.Handle("GET /api/v1/admin/payments/notifications", admin(h.notifications))
	rt.Handle("GET /api/v1/admin/payments/reconciliation", admin(h.reconciliation))
}

func (h *handlers) methods(w http.ResponseWriter, _ *http.Request) error {
	web.WriteJSON(w, http.StatusOK, struct {
		Methods []payment.Method `json:"methods"`
	}{h.svc.Methods()})
	return nil
}

type paymentView struct {
	payment.Payment
	JSAPI   *payment.JSAPIParams `json:"jsapi,omitempty"`
	PayURL  string               `json:"pay_url,omitempty"`
	CodeURL string               `json:"code_url,omitempty"`
	// QRCode is CodeURL drawn as a PNG data URL, for a page to show as it is.
	QRCode string `json:"qr_code,omitempty"`
}

func viewOf(p payment.Payment) (paymentView, error) {
	v := paymentView{Payment: p, JSAPI: p.Instructions.JSAPI, PayURL: p.Instructions.PayURL, CodeURL: p.Instructions.CodeURL}
	if v.CodeURL != "" {
		png, err := qrcode.Encode(v.CodeURL, qrcode.Medium, 256)
		if err != nil {
			return paymentView{}, err
		}
		v.QRCode = "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
	}
	return v, nil
}

type initiateRequest struct {
	Method payment.Method `json:"method"`
}

func (h *handlers) initiate(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in initiateRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	if in.Method == "" {
		// With only the sandbox configured there is nothing to choose.
		if methods := h.svc.Methods(); len(methods) == 1 {
			in.Method = methods[0]
		} else {
			return errs.Fields{{Field: "method", Reason: "required; GET /api/v1/payment-methods lists them"}}.Err()
		}
	}
	p, replayed, err := h.svc.Initiate(r.Context(), payment.InitiateInput{UserID: auth.PrincipalOf(r).ID, OrderID: id,
		Method: in.Method, ClientIP: h.ips.Of(r), IdempotencyKey: r.Header.Get("Idempotency-Key")})
	if err != nil {
		return err
	}
	v, err := viewOf(p)
	if err != nil {
		return err
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	web.WriteJSON(w, http.StatusCreated, v)
	return nil
}

func (h *handlers) list(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	pays, err := h.svc.Payments(r.Context(), auth.PrincipalOf(r).ID, id)
	if err != nil {
		return err
	}
	views := make([]paymentView, len(pays))
	for i, p := range pays {
		if views[i], err = viewOf(p); err != nil {
			return err
		}
	}
	web.WriteJSON(w, http.StatusOK, struct {
		Items []paymentView `json:"items"`
	}{views})
	return nil
}

// notify takes a provider's notify and answers in that provider's own format; only an
// unknown provider gets the shop's JSON error.
func (h *handlers) notify(w http.ResponseWriter, r *http.Request) error {
	prov, err := h.svc.Provider(r.PathValue("provider"))
	if err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, payment.MaxNotifyBodySize))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			err = payment.ErrNotifyRejected.Withf("body larger than %d bytes", payment.MaxNotifyBodySize)
		}
		prov.Acknowledge(w, err)
		return nil
	}
	prov.Acknowledge(w, h.svc.HandleNotify(r.Context(), prov, r.Header, body))
	return nil
}

func (h *handlers) staffList(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	pays, err := h.svc.Payments(r.Context(), 0, id)
	if err != nil {
		return err
	}
	refunds, err := h.svc.Refunds(r.Context(), id)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, struct {
		Payments []payment.Payment `json:"payments"`
		Refunds  []payment.Refund  `json:"refunds"`
	}{pays, refunds})
	return nil
}

type refundRequest struct {
	Amount money.Fen `json:"amount"`
	Reason string    `json:"reason"`
}

func (h *handlers) refund(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in refundRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	ref, replayed, err := h.svc.RequestRefund(r.Context(), payment.RefundInput{Staff: "staff:" + auth.PrincipalOf(r).ID.String(),
		OrderID: id, Amount: in.Amount, Reason: in.Reason, IdempotencyKey: r.Header.Get("Idempotency-Key")})
	if err != nil {
		return err
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	web.WriteJSON(w, http.StatusCreated, ref)
	return nil
}

func (h *handlers) notifications(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := payment.NotificationFilter{OutTradeNo: q.Get("out_trade_no"), Outcome: payment.Outcome(q.Get("outcome"))}
	var bad errs.Fields
	if len(f.OutTradeNo) > 64 {
		bad.Add("out_trade_no", "at most 64 bytes")
	}
	switch f.Outcome {
	case "", payment.OutcomeApplied, payment.OutcomeDuplicate, payment.OutcomeIgnored, payment.OutcomeRejected, payment.OutcomeError:
	default:
		bad.Add("outcome", "one of applied, duplicate, ignored, rejected, error")
	}
	if f.OutTradeNo == "" && f.Outcome == "" {
		bad.Add("out_trade_no", "give out_trade_no (an order number) or outcome")
	}
	if err := bad.Err(); err != nil {
		return err
	}
	list, err := h.svc.Notifications(r.Context(), f)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, struct {
		Items []payment.Notification `json:"items"`
	}{list})
	return nil
}
