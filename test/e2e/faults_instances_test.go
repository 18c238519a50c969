//go:build faults

package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/servicetest"
)

// stallProxy relays TCP connections to a service and can stall them: bytes stop flowing
// both ways, but no connection closes — as a hung network or broker looks to a client, which
// waits (here: for publisher confirms) instead of failing.
type stallProxy struct {
	ln      net.Listener
	mu      sync.Mutex
	cond    *sync.Cond
	stalled bool
	closed  bool
	conns   []net.Conn
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln}
	p.cond = sync.NewCond(&p.mu)
	t.Cleanup(p.cut)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go p.pipe(up, c)
			go p.pipe(c, up)
		}
	}()
	return p
}

func (p *stallProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.stalled && !p.closed {
				p.cond.Wait()
			}
			closed := p.closed
			p.mu.Unlock()
			if closed {
				return
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *stallProxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = true
}

// cut closes every relayed connection (what they carried while stalled is dropped) and
// the listener.
func (p *stallProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.cond.Broadcast()
	for _, c := range p.conns {
		c.Close()
	}
	p.ln.Close()
}

// Two instances share one MariaDB and RabbitMQ (their own data dirs and node ids). One of
// them is killed with SIGKILL while its outbox relay holds claimed events it has not been
// able to publish (its broker connection hangs), right after it took an order that will
// not be paid. The survivor publishes the dead instance's claimed events within seconds
// (its claims die with it, long before their 30 s lease), so the stock of the orders it
// cancelled is freed, and cancels the unpaid order once its pay timeout has passed.
func TestFaultInstanceDiesHoldingWork(t *testing.T) {
	amqpURL := servicetest.AMQPURL(t)
	u, err := url.Parse(amqpURL)
	if err != nil {
		t.Fatal(err)
	}
	brokerAddr := u.Host
	if u.Port() == "" {
		brokerAddr = net.JoinHostPort(u.Hostname(), "5672")
	}
	proxy := newStallProxy(t, brokerAddr)
	u.Host = proxy.ln.Addr().String()
	const payTimeout = 3 * time.Second
	f := newFaultShop(t, 1000, 2,
		"MINIMART_SCHEDULE_INTERVAL=200ms",
		"MINIMART_ORDER_PAY_TIMEOUT="+payTimeout.String(),
		"MINIMART_RATELIMITS=0",
		"MINIMART_NODE_ID=1",
		"MINIMART_AMQP_URL="+u.String(), // the doomed instance reaches the broker through the proxy
	)
	doomed := f.srv
	survivor := startServer(t, append(append([]string{}, f.env...),
		"MINIMART_DATA_DIR="+t.TempDir(), "MINIMART_NODE_ID=2", "MINIMART_AMQP_URL="+amqpURL)...)
	defer func() { checkServerLogs(t, doomed, survivor) }()
	db := f.db()
	var doomedID string
	if err := db.Read().QueryRow("SELECT id FROM instances ORDER BY started_at LIMIT 1").Scan(&doomedID); err != nil {
		t.Fatal(err)
	}

	// With its broker connection hung, the doomed instance takes orders and cancellations;
	// its relay claims their events and waits for confirms that never come.
	proxy.stall()
	token := f.buyers[1].Tokens.AccessToken
	for n := range 3 {
		var o shopOrder
		callWith(t, "POST", doomed.base+"/api/v1/orders", token, map[string]string{"Idempotency-Key": fmt.Sprintf("doomed-%d", n)},
			map[string]any{"items": []map[string]any{{"sku_id": f.skus[n%2], "quantity": 2}}, "address_id": f.addrs[1]}, http.StatusCreated, &o)
		call(t, "POST", doomed.base+"/api/v1/orders/"+o.ID+"/cancel", token, nil, http.StatusOK, nil)
	}
	var held []int64
	pollUntil(t, 5*time.Second, "events claimed by the doomed instance", func() error {
		held = held[:0]
		rows, err := db.Read().Query("SELECT id FROM outbox_events WHERE published_at IS NULL AND claimed_by = ? AND claimed_until > ?",
			doomedID, time.Now().UTC().Add(10*time.Second))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			held = append(held, id)
		}
		if len(held) == 0 {
			return fmt.Errorf("no claims held:%s", f.unpublished(db))
		}
		return rows.Err()
	})
	// An order that will not be paid, taken just before the end.
	var unpaid shopOrder
	callWith(t, "POST", doomed.base+"/api/v1/orders", f.buyers[0].Tokens.AccessToken, map[string]string{"Idempotency-Key": "unpaid"},
		map[string]any{"items": []map[string]any{{"sku_id": f.skus[0], "quantity": 1}}, "address_id": f.addrs[0]}, http.StatusCreated, &unpaid)
	placed := time.Now()
	if err := doomed.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-doomed.done
	killed := time.Now()
	proxy.cut()
	t.Logf("killed the doomed instance %s holding %d claimed events (lease until 30 s after the claim)", doomedID, len(held))

	// The survivor publishes what the dead instance held.
	in := strings.TrimSuffix(strings.Repeat("?, ", len(held)), ", ")
	args := make([]any, len(held))
	for i, id := range held {
		args[i] = id
	}
	took := pollUntil(t, 10*time.Second, "the dead instance's claimed events published by the survivor", func() error {
		var n int
		if err := db.Read().QueryRow("SELECT COUNT(*) FROM outbox_events WHERE published_at IS NULL AND id IN ("+in+")", args...).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%d of them unpublished:%s", n, f.unpublished(db))
		}
		return nil
	})
	t.Logf("the survivor published them %s after the kill", took.Round(time.Millisecond))

	// It cancels the unpaid order once its time is up, and every hold is freed.
	pollUntil(t, time.Until(placed.Add(payTimeout+5*time.Second)), "the unpaid order cancelled by the survivor", func() error {
		var o shopOrder
		a := send(httpClient, "GET", survivor.base+"/api/v1/orders/"+unpaid.ID, f.buyers[0].Tokens.AccessToken, nil, nil)
		if a.err != nil || a.status != http.StatusOK {
			return fmt.Errorf("get order: %v", a)
		}
		if err := json.Unmarshal(a.body, &o); err != nil || o.Status != "cancelled" {
			return fmt.Errorf("order is %q (%v)", o.Status, err)
		}
		return nil
	})
	t.Logf("the unpaid order, placed %s before the kill, was found cancelled by the survivor %s after it was placed (pay timeout %s)",
		killed.Sub(placed).Round(time.Millisecond), time.Since(placed).Round(time.Millisecond), payTimeout)
	var staffView struct {
		History []struct {
			To     string `json:"to"`
			Actor  string `json:"actor"`
			Reason string `json:"reason"`
		} `json:"history"`
	}
	call(t, "GET", survivor.base+"/api/v1/admin/orders/"+unpaid.ID, f.staff, nil, http.StatusOK, &staffView)
	if h := staffView.History; len(h) == 0 || h[len(h)-1].To != "cancelled" || h[len(h)-1].Actor != "system" {
		t.Fatalf("history of the unpaid order: %+v; want its last change a cancellation by the system", h)
	}
	pollUntil(t, 10*time.Second, "holds on the survivor", func() error {
		if n, err := outboxPending(survivor.ops); err != nil || n != "0" {
			return fmt.Errorf("outbox pending %s %v:%s", n, err, f.unpublished(db))
		}
		return f.holdsMatchOrders(survivor.base)
	})
}
