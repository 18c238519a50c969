package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

// eventsTestDB is a fresh SQLite database with the outbox tables.
func eventsTestDB(t *testing.T) *sqldb.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "events.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, events.OutboxMigrations); err != nil {
		t.Fatal(err)
	}
	return db
}

// inProcHub is the in-process bus on db with the group's subscriber on it, consuming
// until the test ends.
func inProcHub(t *testing.T, db *sqldb.DB) (*events.InProc, *eventHub, *eventFactory) {
	t.Helper()
	bus := events.NewInProc(db, nil, events.InProcOptions{})
	t.Cleanup(func() { bus.Close() })
	hub := &eventHub{}
	if err := bus.Subscribe(eventsConsumer, []string{eventsPattern}, hub.handle); err != nil {
		t.Fatal(err)
	}
	if err := bus.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	gen, err := ids.NewGenerator(1)
	if err != nil {
		t.Fatal(err)
	}
	return bus, hub, &eventFactory{gen: gen}
}

// The relay row pre-writes the events, and ends when all are published and counted once.
func TestEventsRelayDrain(t *testing.T) {
	db := eventsTestDB(t)
	bus, hub, f := inProcHub(t, db)
	const k = 255 // not a multiple of the transaction or batch size
	dr, err := relayDrain(context.Background(), db, bus, hub, f, k, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !dr.complete() || dr.unique != k || dr.dups != 0 || dr.pendingLeft != 0 {
		t.Fatalf("%+v: want complete, %d unique, no duplicates, nothing pending", dr, k)
	}
	if dr.maxBatch != relayDefaultBatch || len(dr.calls) != 3 {
		t.Errorf("Publish calls %d, largest %d; want 3, the largest the default batch %d", len(dr.calls), dr.maxBatch, relayDefaultBatch)
	}
	res := dr.result()
	if res.ReqPerSec <= 0 || res.ErrorCount() != 0 || dr.elapsed < dr.consumedAll || dr.elapsed < dr.pendingZero {
		t.Errorf("result %+v from %+v", res, dr)
	}
	g := &groupResult{}
	dr.notes(g, "relay")
	if g.failedChecks != 0 || !strings.Contains(strings.Join(g.notes, "\n"), "255 of 255 events received once, no duplicates") {
		t.Errorf("notes %q", g.notes)
	}
}

// A relay whose events never arrive is reported, not measured.
func TestEventsRelayDrainIncomplete(t *testing.T) {
	dr := drainResult{k: 10, unique: 7, pendingLeft: 3, elapsed: time.Second}
	if dr.complete() {
		t.Fatal("complete with 3 missing")
	}
	res := dr.result()
	if res.ReqPerSec != 0 || res.Errors["events not received"] != 3 {
		t.Errorf("result %+v", res)
	}
	g := &groupResult{}
	dr.notes(g, "relay")
	if g.failedChecks != 1 || g.ok() {
		t.Errorf("failed checks %d; notes %q", g.failedChecks, g.notes)
	}
}

// The lag row writes at the pace, receives every event once, and records a lag for each
// event written in the window.
func TestEventsSteadyLag(t *testing.T) {
	db := eventsTestDB(t)
	bus, hub, f := inProcHub(t, db)
	lr, err := steadyLag(context.Background(), db, bus, hub, f, 200, 100*time.Millisecond, 300*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lr.written != 80 || lr.inWindow != 60 || lr.unique != 80 || lr.dups != 0 || !lr.settled || lr.pendingLeft != 0 {
		t.Fatalf("written %d (in window %d), received %d, duplicates %d, settled %v, pending %d; want 80 (60), 80, 0, true, 0",
			lr.written, lr.inWindow, lr.unique, lr.dups, lr.settled, lr.pendingLeft)
	}
	// Events written in the window occurred at or after its start; a few written late in
	// the warm-up may too.
	if n := len(lr.lags); n < lr.inWindow || n > lr.inWindow+8 {
		t.Errorf("%d lags for %d events in the window", n, lr.inWindow)
	}
	res := lr.result()
	if res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 || res.ErrorCount() != 0 || res.ReqPerSec <= 0 {
		t.Errorf("result %+v", res)
	}
	g := &groupResult{}
	lr.notes(g, "lag")
	if g.failedChecks != 0 {
		t.Errorf("notes %q", g.notes)
	}
}

// Duplicates are counted, and deliveries of events the row did not write are strays.
func TestEventsTally(t *testing.T) {
	_, hub, f := inProcHub(t, eventsTestDB(t))
	tally := newTally()
	hub.cur.Store(tally)
	e, err := f.event()
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.event()
	if err != nil {
		t.Fatal(err)
	}
	tally.expect(e.ID)
	for range 2 {
		if err := hub.handle(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	_ = hub.handle(context.Background(), other)
	if u, d, _ := tally.snapshot(); u != 1 || d != 1 || hub.strays.Load() != 1 {
		t.Errorf("unique %d, duplicates %d, strays %d; want 1, 1, 1", u, d, hub.strays.Load())
	}
}

// The event body is about the size of a real order.created envelope.
func TestEventsBodySize(t *testing.T) {
	_, _, f := inProcHub(t, eventsTestDB(t))
	e, err := f.event()
	if err != nil {
		t.Fatal(err)
	}
	body, err := e.Payload.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if len(body) < 150 || len(body) > 400 {
		t.Errorf("payload %d bytes: %s", len(body), body)
	}
}

func TestEventsFlags(t *testing.T) {
	t.Setenv(amqpURLEnv, "amqp://guest:guest@127.0.0.1:5672/")
	o, err := parseFlags([]string{"--scenarios", "events", "--events-rates", " 200, 1000 ,2.5"}, io.Discard)
	if err != nil || o.amqpURL == "" || o.amqpFrom != amqpURLEnv || len(o.eventsRates) != 3 || o.eventsRates[2] != 2.5 {
		t.Errorf("%+v, %v", o, err)
	}
	for _, bad := range [][]string{
		{"--events-rates", "0"}, {"--events-rates", "x"}, {"--events-rates", ","},
		{"--events-count", "0"}, {"--events-publishers", "0"}, {"--amqp-url", "http://h/"},
	} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for r, want := range map[float64]string{200: "200", 1000: "1,000", 2.5: "2.5"} {
		if got := formatEventRate(r); got != want {
			t.Errorf("formatEventRate(%v) = %q, want %q", r, got, want)
		}
	}
	if got := redactURL("--amqp-url=amqp://guest:secret@h:5672/"); strings.Contains(got, "secret") {
		t.Errorf("redactURL: %s", got)
	}
}

// Against the real broker (MINIMART_TEST_AMQP_URL), on SQLite only: every row of the
// group runs briefly, and the run's exchange and queues are gone afterwards.
func TestEventsGroupAMQP(t *testing.T) {
	url := os.Getenv(amqpURLEnv)
	if url == "" {
		t.Skip(amqpURLEnv + " not set")
	}
	unique := "mmbenchtest." + randomHex(5)
	defer func(old func() string) { eventsUnique = old }(eventsUnique)
	eventsUnique = func() string { return unique }
	b := &bench{tmp: t.TempDir(), log: io.Discard, opts: options{
		amqpURL: url, amqpFrom: amqpURLEnv, duration: 300 * time.Millisecond, warmup: 100 * time.Millisecond,
		eventsCount: 300, eventsRates: []float64{100, 300}, eventsPublishers: 4,
	}}
	g := &groupResult{name: "events"}
	if err := runEvents(context.Background(), b, g); err != nil {
		t.Fatal(err)
	}
	if g.skipped != "" || g.failedChecks != 0 {
		t.Fatalf("skipped %q, failed checks %d; notes:\n%s", g.skipped, g.failedChecks, strings.Join(g.notes, "\n"))
	}
	var ran []string
	for _, r := range g.rows {
		if r.res != nil && r.notRun == "" {
			ran = append(ran, r.name)
		}
	}
	want := []string{"raw publish with confirms, 4 channels", "outbox relay → RabbitMQ, 300 events (SQLite)",
		"commit → consumer lag at 100/s (SQLite)", "commit → consumer lag at 300/s (SQLite)"}
	if strings.Join(ran, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows run:\n%s\nwant:\n%s\nnotes:\n%s", strings.Join(ran, "\n"), strings.Join(want, "\n"), strings.Join(g.notes, "\n"))
	}
	for _, q := range []string{"bench", "bench.retry", "bench.dlq", "raw"} {
		if ok, err := queueExists(url, unique+"."+q); err != nil || ok {
			t.Errorf("queue %s.%s still there (%v)", unique, q, err)
		}
	}
}

// queueExists reports whether queue is declared on the broker.
func queueExists(url, queue string) (bool, error) {
	conn, err := amqp.Dial(url)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return false, err
	}
	defer ch.Close() //nolint:errcheck // closed by the broker when the queue is missing
	if _, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil); err != nil {
		var ae *amqp.Error
		if errors.As(err, &ae) && ae.Code == amqp.NotFound {
			return false, nil
		}
		return false, err
	}
	return true, nil
}
