package events_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/liveness"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// sequence is a handler that keeps the ids it handled, in order, and tells of each on a
// channel.
type sequence struct {
	mu   sync.Mutex
	ids  []ids.ID
	seen chan ids.ID
}

func newSequence() *sequence { return &sequence{seen: make(chan ids.ID, 1000)} }

func (s *sequence) handle(_ context.Context, e events.Event) error {
	s.mu.Lock()
	s.ids = append(s.ids, e.ID)
	s.mu.Unlock()
	s.seen <- e.ID
	return nil
}

func (s *sequence) got() []ids.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ids)
}

func idsOf(evs ...events.Event) []ids.ID {
	out := make([]ids.ID, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

// TestInProcSlowConsumerHoldsUpNoOther: while one consumer's handler is stuck on an event,
// another consumer gets that event and the later ones; the stuck consumer then gets them
// all, in order.
func TestInProcSlowConsumerHoldsUpNoOther(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		ob := events.NewOutbox()
		bus := inProc(t, db, events.InProcOptions{Poll: time.Hour})
		entered, release := make(chan ids.ID, 10), make(chan struct{})
		slow := newSequence()
		if err := bus.Subscribe("payment", []string{"order.*"}, func(ctx context.Context, e events.Event) error {
			entered <- e.ID
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
			return slow.handle(ctx, e)
		}); err != nil {
			t.Fatal(err)
		}
		fast := newSequence()
		if err := bus.Subscribe("inventory", []string{"order.*"}, fast.handle); err != nil {
			t.Fatal(err)
		}
		r := events.NewRelay(db, ob, bus, testLog(t), events.RelayOptions{Poll: time.Hour})
		startBus(t, bus)
		startRelay(t, r)

		first := mustEvent(t, g, "order.paid", 1)
		write(t, db, ob, first)
		if id := receive(t, entered, "the slow consumer to take the first event"); id != first.ID {
			t.Fatalf("slow consumer took %s, want %s", id, first.ID)
		}
		if id := receive(t, fast.seen, "the fast consumer to get the first event"); id != first.ID {
			t.Fatalf("fast consumer got %s, want %s", id, first.ID)
		}
		later := []events.Event{mustEvent(t, g, "order.paid", 2), mustEvent(t, g, "order.cancelled", 3)}
		write(t, db, ob, later[0])
		write(t, db, ob, later[1])
		for _, e := range later {
			if id := receive(t, fast.seen, "the fast consumer to get a later event"); id != e.ID {
				t.Fatalf("fast consumer got %s, want %s", id, e.ID)
			}
		}
		if got := slow.got(); len(got) != 0 {
			t.Fatalf("slow consumer finished %v while its handler was held", got)
		}
		if n := deliveries(t, db, "payment"); n != 3 {
			t.Errorf("slow consumer has %d deliveries waiting, want 3", n)
		}

		close(release)
		want := idsOf(append([]events.Event{first}, later...)...)
		for range want {
			receive(t, slow.seen, "the slow consumer to catch up")
		}
		if got := slow.got(); !slices.Equal(got, want) {
			t.Errorf("slow consumer handled %v, want %v", got, want)
		}
		if got := fast.got(); !slices.Equal(got, want) {
			t.Errorf("fast consumer handled %v, want %v", got, want)
		}
		waitFor(t, 5*time.Second, "nothing pending", func() bool { return pending(t, r) == 0 })
	})
}

// TestInProcRetriesOnlyTheFailingConsumer: a consumer that fails an event N times gets it
// N+1 times, each time with its attempt number, while a failed delivery waits out its
// backoff without holding up the consumer's later events; the other consumer gets the
// event once.
func TestInProcRetriesOnlyTheFailingConsumer(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		ob := events.NewOutbox()
		reg := prometheus.NewRegistry()
		// The backoff is an hour: the test ends each wait itself, so that later events
		// are seen to pass the waiting one.
		bus := inProc(t, db, events.InProcOptions{Poll: 10 * time.Millisecond, RetryBase: time.Hour, MaxBackoff: time.Hour,
			MaxAttempts: 5, Metrics: events.NewMetrics(reg)})
		e := mustEvent(t, g, "order.paid", 1)
		const failures = 3
		flaky := newEffects(func(ev events.Event, call int) error {
			if ev.ID == e.ID && call <= failures {
				return fmt.Errorf("payment provider timed out (call %d)", call)
			}
			return nil
		})
		steady := newEffects(nil)
		if err := bus.Subscribe("payment", []string{"order.*"}, flaky.handle); err != nil {
			t.Fatal(err)
		}
		if err := bus.Subscribe("inventory", []string{"order.*"}, steady.handle); err != nil {
			t.Fatal(err)
		}
		r := events.NewRelay(db, ob, bus, testLog(t), events.RelayOptions{Poll: 10 * time.Millisecond})
		startBus(t, bus)
		startRelay(t, r)
		write(t, db, ob, e)

		attempts := func() int { // the failures recorded on the delivery; 0 before it is recorded
			var n int
			err := db.Read().QueryRow("SELECT attempts FROM event_deliveries WHERE consumer = 'payment' AND event_id = ?",
				int64(e.ID)).Scan(&n)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				t.Fatal(err)
			}
			return n
		}
		for i := 1; i <= failures; i++ {
			waitFor(t, 5*time.Second, fmt.Sprintf("failure %d recorded", i), func() bool { return attempts() == i })
			later := mustEvent(t, g, "order.created", 10+i)
			write(t, db, ob, later)
			waitFor(t, 5*time.Second, "a later event handled while the failed one waits", func() bool {
				return flaky.appliedTimes(later.ID) == 1
			})
			if flaky.appliedTimes(e.ID) != 0 || attempts() != i {
				t.Fatalf("the failed delivery was tried again before its backoff ended")
			}
			if _, err := db.Write().Exec("UPDATE event_deliveries SET next_attempt_at = ? WHERE consumer = 'payment' AND event_id = ?",
				time.Now().Add(-time.Second).UTC(), int64(e.ID)); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, 5*time.Second, "the event applied", func() bool { return flaky.appliedTimes(e.ID) == 1 })
		waitFor(t, 5*time.Second, "nothing pending", func() bool { return pending(t, r) == 0 })
		if got := flaky.seen(e.ID); !slices.Equal(got, []int{1, 2, 3, 4}) {
			t.Errorf("failing consumer saw attempts %v, want [1 2 3 4]", got)
		}
		if got := steady.seen(e.ID); !slices.Equal(got, []int{1}) {
			t.Errorf("other consumer saw attempts %v, want [1]", got)
		}
		if dls := deadLetters(t, db); len(dls) != 0 {
			t.Errorf("dead letters %+v, want none", dls)
		}
		for consumer, want := range map[string]float64{"payment": failures, "inventory": 0} {
			if f, rt, d := counter(t, reg, "minimart_events_handler_failures_total", "consumer", consumer),
				counter(t, reg, "minimart_events_retried_total", "consumer", consumer),
				counter(t, reg, "minimart_events_dead_lettered_total", "consumer", consumer); f != want || rt != want || d != 0 {
				t.Errorf("%s metrics: failures=%v retried=%v dead-lettered=%v, want %v, %v, 0", consumer, f, rt, d, want, want)
			}
		}
	})
}

// countingPublisher counts the relay's publishes on the way to the bus.
type countingPublisher struct {
	bus   events.Publisher
	calls atomic.Int32
}

func (p *countingPublisher) Publish(ctx context.Context, evs ...events.Event) error {
	err := p.bus.Publish(ctx, evs...)
	p.calls.Add(1)
	return err
}

// TestInProcRedeliveryQueuesNothingTwice: the relay publishing an event again (it died
// after the deliveries were recorded, before it marked the row published) adds no second
// delivery, neither beside one being handled nor beside one waiting.
func TestInProcRedeliveryQueuesNothingTwice(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		ob := events.NewOutbox()
		nop := func(context.Context, events.Event) error { return nil }
		// The relay publishes to a bus that is never started: it only records deliveries,
		// for both consumers.
		recording := inProc(t, db, events.InProcOptions{})
		for _, c := range []string{"order-payments", "audit"} {
			if err := recording.Subscribe(c, []string{"payment.*"}, nop); err != nil {
				t.Fatal(err)
			}
		}
		// Another bus runs order-payments alone, whose handler holds the event until
		// released; audit's delivery waits unclaimed.
		handling := inProc(t, db, events.InProcOptions{Poll: 10 * time.Millisecond})
		entered, release := make(chan struct{}, 10), make(chan struct{})
		rec := newRecorder()
		if err := handling.Subscribe("order-payments", []string{"payment.*"}, func(ctx context.Context, e events.Event) error {
			entered <- struct{}{}
			<-release
			return rec.handle(ctx, e)
		}); err != nil {
			t.Fatal(err)
		}
		startBus(t, handling)

		pub := &countingPublisher{bus: recording}
		e := mustEvent(t, g, "payment.succeeded", 1)
		write(t, db, ob, e)
		startRelay(t, events.NewRelay(db, ob, pub, testLog(t), events.RelayOptions{Poll: 10 * time.Millisecond}))
		receive(t, entered, "the handler to take the event")
		waitFor(t, 5*time.Second, "the event published", func() bool { return readRow(t, db, e.ID).published })

		// As if the relay had died before marking the row: it is published again.
		if _, err := db.Write().Exec("UPDATE outbox_events SET published_at = NULL WHERE id = ?", int64(e.ID)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "the event published again", func() bool {
			return pub.calls.Load() >= 2 && readRow(t, db, e.ID).published
		})
		for _, c := range []string{"order-payments", "audit"} {
			if n := deliveries(t, db, c); n != 1 {
				t.Errorf("%s has %d deliveries of the event, want 1", c, n)
			}
		}
		close(release)
		waitFor(t, 5*time.Second, "the delivery handled", func() bool { return deliveries(t, db, "order-payments") == 0 })
		if n := rec.calls(e.ID); n != 1 {
			t.Errorf("handled %d times, want once", n)
		}
		select {
		case <-entered:
			t.Error("the handler was given the event a second time")
		default:
		}
		if n := deliveries(t, db, "audit"); n != 1 {
			t.Errorf("audit has %d deliveries of the event, want still 1", n)
		}
	})
}

// TestInProcTakesOverFromDeadInstance: deliveries claimed by a process that died (kill -9:
// its handler never returns) are handled by the next one as soon as the first is known
// dead — at once on SQLite, where a new serving process means the old one is gone, and
// when its heartbeat stops on MySQL — not when the claim's (here one-hour) lease ends.
// While the first still beats, its claim holds.
func TestInProcTakesOverFromDeadInstance(t *testing.T) {
	t.Parallel()
	sets := []sqldb.Migrations{liveness.Migrations, events.OutboxMigrations}
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		const stale = 300 * time.Millisecond
		first, killFirst := beating(t, db, stale)
		hung := inProc(t, db, events.InProcOptions{Lease: time.Hour, Poll: time.Hour})
		hung.ClaimAs(first)
		entered, unblock := make(chan ids.ID, 10), make(chan struct{})
		t.Cleanup(func() { close(unblock) }) // runs before hung's Close: its worker can stop
		if err := hung.Subscribe("inventory", []string{"order.*"}, func(_ context.Context, e events.Event) error {
			entered <- e.ID
			<-unblock
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		startBus(t, hung)
		held := mustEvent(t, g, "order.paid", 1)
		if err := hung.Publish(context.Background(), held); err != nil {
			t.Fatal(err)
		}
		receive(t, entered, "the first process to take the event")

		next := newSequence()
		takeOver := func(poll time.Duration) {
			second, _ := beating(t, db, stale)
			bus := inProc(t, db, events.InProcOptions{Lease: time.Hour, Poll: poll})
			bus.ClaimAs(second)
			if err := bus.Subscribe("inventory", []string{"order.*"}, next.handle); err != nil {
				t.Fatal(err)
			}
			startBus(t, bus)
		}
		if db.Dialect == sqldb.MySQL {
			takeOver(10 * time.Millisecond)
			// The first instance still beats: the second takes a later event, but not the
			// held one, which comes first in event order.
			later := mustEvent(t, g, "order.paid", 2)
			if err := hung.Publish(context.Background(), later); err != nil {
				t.Fatal(err)
			}
			if id := receive(t, next.seen, "the second process to take a later event"); id != later.ID {
				t.Fatalf("the second process took %s while the first, alive, held it", id)
			}
			// kill -9: the instance stops beating and its row stays behind, stale.
			killFirst()
			old := time.Now().Add(-time.Minute).UTC()
			if _, err := db.Write().ExecContext(context.Background(),
				"INSERT INTO instances (id, started_at, heartbeat_at) VALUES (?, ?, ?)", first.ID(), old, old); err != nil {
				t.Fatal(err)
			}
		} else {
			// One serving process per file: the first is gone before the next starts, whose
			// first pass (the poll is an hour) takes the held event over.
			killFirst()
			takeOver(time.Hour)
		}
		if id := receive(t, next.seen, "the next process to take the held event"); id != held.ID {
			t.Fatalf("the next process took %s, want the held %s", id, held.ID)
		}
		waitFor(t, 5*time.Second, "the held delivery done", func() bool { return deliveries(t, db, "inventory") == 0 })
	})
}

// TestInProcResumesAfterRestart: deliveries waiting when the bus stops — one of them
// interrupted in its handler — are handled after a restart, in order, and the
// interrupted try does not count as a failure.
func TestInProcResumesAfterRestart(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		before := events.NewInProc(db, testLog(t), events.InProcOptions{Poll: time.Hour})
		entered := make(chan struct{}, 10)
		if err := before.Subscribe("catalog-cache", []string{"catalog.#"}, func(ctx context.Context, _ events.Event) error {
			entered <- struct{}{}
			<-ctx.Done() // stuck until the bus stops
			return ctx.Err()
		}); err != nil {
			t.Fatal(err)
		}
		evs := []events.Event{mustEvent(t, g, "catalog.product.changed", 1), mustEvent(t, g, "catalog.product.changed", 2),
			mustEvent(t, g, "catalog.category.changed", 3)}
		if err := before.Publish(context.Background(), evs...); err != nil {
			t.Fatal(err)
		}
		if err := before.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		receive(t, entered, "the handler to take the first event")
		if err := before.Close(); err != nil {
			t.Fatal(err)
		}
		var waiting, attempts int
		if err := db.Read().QueryRow("SELECT COUNT(*), COALESCE(SUM(attempts), 0) FROM event_deliveries"+
			" WHERE consumer = 'catalog-cache' AND claimed_until IS NULL").Scan(&waiting, &attempts); err != nil {
			t.Fatal(err)
		}
		if waiting != len(evs) || attempts != 0 {
			t.Fatalf("after the stop %d deliveries wait unclaimed with %d failures, want %d and none", waiting, attempts, len(evs))
		}

		after := inProc(t, db, events.InProcOptions{Poll: time.Hour})
		fx := newEffects(nil)
		seq := newSequence()
		if err := after.Subscribe("catalog-cache", []string{"catalog.#"}, func(ctx context.Context, e events.Event) error {
			if err := fx.handle(ctx, e); err != nil {
				return err
			}
			return seq.handle(ctx, e)
		}); err != nil {
			t.Fatal(err)
		}
		startBus(t, after)
		for range evs {
			receive(t, seq.seen, "the restarted consumer")
		}
		if got := seq.got(); !slices.Equal(got, idsOf(evs...)) {
			t.Errorf("handled %v after the restart, want %v", got, idsOf(evs...))
		}
		if got := fx.seen(evs[0].ID); !slices.Equal(got, []int{1}) {
			t.Errorf("the interrupted event was handled with attempts %v, want [1]", got)
		}
		waitFor(t, 5*time.Second, "no delivery left", func() bool { return deliveries(t, db, "catalog-cache") == 0 })
	})
}

// TestInProcDeliversInEventOrder: each consumer gets the events it does not fail once, in
// event id order, across transactions and batches; one consumer failing an event once
// changes nothing for the others nor for its own other events.
func TestInProcDeliversInEventOrder(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		ob := events.NewOutbox()
		bus := inProc(t, db, events.InProcOptions{Batch: 7, Poll: 10 * time.Millisecond, RetryBase: time.Millisecond})
		var evs []events.Event
		for i := range 60 {
			evs = append(evs, mustEvent(t, g, "order.created", i))
		}
		flaky := evs[17]
		consumers := map[string]*sequence{"a": newSequence(), "b": newSequence(), "failing": newSequence()}
		var failed atomic.Bool
		for name, seq := range consumers {
			h := seq.handle
			if name == "failing" {
				h = func(ctx context.Context, e events.Event) error {
					if e.ID == flaky.ID && failed.CompareAndSwap(false, true) {
						return errors.New("not yet")
					}
					return seq.handle(ctx, e)
				}
			}
			if err := bus.Subscribe(name, []string{"order.*"}, h); err != nil {
				t.Fatal(err)
			}
		}
		r := events.NewRelay(db, ob, bus, testLog(t), events.RelayOptions{Batch: 9, Poll: 10 * time.Millisecond})
		startBus(t, bus)
		startRelay(t, r)
		for start := 0; start < len(evs); start += 10 {
			write(t, db, ob, evs[start:start+10]...)
		}
		waitFor(t, 10*time.Second, "every delivery", func() bool { return pending(t, r) == 0 })
		want := idsOf(evs...)
		for name, seq := range consumers {
			got := seq.got()
			if name == "failing" {
				// The failed event came again later; the others kept their order.
				if slices.Index(got, flaky.ID) < 0 {
					t.Errorf("the failing consumer never handled the event it failed")
				}
				got = slices.DeleteFunc(got, func(id ids.ID) bool { return id == flaky.ID })
				want := slices.DeleteFunc(slices.Clone(want), func(id ids.ID) bool { return id == flaky.ID })
				if !slices.Equal(got, want) {
					t.Errorf("consumer %s handled %v, want %v", name, got, want)
				}
				continue
			}
			if !slices.Equal(got, want) {
				t.Errorf("consumer %s handled %v, want %v", name, got, want)
			}
		}
	})
}

// TestInProcLeaseBoundsHandlers: a handler still running when its batch's claim ends sees
// its context end and counts as failed; the deliveries of the batch not yet begun are
// given back, as they were, and claimed again at once, not at the next poll.
func TestInProcLeaseBoundsHandlers(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		bus := inProc(t, db, events.InProcOptions{Lease: 300 * time.Millisecond, Poll: time.Hour, RetryBase: time.Millisecond})
		stuck := mustEvent(t, g, "order.paid", 1)
		after := mustEvent(t, g, "order.paid", 2)
		timedOut := make(chan error, 1)
		fx := newEffects(nil)
		seq := newSequence()
		if err := bus.Subscribe("payment", []string{"order.*"}, func(ctx context.Context, e events.Event) error {
			if e.ID == stuck.ID && events.Attempt(ctx) == 1 {
				<-ctx.Done() // a provider call that hangs
				timedOut <- ctx.Err()
				return ctx.Err()
			}
			if err := fx.handle(ctx, e); err != nil {
				return err
			}
			return seq.handle(ctx, e)
		}); err != nil {
			t.Fatal(err)
		}
		if err := bus.Publish(context.Background(), stuck, after); err != nil {
			t.Fatal(err)
		}
		startBus(t, bus)
		if err := receive(t, timedOut, "the hung handler's context to end"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("the hung handler's context ended with %v, want its deadline", err)
		}
		// Both come again: the timed-out one after its (millisecond) backoff, the one given back
		// at once — which first depends on whether the backoff has passed at the next claim.
		got := []ids.ID{receive(t, seq.seen, "a delivery after the lease"), receive(t, seq.seen, "a second delivery")}
		slices.Sort(got)
		if !slices.Equal(got, []ids.ID{stuck.ID, after.ID}) {
			t.Errorf("handled %v, want the timed-out one again and the one given back", got)
		}
		if a := fx.seen(stuck.ID); !slices.Equal(a, []int{2}) {
			t.Errorf("the timed-out event came back with attempts %v, want [2]", a)
		}
		if a := fx.seen(after.ID); !slices.Equal(a, []int{1}) {
			t.Errorf("the event given back came with attempts %v, want [1]", a)
		}
	})
}
