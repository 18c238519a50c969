package app_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/apptest"
)

// TestSplitStaffAndAudit: the product service, which has no user module, checks every staff
// token against the user module on the other service, and its staff writes reach that
// service's audit log over RabbitMQ. With the user module unreachable, staff are refused
// (503) rather than let through unchecked.
func TestSplitStaffAndAudit(t *testing.T) {
	sp := newSplit(t)
	admin := sp.orders.StaffToken("boss", "admin")
	sp.setStock(7)

	type entry struct {
		ActorUsername string         `json:"actor_username"`
		Method        string         `json:"method"`
		Target        string         `json:"target"`
		Status        int            `json:"status"`
		After         map[string]any `json:"after"`
		Service       string         `json:"service"`
	}
	logOf := func(route string) []entry {
		r := sp.orders.Do("GET", "/api/v1/admin/audit-log?route="+url.QueryEscape(route), admin, nil)
		var page struct{ Items []entry }
		r.Decode(t, &page)
		if r.Status != http.StatusOK {
			t.Fatalf("audit log: %d %s", r.Status, r.Body)
		}
		return page.Items
	}
	var stock []entry
	apptest.Eventually(t, "the product service's stock change in the user service's audit log", func() bool {
		stock = logOf("/api/v1/admin/skus/{id}/stock")
		return len(stock) == 1
	})
	if e := stock[0]; e.ActorUsername != "ops" || e.Method != "PUT" || e.Target != sp.sku.String() || e.Status != 200 ||
		e.After["stock"] != float64(7) || e.Service != "catalog,inventory" {
		t.Fatalf("entry = %+v", e)
	}
	if created := logOf("/api/v1/admin/products"); len(created) != 1 || created[0].Target != sp.productID.String() {
		t.Fatalf("product create entries = %+v", created)
	}

	// Disabled on the user service: refused on the product service within seconds, although
	// the product service has just seen the account active.
	opsID := sp.orders.Expect(200, "GET", "/api/v1/admin/me", sp.staff, nil, nil)["id"].(string)
	sp.orders.Expect(200, "POST", "/api/v1/admin/staff/"+opsID+"/disable", admin, nil, nil)
	stockPath := "/api/v1/admin/skus/" + sp.sku.String() + "/stock"
	apptest.EventuallyWithin(t, 8*time.Second, "the disabled operator refused by the product service", func() bool {
		return sp.product.Do("PUT", stockPath, sp.staff, map[string]any{"stock": 1}).ErrorCode() == "account_disabled"
	})

	// The user service gone: an account the product service has not checked lately is refused
	// as unavailable, and nothing changes.
	fresh := sp.orders.StaffToken("ann", "admin")
	sp.orders.Stop()
	before := sp.level()
	r := sp.product.Do("PUT", stockPath, fresh, map[string]any{"stock": before.Available + 5})
	if r.Status != http.StatusServiceUnavailable || r.ErrorCode() != "dependency_unavailable" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("staff write with the user service down: %d %s %v", r.Status, r.Body, r.Header)
	}
	if l := sp.level(); l.Available != before.Available {
		t.Fatalf("stock changed from %+v to %+v by unchecked staff", before, l)
	}
}
