package userhttp

import (
	"errors"
	"net/http"

	"github.com/minimart/minimart/internal/platform/web"
	"github.com/minimart/minimart/internal/user"
)

// The internal API other Minimart services call (through userclient) when the user module
// runs as its own service. Its models are declared here once; the client decodes into them.

// PathUsers is the prefix of the internal user endpoints: {user_id}/addresses/{id} and
// {user_id}/openid.
const PathUsers = "/internal/v1/users/"

// AddressResponse is one of a buyer's addresses.
type AddressResponse struct {
	Address user.Address `json:"address"`
}

// Check rejects an answer that names no address.
func (r *AddressResponse) Check() error {
	if r.Address.ID == 0 {
		return errors.New("address is missing")
	}
	return nil
}

// OpenIDResponse is a buyer's WeChat openid ("" when there is none).
type OpenIDResponse struct {
	OpenID *string `json:"openid"`
}

// Check rejects an answer without the field (an empty openid is a real answer).
func (r *OpenIDResponse) Check() error {
	if r.OpenID == nil {
		return errors.New("openid is missing")
	}
	return nil
}

// PathStaff is the prefix of the internal staff endpoint {id}/status.
const PathStaff = "/internal/v1/staff/"

// StaffStatusResponse is whether a staff account may act, and in which role: every service
// asks it (cached for a few seconds) before it lets a staff token through.
type StaffStatusResponse struct {
	Active *bool  `json:"active"`
	Role   string `json:"role,omitempty"` // present when active
}

// Check rejects an answer without the field, or active without a role.
func (r *StaffStatusResponse) Check() error {
	if r.Active == nil {
		return errors.New("active is missing")
	}
	if *r.Active && r.Role == "" {
		return errors.New("an active account without a role")
	}
	return nil
}

// InternalRoutes registers the peer endpoints behind guard (the service-token check).
func InternalRoutes(rt *web.Router, svc *user.Service, guard func(http.Handler) http.Handler) {
	h := &Handlers{svc: svc}
	rt.Handle("GET "+PathUsers+"{user_id}/addresses/{id}", guard(web.HandlerFunc(h.internalAddress)))
	rt.Handle("GET "+PathUsers+"{user_id}/openid", guard(web.HandlerFunc(h.internalOpenID)))
	rt.Handle("GET "+PathStaff+"{id}/status", guard(web.HandlerFunc(h.internalStaffStatus)))
}

// internalStaffStatus answers for any id: an unknown account is simply not active.
func (h *Handlers) internalStaffStatus(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	role, err := h.svc.StaffRole(r.Context(), id)
	if err != nil {
		return err
	}
	active := role != ""
	web.WriteJSON(w, http.StatusOK, StaffStatusResponse{Active: &active, Role: role})
	return nil
}

func (h *Handlers) internalAddress(w http.ResponseWriter, r *http.Request) error {
	userID, err := web.PathID(r, "user_id")
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	a, err := h.svc.Address(r.Context(), userID, id)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, AddressResponse{Address: a})
	return nil
}

func (h *Handlers) internalOpenID(w http.ResponseWriter, r *http.Request) error {
	userID, err := web.PathID(r, "user_id")
	if err != nil {
		return err
	}
	openID, err := h.svc.OpenID(r.Context(), userID)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, OpenIDResponse{OpenID: &openID})
	return nil
}
