package stocksync_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/minimart/minimart/internal/inventory/stocksync"
	"github.com/minimart/minimart/internal/platform/servicetest"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// TestSeedMessage: the seed's producer sends {"product_id": 1, "new_inventory": 42} with a
// plain client; it sets the stock of that product's SKU.
func TestSeedMessage(t *testing.T) {
	t.Parallel()
	s := newShop(t, sqldbtest.SQLite(t, migrations...))
	p := s.product(1, "")
	sku := p.SKUs[0].ID
	if _, err := s.inv.SetStock(s.ctx, "staff:1", sku, 7, "count"); err != nil {
		t.Fatal(err)
	}
	c := s.consume("")

	conn, err := amqp.Dial(s.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"product_id": %d, "new_inventory": 42}`, p.ID)
	if err := ch.PublishWithContext(s.ctx, "", s.queue, false, false, amqp.Publishing{Body: []byte(body)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the stock to follow the message", func() bool { return s.level(sku).Available == 42 })

	entries, err := s.inv.Ledger(s.ctx, sku, 0, 10)
	if err != nil || len(entries) != 2 {
		t.Fatalf("ledger: %+v %v", entries, err)
	}
	if e := entries[0]; e.Actor != "sync" || e.Reason != "inventory_update" || e.Source != "inventory_update" ||
		e.AvailableBefore != 7 || e.AvailableAfter != 42 {
		t.Fatalf("ledger row of the sync: %+v", e)
	}
	var events int
	if err := s.db.Read().QueryRow("SELECT COUNT(*) FROM outbox_events WHERE type = 'inventory.stock.changed'").Scan(&events); err != nil || events != 2 {
		t.Fatalf("stock events: %d %v; want 2 (the count and the sync)", events, err)
	}
	waitFor(t, 5*time.Second, "the message to be acknowledged", func() bool { return queueDepth(t, s.url, s.queue) == 0 })
	if got := s.counts(); got["applied"] != 1 || got["stale"] != 0 || got["dead_lettered"] != 0 {
		t.Fatalf("counters: %v", got)
	}
	if err := c.Ping(s.ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// TestRefusedMessagesAreDeadLettered: each message that can never apply is copied, body
// and headers intact, to the dead-letter queue with its reason, and taken off the queue;
// the messages around it still apply.
func TestRefusedMessagesAreDeadLettered(t *testing.T) {
	t.Parallel()
	s := newShop(t, sqldbtest.SQLite(t, migrations...))
	single := s.product(1, "ONE")
	multi := s.product(3, "MULTI")
	sku := single.SKUs[0].ID
	deleted := s.product(1, "")
	if err := s.catalog.DeleteProduct(s.ctx, deleted.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.inv.SetStock(s.ctx, "staff:1", sku, 5, ""); err != nil {
		t.Fatal(err)
	}
	s.consume("")
	pub := s.publisher()

	refused := []struct {
		name, body, code string
		reason           []string
	}{
		{"bad JSON", `{"product_id": 1, "new_inventory": 4`, "invalid_message", []string{"not valid JSON"}},
		{"eval bait", `{'product_id': __import__('os').getpid(), 'new_inventory': 1}`, "invalid_message", []string{"not valid JSON"}},
		{"negative stock", fmt.Sprintf(`{"sku_id": "%d", "new_inventory": -1}`, sku), "invalid_message",
			[]string{"new_inventory: must be between 0 and 100000000, got -1"}},
		{"wrong type", fmt.Sprintf(`{"sku_id": "%d", "new_inventory": "12"}`, sku), "invalid_message",
			[]string{"new_inventory: must be a number, not a string"}},
		{"oversized", fmt.Sprintf(`{"sku_id": "%d", "new_inventory": 1, "pad": "%s"}`, sku, strings.Repeat("x", 70_000)),
			"invalid_message", []string{"at most 65536 are accepted"}},
		{"unknown SKU", `{"sku_id": "123456789", "new_inventory": 1}`, "sku_not_found", []string{"no live SKU has id 123456789"}},
		{"unknown code", `{"sku_code": "NOPE", "new_inventory": 1}`, "sku_not_found", []string{`no live SKU has code "NOPE"`}},
		{"unknown product", `{"product_id": 1, "new_inventory": 42}`, "product_not_found", []string{"no live product has id 1"}},
		{"deleted product", fmt.Sprintf(`{"product_id": %d, "new_inventory": 42}`, deleted.ID), "product_not_found", []string{"no live product"}},
		{"several SKUs", fmt.Sprintf(`{"product_id": %d, "new_inventory": 42}`, multi.ID), "product_has_several_skus",
			[]string{fmt.Sprintf("product %d has 3 live SKUs", multi.ID), "sku_id or sku_code"}},
		{"below zero", `{"sku_code": "ONE-1", "delta": -100000000}`, "insufficient_stock", []string{"delta -100000000 would take the available stock of SKU", "below zero"}},
		{"from the future", `{"sku_code": "ONE-1", "new_inventory": 1, "updated_at": "2999-01-01T00:00:00Z"}`,
			"validation_failed", []string{"updated_at 2999-01-01T00:00:00Z is more than 24h0m0s ahead of this server's clock"}},
	}
	for i, r := range refused {
		pub.publish(amqp.Publishing{MessageId: fmt.Sprintf("bad-%d", i), ContentType: "application/json",
			Headers: amqp.Table{"x-trace": r.name}, Body: []byte(r.body)})
		// A good message after each refused one: nothing blocks the queue.
		pub.publish(amqp.Publishing{MessageId: fmt.Sprintf("good-%d", i),
			Body: fmt.Appendf(nil, `{"sku_code": "ONE-1", "new_inventory": %d, "version": %d, "source": "erp"}`, 100+i, i)})
	}
	pub.confirmed()
	waitFor(t, 20*time.Second, "every message to settle", func() bool { return s.settled() == 2*len(refused) })
	if got := s.counts(); got["applied"] != len(refused) || got["dead_lettered"] != len(refused) || got["stale"] != 0 {
		t.Fatalf("counters: %v", got)
	}
	if l := s.level(sku); l.Available != int64(100+len(refused)-1) {
		t.Fatalf("available %d, want %d", l.Available, 100+len(refused)-1)
	}

	dead := drain(t, s.url, s.queue+stocksync.DeadLetterSuffix)
	if len(dead) != len(refused) {
		t.Fatalf("%d messages in the dead-letter queue, want %d", len(dead), len(refused))
	}
	for i, d := range dead { // one consumer, one at a time: in queue order
		r := refused[i]
		if d.MessageId != fmt.Sprintf("bad-%d", i) || string(d.Body) != r.body || d.ContentType != "application/json" ||
			d.Headers["x-trace"] != r.name || d.DeliveryMode != amqp.Persistent {
			t.Errorf("%s: dead-lettered copy differs: id %q, type %q, headers %v, mode %d, body %.80q",
				r.name, d.MessageId, d.ContentType, d.Headers, d.DeliveryMode, d.Body)
		}
		reason, _ := d.Headers[stocksync.HeaderError].(string)
		for _, w := range r.reason {
			if !strings.Contains(reason, w) {
				t.Errorf("%s: x-error %q does not say %q", r.name, reason, w)
			}
		}
		if code := d.Headers[stocksync.HeaderErrorCode]; code != r.code {
			t.Errorf("%s: x-error-code %v, want %s", r.name, code, r.code)
		}
		failedAt, _ := d.Headers[stocksync.HeaderFailedAt].(string)
		if at, err := time.Parse(time.RFC3339Nano, failedAt); err != nil || time.Since(at) > time.Minute || time.Since(at) < 0 {
			t.Errorf("%s: x-failed-at %q", r.name, failedAt)
		}
		if q := d.Headers[stocksync.HeaderQueue]; q != s.queue {
			t.Errorf("%s: x-original-queue %v", r.name, q)
		}
	}
	if n := queueDepth(t, s.url, s.queue); n != 0 {
		t.Fatalf("%d messages left in the queue", n)
	}
}

// TestDatabaseOutageRequeues: while the stock table cannot be written the message goes
// back to the queue, again and again, and is neither lost nor dead-lettered; once the
// database is back it applies.
func TestDatabaseOutageRequeues(t *testing.T) {
	t.Parallel()
	db := sqldbtest.MySQL(t, migrations...)
	s := newShop(t, db)
	p := s.product(2, "OUT")
	sku := p.SKUs[1].ID
	if _, err := db.Write().Exec("RENAME TABLE stock TO stock_away"); err != nil {
		t.Fatal(err)
	}
	s.consume("")
	pub := s.publisher()
	pub.publish(amqp.Publishing{Body: []byte(`{"sku_code": "OUT-2", "new_inventory": 9, "version": 1}`)})
	pub.confirmed()
	waitFor(t, 10*time.Second, "a few retries", func() bool { return s.counts()["retried"] >= 2 })
	if got := s.counts(); got["applied"] != 0 || got["dead_lettered"] != 0 {
		t.Fatalf("during the outage: %v", got)
	}
	if _, err := db.Write().Exec("RENAME TABLE stock_away TO stock"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the update after the outage", func() bool { return s.counts()["applied"] == 1 })
	if l := s.level(sku); l.Available != 9 {
		t.Fatalf("available %d, want 9", l.Available)
	}
	if n := queueDepth(t, s.url, s.queue+stocksync.DeadLetterSuffix); n != 0 {
		t.Fatalf("%d dead-lettered", n)
	}
}

// TestReconnects: the consumer rides out a broken connection; messages sent meanwhile
// wait in the durable queue and apply once it is back.
func TestReconnects(t *testing.T) {
	t.Parallel()
	s := newShop(t, sqldbtest.SQLite(t, migrations...))
	p := s.product(1, "RC")
	sku := p.SKUs[0].ID
	px, proxied := servicetest.NewProxy(t, s.url, "5672")
	c := s.consume(proxied)
	pub := s.publisher()
	pub.publish(amqp.Publishing{Body: []byte(`{"sku_code": "RC-1", "new_inventory": 1, "version": 1}`)})
	pub.confirmed()
	waitFor(t, 10*time.Second, "the first update", func() bool { return s.level(sku).Available == 1 })

	px.Cut()
	waitFor(t, 10*time.Second, "Ping to report the outage", func() bool {
		return errors.Is(c.Ping(s.ctx), stocksync.ErrNotConnected)
	})
	pub.publish(amqp.Publishing{Body: []byte(`{"sku_code": "RC-1", "new_inventory": 2, "version": 2}`)})
	pub.confirmed()
	time.Sleep(200 * time.Millisecond)
	if l := s.level(sku); l.Available != 1 {
		t.Fatalf("applied while disconnected: %+v", l)
	}
	px.Restore()
	waitFor(t, 15*time.Second, "Ping to recover", func() bool { return c.Ping(s.ctx) == nil })
	waitFor(t, 10*time.Second, "the update sent during the outage", func() bool { return s.level(sku).Available == 2 })
}

func TestNewRefuses(t *testing.T) {
	t.Parallel()
	s := newShop(t, sqldbtest.SQLite(t, migrations...))
	if _, err := stocksync.New("http://example.com", s.queue, s.inv, nil, nil); err == nil || !strings.Contains(err.Error(), "AMQP URL") {
		t.Errorf("bad URL: %v", err)
	}
	if _, err := stocksync.New(s.url, s.queue, nil, nil, nil); err == nil {
		t.Errorf("no service accepted")
	}
	if _, err := stocksync.New(s.url, "amq.mine", s.inv, nil, nil); err == nil || !strings.Contains(err.Error(), "amq.") {
		t.Errorf("reserved queue name: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := stocksync.New("amqp://guest:secret@"+addr+"/", s.queue, s.inv, nil, nil); err == nil ||
		!strings.Contains(err.Error(), "connect to amqp://"+addr) || strings.Contains(err.Error(), "secret") {
		t.Errorf("unreachable broker: %v", err)
	}
	// The seed declared its queue not durable; we refuse to consume from such a queue
	// (its messages die with the broker) and say why.
	conn, err := amqp.Dial(s.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(s.queue, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := stocksync.New(s.url, s.queue, s.inv, nil, nil); err == nil || !strings.Contains(err.Error(), "durable") {
		t.Errorf("non-durable queue: %v", err)
	}
	// Registering twice on one registry is refused, not a panic.
	if _, err := ch.QueueDelete(s.queue, false, false, false); err != nil {
		t.Fatal(err)
	}
	if _, err := stocksync.New(s.url, s.queue, s.inv, nil, s.reg); err != nil {
		t.Fatal(err)
	}
	if _, err := stocksync.New(s.url, s.queue, s.inv, nil, s.reg); err == nil || !strings.Contains(err.Error(), "metrics") {
		t.Errorf("second registration: %v", err)
	}
	c, err := stocksync.New(s.url, s.queue, s.inv, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(s.ctx); !errors.Is(err, stocksync.ErrNotConnected) {
		t.Errorf("Ping before Run: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Run(ctx); err != nil {
		t.Errorf("Run with an ended context: %v", err)
	}
}

// TestRecoversDeletedQueues: an operator deletes the dead-letter queue, then the queue
// itself. A refused message is not lost for want of a dead-letter queue (it waits and is
// dead-lettered once the queue is declared again), and consuming resumes on the queue.
func TestRecoversDeletedQueues(t *testing.T) {
	t.Parallel()
	s := newShop(t, sqldbtest.SQLite(t, migrations...))
	p := s.product(1, "DQ")
	sku := p.SKUs[0].ID
	c := s.consume("")
	conn, err := amqp.Dial(s.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	admin, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	dlq := s.queue + stocksync.DeadLetterSuffix
	if _, err := admin.QueueDelete(dlq, false, false, false); err != nil {
		t.Fatal(err)
	}
	pub := s.publisher()
	pub.publish(amqp.Publishing{MessageId: "bad", Body: []byte(`{"sku_code": "DQ-1", "new_inventory": -1}`)})
	pub.confirmed()
	waitFor(t, 10*time.Second, "the refused message to be dead-lettered", func() bool { return s.counts()["dead_lettered"] == 1 })
	if got := s.counts(); got["retried"] < 1 {
		t.Errorf("counters %v: the first attempt found no dead-letter queue and must have been retried", got)
	}
	if dead := drain(t, s.url, dlq); len(dead) != 1 || dead[0].MessageId != "bad" {
		t.Fatalf("dead-letter queue holds %d messages", len(dead))
	}

	if _, err := admin.QueueDelete(s.queue, false, false, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the consumer to declare its queue again", func() bool {
		ch, err := conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		defer ch.Close()
		_, err = ch.QueueDeclarePassive(s.queue, true, false, false, false, nil)
		return err == nil && c.Ping(s.ctx) == nil
	})
	pub = s.publisher()
	pub.publish(amqp.Publishing{Body: []byte(`{"sku_code": "DQ-1", "new_inventory": 11}`)})
	pub.confirmed()
	waitFor(t, 10*time.Second, "an update after the queue came back", func() bool { return s.level(sku).Available == 11 })
}
