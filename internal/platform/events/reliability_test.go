package events_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// effects is a handler whose effect is counted per event, and which remembers the
// attempt number every call saw.
type effects struct {
	mu       sync.Mutex
	applied  map[ids.ID]int
	attempts map[ids.ID][]int
	// fail decides whether the call with this 1-based call number fails.
	fail func(e events.Event, call int) error
}

func newEffects(fail func(e events.Event, call int) error) *effects {
	return &effects{applied: map[ids.ID]int{}, attempts: map[ids.ID][]int{}, fail: fail}
}

func (f *effects) handle(ctx context.Context, e events.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts[e.ID] = append(f.attempts[e.ID], events.Attempt(ctx))
	if f.fail != nil {
		if err := f.fail(e, len(f.attempts[e.ID])); err != nil {
			return err
		}
	}
	f.applied[e.ID]++
	return nil
}

func (f *effects) appliedTimes(id ids.ID) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applied[id]
}

func (f *effects) seen(id ids.ID) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.attempts[id]...)
}

// counter reads one labelled counter from reg; 0 if it was never incremented.
func counter(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	return series(t, reg, name, label, value).GetCounter().GetValue() // nil-safe: 0 when absent
}

// series finds name's series whose label is value (label "": the series without labels);
// nil when reg has none.
func series(t *testing.T, reg *prometheus.Registry, name, label, value string) *dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" && len(m.GetLabel()) == 0 {
				return m
			}
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					return m
				}
			}
		}
	}
	return nil
}

// getOne takes one message from queue with a plain channel, waiting for it to arrive.
func (br *broker) getOne(queue string) amqp.Delivery {
	br.t.Helper()
	ch := br.channel(br.t)
	var d amqp.Delivery
	var err error
	waitFor(br.t, 10*time.Second, "a message in "+queue, func() bool {
		var ok bool
		d, ok, err = ch.Get(queue, true)
		if err != nil {
			br.t.Fatal(err)
		}
		return ok
	})
	return d
}

func headerInt(t *testing.T, h amqp.Table, key string) int {
	t.Helper()
	switch v := h[key].(type) {
	case int32:
		return int(v)
	case int64:
		return int(v)
	case int:
		return v
	}
	t.Fatalf("header %s = %#v, want an integer", key, h[key])
	return 0
}

func TestAMQPRetriesWithBackoffThenSucceeds(t *testing.T) {
	t.Parallel()
	br := newBroker(t)
	reg := prometheus.NewRegistry()
	br.opts.Metrics = events.NewMetrics(reg)
	bus := br.bus("")
	g := newGen(t)
	fx := newEffects(func(_ events.Event, call int) error {
		if call <= 2 {
			return fmt.Errorf("lock wait timeout (call %d)", call)
		}
		return nil
	})
	br.subscribe(bus, "flaky", []string{"order.paid"}, fx.handle)
	br.start(bus)
	evs := []events.Event{mustEvent(t, g, "order.paid", 1), mustEvent(t, g, "order.paid", 2), mustEvent(t, g, "order.paid", 3)}
	start := time.Now()
	if err := bus.Publish(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "every event applied", func() bool {
		for _, e := range evs {
			if fx.appliedTimes(e.ID) == 0 {
				return false
			}
		}
		return true
	})
	// Backoff: RetryBase after the first failure, twice that after the second.
	if d := time.Since(start); d < 3*br.opts.RetryBase {
		t.Errorf("two retries took %v, want at least %v", d, 3*br.opts.RetryBase)
	}
	time.Sleep(4 * br.opts.RetryMax)
	for _, e := range evs {
		if n := fx.appliedTimes(e.ID); n != 1 {
			t.Errorf("event %s applied %d times, want once", e.ID, n)
		}
		if got := fx.seen(e.ID); !slices.Equal(got, []int{1, 2, 3}) {
			t.Errorf("event %s: handler saw attempts %v, want [1 2 3]", e.ID, got)
		}
	}
	for _, q := range []string{"flaky", "flaky.retry", "flaky.dlq"} {
		if n := br.queueDepth(q); n != 0 {
			t.Errorf("queue %s holds %d messages, want none", q, n)
		}
	}
	if f, r, d := counter(t, reg, "minimart_events_handler_failures_total", "consumer", "flaky"),
		counter(t, reg, "minimart_events_retried_total", "consumer", "flaky"),
		counter(t, reg, "minimart_events_dead_lettered_total", "consumer", "flaky"); f != 6 || r != 6 || d != 0 {
		t.Errorf("metrics: failures=%v retried=%v dead-lettered=%v, want 6, 6, 0", f, r, d)
	}
}

func TestAMQPDeadLettersAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	br := newBroker(t)
	br.opts.MaxAttempts = 3
	reg := prometheus.NewRegistry()
	br.opts.Metrics = events.NewMetrics(reg)
	bus := br.bus("")
	g := newGen(t)
	poison := mustEvent(t, g, "payment.succeeded", 0)
	fx := newEffects(func(e events.Event, _ int) error {
		if e.ID == poison.ID {
			return errors.New("order 42 does not exist")
		}
		return nil
	})
	br.subscribe(bus, "orders", []string{"payment.*"}, fx.handle)
	br.start(bus)
	before := mustEvent(t, g, "payment.succeeded", 1)
	if err := bus.Publish(context.Background(), before, poison); err != nil {
		t.Fatal(err)
	}

	d := br.getOne(br.opts.QueuePrefix + "orders.dlq")
	if got := headerInt(t, d.Headers, "x-attempts"); got != br.opts.MaxAttempts {
		t.Errorf("x-attempts = %d, want MaxAttempts (%d)", got, br.opts.MaxAttempts)
	}
	if e, _ := d.Headers["x-error"].(string); !strings.Contains(e, "order 42 does not exist") {
		t.Errorf("x-error = %#v", d.Headers["x-error"])
	}
	if c, _ := d.Headers["x-consumer"].(string); c != "orders" {
		t.Errorf("x-consumer = %#v", d.Headers["x-consumer"])
	}
	if at, _ := d.Headers["x-failed-at"].(string); at == "" {
		t.Errorf("x-failed-at = %#v", d.Headers["x-failed-at"])
	} else if ft, err := time.Parse(time.RFC3339Nano, at); err != nil || time.Since(ft) > time.Minute {
		t.Errorf("x-failed-at = %q (%v), want about now", at, err)
	}
	if k, _ := d.Headers["x-original-routing-key"].(string); k != "payment.succeeded" {
		t.Errorf("x-original-routing-key = %#v", d.Headers["x-original-routing-key"])
	}
	if _, ok := d.Headers["x-death"]; ok {
		t.Errorf("the broker's x-death bookkeeping was carried into the dead letter")
	}
	if got, err := events.Decode(d.Body); err != nil || !sameEvent(got, poison) || d.MessageId != poison.ID.String() ||
		d.DeliveryMode != amqp.Persistent {
		t.Errorf("dead letter body %s (%v), id %q, mode %d; want the poison event, persistent", d.Body, err, d.MessageId, d.DeliveryMode)
	}
	if got := fx.seen(poison.ID); !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("poison handled with attempts %v, want [1 2 3]", got)
	}

	// The consumer moved on: later events flow, and the poison is not handled again.
	var after []events.Event
	for i := 2; i < 7; i++ {
		after = append(after, mustEvent(t, g, "payment.succeeded", i))
	}
	if err := bus.Publish(context.Background(), after...); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the events published after the dead letter", func() bool {
		for _, e := range after {
			if fx.appliedTimes(e.ID) != 1 {
				return false
			}
		}
		return true
	})
	time.Sleep(2 * br.opts.RetryMax)
	if got := fx.seen(poison.ID); len(got) != br.opts.MaxAttempts {
		t.Errorf("poison handled %d times, want %d", len(got), br.opts.MaxAttempts)
	}
	if n := fx.appliedTimes(before.ID); n != 1 {
		t.Errorf("the event before the poison was applied %d times", n)
	}
	for _, q := range []string{"orders", "orders.retry", "orders.dlq"} {
		if n := br.queueDepth(q); n != 0 {
			t.Errorf("queue %s holds %d messages, want none", q, n)
		}
	}
	if f, r, dl := counter(t, reg, "minimart_events_handler_failures_total", "consumer", "orders"),
		counter(t, reg, "minimart_events_retried_total", "consumer", "orders"),
		counter(t, reg, "minimart_events_dead_lettered_total", "consumer", "orders"); f != 3 || r != 2 || dl != 1 {
		t.Errorf("metrics: failures=%v retried=%v dead-lettered=%v, want 3, 2, 1", f, r, dl)
	}
}

func TestAMQPUndecodableMessageGoesToDLQ(t *testing.T) {
	t.Parallel()
	br := newBroker(t)
	bus := br.bus("")
	g := newGen(t)
	rec := newRecorder()
	br.subscribe(bus, "strict", []string{"inventory.#"}, rec.handle)
	br.start(bus)

	ch := br.channel(t)
	garbage := []byte(`{"product_id": 1, "new_inventory": 42}`) // not an envelope
	if err := ch.PublishWithContext(context.Background(), br.opts.Exchange, "inventory.update", false, false,
		amqp.Publishing{ContentType: "application/json", MessageId: "ext-1", Body: garbage}); err != nil {
		t.Fatal(err)
	}
	d := br.getOne(br.opts.QueuePrefix + "strict.dlq")
	if string(d.Body) != string(garbage) || d.MessageId != "ext-1" {
		t.Errorf("dead letter = %q id %q, want the original body and id", d.Body, d.MessageId)
	}
	if e, _ := d.Headers["x-error"].(string); !strings.Contains(e, "decode event") {
		t.Errorf("x-error = %#v, want the decode error", d.Headers["x-error"])
	}
	if n := headerInt(t, d.Headers, "x-attempts"); n != 1 {
		t.Errorf("x-attempts = %d, want 1", n)
	}
	if k, _ := d.Headers["x-original-routing-key"].(string); k != "inventory.update" {
		t.Errorf("x-original-routing-key = %#v", d.Headers["x-original-routing-key"])
	}
	good := mustEvent(t, g, "inventory.stock.changed", 1)
	if err := bus.Publish(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "a good event after the garbage", func() bool { return rec.calls(good.ID) == 1 })
	if n := rec.succeeded(); n != 1 {
		t.Errorf("handler called for %d events, want only the good one", n)
	}
}

// A retry queue that disappeared must not swallow messages: the move is returned as
// unroutable, the original is requeued and the queues are declared again.
func TestAMQPMissingRetryQueueLosesNothing(t *testing.T) {
	t.Parallel()
	br := newBroker(t)
	bus := br.bus("")
	g := newGen(t)
	fx := newEffects(func(_ events.Event, call int) error {
		if call <= 2 {
			return errors.New("not yet")
		}
		return nil
	})
	br.subscribe(bus, "careful", []string{"order.created"}, fx.handle)
	br.start(bus)

	ch := br.channel(t)
	if _, err := ch.QueueDelete(br.opts.QueuePrefix+"careful.retry", false, false, false); err != nil {
		t.Fatal(err)
	}
	e := mustEvent(t, g, "order.created", 1)
	if err := bus.Publish(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the event applied", func() bool { return fx.appliedTimes(e.ID) == 1 })
	// First failure: the move was returned, so the message came back unchanged (attempt 1
	// again); second failure: moved to the declared-again retry queue (attempt 2).
	if got := fx.seen(e.ID); !slices.Equal(got, []int{1, 1, 2}) {
		t.Errorf("attempts seen %v, want [1 1 2]", got)
	}
}

// --- in-process bus behind the relay ---

func TestRelayInProcRetriesThenApplies(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		ob := events.NewOutbox()
		reg := prometheus.NewRegistry()
		metrics := events.NewMetrics(reg)
		bus := inProc(t, db, events.InProcOptions{
			Poll: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, MaxAttempts: 3, Metrics: metrics,
		})
		// The third call, the one that succeeds, waits until the test has seen the
		// delivery's record of the two failures.
		third, proceed := make(chan struct{}), make(chan struct{})
		fx := newEffects(func(_ events.Event, call int) error {
			if call <= 2 {
				return fmt.Errorf("stock row locked (call %d)", call)
			}
			close(third)
			<-proceed
			return nil
		})
		if err := bus.Subscribe("inventory", []string{"order.*"}, fx.handle); err != nil {
			t.Fatal(err)
		}
		r := events.NewRelay(db, ob, bus, testLog(t), events.RelayOptions{Poll: 10 * time.Millisecond, Metrics: metrics})
		startBus(t, bus)
		startRelay(t, r)
		e := mustEvent(t, g, "order.paid", 1)
		write(t, db, ob, e)

		receive(t, third, "the third try")
		var attempts int
		var lastErr string
		if err := db.Read().QueryRow("SELECT attempts, last_error FROM event_deliveries WHERE consumer = ? AND event_id = ?",
			"inventory", int64(e.ID)).Scan(&attempts, &lastErr); err != nil {
			t.Fatal(err)
		}
		if attempts != 2 || !strings.Contains(lastErr, "stock row locked (call 2)") {
			t.Errorf("delivery records attempts=%d last_error=%q, want 2 failed attempts and the last error", attempts, lastErr)
		}
		waitFor(t, 5*time.Second, "the outbox row published", func() bool { return readRow(t, db, e.ID).published })
		if n := pending(t, r); n != 1 {
			t.Errorf("Pending while the delivery is handled = %d, want 1 (the delivery)", n)
		}
		close(proceed)
		waitFor(t, 5*time.Second, "nothing pending", func() bool { return pending(t, r) == 0 })
		time.Sleep(50 * time.Millisecond)
		if n := fx.appliedTimes(e.ID); n != 1 {
			t.Errorf("applied %d times, want once", n)
		}
		if got := fx.seen(e.ID); !slices.Equal(got, []int{1, 2, 3}) {
			t.Errorf("handler saw attempts %v, want [1 2 3]", got)
		}
		// The relay published it once: the retries were the consumer's own.
		if row := readRow(t, db, e.ID); !row.published || row.attempts != 0 {
			t.Errorf("row = %+v, want published at the first attempt", row)
		}
		// Two failures with MaxAttempts 3: it succeeded on the last try, and was not dead-lettered.
		if dls, err := r.DeadLetters(context.Background(), 0); err != nil || len(dls) != 0 {
			t.Errorf("DeadLetters = %v, %v; want none", dls, err)
		}
		if p, f, rt := counter(t, reg, "minimart_events_published_total", "type", "order.paid"),
			counter(t, reg, "minimart_events_handler_failures_total", "consumer", "inventory"),
			counter(t, reg, "minimart_events_retried_total", "consumer", "inventory"); p != 1 || f != 2 || rt != 2 {
			t.Errorf("metrics: published=%v failures=%v retried=%v, want 1, 2, 2", p, f, rt)
		}
	})
}

func TestRelayInProcDeadLetters(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		ob := events.NewOutbox()
		reg := prometheus.NewRegistry()
		metrics := events.NewMetrics(reg)
		const maxAttempts = 3
		bus := inProc(t, db, events.InProcOptions{
			Poll: 10 * time.Millisecond, MaxBackoff: 30 * time.Millisecond, MaxAttempts: maxAttempts, Metrics: metrics,
		})
		poison := mustEvent(t, g, "payment.succeeded", 0)
		bad := newEffects(func(e events.Event, _ int) error {
			if e.ID == poison.ID {
				return errors.New("payment for an unknown order")
			}
			return nil
		})
		good := newEffects(nil)
		if err := bus.Subscribe("order", []string{"payment.*"}, bad.handle); err != nil {
			t.Fatal(err)
		}
		if err := bus.Subscribe("audit", []string{"payment.*"}, good.handle); err != nil {
			t.Fatal(err)
		}
		r := events.NewRelay(db, ob, bus, testLog(t), events.RelayOptions{Poll: 10 * time.Millisecond, Metrics: metrics})
		startBus(t, bus)
		startRelay(t, r)
		write(t, db, ob, poison)
		waitFor(t, 5*time.Second, "the poison event dead-lettered", func() bool { return pending(t, r) == 0 })

		dls, err := r.DeadLetters(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(dls) != 1 {
			t.Fatalf("DeadLetters = %+v, want one", dls)
		}
		dl := dls[0]
		if dl.EventID != poison.ID || dl.Consumer != "order" || dl.Type != "payment.succeeded" ||
			dl.Attempts != maxAttempts || !strings.Contains(dl.Error, "payment for an unknown order") ||
			time.Since(dl.CreatedAt) > time.Minute || dl.CreatedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("dead letter = %+v", dl)
		}
		if strings.Contains(dl.Error, "consumer order") {
			t.Errorf("dead letter error %q repeats the consumer", dl.Error)
		}
		if got, err := dl.Event(); err != nil || !sameEvent(got, poison) {
			t.Errorf("dead letter holds %s (%v), want the poison envelope", dl.Payload, err)
		}
		if row := readRow(t, db, poison.ID); !row.published || row.attempts != 0 {
			t.Errorf("outbox row = %+v, want published at once", row)
		}
		if got := bad.seen(poison.ID); !slices.Equal(got, []int{1, 2, 3}) {
			t.Errorf("failing handler saw attempts %v, want [1 2 3]", got)
		}
		// The other consumer was given the poison once, and has no dead letter.
		if got := good.seen(poison.ID); !slices.Equal(got, []int{1}) || good.appliedTimes(poison.ID) != 1 {
			t.Errorf("healthy consumer saw attempts %v, want [1]", got)
		}

		// The consumer moves on: later events are delivered, the poison is not tried again.
		var later []events.Event
		for i := 1; i <= 5; i++ {
			later = append(later, mustEvent(t, g, "payment.succeeded", i))
		}
		write(t, db, ob, later...)
		waitFor(t, 5*time.Second, "the later events", func() bool {
			for _, e := range later {
				if bad.appliedTimes(e.ID) != 1 || good.appliedTimes(e.ID) != 1 {
					return false
				}
			}
			return true
		})
		waitFor(t, 5*time.Second, "nothing pending", func() bool { return pending(t, r) == 0 })
		time.Sleep(100 * time.Millisecond)
		if n := len(bad.seen(poison.ID)); n != maxAttempts {
			t.Errorf("poison handled %d times, want %d", n, maxAttempts)
		}
		if dls, _ := r.DeadLetters(context.Background(), 10); len(dls) != 1 {
			t.Errorf("%d dead letters, want still one", len(dls))
		}
		if f, d, p := counter(t, reg, "minimart_events_handler_failures_total", "consumer", "order"),
			counter(t, reg, "minimart_events_dead_lettered_total", "consumer", "order"),
			counter(t, reg, "minimart_events_published_total", "type", "payment.succeeded"); f != maxAttempts || d != 1 || p != 6 {
			t.Errorf("metrics: failures=%v dead-lettered=%v published=%v, want %d, 1, 6", f, d, p, maxAttempts)
		}
		if f, d := counter(t, reg, "minimart_events_handler_failures_total", "consumer", "audit"),
			counter(t, reg, "minimart_events_dead_lettered_total", "consumer", "audit"); f != 0 || d != 0 {
			t.Errorf("metrics of the healthy consumer: failures=%v dead-lettered=%v, want none", f, d)
		}
	})
}

func TestRelayDeadLettersUnreadableRow(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		ob := events.NewOutbox()
		bus := inProc(t, db, events.InProcOptions{})
		rec := newRecorder()
		if err := bus.Subscribe("any", []string{"#"}, rec.handle); err != nil {
			t.Fatal(err)
		}
		startBus(t, bus)
		id := g.New()
		if _, err := db.Write().Exec("INSERT INTO outbox_events (id, type, event_key, payload, created_at, attempts) VALUES (?, ?, ?, ?, ?, 0)",
			int64(id), "a.b", "k", "{not an envelope", time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		ok := mustEvent(t, g, "a.b", 1)
		write(t, db, ob, ok)
		r := events.NewRelay(db, ob, bus, testLog(t), events.RelayOptions{Poll: 10 * time.Millisecond})
		startRelay(t, r)
		waitFor(t, 5*time.Second, "nothing pending", func() bool { return pending(t, r) == 0 })
		dls, err := r.DeadLetters(context.Background(), 10)
		if err != nil || len(dls) != 1 {
			t.Fatalf("DeadLetters = %+v, %v; want the unreadable row", dls, err)
		}
		if d := dls[0]; d.EventID != id || d.Consumer != "" || string(d.Payload) != "{not an envelope" ||
			!strings.Contains(d.Error, "unreadable outbox row") || d.Attempts != 1 {
			t.Errorf("dead letter = %+v", d)
		}
		if rec.calls(ok.ID) != 1 {
			t.Errorf("the readable event was delivered %d times", rec.calls(ok.ID))
		}
	})
}

// flakyPublisher is a bus that cannot deliver while down: it refuses everything with
// ErrNotConnected or, every other call, names each event as not confirmed by the broker.
type flakyPublisher struct {
	down  atomic.Bool
	calls atomic.Int32
	mu    sync.Mutex
	got   map[ids.ID]int
}

func (p *flakyPublisher) Publish(_ context.Context, evs ...events.Event) error {
	n := p.calls.Add(1)
	if p.down.Load() {
		if n%2 == 0 {
			return events.ErrNotConnected
		}
		pe := &events.PublishError{}
		for _, e := range evs {
			pe.Failed = append(pe.Failed, events.FailedEvent{ID: e.ID, Err: events.ErrNacked})
		}
		return pe
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range evs {
		p.got[e.ID]++
	}
	return nil
}

func TestRelayDownPublisherNeverDeadLetters(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		ob := events.NewOutbox()
		pub := &flakyPublisher{got: map[ids.ID]int{}}
		pub.down.Store(true)
		r := events.NewRelay(db, ob, pub, testLog(t), events.RelayOptions{
			Poll: 2 * time.Millisecond, MaxBackoff: 10 * time.Millisecond, Batch: 4,
		})
		var evs []events.Event
		for i := range 10 {
			evs = append(evs, mustEvent(t, g, "order.created", i))
		}
		write(t, db, ob, evs...)
		startRelay(t, r)
		// Far more failed tries than any consumer's MaxAttempts, of both kinds. (While the bus
		// is down the relay keeps retrying the oldest rows; the others wait their turn.)
		waitFor(t, 10*time.Second, "many failed tries", func() bool {
			var most int
			if err := db.Read().QueryRow("SELECT MAX(attempts) FROM outbox_events").Scan(&most); err != nil {
				t.Fatal(err)
			}
			return most >= 5*2 && pub.calls.Load() >= 20
		})
		if n := pending(t, r); n != len(evs) {
			t.Errorf("Pending = %d while the bus is down, want all %d", n, len(evs))
		}
		if dls, err := r.DeadLetters(context.Background(), 0); err != nil || len(dls) != 0 {
			t.Fatalf("DeadLetters = %+v, %v while the bus was down; want none", dls, err)
		}
		pub.down.Store(false)
		waitFor(t, 10*time.Second, "every event published", func() bool { return pending(t, r) == 0 })
		pub.mu.Lock()
		defer pub.mu.Unlock()
		for _, e := range evs {
			if pub.got[e.ID] != 1 {
				t.Errorf("event %s published %d times, want once", e.ID, pub.got[e.ID])
			}
		}
		if dls, err := r.DeadLetters(context.Background(), 0); err != nil || len(dls) != 0 {
			t.Errorf("DeadLetters = %+v, %v; want none", dls, err)
		}
	})
}

// --- Once ---
