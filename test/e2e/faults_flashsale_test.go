//go:build faults

package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// flashTry is one attempt request of the flash-sale kill test: who, with which key.
type flashTry struct {
	buyer int
	key   string
}

// flashLoad is the buyers' attempts at one sale until the server is killed or they are all
// refused: what was accepted (attempt id → buyer) and what the kill cut off.
type flashLoad struct {
	f      *faultShop
	saleID string
	client *http.Client
	stop   atomic.Bool
	wg     sync.WaitGroup

	mu       sync.Mutex
	accepted map[string]int
	inflight []flashTry
	failures []string
}

// record notes an answer to try; it reports whether the buyer should stop (refused for good).
func (l *flashLoad) record(try flashTry, a answer) (done bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case a.status == http.StatusAccepted:
		var v struct {
			AttemptID string `json:"attempt_id"`
		}
		if err := a.decode(&v); err != nil || v.AttemptID == "" {
			l.failures = append(l.failures, fmt.Sprintf("%s: 202 without an attempt: %s", try.key, a))
		}
		l.accepted[v.AttemptID] = try.buyer
	case a.status == http.StatusConflict && (a.code() == "sold_out" || a.code() == "limit_reached"):
		return true
	default:
		l.failures = append(l.failures, fmt.Sprintf("%s: %s", try.key, a))
		return true
	}
	return false
}

// buyerLoop is buyer i trying one unit at a time, each with a new key, until refused for
// good or the server is gone (the request then joins inflight, to be sent again).
func (l *flashLoad) buyerLoop(i int, tag string) {
	defer l.wg.Done()
	for n := 0; !l.stop.Load(); n++ {
		try := flashTry{buyer: i, key: fmt.Sprintf("%s-%d-%d", tag, i, n)}
		a := l.send(try)
		if a.err != nil {
			l.mu.Lock()
			l.inflight = append(l.inflight, try)
			l.mu.Unlock()
			return
		}
		if l.record(try, a) {
			return
		}
	}
}

func (l *flashLoad) send(try flashTry) answer {
	f := l.f
	return send(l.client, "POST", f.srv.base+"/api/v1/flash-sales/"+l.saleID+"/attempts", f.buyers[try.buyer].Tokens.AccessToken,
		map[string]string{"Idempotency-Key": try.key}, map[string]any{"quantity": 1, "address_id": f.addrs[try.buyer]})
}

// TestFaultKillNineMidFlashSale kills the shop (SIGKILL) while buyers storm a flash sale and
// its accepted attempts are being turned into orders, restarts it on the same database and
// finishes the sale. Every request the kill cut off, sent again with its key, gets a clear
// answer; every accepted attempt becomes exactly one order; no buyer passes the limit; the
// sale sells exactly what it held; and every held unit belongs to an order waiting for
// payment, with the stock adding up.
//
// The kill moment comes from MINIMART_FAULT_SEED, else from the clock; the seed is logged.
func TestFaultKillNineMidFlashSale(t *testing.T) {
	rng := faultRand(t, 0x666c617368)

	const buyers, quantity, limit = 60, 240, 5
	f := newFaultShop(t, 1000, buyers,
		"MINIMART_SCHEDULE_INTERVAL=200ms",
		"MINIMART_ORPHAN_HOLD_AFTER="+orphanHoldAfter.String(),
		"MINIMART_RATELIMITS=0",
	)
	servers := []*server{f.srv}
	defer func() { checkServerLogs(t, servers...) }()
	now := time.Now().UTC()
	var sale struct {
		ID string `json:"id"`
	}
	call(t, "POST", f.srv.base+"/api/v1/admin/flash-sales", f.staff, map[string]any{"sku_id": f.sku, "price": 50, "quantity": quantity,
		"per_user_limit": limit, "starts_at": now.Format(time.RFC3339Nano), "ends_at": now.Add(time.Hour).Format(time.RFC3339Nano)},
		http.StatusCreated, &sale)

	l := &flashLoad{f: f, saleID: sale.ID, client: &http.Client{Timeout: 20 * time.Second}, accepted: map[string]int{}}
	for i := range buyers {
		l.wg.Add(1)
		go l.buyerLoop(i, "before")
	}
	time.Sleep(50*time.Millisecond + time.Duration(rng.Int64N(int64(250*time.Millisecond))))
	if err := f.srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-f.srv.done
	l.stop.Store(true)
	l.wg.Wait()
	acceptedBefore := len(l.accepted)
	var waiting int
	if err := f.db().Read().QueryRow("SELECT COUNT(*) FROM flash_attempts WHERE status = 'accepted'").Scan(&waiting); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed with %d attempts accepted (%d still waiting for their order) and %d requests without an answer",
		acceptedBefore, waiting, len(l.inflight))

	httpClient.CloseIdleConnections()
	l.client.CloseIdleConnections()
	f.srv = startServer(t, f.env...)
	servers = append(servers, f.srv)
	// The requests the kill cut off, sent again with the same key and body: each is the
	// attempt it recorded, or decided afresh.
	l.stop.Store(false)
	for _, try := range l.inflight {
		a := l.send(try)
		if a.err != nil {
			t.Fatalf("%s, cut off by the kill, sent again: %s", try.key, a)
		}
		l.record(try, a) // an answer other than 202 or a refusal is a failure
	}
	// The sale goes on until every buyer is refused.
	for i := range buyers {
		l.wg.Add(1)
		go l.buyerLoop(i, "after")
	}
	l.wg.Wait()
	for _, msg := range l.failures {
		t.Error(msg)
	}
	if t.Failed() {
		t.FailNow()
	}
	if len(l.accepted) != quantity {
		t.Fatalf("%d attempts accepted (%d before the kill); the sale held %d", len(l.accepted), acceptedBefore, quantity)
	}
	perBuyer := map[int]int{}
	for _, b := range l.accepted {
		if perBuyer[b]++; perBuyer[b] > limit {
			t.Fatalf("buyer %d has %d accepted attempts; the limit is %d", b, perBuyer[b], limit)
		}
	}

	// Every accepted attempt becomes exactly one order, the buyer's (the restarted process
	// takes over what the dead one had claimed).
	orders := map[string]string{}
	pollUntil(t, 60*time.Second, "every accepted attempt ordered", func() error {
		for id, b := range l.accepted {
			if _, done := orders[id]; done {
				continue
			}
			var v struct {
				Status  string `json:"status"`
				OrderID string `json:"order_id"`
				Reason  string `json:"reason"`
			}
			a := send(httpClient, "GET", f.srv.base+"/api/v1/flash-sales/attempts/"+id, f.buyers[b].Tokens.AccessToken, nil, nil)
			if a.err != nil || a.status != http.StatusOK || a.decode(&v) != nil {
				return fmt.Errorf("attempt %s: %s", id, a)
			}
			switch v.Status {
			case "failed":
				t.Fatalf("attempt %s failed: %s", id, v.Reason)
			case "ordered":
				orders[id] = v.OrderID
			default:
				return fmt.Errorf("attempt %s is still %s", id, v.Status)
			}
		}
		return nil
	})
	seen := map[string]bool{}
	for id, o := range orders {
		if seen[o] {
			t.Fatalf("order %s made for two attempts (one is %s)", o, id)
		}
		seen[o] = true
	}
	// Orders of attempts whose process died before recording them are released by the
	// unplaced sweep; then the units held are exactly those of the orders waiting for payment.
	pollUntil(t, orphanHoldAfter+20*time.Second, "holds match orders", func() error {
		if err := f.holdsMatchOrders(f.srv.base); err != nil {
			return err
		}
		pending, err := f.ordersOf(f.srv.base, "pending_payment")
		if err != nil {
			return err
		}
		if len(pending) != quantity {
			return fmt.Errorf("%d orders pending payment, want %d", len(pending), quantity)
		}
		return nil
	})
	if ls, err := f.checkStock(f.srv.base); err != nil || ls[f.sku].Available != f.stocked-quantity {
		t.Fatalf("stock after the sale: %+v %v", ls, err)
	}
}
