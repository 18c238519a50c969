//go:build faults

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// dbOutage is how long TestFaultDatabaseDown keeps MariaDB stopped.
const dbOutage = 10 * time.Second

// Phases of a load that lives through an outage, by when a request started.
const (
	phaseBefore int32 = iota
	phaseOutage
	phaseAfter
)

var phaseNames = [...]string{"before", "outage", "after"}

// MariaDB is stopped for ten seconds while buyers place and read orders and browse. Every
// request that fails because of it answers 503 (database_unavailable, or order_not_recorded
// for an order whose hold could not be followed by its record in time) — never 500 — and
// is logged once, at warn. Nothing is half-written: stock adds up, every order answered
// 201 exists, every hold belongs to an order waiting for payment once the sweep has run.
// Once MariaDB is back, orders succeed again without restarting minimart.
func TestFaultDatabaseDown(t *testing.T) {
	const buyers = 8
	f := newFaultShop(t, 1_000_000, buyers,
		"MINIMART_SCHEDULE_INTERVAL=200ms",
		"MINIMART_ORPHAN_HOLD_AFTER="+orphanHoldAfter.String(),
		"MINIMART_RATELIMITS=0",
	)
	defer func() { checkServerLogs(t, f.srv) }()
	client := &http.Client{Timeout: 30 * time.Second}
	var phase atomic.Int32
	counts := [3]*statusCounts{{}, {}, {}}
	var stop atomic.Bool
	var mu sync.Mutex
	var placed []struct {
		buyer int
		id    string
	}
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Go(func() {
			token := f.buyers[i].Tokens.AccessToken
			var last string // the buyer's latest order, read back uncached
			for n := 0; !stop.Load(); n++ {
				a := send(client, "POST", f.srv.base+"/api/v1/orders", token, map[string]string{"Idempotency-Key": fmt.Sprintf("db-b%d-%d", i, n)},
					map[string]any{"items": []map[string]any{{"sku_id": f.skus[n%2], "quantity": 1}}, "address_id": f.addrs[i]})
				counts[phase.Load()].add("POST /orders", a) // by when the answer came
				if a.err == nil && a.status == http.StatusCreated {
					var o shopOrder
					json.Unmarshal(a.body, &o)
					mu.Lock()
					placed = append(placed, struct {
						buyer int
						id    string
					}{i, o.ID})
					mu.Unlock()
					last = o.ID
				}
				if last != "" {
					a := send(client, "GET", f.srv.base+"/api/v1/orders/"+last, token, nil, nil)
					counts[phase.Load()].add("GET /orders/{id}", a)
				}
				a = send(client, "GET", f.srv.base+"/api/v1/orders?page_size=5", token, nil, nil)
				counts[phase.Load()].add("GET /orders", a)
				a = send(client, "GET", f.srv.base+"/api/v1/products/"+f.product, "", nil, nil)
				counts[phase.Load()].add("GET /products/{id}", a)
				time.Sleep(20 * time.Millisecond) // pacing: a 503 comes back at once
			}
		})
	}
	stopLoad := func() { stop.Store(true); wg.Wait() }
	defer stopLoad()

	time.Sleep(2 * time.Second)
	phase.Store(phaseOutage)
	start := stopMariaDB(t)
	time.Sleep(dbOutage)
	start()
	phase.Store(phaseAfter)
	// Orders succeed again without a restart: the pool drops its dead connections.
	resumed := pollUntil(t, 20*time.Second, "orders after MariaDB returned", func() error {
		if n := counts[phaseAfter].matching(func(k string) bool { return k == "POST /orders 201" }); n < buyers {
			return fmt.Errorf("%d orders placed since MariaDB answers again; answers:%s", n, counts[phaseAfter])
		}
		return nil
	})
	stopLoad()
	t.Logf("orders placed again %s after MariaDB answered", resumed.Round(10*time.Millisecond))
	for p, c := range counts {
		t.Logf("answers %s the outage:%s", phaseNames[p], c)
	}

	// Never 500; every failure a 503 that says why.
	for p, c := range counts {
		bad := c.matching(func(k string) bool {
			_, status, _ := strings.Cut(k, " /")
			_, status, _ = strings.Cut(status, " ")
			return !strings.HasPrefix(status, "200") && !strings.HasPrefix(status, "201") &&
				status != "503 database_unavailable" && status != "503 order_not_recorded"
		})
		if bad > 0 {
			t.Errorf("%s the outage: %d answers other than 2xx or 503 database_unavailable / order_not_recorded:%s", phaseNames[p], bad, c)
		}
	}
	if n := counts[phaseBefore].matching(func(k string) bool { return strings.Contains(k, " 503 ") }); n > 0 {
		t.Errorf("503 before the outage:%s", counts[phaseBefore])
	}
	for _, route := range []string{"POST /orders", "GET /orders/{id}", "GET /orders"} {
		if counts[phaseOutage].matching(func(k string) bool { return k == route+" 503 database_unavailable" }) == 0 {
			t.Errorf("%s never answered 503 database_unavailable during the outage:%s", route, counts[phaseOutage])
		}
	}

	// Logged once per request, at warn: no request's failure is an error line.
	var warned, errored int
	background := map[string]int{} // other error lines (schedules, relay…), for the log
	for _, line := range strings.Split(f.srv.stderr.String(), "\n") {
		var rec struct {
			Level  string `json:"log.level"`
			Msg    string `json:"message"`
			Code   string `json:"error.code"`
			Status int    `json:"http.response.status_code"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		switch {
		case rec.Msg == "http request" && rec.Status == http.StatusServiceUnavailable && rec.Code == "database_unavailable" && rec.Level == "warn":
			warned++
		case rec.Msg == "request failed" || (rec.Msg == "http request" && rec.Level == "error" && rec.Code != "order_not_recorded"):
			errored++
			if errored <= 5 {
				t.Errorf("a request's failure logged as an error: %s", line)
			}
		case rec.Level == "ERROR":
			background[rec.Msg]++
		}
	}
	if len(background) > 0 {
		t.Logf("other error lines during the outage (not per request): %v", background)
	}
	if answered := counts[phaseOutage].matching(func(k string) bool { return strings.HasSuffix(k, " 503 database_unavailable") }); warned < answered {
		t.Errorf("%d answers 503 database_unavailable during the outage, but %d warn lines for them", answered, warned)
	}

	// Nothing half-written.
	for _, o := range placed {
		call(t, "GET", f.srv.base+"/api/v1/orders/"+o.id, f.buyers[o.buyer].Tokens.AccessToken, nil, http.StatusOK, nil)
	}
	settled := pollUntil(t, orphanHoldAfter+10*time.Second, "holds after the outage", func() error { return f.holdsMatchOrders(f.srv.base) })
	t.Logf("%d orders answered 201 all exist; holds match pending orders %s later", len(placed), settled.Round(10*time.Millisecond))

	// And no event is lost: every one committed before, during and after the outage is
	// published. (Within the relay's 30 s claim lease: a relay whose pass the outage cut
	// between claiming a batch and recording it leaves that batch claimed by its own, living,
	// instance until the lease ends — see the report of this test's author; 10 s would do
	// otherwise.)
	db := f.db()
	took, err := waitUntil(35*time.Second, func() error {
		if n, err := outboxPending(f.srv.ops); err != nil || n != "0" {
			return fmt.Errorf("outbox pending %s %v:%s", n, err, f.unpublished(db))
		}
		return nil
	})
	if err != nil {
		t.Errorf("outbox not drained %s after the checks above: %v", took.Round(10*time.Millisecond), err)
	} else if took > 10*time.Second {
		t.Logf("NOTE: the outbox drained only %s after MariaDB returned and the checks ran: the relay waited out its own lost claims' lease", took.Round(10*time.Millisecond))
	}
	var plain []string
	for _, line := range strings.Split(strings.TrimSpace(f.srv.stderr.String()), "\n") {
		if !json.Valid([]byte(line)) {
			plain = append(plain, line)
		}
	}
	if len(plain) > 0 {
		t.Logf("NOTE: %d stderr lines are not JSON log records (the MySQL driver's own logger), e.g. %q", len(plain), plain[0])
	}
}
