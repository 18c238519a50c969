package orderhttp_test

import (
	"testing"

	"github.com/minimart/minimart/internal/apptest"
)

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
