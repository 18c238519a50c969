package userhttp

import (
	"math"
	"net/http"

	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/web"
	"github.com/minimart/minimart/internal/user"
)

// staffRoutes are the staff management and audit-log endpoints, for administrators.
func staffRoutes(rt *web.Router, h *Handlers, adminOnly func(http.Handler) http.Handler) {
	rt.Handle("GET /api/v1/admin/staff", adminOnly(web.HandlerFunc(h.listStaff)))
	rt.Handle("POST /api/v1/admin/staff", adminOnly(web.HandlerFunc(h.createStaff)))
	rt.Handle("GET /api/v1/admin/staff/{id}", adminOnly(web.HandlerFunc(h.getStaff)))
	rt.Handle("DELETE /api/v1/admin/staff/{id}", adminOnly(web.HandlerFunc(h.deleteStaff)))
	rt.Handle("PUT /api/v1/admin/staff/{id}/role", adminOnly(web.HandlerFunc(h.changeStaffRole)))
	rt.Handle("PUT /api/v1/admin/staff/{id}/password", adminOnly(web.HandlerFunc(h.resetStaffPassword)))
	rt.Handle("POST /api/v1/admin/staff/{id}/disable", adminOnly(web.HandlerFunc(h.disableStaff)))
	rt.Handle("POST /api/v1/admin/staff/{id}/enable", adminOnly(web.HandlerFunc(h.enableStaff)))
	rt.Handle("GET /api/v1/admin/audit-log", adminOnly(web.HandlerFunc(h.auditLog)))
}

// queryLimit reads ?limit=: 0 when absent, for the service's default page size; the
// service lowers a large one to its largest page.
func queryLimit(r *http.Request) (int, error) {
	return web.QueryInt(r, "limit", 0, 1, math.MaxInt)
}

func (h *Handlers) listStaff(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryLimit(r)
	if err != nil {
		return err
	}
	page, err := h.svc.ListStaff(r.Context(), r.URL.Query().Get("cursor"), limit)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, page)
	return nil
}

func (h *Handlers) createStaff(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Role     string `json:"role"`
	}
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	st, err := h.svc.CreateStaff(r.Context(), in.Username, in.Password, in.Role)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusCreated, st)
	return nil
}

func (h *Handlers) getStaff(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	st, err := h.svc.StaffAccount(r.Context(), id)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, st)
	return nil
}

func (h *Handlers) changeStaffRole(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Role string `json:"role"`
	}
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	st, err := h.svc.ChangeStaffRole(r.Context(), auth.PrincipalOf(r).ID, id, in.Role)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, st)
	return nil
}

func (h *Handlers) resetStaffPassword(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var in struct {
		Password string `json:"password"`
	}
	if err := web.Decode(r, &in); err != nil {
		return err
	}
	st, err := h.svc.ResetStaffPassword(r.Context(), id, in.Password)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, st)
	return nil
}

func (h *Handlers) disableStaff(w http.ResponseWriter, r *http.Request) error {
	return h.setStaffEnabled(w, r, false)
}

func (h *Handlers) enableStaff(w http.ResponseWriter, r *http.Request) error {
	return h.setStaffEnabled(w, r, true)
}

func (h *Handlers) setStaffEnabled(w http.ResponseWriter, r *http.Request, enabled bool) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	var st user.Staff
	if enabled {
		st, err = h.svc.EnableStaff(r.Context(), id)
	} else {
		st, err = h.svc.DisableStaff(r.Context(), auth.PrincipalOf(r).ID, id)
	}
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, st)
	return nil
}

func (h *Handlers) deleteStaff(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.svc.DeleteStaff(r.Context(), auth.PrincipalOf(r).ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) auditLog(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryLimit(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	page, err := h.svc.AuditLog(r.Context(), user.AuditQuery{Actor: q.Get("actor"), Method: q.Get("method"), Route: q.Get("route"),
		Target: q.Get("target"), From: q.Get("from"), To: q.Get("to"), Cursor: q.Get("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, page)
	return nil
}
