package orderhttp_test

import (
	"testing"
	"time"

	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/platform/money"
)

type summaryDay struct {
	Date       string
	Orders     int
	PaidOrders int   `json:"paid_orders"`
	PaidAmount int64 `json:"paid_amount"`
}

type summary struct {
	Timezone        string
	Days            []summaryDay
	PendingShipment int `json:"pending_shipment"`
	PendingRefund   int `json:"pending_refund"`
}

// The dashboard summary counts the orders placed and paid per China day, ending today, and
// the paid orders waiting to ship; every staff role reads it, nobody else, and a bad day
// count is refused.
func TestStaffSummary(t *testing.T) {
	sh := newShop(t, nil, 10)
	admin := sh.s.StaffToken("boss", "admin")
	token, addr := sh.buyer("counted")
	todayBefore := time.Now().In(money.ChinaTime()).Format(time.DateOnly)
	var paid struct {
		ID      string
		Payable int64
	}
	sh.order(token, "s1", map[string]any{"items": item(sh.skus[0], 2), "address_id": addr}).Decode(t, &paid)
	apptest.PayOrder(t, sh.s.App, paid.ID)
	if r := sh.order(token, "s2", map[string]any{"items": item(sh.skus[0], 1), "address_id": addr}); r.Status != 201 {
		t.Fatalf("second order: %d %s", r.Status, r.Body)
	}

	var s summary
	sh.s.Do("GET", "/api/v1/admin/orders/summary", sh.staff, nil).Decode(t, &s)
	todayAfter := time.Now().In(money.ChinaTime()).Format(time.DateOnly)
	if s.Timezone != "+08:00" || len(s.Days) != 7 || s.PendingShipment != 1 || s.PendingRefund != 0 {
		t.Fatalf("summary = %+v, want 7 days in +08:00 and one order to ship", s)
	}
	if last := s.Days[6].Date; last != todayBefore && last != todayAfter {
		t.Fatalf("the last day is %s, want today (%s)", last, todayAfter)
	}
	var total summaryDay
	for i, d := range s.Days {
		if i > 0 {
			prev, _ := time.Parse(time.DateOnly, s.Days[i-1].Date)
			if d.Date != prev.AddDate(0, 0, 1).Format(time.DateOnly) {
				t.Fatalf("days are not consecutive, oldest first: %+v", s.Days)
			}
		}
		total.Orders += d.Orders
		total.PaidOrders += d.PaidOrders
		total.PaidAmount += d.PaidAmount
	}
	if total.Orders != 2 || total.PaidOrders != 1 || total.PaidAmount != paid.Payable || paid.Payable == 0 {
		t.Fatalf("totals over the days = %+v, want 2 orders and 1 paid for %d", total, paid.Payable)
	}

	cases := []struct {
		name, query, token string
		status             int
		code               string
		days               int
	}{
		{"operator, default days", "", sh.staff, 200, "", 7},
		{"admin, one day", "?days=1", admin, 200, "", 1},
		{"ninety days", "?days=90", sh.staff, 200, "", 90},
		{"zero days", "?days=0", sh.staff, 400, "invalid_parameter", 0},
		{"ninety-one days", "?days=91", sh.staff, 400, "invalid_parameter", 0},
		{"negative", "?days=-3", sh.staff, 400, "invalid_parameter", 0},
		{"not a number", "?days=week", sh.staff, 400, "invalid_parameter", 0},
		{"a fraction", "?days=1.5", sh.staff, 400, "invalid_parameter", 0},
		{"no token", "", "", 401, "missing_token", 0},
		{"bad token", "", "not.a.token", 401, "invalid_token", 0},
		{"buyer", "", token, 403, "forbidden", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := sh.s.Do("GET", "/api/v1/admin/orders/summary"+c.query, c.token, nil)
			if r.Status != c.status || (c.code != "" && r.ErrorCode() != c.code) {
				t.Fatalf("got %d %q, want %d %q: %s", r.Status, r.ErrorCode(), c.status, c.code, r.Body)
			}
			if c.status == 200 {
				var s summary
				r.Decode(t, &s)
				if len(s.Days) != c.days {
					t.Fatalf("%d days, want %d", len(s.Days), c.days)
				}
			}
		})
	}
}
