// Package userhttp serves the accounts API: registration and logins, sessions, the buyer's
// profile and addresses, staff accounts and their management, and the audit log.
package userhttp

import (
	"net/http"

	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/web"
	"github.com/minimart/minimart/internal/user"
)

// Handlers serves the user module over HTTP.
type Handlers struct {
	svc *user.Service
	ips *web.ClientIPs
}

// Limits are the rate limits of the endpoints anyone may call; each wraps its routes.
// Login covers every way to log in (password, WeChat, staff).
type Limits struct {
	Register, Login, Refresh web.Middleware
}

// Routes registers every user endpoint on rt.
func Routes(rt *web.Router, svc *user.Service, tokens *auth.Tokens, ips *web.ClientIPs, limits Limits) {
	h := &Handlers{svc: svc, ips: ips}
	buyer := tokens.Buyer
	anyStaff := tokens.Staff(auth.RoleAdmin, auth.RoleOperator)
	adminOnly := tokens.Staff(auth.RoleAdmin)

	rt.Handle("POST /api/v1/auth/register", limits.Register(web.HandlerFunc(h.register)))
	rt.Handle("POST /api/v1/auth/login", limits.Login(web.HandlerFunc(h.login)))
	rt.Handle("POST /api/v1/auth/wechat", limits.Login(web.HandlerFunc(h.wechatLogin)))
	// The buyer endpoints also take staff tokens in JSON, as they always have: API clients and
	// mini-programs refresh both there. Cookies and the admin endpoints keep to their audience.
	rt.Handle("POST /api/v1/auth/refresh", limits.Refresh(h.refreshFor(buyerCookie, user.AnySubject)))
	rt.HandleFunc("POST /api/v1/auth/logout", h.logoutFor(buyerCookie, user.AnySubject))
	rt.Handle("GET /api/v1/me", buyer(web.HandlerFunc(h.me)))
	rt.Handle("GET /api/v1/me/addresses", buyer(web.HandlerFunc(h.listAddresses)))
	rt.Handle("POST /api/v1/me/addresses", buyer(web.HandlerFunc(h.createAddress)))
	rt.Handle("GET /api/v1/me/addresses/{id}", buyer(web.HandlerFunc(h.getAddress)))
	rt.Handle("PUT /api/v1/me/addresses/{id}", buyer(web.HandlerFunc(h.updateAddress)))
	rt.Handle("DELETE /api/v1/me/addresses/{id}", buyer(web.HandlerFunc(h.deleteAddress)))

	rt.Handle("POST /api/v1/admin/auth/login", limits.Login(web.HandlerFunc(h.staffLogin)))
	rt.Handle("POST /api/v1/admin/auth/refresh", limits.Refresh(h.refreshFor(staffCookie, user.SubjectStaff)))
	rt.HandleFunc("POST /api/v1/admin/auth/logout", h.logoutFor(staffCookie, user.SubjectStaff))
	rt.Handle("GET /api/v1/admin/me", anyStaff(web.HandlerFunc(h.staffMe)))
	rt.Handle("GET /api/v1/admin/users", adminOnly(web.HandlerFunc(h.searchUsers)))
	rt.Handle("GET /api/v1/admin/users/{id}", adminOnly(web.HandlerFunc(h.staffUser)))
	staffRoutes(rt, h, adminOnly)
}

type credentials struct {
	Username string `json:"username"`
	Mobile   string `json:"mobile"`
	Password string `json:"password"`
}

type userWithTokens struct {
	User   user.User   `json:"user"`
	Tokens user.Tokens `json:"tokens"`
}

func (h *Handlers) register(w http.ResponseWriter, r *http.Request) error {
	cookie, err := viaCookie(r)
	if err != nil {
		return err
	}
	var in credentials
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	u, tok, err := h.svc.Register(r.Context(), user.RegisterInput{Username: in.Username, Mobile: in.Mobile, Password: in.Password})
	if err != nil {
		return err
	}
	writeTokens(w, http.StatusCreated, userWithTokens{User: u, Tokens: h.hand(w, r, buyerCookie, cookie, tok)})
	return nil
}

// writeTokens answers with v, which carries tokens: no cache (a shared proxy, the browser's
// history) may keep a copy.
func writeTokens(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache") // for HTTP/1.0 caches, which know no Cache-Control
	web.WriteJSON(w, status, v)
}

func (h *Handlers) login(w http.ResponseWriter, r *http.Request) error {
	cookie, err := viaCookie(r)
	if err != nil {
		return err
	}
	var in credentials
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	login := in.Username
	if login == "" {
		login = in.Mobile
	}
	u, tok, err := h.svc.Login(r.Context(), login, in.Password, h.ips.Of(r))
	if err != nil {
		return err
	}
	writeTokens(w, http.StatusOK, userWithTokens{User: u, Tokens: h.hand(w, r, buyerCookie, cookie, tok)})
	return nil
}

func (h *Handlers) wechatLogin(w http.ResponseWriter, r *http.Request) error {
	cookie, err := viaCookie(r)
	if err != nil {
		return err
	}
	var in struct {
		Code string `json:"code"`
	}
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	u, tok, created, err := h.svc.LoginWeChat(r.Context(), in.Code)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeTokens(w, status, struct {
		userWithTokens
		Created bool `json:"created"`
	}{userWithTokens{User: u, Tokens: h.hand(w, r, buyerCookie, cookie, tok)}, created})
	return nil
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (h *Handlers) me(w http.ResponseWriter, r *http.Request) error {
	u, err := h.svc.Me(r.Context(), auth.PrincipalOf(r).ID)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, u)
	return nil
}

type addressRequest struct {
	Recipient string `json:"recipient"`
	Phone     string `json:"phone"`
	Province  string `json:"province"`
	City      string `json:"city"`
	District  string `json:"district"`
	Detail    string `json:"detail"`
	IsDefault *bool  `json:"is_default"`
}

func (a addressRequest) input() user.AddressInput {
	return user.AddressInput{Recipient: a.Recipient, Phone: a.Phone, Province: a.Province, City: a.City,
		District: a.District, Detail: a.Detail, IsDefault: a.IsDefault}
}

func (h *Handlers) listAddresses(w http.ResponseWriter, r *http.Request) error {
	list, err := h.svc.Addresses(r.Context(), auth.PrincipalOf(r).ID)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, struct {
		Items []user.Address `json:"items"`
	}{list})
	return nil
}

func (h *Handlers) createAddress(w http.ResponseWriter, r *http.Request) error {
	var in addressRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	a, err := h.svc.CreateAddress(r.Context(), auth.PrincipalOf(r).ID, in.input())
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusCreated, a)
	return nil
}

func (h *Handlers) getAddress(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	a, err := h.svc.Address(r.Context(), auth.PrincipalOf(r).ID, id)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, a)
	return nil
}

func (h *Handlers) updateAddress(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in addressRequest
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	a, err := h.svc.UpdateAddress(r.Context(), auth.PrincipalOf(r).ID, id, in.input())
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, a)
	return nil
}

func (h *Handlers) deleteAddress(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteAddress(r.Context(), auth.PrincipalOf(r).ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) staffLogin(w http.ResponseWriter, r *http.Request) error {
	cookie, err := viaCookie(r)
	if err != nil {
		return err
	}
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	st, tok, err := h.svc.StaffLogin(r.Context(), in.Username, in.Password, h.ips.Of(r))
	if err != nil {
		return err
	}
	writeTokens(w, http.StatusOK, struct {
		Staff  user.Staff  `json:"staff"`
		Tokens user.Tokens `json:"tokens"`
	}{st, h.hand(w, r, staffCookie, cookie, tok)})
	return nil
}

func (h *Handlers) staffMe(w http.ResponseWriter, r *http.Request) error {
	st, err := h.svc.StaffMe(r.Context(), auth.PrincipalOf(r).ID)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, st)
	return nil
}

func (h *Handlers) searchUsers(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryLimit(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	page, err := h.svc.SearchUsers(r.Context(), q.Get("q"), q.Get("cursor"), limit)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, page)
	return nil
}
