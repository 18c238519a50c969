package userhttp

import (
	"net/http"

	"github.com/minimart/minimart/internal/platform/web"
	"github.com/minimart/minimart/internal/user"
)

// staffUser answers one buyer with their delivery addresses (the default first), for
// administrators looking into an order or a complaint.
func (h *Handlers) staffUser(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	u, err := h.svc.Me(r.Context(), id)
	if err != nil {
		return err
	}
	addresses, err := h.svc.Addresses(r.Context(), id)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, struct {
		user.User
		Addresses []user.Address `json:"addresses"`
	}{u, addresses})
	return nil
}
