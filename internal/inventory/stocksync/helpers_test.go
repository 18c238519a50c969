package stocksync_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/catalog/catalogdb"
	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/inventory/inventorydb"
	"github.com/minimart/minimart/internal/inventory/stocksync"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/servicetest"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

var migrations = []sqldb.Migrations{events.OutboxMigrations, catalogdb.Migrations, inventorydb.Migrations}

func testLog(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

// shop is a real catalog and inventory over one database, and a queue of the test's own
// on the real RabbitMQ, deleted (with its dead-letter queue) when the test ends.
type shop struct {
	t        *testing.T
	ctx      context.Context
	db       *sqldb.DB
	gen      *ids.Generator
	catalog  *catalog.Service
	inv      *inventory.Service
	category ids.ID
	url      string
	queue    string
	reg      *prometheus.Registry
}

func newShop(t *testing.T, db *sqldb.DB) *shop {
	t.Helper()
	amqpURL := servicetest.AMQPURL(t)
	gen, err := ids.NewGenerator(9)
	if err != nil {
		t.Fatal(err)
	}
	log := testLog(t)
	outbox := events.NewOutbox()
	s := &shop{t: t, ctx: context.Background(), db: db, gen: gen, url: amqpURL, reg: prometheus.NewRegistry()}
	s.catalog = catalog.NewService(catalogdb.New(db, outbox), gen, log)
	s.inv = inventory.NewService(inventorydb.New(db, outbox), s.catalog, gen, log)
	c, err := s.catalog.CreateCategory(s.ctx, catalog.CategoryInput{Name: "饮料"})
	if err != nil {
		t.Fatal(err)
	}
	s.category = c.ID
	b := make([]byte, 5)
	rand.Read(b)
	s.queue = "mmtest.stocksync." + hex.EncodeToString(b)
	t.Cleanup(s.deleteQueues) // registered first, so it runs after the consumer stopped
	return s
}

func (s *shop) deleteQueues() {
	conn, err := amqp.Dial(s.url)
	if err != nil {
		s.t.Errorf("cleanup: %v", err)
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		s.t.Errorf("cleanup: %v", err)
		return
	}
	for _, q := range []string{s.queue, s.queue + stocksync.DeadLetterSuffix} {
		if _, err := ch.QueueDelete(q, false, false, false); err != nil {
			s.t.Errorf("delete queue %s: %v", q, err)
		}
	}
}

// product creates an on-shelf product with n SKUs, coded code-1… when code is not empty.
func (s *shop) product(n int, code string) catalog.Product {
	s.t.Helper()
	values := make([]string, n)
	skus := make([]catalog.SKUInput, n)
	for i := range n {
		values[i] = fmt.Sprintf("v%d", i+1)
		skus[i] = catalog.SKUInput{Specs: map[string]string{"规格": values[i]}, Price: 350}
		if code != "" {
			skus[i].Code = fmt.Sprintf("%s-%d", code, i+1)
		}
	}
	p, err := s.catalog.CreateProduct(s.ctx, catalog.ProductInput{CategoryID: s.category, Title: "矿泉水",
		Specs: []catalog.SpecDef{{Name: "规格", Values: values}}}, skus, true)
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

// consume starts a consumer on the shop's queue (through viaURL when given); it stops
// when the test ends, and Run must then return nil.
func (s *shop) consume(viaURL string) *stocksync.Consumer {
	s.t.Helper()
	if viaURL == "" {
		viaURL = s.url
	}
	c, err := stocksync.New(viaURL, s.queue, s.inv, testLog(s.t), s.reg)
	if err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	s.t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				s.t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			s.t.Errorf("Run did not return after its context ended")
		}
	})
	waitFor(s.t, 10*time.Second, "the consumer to connect", func() bool { return c.Ping(s.ctx) == nil })
	return c
}

// counts reads the consumer's counter from the registry, by result.
func (s *shop) counts() map[string]int {
	s.t.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		s.t.Fatal(err)
	}
	out := map[string]int{}
	for _, mf := range mfs {
		if mf.GetName() != "minimart_inventory_sync_messages_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" {
					out[l.GetValue()] = int(m.GetCounter().GetValue())
				}
			}
		}
	}
	return out
}

func (s *shop) settled() int {
	c := s.counts()
	return c["applied"] + c["stale"] + c["dead_lettered"]
}

func (s *shop) level(sku ids.ID) inventory.Level {
	s.t.Helper()
	l, err := s.inv.Level(s.ctx, sku)
	if err != nil {
		s.t.Fatal(err)
	}
	return l
}

// publisher is a plain AMQP client, as an outside system would use: amqp091-go and
// nothing of ours.
type publisher struct {
	t     *testing.T
	conn  *amqp.Connection
	ch    *amqp.Channel
	queue string

	mu      sync.Mutex
	pending []*amqp.DeferredConfirmation
}

func (s *shop) publisher() *publisher {
	s.t.Helper()
	conn, err := amqp.Dial(s.url)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		s.t.Fatal(err)
	}
	// A well-behaved producer declares the queue as the consumer does: durable.
	if _, err := ch.QueueDeclare(s.queue, true, false, false, false, nil); err != nil {
		s.t.Fatal(err)
	}
	return &publisher{t: s.t, conn: conn, ch: ch, queue: s.queue}
}

func (p *publisher) publish(msg amqp.Publishing) {
	p.t.Helper()
	msg.DeliveryMode = amqp.Persistent
	dc, err := p.ch.PublishWithDeferredConfirmWithContext(context.Background(), "", p.queue, false, false, msg)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.pending = append(p.pending, dc)
	p.mu.Unlock()
}

// confirmed waits until the broker has taken every message published.
func (p *publisher) confirmed() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p.mu.Lock()
	pending := p.pending
	p.pending = nil
	p.mu.Unlock()
	for _, dc := range pending {
		if ok, err := dc.WaitContext(ctx); err != nil || !ok {
			p.t.Fatalf("publish not confirmed: %v %v", ok, err)
		}
	}
}

// queueDepth is how many messages wait in queue.
func queueDepth(t *testing.T, amqpURL, queue string) int {
	t.Helper()
	conn, err := amqp.Dial(amqpURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return q.Messages
}

// drain takes every message from queue.
func drain(t *testing.T, amqpURL, queue string) []amqp.Delivery {
	t.Helper()
	conn, err := amqp.Dial(amqpURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	var out []amqp.Delivery
	for {
		d, ok, err := ch.Get(queue, true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, d)
	}
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
