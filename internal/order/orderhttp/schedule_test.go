package orderhttp_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// An unpaid order is cancelled at its deadline and its stock released, even when the
// process that took it stopped before the deadline and another start finds it overdue.
func TestTimeoutCancelSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	env := func(interval string) map[string]string {
		return map[string]string{"MINIMART_DATA_DIR": dir, "MINIMART_ORDER_PAY_TIMEOUT": "1s", "MINIMART_SCHEDULE_INTERVAL": interval}
	}
	// The first process never gets to run its schedule.
	sh := newShop(t, env("1h"), 5)
	token, addr := sh.buyer("sleepy")
	r := sh.order(token, "t1", map[string]any{"items": item(sh.skus[0], 2), "address_id": addr})
	var o struct{ ID string }
	r.Decode(t, &o)
	if r.Status != 201 || sh.level(sh.skus[0]).Reserved != 2 {
		t.Fatalf("order: %d %s", r.Status, r.Body)
	}
	sh.s.Stop()
	time.Sleep(1100 * time.Millisecond)

	again := &shop{s: apptest.Start(t, env("50ms")), t: t, skus: sh.skus}
	apptest.Eventually(t, "overdue order cancelled after the restart", func() bool {
		var got struct{ Status string }
		again.s.Do("GET", "/api/v1/orders/"+o.ID, token, nil).Decode(t, &got)
		return got.Status == "cancelled"
	})
	apptest.Eventually(t, "its stock released", func() bool { return again.level(sh.skus[0]).Available == 5 })
	again.checkInvariant(sh.skus[0], 5)
}

// Two instances running the schedule against one database cancel each order exactly once.
func TestTwoSchedulersCancelEachOrderOnce(t *testing.T) {
	db := sqldbtest.MySQLDatabaseURL(t)
	env := func(node string) map[string]string {
		return map[string]string{"MINIMART_DB_URL": db, "MINIMART_JWT_SECRET": "two-schedulers-secret-two-schedulers",
			"MINIMART_NODE_ID": node, "MINIMART_ORDER_PAY_TIMEOUT": "1s", "MINIMART_SCHEDULE_INTERVAL": "1h"}
	}
	sh := newShop(t, env("1"), 100)
	other := apptest.Start(t, env("2"))
	const orders = 30
	for i := range orders {
		token, addr := sh.buyer(fmt.Sprintf("twin%02d", i))
		if r := sh.order(token, "k", map[string]any{"items": item(sh.skus[0], 1), "address_id": addr}); r.Status != 201 {
			t.Fatalf("order %d: %d %s", i, r.Status, r.Body)
		}
	}
	time.Sleep(1100 * time.Millisecond)
	ctx := context.Background()
	results := make(chan int, 2)
	for _, s := range []*apptest.Server{sh.s, other} {
		go func() {
			n, err := s.App.Orders.CancelOverdue(ctx)
			if err != nil {
				t.Errorf("cancel overdue: %v", err)
			}
			results <- n
		}()
	}
	if total := <-results + <-results; total != orders {
		t.Fatalf("the two schedulers cancelled %d orders together, want each of %d once", total, orders)
	}
	var cancelEvents, cancelRows int
	sh.s.App.DB.Read().QueryRow("SELECT COUNT(*) FROM outbox_events WHERE type = 'order.cancelled'").Scan(&cancelEvents)
	sh.s.App.DB.Read().QueryRow("SELECT COUNT(*) FROM order_history WHERE to_status = 'cancelled'").Scan(&cancelRows)
	if cancelEvents != orders || cancelRows != orders {
		t.Fatalf("%d cancel events and %d history rows, want %d each", cancelEvents, cancelRows, orders)
	}
	apptest.Eventually(t, "all stock back", func() bool { return sh.level(sh.skus[0]).Available == 100 })
	sh.checkInvariant(sh.skus[0], 100)
}

// A shipped order the buyer never confirms completes by itself after the configured time.
func TestShippedOrderCompletesByItself(t *testing.T) {
	sh := newShop(t, map[string]string{"MINIMART_ORDER_AUTO_COMPLETE": "1s", "MINIMART_SCHEDULE_INTERVAL": "50ms"}, 5)
	token, addr := sh.buyer("quiet")
	r := sh.order(token, "ac", map[string]any{"items": item(sh.skus[0], 1), "address_id": addr})
	var o struct {
		ID      string
		OrderNo string `json:"order_no"`
	}
	r.Decode(t, &o)
	apptest.PayOrder(t, sh.s.App, o.ID)
	sh.must(200, "POST", "/api/v1/admin/orders/"+o.ID+"/ship", sh.staff, map[string]any{"carrier": "顺丰", "tracking_no": "SF1"})
	apptest.Eventually(t, "the shipped order completes by itself", func() bool {
		var got struct{ Status string }
		sh.s.Do("GET", "/api/v1/orders/"+o.ID, token, nil).Decode(t, &got)
		return got.Status == "completed"
	})
	detail := sh.must(200, "GET", "/api/v1/admin/orders/"+o.ID, sh.staff, nil)
	h := detail["history"].([]any)
	if last := h[len(h)-1].(map[string]any); last["actor"] != "system" || last["to"] != "completed" {
		t.Fatalf("last transition: %v", last)
	}
}
