package events_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

var outboxSets = []sqldb.Migrations{events.OutboxMigrations}

// startRelay runs r until the test ends.
func startRelay(t *testing.T, r *events.Relay) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v, want nil after cancel", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("relay did not stop")
		}
	})
}

// write stores evs in the outbox in one committed transaction.
func write(t *testing.T, db *sqldb.DB, ob *events.Outbox, evs ...events.Event) {
	t.Helper()
	if err := db.InTx(context.Background(), func(tx *sqldb.Tx) error {
		return ob.Write(context.Background(), tx, evs...)
	}); err != nil {
		t.Fatal(err)
	}
}

func pending(t *testing.T, r *events.Relay) int {
	t.Helper()
	n, err := r.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

type outboxRow struct {
	attempts    int
	lastError   sql.NullString
	published   bool
	payload     string
	typ, evtKey string
}

func readRow(t *testing.T, db *sqldb.DB, id ids.ID) outboxRow {
	t.Helper()
	var r outboxRow
	var published sql.NullTime
	err := db.Read().QueryRow("SELECT attempts, last_error, published_at, payload, type, event_key FROM outbox_events WHERE id = ?",
		int64(id)).Scan(&r.attempts, &r.lastError, &published, &r.payload, &r.typ, &r.evtKey)
	if err != nil {
		t.Fatalf("row %s: %v", id, err)
	}
	r.published = published.Valid
	return r
}

func TestOutboxMigrations(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		// Running them again is a no-op.
		if err := db.Migrate(context.Background(), events.OutboxMigrations); err != nil {
			t.Fatal(err)
		}
		st, err := db.MigrationStatus(context.Background(), events.OutboxMigrations)
		if err != nil {
			t.Fatal(err)
		}
		if len(st) == 0 {
			t.Fatal("no outbox migrations")
		}
		for _, s := range st {
			if !s.Applied {
				t.Errorf("migration %s not applied", s.Name)
			}
		}
	})
}

func TestRelayDeliversCommittedEvents(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		ob := events.NewOutbox()
		// Poll is an hour for the relay and the consumer: only the wake-ups after the
		// outbox's commit and then the deliveries' can make this test pass in time.
		bus := inProc(t, db, events.InProcOptions{Poll: time.Hour})
		rec := newRecorder()
		if err := bus.Subscribe("test", []string{"order.#"}, rec.handle); err != nil {
			t.Fatal(err)
		}
		r := events.NewRelay(db, ob, bus, testLog(t), events.RelayOptions{Poll: time.Hour})
		startBus(t, bus)
		startRelay(t, r)

		want := []events.Event{mustEvent(t, g, "order.created", 1), mustEvent(t, g, "order.paid", 2)}
		start := time.Now()
		write(t, db, ob, want...)
		waitFor(t, 5*time.Second, "both events", func() bool { return rec.succeeded() == 2 })
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("delivery took %v; the commit should wake the relay, and the relay the consumer", d)
		}
		got := rec.events()
		for i := range want {
			if !sameEvent(got[i], want[i]) {
				t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
			}
		}
		waitFor(t, 5*time.Second, "nothing pending", func() bool { return pending(t, r) == 0 })
		row := readRow(t, db, want[0].ID)
		if !row.published || row.attempts != 0 || row.typ != "order.created" || row.evtKey != "agg-1" {
			t.Errorf("row = %+v", row)
		}
		// The payload column holds the whole envelope.
		stored, err := events.Decode([]byte(row.payload))
		if err != nil || !sameEvent(stored, want[0]) {
			t.Errorf("stored envelope %s (%v), want %+v", row.payload, err, want[0])
		}
		// A second write in a later transaction is delivered too, once.
		third := mustEvent(t, g, "order.shipped", 3)
		write(t, db, ob, third)
		waitFor(t, 5*time.Second, "third event", func() bool { return rec.succeeded() == 3 })
		time.Sleep(50 * time.Millisecond)
		for _, e := range append(want, third) {
			if n := rec.calls(e.ID); n != 1 {
				t.Errorf("event %s delivered %d times, want 1", e.ID, n)
			}
		}
	})
}

func TestRelayRolledBackDeliversNothing(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		ob := events.NewOutbox()
		bus := inProc(t, db, events.InProcOptions{Poll: 20 * time.Millisecond})
		rec := newRecorder()
		if err := bus.Subscribe("test", []string{"#"}, rec.handle); err != nil {
			t.Fatal(err)
		}
		r := events.NewRelay(db, ob, bus, testLog(t), events.RelayOptions{Poll: 20 * time.Millisecond})
		startBus(t, bus)
		startRelay(t, r)

		lost := mustEvent(t, g, "order.created", 1)
		abort := errors.New("state change refused")
		err := db.InTx(context.Background(), func(tx *sqldb.Tx) error {
			if err := ob.Write(context.Background(), tx, lost); err != nil {
				return err
			}
			return abort
		})
		if !errors.Is(err, abort) {
			t.Fatalf("InTx = %v", err)
		}
		// A later event with a greater id is published after any earlier row would be.
		kept := mustEvent(t, g, "order.created", 2)
		write(t, db, ob, kept)
		waitFor(t, 5*time.Second, "the committed event", func() bool { return rec.calls(kept.ID) == 1 })
		time.Sleep(60 * time.Millisecond) // a few more polls
		if n := rec.calls(lost.ID); n != 0 {
			t.Fatalf("rolled-back event delivered %d times", n)
		}
		var rows int
		if err := db.Read().QueryRow("SELECT COUNT(*) FROM outbox_events").Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != 1 {
			t.Fatalf("outbox has %d rows, want 1", rows)
		}
	})
}

// TestRelayRetriesFailedHandler: a handler's failure is retried by the consumer's own
// delivery; the relay publishes every event once, and the events around it are not
// handled again.
func TestRelayRetriesFailedHandler(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		ob := events.NewOutbox()
		bus := inProc(t, db, events.InProcOptions{Poll: 20 * time.Millisecond})
		poison := mustEvent(t, g, "order.paid", 2)
		firstFailure := make(chan struct{})
		var once sync.Once
		rec := newRecorder()
		rec.fail = func(e events.Event, attempt int) error {
			if e.ID == poison.ID && attempt <= 2 {
				once.Do(func() { close(firstFailure) })
				return fmt.Errorf("database busy (attempt %d)", attempt)
			}
			return nil
		}
		if err := bus.Subscribe("order", []string{"order.*"}, rec.handle); err != nil {
			t.Fatal(err)
		}
		r := events.NewRelay(db, ob, bus, testLog(t), events.RelayOptions{Poll: 20 * time.Millisecond})

		okBefore, okAfter := mustEvent(t, g, "order.created", 1), mustEvent(t, g, "order.created", 3)
		write(t, db, ob, okBefore, poison, okAfter)
		if n := pending(t, r); n != 3 {
			t.Fatalf("Pending before the relay runs = %d, want 3", n)
		}
		startBus(t, bus)
		startRelay(t, r)

		receive(t, firstFailure, "the first failure")
		// The handler failed: its delivery stays pending until a later try succeeds.
		if n := pending(t, r); n < 1 {
			t.Fatalf("Pending after a failed delivery = %d, want the failed event counted", n)
		}
		waitFor(t, 5*time.Second, "the failing event to succeed", func() bool { return rec.calls(poison.ID) == 3 })
		waitFor(t, 5*time.Second, "nothing pending", func() bool { return pending(t, r) == 0 })
		if row := readRow(t, db, poison.ID); !row.published || row.attempts != 0 {
			t.Errorf("failed-then-handled row = %+v, want published at the first attempt", row)
		}
		// The events that were accepted alongside it were not delivered again.
		time.Sleep(50 * time.Millisecond)
		for _, e := range []events.Event{okBefore, okAfter} {
			if n := rec.calls(e.ID); n != 1 {
				t.Errorf("healthy event %s delivered %d times, want once", e.ID, n)
			}
			if row := readRow(t, db, e.ID); !row.published || row.attempts != 0 {
				t.Errorf("healthy row = %+v", row)
			}
		}
	})
}

// brokenPublisher refuses everything, as a bus whose broker is down does.
type brokenPublisher struct{ calls atomic.Int32 }

func (p *brokenPublisher) Publish(context.Context, ...events.Event) error {
	p.calls.Add(1)
	return events.ErrNotConnected
}

func TestRelayBacksOffWhileBusIsDown(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		ob := events.NewOutbox()
		down := &brokenPublisher{}
		r := events.NewRelay(db, ob, down, testLog(t), events.RelayOptions{Poll: time.Millisecond, Batch: 2, MaxBackoff: 200 * time.Millisecond})
		write(t, db, ob, mustEvent(t, g, "a.b", 1), mustEvent(t, g, "a.b", 2), mustEvent(t, g, "a.b", 3))
		startRelay(t, r)
		time.Sleep(500 * time.Millisecond)
		// With a 1ms poll and no backoff this would be hundreds of calls; backing off
		// (100ms, 200ms, 200ms…) keeps it to a handful.
		if n := down.calls.Load(); n < 2 || n > 10 {
			t.Errorf("Publish called %d times in 500ms while the bus was down, want a few", n)
		}
		if n := pending(t, r); n != 3 {
			t.Errorf("Pending = %d, want all 3 kept", n)
		}
		var attempts int
		var lastErr string
		if err := db.Read().QueryRow("SELECT attempts, last_error FROM outbox_events ORDER BY id LIMIT 1").Scan(&attempts, &lastErr); err != nil {
			t.Fatal(err)
		}
		if attempts < 2 || !strings.Contains(lastErr, "not connected") {
			t.Errorf("rows record attempts=%d last_error=%q", attempts, lastErr)
		}
	})
}

// slowPublisher is a publisher that takes its time, counting deliveries per event.
type slowPublisher struct {
	delay   time.Duration
	mu      *sync.Mutex
	counts  map[ids.ID]int
	batches atomic.Int32
}

func (p *slowPublisher) Publish(ctx context.Context, evs ...events.Event) error {
	p.batches.Add(1)
	select {
	case <-time.After(p.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range evs {
		p.counts[e.ID]++
	}
	return nil
}

// twoHandles opens the same database twice, as two instances of the shop would.
func twoHandles(t *testing.T, engine string) (*sqldb.DB, *sqldb.DB) {
	t.Helper()
	var url string
	switch engine {
	case "sqlite":
		url = "sqlite:" + filepath.Join(t.TempDir(), "shop.db")
	default:
		url = sqldbtest.MySQLDatabaseURL(t)
	}
	open := func() *sqldb.DB {
		db, err := sqldb.Open(context.Background(), url, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := open(), open()
	if err := a.Migrate(context.Background(), outboxSets...); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func TestTwoRelaysNeverPublishTheSameEventTwice(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"sqlite", "mariadb"} {
		t.Run(engine, func(t *testing.T) {
			dbA, dbB := twoHandles(t, engine)
			g := newGen(t)
			const n = 200
			var evs []events.Event
			for i := range n {
				evs = append(evs, mustEvent(t, g, "order.created", i))
			}
			write(t, dbA, events.NewOutbox(), evs...)

			var mu sync.Mutex
			counts := map[ids.ID]int{}
			pubA := &slowPublisher{delay: 15 * time.Millisecond, mu: &mu, counts: counts}
			pubB := &slowPublisher{delay: 23 * time.Millisecond, mu: &mu, counts: counts}
			opts := events.RelayOptions{Batch: 10, Poll: 5 * time.Millisecond}
			relayA := events.NewRelay(dbA, events.NewOutbox(), pubA, testLog(t), opts)
			relayB := events.NewRelay(dbB, events.NewOutbox(), pubB, testLog(t), opts)
			startRelay(t, relayA)
			startRelay(t, relayB)

			waitFor(t, 20*time.Second, "every event published", func() bool { return pending(t, relayA) == 0 })
			time.Sleep(50 * time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			if len(counts) != n {
				t.Errorf("%d distinct events published, want %d", len(counts), n)
			}
			for id, c := range counts {
				if c != 1 {
					t.Errorf("event %s published %d times", id, c)
				}
			}
			a, b := pubA.batches.Load(), pubB.batches.Load()
			if a == 0 || b == 0 {
				t.Errorf("relay A published %d batches and B %d; both should have taken part", a, b)
			}
			t.Logf("batches: A=%d B=%d", a, b)
		})
	}
}

// stuckPublisher never returns until its context ends, like a relay whose broker hangs.
type stuckPublisher struct{ calls atomic.Int32 }

func (p *stuckPublisher) Publish(ctx context.Context, _ ...events.Event) error {
	p.calls.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

// frozenPublisher hangs in Publish past its context, as a relay process frozen (stopped, or
// paused longer than its lease) does, until the test releases it. (A publisher that gave up
// at its context would record a failure and race the other relay for every retry.)
type frozenPublisher struct {
	calls   atomic.Int32
	release chan struct{}
}

func (p *frozenPublisher) Publish(context.Context, ...events.Event) error {
	p.calls.Add(1)
	<-p.release
	return errors.New("released after the test")
}

func TestRelayTakesOverAfterLease(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		ob := events.NewOutbox()
		e := mustEvent(t, g, "order.created", 1)
		write(t, db, ob, e)

		frozen := &frozenPublisher{release: make(chan struct{})}
		lease := 200 * time.Millisecond
		startRelay(t, events.NewRelay(db, ob, frozen, testLog(t), events.RelayOptions{Lease: lease, Poll: 5 * time.Millisecond}))
		// Registered after startRelay's, so it runs first: the relay can stop once released.
		t.Cleanup(func() { close(frozen.release) })
		waitFor(t, 5*time.Second, "the first relay to claim", func() bool { return frozen.calls.Load() == 1 })

		var mu sync.Mutex
		counts := map[ids.ID]int{}
		healthy := &slowPublisher{mu: &mu, counts: counts}
		claimedAt := time.Now()
		startRelay(t, events.NewRelay(db, ob, healthy, testLog(t), events.RelayOptions{Lease: lease, Poll: 5 * time.Millisecond}))
		waitFor(t, 5*time.Second, "the second relay to publish", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return counts[e.ID] == 1
		})
		if d := time.Since(claimedAt); d < lease/2 {
			t.Errorf("second relay published after %v, before the first one's lease (%v) ran out", d, lease)
		}
		waitFor(t, 5*time.Second, "published", func() bool { return readRow(t, db, e.ID).published })
	})
}

func TestRelayPrunesOldPublishedRows(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		ob := events.NewOutbox()
		bus := inProc(t, db, events.InProcOptions{})
		unpublished := mustEvent(t, g, "x.y", 1)
		published := mustEvent(t, g, "x.y", 2)
		write(t, db, ob, unpublished, published)
		// One row was published long ago; the other never was and must survive any age.
		old := time.Now().Add(-2 * time.Hour).UTC()
		if _, err := db.Write().Exec("UPDATE outbox_events SET published_at = ?, created_at = ? WHERE id = ?", old, old, int64(published.ID)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Write().Exec("UPDATE outbox_events SET created_at = ?, claimed_until = ? WHERE id = ?",
			old, time.Now().Add(time.Hour).UTC(), int64(unpublished.ID)); err != nil {
			t.Fatal(err)
		}
		r := events.NewRelay(db, ob, bus, testLog(t), events.RelayOptions{Retention: time.Hour, Poll: 5 * time.Millisecond})
		startRelay(t, r)
		waitFor(t, 5*time.Second, "the old published row to go", func() bool {
			var n int
			if err := db.Read().QueryRow("SELECT COUNT(*) FROM outbox_events WHERE id = ?", int64(published.ID)).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n == 0
		})
		if n := pending(t, r); n != 1 {
			t.Errorf("Pending = %d, want the unpublished row kept", n)
		}
	})
}

func TestOutboxWriteRejects(t *testing.T) {
	t.Parallel()
	db := sqldbtest.SQLite(t, outboxSets...)
	ob := events.NewOutbox()
	g := newGen(t)
	good := mustEvent(t, g, "a.b", 1)
	bad := good
	bad.ID = g.New()
	bad.Payload = []byte("{not json")
	err := db.InTx(context.Background(), func(tx *sqldb.Tx) error { return ob.Write(context.Background(), tx, good, bad) })
	if err == nil {
		t.Fatal("Write accepted an event whose payload is not JSON")
	}
	if err := ob.Write(context.Background(), nil, good); err == nil {
		t.Fatal("Write accepted a nil transaction")
	}
	var n int
	if err := db.Read().QueryRow("SELECT COUNT(*) FROM outbox_events").Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows = %d (%v), want none", n, err)
	}
	// The same id twice is refused: an event is written once.
	write(t, db, ob, good)
	err = db.InTx(context.Background(), func(tx *sqldb.Tx) error { return ob.Write(context.Background(), tx, good) })
	if !sqldb.IsUniqueViolation(err) {
		t.Fatalf("second write of one event = %v, want a unique violation", err)
	}
}
