package paymenthttp

import (
	"net/http"
	"time"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/platform/web"
)

// reconciliation compares the providers' bills of ?date= (YYYY-MM-DD, China Standard Time,
// not after today) with our records, as `minimart payments reconcile --date` does.
func (h *handlers) reconciliation(w http.ResponseWriter, r *http.Request) error {
	date := r.URL.Query().Get("date")
	day, err := payment.BillDay(date)
	if err != nil {
		return web.ErrInvalidParam.Withf("date must be a day as YYYY-MM-DD, such as 2026-12-06")
	}
	if day.After(time.Now()) {
		return web.ErrInvalidParam.Withf("date %s has not begun in China Standard Time; its bills do not exist yet", date)
	}
	rec, err := h.svc.Reconcile(r.Context(), day)
	if err != nil {
		return err
	}
	web.WriteJSON(w, http.StatusOK, struct {
		Date       string             `json:"date"`
		Matched    int                `json:"matched"`
		Mismatches []payment.Mismatch `json:"mismatches"`
	}{day.Format(time.DateOnly), rec.Matched, rec.Mismatches})
	return nil
}
