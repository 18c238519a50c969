package events_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/servicetest"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// broker gives a test its own exchange and queue prefix on the real RabbitMQ and deletes
// them when the test ends.
type broker struct {
	t    *testing.T
	url  string
	opts events.AMQPOptions

	mu        sync.Mutex
	consumers []string
}

func newBroker(t *testing.T) *broker {
	t.Helper()
	u := servicetest.AMQPURL(t)
	b := make([]byte, 5)
	rand.Read(b)
	unique := "mmtest." + hex.EncodeToString(b)
	br := &broker{t: t, url: u, opts: events.AMQPOptions{
		Exchange:    unique + ".events",
		QueuePrefix: unique + ".",
		Prefetch:    8,
		RetryDelay:  50 * time.Millisecond,
		RetryBase:   50 * time.Millisecond,
		RetryMax:    200 * time.Millisecond,
	}}
	t.Cleanup(br.cleanup) // runs after the buses' own cleanups, registered later
	return br
}

// bus opens a bus on this broker (through url, if given) and closes it at cleanup.
func (br *broker) bus(viaURL string) *events.AMQP {
	br.t.Helper()
	if viaURL == "" {
		viaURL = br.url
	}
	b, err := events.NewAMQP(viaURL, br.opts, testLog(br.t))
	if err != nil {
		br.t.Fatal(err)
	}
	br.t.Cleanup(func() {
		if err := b.Close(); err != nil {
			br.t.Errorf("Close: %v", err)
		}
	})
	return b
}

func (br *broker) subscribe(b *events.AMQP, consumer string, types []string, h events.Handler) {
	br.t.Helper()
	br.mu.Lock()
	if !slices.Contains(br.consumers, consumer) {
		br.consumers = append(br.consumers, consumer)
	}
	br.mu.Unlock()
	if err := b.Subscribe(consumer, types, h); err != nil {
		br.t.Fatal(err)
	}
}

func (br *broker) start(b *events.AMQP) {
	br.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	br.t.Cleanup(cancel)
	if err := b.Start(ctx); err != nil {
		br.t.Fatal(err)
	}
}

// channel opens a plain channel on the test broker, closed when the test ends.
func (br *broker) channel(t testing.TB) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(br.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func (br *broker) cleanup() {
	conn, err := amqp.Dial(br.url)
	if err != nil {
		br.t.Errorf("cleanup: %v", err)
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		br.t.Errorf("cleanup: %v", err)
		return
	}
	for _, c := range br.consumers {
		for _, suffix := range []string{"", ".retry", ".dlq"} {
			if _, err := ch.QueueDelete(br.opts.QueuePrefix+c+suffix, false, false, false); err != nil {
				br.t.Errorf("delete queue: %v", err)
				return
			}
		}
	}
	if err := ch.ExchangeDelete(br.opts.Exchange, false, false); err != nil {
		br.t.Errorf("delete exchange: %v", err)
	}
}

// queueDepth is how many messages wait in a consumer's queue.
func (br *broker) queueDepth(consumer string) int {
	br.t.Helper()
	ch := br.channel(br.t)
	q, err := ch.QueueDeclarePassive(br.opts.QueuePrefix+consumer, true, false, false, false, nil)
	if err != nil {
		br.t.Fatal(err)
	}
	return q.Messages
}

func TestAMQPPublishAndSubscribe(t *testing.T) {
	t.Parallel()
	br := newBroker(t)
	bus := br.bus("")
	g := newGen(t)
	rec := newRecorder()
	br.subscribe(bus, "orders", []string{"order.created"}, rec.handle)
	br.start(bus)
	if err := bus.Ping(context.Background()); err != nil {
		t.Fatalf("Ping = %v", err)
	}

	want := []events.Event{mustEvent(t, g, "order.created", 1), mustEvent(t, g, "order.created", 2), mustEvent(t, g, "order.created", 3)}
	if err := bus.Publish(context.Background(), want...); err != nil {
		t.Fatalf("Publish = %v", err)
	}
	waitFor(t, 5*time.Second, "3 events", func() bool { return rec.succeeded() == 3 })
	got := rec.events()
	for i := range want {
		if !sameEvent(got[i], want[i]) {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// All were acknowledged: nothing is left in the queue.
	waitFor(t, 5*time.Second, "an empty queue", func() bool { return br.queueDepth("orders") == 0 })
	time.Sleep(100 * time.Millisecond)
	for _, e := range want {
		if n := rec.calls(e.ID); n != 1 {
			t.Errorf("event %s handled %d times, want once", e.ID, n)
		}
	}
}

func TestAMQPMessageProperties(t *testing.T) {
	t.Parallel()
	br := newBroker(t)
	bus := br.bus("")
	g := newGen(t)
	br.subscribe(bus, "inspect", []string{"order.#"}, func(context.Context, events.Event) error { return nil })
	// Not started: the queue exists from Subscribe, so the message waits there.
	e := mustEvent(t, g, "order.created", 1)
	if err := bus.Publish(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	ch := br.channel(t)
	var d amqp.Delivery
	var err error
	waitFor(t, 5*time.Second, "the message", func() bool {
		var ok bool
		d, ok, err = ch.Get(br.opts.QueuePrefix+"inspect", true)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	})
	if d.DeliveryMode != amqp.Persistent || d.ContentType != "application/json" ||
		d.MessageId != e.ID.String() || d.RoutingKey != "order.created" || d.Exchange != br.opts.Exchange {
		t.Errorf("delivery mode=%d content-type=%q id=%q key=%q exchange=%q",
			d.DeliveryMode, d.ContentType, d.MessageId, d.RoutingKey, d.Exchange)
	}
	got, err := events.Decode(d.Body)
	if err != nil || !sameEvent(got, e) {
		t.Errorf("body %s (%v), want the envelope of %+v", d.Body, err, e)
	}
}

func TestAMQPEventsWaitForStart(t *testing.T) {
	t.Parallel()
	br := newBroker(t)
	bus := br.bus("")
	g := newGen(t)
	rec := newRecorder()
	br.subscribe(bus, "late", []string{"order.*"}, rec.handle)
	e := mustEvent(t, g, "order.paid", 1)
	if err := bus.Publish(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := rec.calls(e.ID); n != 0 {
		t.Fatalf("handled %d times before Start", n)
	}
	br.start(bus)
	waitFor(t, 5*time.Second, "the event after Start", func() bool { return rec.calls(e.ID) == 1 })

	// A subscription made after Start consumes at once.
	late := newRecorder()
	br.subscribe(bus, "later", []string{"user.registered"}, late.handle)
	u := mustEvent(t, g, "user.registered", 2)
	if err := bus.Publish(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the later subscriber's event", func() bool { return late.calls(u.ID) == 1 })
}

func TestAMQPHandlerErrorRedelivers(t *testing.T) {
	t.Parallel()
	br := newBroker(t)
	bus := br.bus("")
	g := newGen(t)
	rec := newRecorder()
	rec.fail = func(_ events.Event, attempt int) error {
		if attempt <= 2 {
			return errors.New("not yet")
		}
		return nil
	}
	br.subscribe(bus, "flaky", []string{"payment.succeeded"}, rec.handle)
	br.start(bus)
	e := mustEvent(t, g, "payment.succeeded", 1)
	start := time.Now()
	if err := bus.Publish(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "a successful delivery", func() bool { return rec.succeeded() == 1 })
	if d := time.Since(start); d < 3*br.opts.RetryBase {
		t.Errorf("two retries took %v, want at least RetryBase+2×RetryBase (%v)", d, 3*br.opts.RetryBase)
	}
	time.Sleep(4 * br.opts.RetryBase)
	if n, ok := rec.calls(e.ID), rec.succeeded(); n != 3 || ok != 1 {
		t.Fatalf("handled %d times with %d successes, want 3 calls and one success", n, ok)
	}
	waitFor(t, 5*time.Second, "an empty queue", func() bool { return br.queueDepth("flaky") == 0 })
}

func TestAMQPFailingMessageDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	br := newBroker(t)
	bus := br.bus("")
	g := newGen(t)
	poison := mustEvent(t, g, "order.created", 0)
	var mu sync.Mutex
	poisonCalls := 0
	rec := newRecorder()
	br.subscribe(bus, "mixed", []string{"order.created"}, func(ctx context.Context, e events.Event) error {
		if e.ID == poison.ID {
			mu.Lock()
			defer mu.Unlock()
			poisonCalls++
			return errors.New("cannot handle this one")
		}
		return rec.handle(ctx, e)
	})
	br.start(bus)
	evs := []events.Event{poison}
	for i := 1; i <= 20; i++ {
		evs = append(evs, mustEvent(t, g, "order.created", i))
	}
	if err := bus.Publish(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the 20 good events", func() bool { return rec.succeeded() == 20 })
	waitFor(t, 5*time.Second, "the poison event to be retried", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return poisonCalls >= 3
	})
}

func TestAMQPWildcardBindings(t *testing.T) {
	t.Parallel()
	br := newBroker(t)
	bus := br.bus("")
	g := newGen(t)
	rec := newRecorder()
	br.subscribe(bus, "watcher", []string{"catalog.#", "*.stock.changed"}, rec.handle)
	br.start(bus)
	types := []string{"catalog.product.changed", "order.created", "catalog", "inventory.stock.changed",
		"inventory.stock.reserved", "catalog.category.deleted", "x.inventory.stock.changed", "done.stock.changed"}
	for i, typ := range types {
		if err := bus.Publish(context.Background(), mustEvent(t, g, typ, i)); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"catalog.product.changed", "catalog", "inventory.stock.changed", "catalog.category.deleted", "done.stock.changed"}
	// Messages from one channel to one queue keep their order: once the last matching one
	// arrived, every earlier one has been routed or dropped.
	waitFor(t, 5*time.Second, "the last matching event", func() bool {
		return slices.Contains(rec.types(), "done.stock.changed")
	})
	time.Sleep(50 * time.Millisecond)
	if got := rec.types(); !slices.Equal(got, want) {
		t.Fatalf("received %v, want %v", got, want)
	}
}

func TestAMQPEveryConsumerGetsEveryEvent(t *testing.T) {
	t.Parallel()
	br := newBroker(t)
	bus := br.bus("")
	g := newGen(t)
	recA, recB, recB2 := newRecorder(), newRecorder(), newRecorder()
	br.subscribe(bus, "inventory", []string{"order.#"}, recA.handle)
	br.subscribe(bus, "payment", []string{"order.created"}, recB.handle)
	// A second subscription of the same consumer shares its queue but gets only its types.
	br.subscribe(bus, "payment", []string{"order.cancelled"}, recB2.handle)
	br.start(bus)
	var evs []events.Event
	for i := range 10 {
		typ := "order.created"
		if i%2 == 1 {
			typ = "order.cancelled"
		}
		evs = append(evs, mustEvent(t, g, typ, i))
	}
	if err := bus.Publish(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "all deliveries", func() bool {
		return recA.succeeded() == 10 && recB.succeeded() == 5 && recB2.succeeded() == 5
	})
	time.Sleep(100 * time.Millisecond)
	for _, e := range evs {
		if recA.calls(e.ID) != 1 {
			t.Errorf("inventory got %s %d times", e.ID, recA.calls(e.ID))
		}
	}
	for _, e := range recB.events() {
		if e.Type != "order.created" {
			t.Errorf("payment's order.created handler got %s", e.Type)
		}
	}
	for _, e := range recB2.events() {
		if e.Type != "order.cancelled" {
			t.Errorf("payment's order.cancelled handler got %s", e.Type)
		}
	}
}

func TestAMQPTwoInstancesShareAConsumerQueue(t *testing.T) {
	t.Parallel()
	br := newBroker(t)
	g := newGen(t)
	busA, busB := br.bus(""), br.bus("")
	recA, recB := newRecorder(), newRecorder()
	br.subscribe(busA, "order", []string{"payment.#"}, recA.handle)
	br.subscribe(busB, "order", []string{"payment.#"}, recB.handle)
	br.start(busA)
	br.start(busB)
	var evs []events.Event
	for i := range 40 {
		evs = append(evs, mustEvent(t, g, "payment.succeeded", i))
	}
	if err := busA.Publish(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	// Two instances of one module compete: each event is handled once, by one of them.
	waitFor(t, 5*time.Second, "all events", func() bool { return recA.succeeded()+recB.succeeded() == 40 })
	time.Sleep(100 * time.Millisecond)
	for _, e := range evs {
		if n := recA.calls(e.ID) + recB.calls(e.ID); n != 1 {
			t.Errorf("event %s handled %d times", e.ID, n)
		}
	}
}

func TestAMQPRejectsBadEvents(t *testing.T) {
	t.Parallel()
	br := newBroker(t)
	bus := br.bus("")
	g := newGen(t)
	good := mustEvent(t, g, "a.b", 1)
	bad := mustEvent(t, g, "a.b", 2)
	bad.Type = "a.*"
	err := bus.Publish(context.Background(), good, bad)
	var pe *events.PublishError
	if !errors.As(err, &pe) || len(pe.Failed) != 1 || pe.Failed[0].ID != bad.ID {
		t.Fatalf("Publish = %v, want a PublishError naming only the bad event", err)
	}
}

func TestAMQPConnectErrors(t *testing.T) {
	t.Parallel()
	if _, err := events.NewAMQP("http://example.com", events.AMQPOptions{}, nil); err == nil {
		t.Error("NewAMQP accepted an http URL")
	}
	// Nothing listens on a port just released: NewAMQP fails at once, without the password.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := events.NewAMQP("amqp://shop:s3cret@"+addr+"/", events.AMQPOptions{}, nil); err == nil {
		t.Error("NewAMQP succeeded with no broker")
	} else if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error reveals the password: %v", err)
	}
}

func TestAMQPCloseStopsEverything(t *testing.T) {
	t.Parallel()
	br := newBroker(t)
	b, err := events.NewAMQP(br.url, br.opts, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(t)
	block := make(chan struct{})
	entered := make(chan struct{}, 1)
	var sawCancel bool
	br.subscribe(b, "slow", []string{"#"}, func(ctx context.Context, _ events.Event) error {
		entered <- struct{}{}
		select {
		case <-ctx.Done():
			sawCancel = true
			return ctx.Err()
		case <-block:
			return nil
		}
	})
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), mustEvent(t, g, "a.b", 1)); err != nil {
		t.Fatal(err)
	}
	<-entered
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if !sawCancel {
		t.Error("the running handler's context was not cancelled by Close")
	}
	if err := b.Publish(context.Background(), mustEvent(t, g, "a.b", 2)); !errors.Is(err, events.ErrClosed) {
		t.Errorf("Publish after Close = %v", err)
	}
	if err := b.Ping(context.Background()); !errors.Is(err, events.ErrClosed) {
		t.Errorf("Ping after Close = %v", err)
	}
	// The message whose handler was interrupted was not acknowledged: it is back in the queue.
	waitFor(t, 5*time.Second, "the message back in the queue", func() bool { return br.queueDepth("slow") == 1 })
}

func TestAMQPReconnects(t *testing.T) {
	t.Parallel()
	br := newBroker(t)
	p, proxied := servicetest.NewProxy(t, br.url, "5672")
	bus := br.bus(proxied)
	g := newGen(t)
	rec := newRecorder()
	br.subscribe(bus, "survivor", []string{"order.#"}, rec.handle)
	br.start(bus)

	first := mustEvent(t, g, "order.created", 1)
	if err := bus.Publish(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the first event", func() bool { return rec.calls(first.ID) == 1 })

	p.Cut()
	waitFor(t, 5*time.Second, "Ping to report the outage", func() bool {
		return errors.Is(bus.Ping(context.Background()), events.ErrNotConnected)
	})
	lost := mustEvent(t, g, "order.created", 2)
	if err := bus.Publish(context.Background(), lost); !errors.Is(err, events.ErrNotConnected) {
		t.Fatalf("Publish while down = %v, want ErrNotConnected", err)
	}
	// Meanwhile another producer publishes: the durable queue keeps it for us.
	other := br.bus("")
	during := mustEvent(t, g, "order.paid", 3)
	if err := other.Publish(context.Background(), during); err != nil {
		t.Fatal(err)
	}

	p.Restore()
	waitFor(t, 10*time.Second, "Ping to recover", func() bool { return bus.Ping(context.Background()) == nil })
	waitFor(t, 5*time.Second, "the event published during the outage", func() bool { return rec.calls(during.ID) == 1 })
	after := mustEvent(t, g, "order.shipped", 4)
	if err := bus.Publish(context.Background(), after); err != nil {
		t.Fatalf("Publish after reconnect = %v", err)
	}
	waitFor(t, 5*time.Second, "the event published after reconnecting", func() bool { return rec.calls(after.ID) == 1 })
	if n := rec.calls(lost.ID); n != 0 {
		t.Errorf("an event whose Publish failed arrived %d times", n)
	}
}

func TestAMQPRecoversDeletedTopology(t *testing.T) {
	t.Parallel()
	for _, deleted := range []string{"exchange", "queue"} {
		t.Run(deleted, func(t *testing.T) {
			br := newBroker(t)
			bus := br.bus("")
			g := newGen(t)
			rec := newRecorder()
			br.subscribe(bus, "stubborn", []string{"order.#"}, rec.handle)
			br.start(bus)

			ch := br.channel(t)
			var err error
			// Someone deletes the exchange (publishing fails with a channel error) or the
			// queue (the broker cancels the consumer).
			if deleted == "exchange" {
				err = ch.ExchangeDelete(br.opts.Exchange, false, false)
			} else {
				_, err = ch.QueueDelete(br.opts.QueuePrefix+"stubborn", false, false, false)
			}
			if err != nil {
				t.Fatal(err)
			}
			// The bus resets its connection and declares its topology again: an event
			// published after that arrives.
			deadline := time.Now().Add(10 * time.Second)
			for i := 0; ; i++ {
				e := mustEvent(t, g, "order.created", i)
				if bus.Publish(context.Background(), e) == nil {
					got := time.Now().Add(300 * time.Millisecond)
					for rec.calls(e.ID) == 0 && time.Now().Before(got) {
						time.Sleep(5 * time.Millisecond)
					}
					if rec.calls(e.ID) == 1 {
						return
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("after the %s was deleted, no event got through", deleted)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

func TestRelayThroughRabbitMQ(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		br := newBroker(t)
		bus := br.bus("")
		g := newGen(t)
		rec := newRecorder()
		br.subscribe(bus, "inventory", []string{"order.*"}, rec.handle)
		br.start(bus)
		ob := events.NewOutbox()
		r := events.NewRelay(db, ob, bus, testLog(t), events.RelayOptions{Poll: time.Hour})
		startRelay(t, r)

		var want []events.Event
		for i := range 25 {
			want = append(want, mustEvent(t, g, "order.created", i))
		}
		write(t, db, ob, want...)
		waitFor(t, 10*time.Second, "every event through RabbitMQ", func() bool { return rec.succeeded() == len(want) })
		waitFor(t, 5*time.Second, "the outbox drained", func() bool { return pending(t, r) == 0 })
		got := rec.events()
		for i := range want {
			if !sameEvent(got[i], want[i]) {
				t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
			}
			if n := rec.calls(want[i].ID); n != 1 {
				t.Errorf("event %s handled %d times", want[i].ID, n)
			}
		}
	})
}
