package main

// The events group: the transactional outbox and its relay to RabbitMQ, measured in the
// runner's own process with internal/platform/events against the real broker, on a fresh
// MariaDB database and on a SQLite file.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minimart/minimart/bench/loadgen"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

const (
	amqpURLEnv       = "MINIMART_TEST_AMQP_URL"
	eventsConsumer   = "bench"         // the subscriber's consumer name: queue <prefix>bench
	eventsType       = "order.created" // every event the group writes
	eventsPattern    = "order.#"       // what the subscriber binds
	eventsPrefetch   = 32              // the bus's default AMQPOptions.Prefetch, also the raw consumer's
	eventsTxSize     = 10              // events per transaction when pre-writing the outbox
	eventsPrewriters = 8               // goroutines pre-writing (not measured)
	eventsLagWriters = 8               // goroutines taking the paced writer's slots
	// eventsDrainTimeout bounds the relay row: pre-written events not all published and
	// consumed by then are reported missing; so are they when neither the subscriber's
	// count nor Pending() moved for eventsStall.
	eventsDrainTimeout = 5 * time.Minute
	eventsStall        = 30 * time.Second
	// eventsSettleTimeout bounds the wait, after a lag row's writer stopped, for the last
	// events to be published and consumed.
	eventsSettleTimeout = 30 * time.Second
	// eventsDupGrace is how long a row keeps counting duplicates after its last event came.
	eventsDupGrace = 500 * time.Millisecond
	// eventsKeepUpSettle: a lag row whose last events took longer than this after the
	// writer stopped did not keep up (a backlog had built up).
	eventsKeepUpSettle = 2 * time.Second
	// relayDefaultBatch is RelayOptions.Batch's documented default: the most events one
	// relay pass claims and publishes at once (the row's note shows the largest Publish
	// call actually seen, which would show a changed default).
	relayDefaultBatch = 100
)

// eventsUnique names the run's exchange (<it>.events) and prefixes its queues (<it>.).
var eventsUnique = func() string { return "mmbench." + randomHex(5) }

// runEvents measures the outbox relay against RabbitMQ's raw confirmed-publish rate, and
// the lag from a commit to the consumer at steady write rates, on MariaDB (when given) and
// SQLite.
func runEvents(ctx context.Context, b *bench, g *groupResult) (err error) {
	g.rateHeader = "msg/s"
	if b.opts.amqpURL == "" {
		g.skip("no RabbitMQ given: pass `--amqp-url amqp://guest:guest@127.0.0.1:5672/` or set %s", amqpURLEnv)
		return nil
	}
	host := redactedHost(b.opts.amqpURL)
	unique := eventsUnique()
	exchange, prefix := unique+".events", unique+"."
	queues := []string{prefix + eventsConsumer, prefix + eventsConsumer + ".retry", prefix + eventsConsumer + ".dlq", prefix + "raw"}
	// Deleted at the end, on errors and Ctrl-C too, after the bus and the raw connection
	// are closed (deferred earlier, so run later).
	defer func() {
		if derr := deleteTopology(b.opts.amqpURL, exchange, queues); derr != nil {
			g.note("Could not delete the run's exchange and queues: %v", derr)
			b.logf("events: %v", derr)
			return
		}
		b.logf("events: deleted exchange %s and queues %s", exchange, strings.Join(queues, ", "))
	}()

	log := slog.New(slog.NewTextHandler(b.log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	bus, err := events.NewAMQP(b.opts.amqpURL, events.AMQPOptions{Exchange: exchange, QueuePrefix: prefix}, log)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		g.skip("RabbitMQ at %s: %v", host, err)
		return nil
	}
	defer bus.Close() //nolint:errcheck // closing at the end; nothing to do about an error
	hub := &eventHub{}
	if err := bus.Subscribe(eventsConsumer, []string{eventsPattern}, hub.handle); err != nil {
		g.skip("RabbitMQ at %s: %v", host, err)
		return nil
	}
	busCtx, stopBus := context.WithCancel(ctx)
	defer stopBus()
	if err := bus.Start(busCtx); err != nil {
		g.skip("RabbitMQ at %s: %v", host, err)
		return nil
	}

	gen, err := ids.NewGenerator(1)
	if err != nil {
		return err
	}
	f := &eventFactory{gen: gen}
	sample, err := f.event()
	if err != nil {
		return err
	}
	body, err := json.Marshal(sample)
	if err != nil {
		return err
	}
	n := b.opts.eventsPublishers
	raw, err := openRawPublisher(b.opts.amqpURL, exchange, prefix+"raw", n, eventsPrefetch, body)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		g.skip("RabbitMQ at %s: raw publisher: %v", host, err)
		return nil
	}
	defer raw.close()
	version, _ := raw.conn.Properties["version"].(string)
	if version != "" {
		version = "RabbitMQ " + version
	} else {
		version = "RabbitMQ"
	}
	env := &eventsEnv{bus: bus, hub: hub, factory: f, raw: raw, log: log}

	g.note("Broker: %s at %s (from %s), on this machine. Exchange `%s` (durable topic) and queues `%s*`, unique to this run, deleted after it. Everything runs in the runner's process with `internal/platform/events`; no minimart server is involved, and `--concurrency` does not apply.",
		version, host, b.opts.amqpFrom, exchange, prefix)
	g.note("Events: `%s`, an order.created-like envelope (%d-byte JSON body: ids, order number, status, payable, one line). Subscriber: one `AMQP.Subscribe(%q, [%q])` on the bus (`NewAMQP` with default options but the exchange and prefix: prefetch %d, manual ack after the handler), whose handler only counts each event id and, in the lag rows, records now − `occurred_at`; a real consumer's own work (its transaction) is not in these numbers.",
		eventsType, len(body), eventsConsumer, eventsPattern, eventsPrefetch)
	g.note("**raw publish with confirms** (the baseline, measured just before each relay row): amqp091-go directly, %d goroutines, each with its own channel in confirm mode, publishing the same %d-byte body as a persistent message to the run's exchange and waiting for that message's confirm before the next; the exchange routes it to a durable queue drained by a consumer with manual acks and prefetch %d, so the broker stores, delivers and acknowledges every message as it does the relay's. %d is the relay's in-flight depth: a relay pass publishes its whole batch (default %d events) on one confirm-mode channel and then waits for all the confirms, so up to %d messages await confirmation at once. Rate column: messages/s; p50/p99: per publish, from the call to its confirm; %s warm-up, %s measured.",
		n, len(body), eventsPrefetch, n, relayDefaultBatch, relayDefaultBatch, b.opts.warmup, b.opts.duration)
	g.note("**outbox relay → RabbitMQ**: %s events pre-written to a fresh outbox (`OutboxMigrations`) in transactions of %d (`Outbox.Write` in `InTx`, %d goroutines, not measured); then one `NewRelay(db, outbox, bus, log, RelayOptions{})` (default options: batch %d, poll 500 ms) is started and the clock runs until both `Relay.Pending() == 0` (polled every %s, every %s once the subscriber has everything) and the subscriber has counted every event id. Rate column: events/s = events ÷ that time; ratio = that ÷ the raw publish msg/s just above. No latency column: what a pre-written backlog waits is its place in the queue. The relay is wrapped by a timer of its `Publish` calls (one per pass), shown in the notes.",
		withCommas(b.opts.eventsCount), eventsTxSize, eventsPrewriters, relayDefaultBatch, pendingPollSlow, pendingPollFast)
	g.note("**commit → consumer lag**: a relay is started on the same database, then %d goroutines take the slots of a fixed pace (slot *k* at start + *k*/rate) and write one event per transaction (`events.New` sets `occurred_at`, then `InTx` with `Outbox.Write`, whose commit wakes the relay), for %s warm-up and %s measured. The subscriber records now − `occurred_at` of each event: the lag includes the writing transaction itself (its commit time is in the notes), the relay's claim, the publish and confirm, and the delivery. p50/p99 over the events written in the measured window; rate column: those events ÷ the time from the window's start to the last one's commit. Afterwards the run waits until every written event was received and `Pending() == 0`: received ≠ written fails the group; duplicates are counted (at-least-once allows them). A higher rate runs only if the previous one kept up: ≥ 95%% of the pace, no write errors, and the last events in within %s after the writer stopped.",
		eventsLagWriters, b.opts.warmup, b.opts.duration, eventsKeepUpSettle)

	if b.opts.mysqlURL == "" {
		why := fmt.Sprintf("no MariaDB server given (pass `--mysql-url mysql://root@127.0.0.1:3306/test` or set %s)", mysqlURLEnv)
		env.notRun(g, engineMariaDB, b.opts, why)
		b.logf("MariaDB: not run: %s", why)
	} else if err := eventsOn(ctx, b, g, env, engineMariaDB, b.opts.mysqlURL); err != nil {
		return err
	}
	if err := eventsOn(ctx, b, g, env, engineSQLite, ""); err != nil {
		return err
	}
	if s := hub.strays.Load(); s > 0 {
		g.note("%d deliveries were of events not written by the row being measured (late copies from an earlier row).", s)
	}
	return nil
}

// eventsEnv is what the group's engine sections share.
type eventsEnv struct {
	bus     *events.AMQP
	hub     *eventHub
	factory *eventFactory
	raw     *rawPublisher
	log     *slog.Logger
}

// eventsRowNames are one engine's rows, in order.
func eventsRowNames(e ordersEngine, o options) (raw, relay string, lag []string) {
	raw = fmt.Sprintf("raw publish with confirms, %d channels", o.eventsPublishers)
	relay = fmt.Sprintf("outbox relay → RabbitMQ, %s events (%s)", withCommas(o.eventsCount), e.label)
	for _, r := range o.eventsRates {
		lag = append(lag, fmt.Sprintf("commit → consumer lag at %s/s (%s)", formatEventRate(r), e.label))
	}
	return raw, relay, lag
}

func (env *eventsEnv) notRun(g *groupResult, e ordersEngine, o options, why string) {
	raw, relay, lag := eventsRowNames(e, o)
	g.rows = append(g.rows, row{name: raw, notRun: why})
	for _, name := range append([]string{relay}, lag...) {
		g.rows = append(g.rows, row{name: name, notRun: "as above"})
	}
}

// eventsOn runs one engine's rows on a fresh database: a SQLite file in the temp dir when
// serverURL is "", else a database created on that MariaDB server and dropped at the end.
func eventsOn(ctx context.Context, b *bench, g *groupResult, env *eventsEnv, e ordersEngine, serverURL string) error {
	rawName, relayName, lagNames := eventsRowNames(e, b.opts)
	dbURL := "sqlite:" + filepath.Join(b.tmp, "events-"+e.key+".db")
	if serverURL != "" {
		dbs, err := createDatabasesWith(ctx, serverURL, "_events")
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			env.notRun(g, e, b.opts, "MariaDB at "+redactedHost(serverURL)+": "+err.Error())
			return nil
		}
		defer func() {
			if err := dbs.drop(); err != nil {
				g.note("Could not drop the benchmark database: %v", err)
				b.logf("drop database: %v", err)
			}
		}()
		g.note("MariaDB: server %s (from %s), %s; database `%s`, created for this run and dropped after it.",
			redactedHost(serverURL), b.opts.mysqlFrom, dbs.version, dbs.names[0])
		dbURL = dbs.urls[0]
	} else {
		g.note("SQLite: a fresh file in the temp dir, opened by `sqldb.Open` as minimart opens its own (WAL, synchronous=NORMAL, one writer connection): the embedded shape's database with RabbitMQ as the bus.")
	}
	db, err := sqldb.Open(ctx, dbURL, "")
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		env.notRun(g, e, b.opts, err.Error())
		return nil
	}
	defer db.Close()
	if err := db.Migrate(ctx, events.OutboxMigrations); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		env.notRun(g, e, b.opts, "outbox migrations: "+err.Error())
		return nil
	}

	// 1. The broker's own confirmed-publish rate.
	base, err := b.loadFuncN(ctx, rawName, b.opts.eventsPublishers, env.raw.publish)
	if err != nil {
		return err
	}
	g.rows = append(g.rows, row{name: rawName, res: &base, ratio: "1"})
	if !env.raw.drain(eventsSettleTimeout) {
		g.note("%s: the raw consumer had not taken every baseline message %s after the baseline; the relay row ran with that backlog.", e.label, eventsSettleTimeout)
	}

	// 2. The relay draining a backlog.
	b.logf("%s: pre-writing %s events in transactions of %d", e.label, withCommas(b.opts.eventsCount), eventsTxSize)
	dr, err := relayDrain(ctx, db, env.bus, env.hub, env.factory, b.opts.eventsCount, env.log)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		g.rows = append(g.rows, row{name: relayName, notRun: err.Error()})
	} else {
		res := dr.result()
		g.rows = append(g.rows, row{name: relayName, res: &res, ratio: ratioOf(res.ReqPerSec, base.ReqPerSec), noLatency: true})
		b.logf("%-28s %9s events/s  (%s events in %s; pre-written in %s)", relayName, loadgen.FormatRate(res.ReqPerSec),
			withCommas(dr.k), dr.elapsed.Round(time.Millisecond), dr.prewrite.Round(100*time.Millisecond))
		dr.notes(g, relayName)
	}

	// 3. Commit → consumer lag at steady rates, each only if the one before kept up.
	var stopped string
	for i, rate := range b.opts.eventsRates {
		name := lagNames[i]
		if stopped != "" {
			g.rows = append(g.rows, row{name: name, notRun: stopped})
			continue
		}
		b.logf("%s: writing %s events/s, one per transaction, for %s + %s", e.label, formatEventRate(rate), b.opts.warmup, b.opts.duration)
		lr, err := steadyLag(ctx, db, env.bus, env.hub, env.factory, rate, b.opts.warmup, b.opts.duration, env.log)
		if err != nil {
			return err
		}
		res := lr.result()
		g.rows = append(g.rows, row{name: name, res: &res, ratio: "—"})
		b.logf("%-28s %9s events/s  lag p50 %-8s p99 %-8s max %-8s written %d received %d duplicates %d",
			name, loadgen.FormatRate(res.ReqPerSec), loadgen.FormatLatency(res.P50), loadgen.FormatLatency(res.P99),
			loadgen.FormatLatency(res.Max), lr.written, lr.unique, lr.dups)
		if why := lr.notes(g, name); why != "" {
			stopped = fmt.Sprintf("the %s/s row did not keep up (%s)", formatEventRate(rate), why)
		}
	}
	return nil
}

// formatEventRate writes a rate as the rows name it: "200", "1,000", "2.5".
func formatEventRate(r float64) string {
	if r == math.Trunc(r) && r < 1e12 {
		return withCommas(int(r))
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// ---- what the subscriber sees ----

// eventHub is the subscriber's handler; it hands each delivery to the tally of the row
// being measured.
type eventHub struct {
	cur    atomic.Pointer[eventTally]
	strays atomic.Int64 // deliveries of events no current row wrote
}

func (h *eventHub) handle(_ context.Context, e events.Event) error {
	now := time.Now()
	if t := h.cur.Load(); t != nil && t.record(e, now) {
		return nil
	}
	h.strays.Add(1)
	return nil
}

// eventTally is one row's count of deliveries of the events it wrote.
type eventTally struct {
	mu      sync.Mutex
	want    map[ids.ID]bool // written (or being written) by this row
	got     map[ids.ID]int  // deliveries per event
	unique  int
	dups    int
	lastNew time.Time // when the latest first delivery came
	// lags are now − occurred_at of first deliveries of events that occurred at or
	// after from, when keepLags.
	keepLags bool
	from     time.Time
	lags     []time.Duration
}

func newTally() *eventTally {
	return &eventTally{want: map[ids.ID]bool{}, got: map[ids.ID]int{}}
}

func (t *eventTally) expect(id ids.ID) {
	t.mu.Lock()
	t.want[id] = true
	t.mu.Unlock()
}

func (t *eventTally) forget(id ids.ID) {
	t.mu.Lock()
	delete(t.want, id)
	t.mu.Unlock()
}

// record counts one delivery; false if the event is not this row's.
func (t *eventTally) record(e events.Event, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.want[e.ID] {
		return false
	}
	n := t.got[e.ID]
	t.got[e.ID] = n + 1
	if n > 0 {
		t.dups++
		return true
	}
	t.unique++
	t.lastNew = now
	if t.keepLags && !e.OccurredAt.Before(t.from) {
		t.lags = append(t.lags, now.Sub(e.OccurredAt))
	}
	return true
}

func (t *eventTally) snapshot() (unique, dups int, lastNew time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.unique, t.dups, t.lastNew
}

// ---- events ----

// eventFactory makes order.created-like events with fresh ids.
type eventFactory struct {
	gen *ids.Generator
	n   atomic.Int64
}

type benchOrderPayload struct {
	OrderID ids.ID           `json:"order_id"`
	OrderNo string           `json:"order_no"`
	UserID  ids.ID           `json:"user_id"`
	Status  string           `json:"status"`
	Payable int64            `json:"payable"`
	Lines   []benchOrderLine `json:"lines"`
}

type benchOrderLine struct {
	SKUID     ids.ID `json:"sku_id"`
	ProductID ids.ID `json:"product_id"`
	Quantity  int    `json:"quantity"`
}

// event is a new order.created event that occurred now.
func (f *eventFactory) event() (events.Event, error) {
	n := f.n.Add(1)
	id := f.gen.New()
	return events.New(id, eventsType, id.String(), benchOrderPayload{
		OrderID: id,
		OrderNo: fmt.Sprintf("M%s%08d", time.Now().UTC().Format("20060102150405"), n),
		UserID:  ids.ID(1_000_000_000_000 + n%997),
		Status:  "pending_payment",
		Payable: 12_900 + n%50*100,
		Lines:   []benchOrderLine{{SKUID: ids.ID(2_000_000_000_000 + n%1000), ProductID: ids.ID(3_000_000_000_000 + n%100), Quantity: 1}},
	})
}

// timedPublisher times the relay's Publish calls (one per pass) on their way to the bus.
type timedPublisher struct {
	pub      events.Publisher
	mu       sync.Mutex
	calls    []time.Duration
	maxBatch int
	failed   int // calls that returned an error
}

func (p *timedPublisher) Publish(ctx context.Context, evs ...events.Event) error {
	t0 := time.Now()
	err := p.pub.Publish(ctx, evs...)
	d := time.Since(t0)
	p.mu.Lock()
	p.calls = append(p.calls, d)
	p.maxBatch = max(p.maxBatch, len(evs))
	if err != nil {
		p.failed++
	}
	p.mu.Unlock()
	return err
}

// startRelay runs relay until the returned stop is called; stop waits for Run to return.
func startRelay(ctx context.Context, relay *events.Relay) (stop func()) {
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = relay.Run(rctx) // errors only if already running: it is not
	}()
	return func() { cancel(); <-done }
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// ---- the relay draining a backlog ----

const (
	pendingPollSlow = 50 * time.Millisecond
	pendingPollFast = 2 * time.Millisecond
)

type drainResult struct {
	k             int
	prewrite      time.Duration
	consumedAll   time.Duration // from the relay's start to the last first delivery; 0 if not all came
	pendingZero   time.Duration // from the relay's start to Pending() == 0 seen; 0 if never
	elapsed       time.Duration // the later of the two, or the time waited
	unique, dups  int
	pendingLeft   int
	calls         []time.Duration
	maxBatch      int
	failedPublish int
}

// relayDrain pre-writes k events into the outbox, then starts a relay publishing to pub
// and waits until every event is marked published and the subscriber (hub) has counted
// each once, or eventsDrainTimeout. An error means the row could not be measured.
func relayDrain(ctx context.Context, db *sqldb.DB, pub events.Publisher, hub *eventHub, f *eventFactory, k int, log *slog.Logger) (drainResult, error) {
	res := drainResult{k: k}
	t := newTally()
	hub.cur.Store(t)
	outbox := events.NewOutbox()
	t0 := time.Now()
	txs := (k + eventsTxSize - 1) / eventsTxSize
	err := parallel(ctx, txs, eventsPrewriters, func(ctx context.Context, i int) error {
		evs := make([]events.Event, min(eventsTxSize, k-i*eventsTxSize))
		for j := range evs {
			e, err := f.event()
			if err != nil {
				return err
			}
			t.expect(e.ID)
			evs[j] = e
		}
		return db.InTx(ctx, func(tx *sqldb.Tx) error { return outbox.Write(ctx, tx, evs...) })
	})
	if err != nil {
		return res, fmt.Errorf("pre-writing %d events: %w", k, err)
	}
	res.prewrite = time.Since(t0)

	tp := &timedPublisher{pub: pub}
	relay := events.NewRelay(db, outbox, tp, log, events.RelayOptions{})
	if n, err := relay.Pending(ctx); err != nil {
		return res, err
	} else if n != k {
		return res, fmt.Errorf("the outbox holds %d unpublished events before the relay starts, want %d", n, k)
	}

	start := time.Now()
	stop := startRelay(ctx, relay)
	deadline := start.Add(eventsDrainTimeout)
	var pendingZeroAt time.Time
	lastUnique, lastPending, lastMove := 0, k, start
	var lastPoll time.Time
	for {
		unique, _, _ := t.snapshot()
		// Pending() every pendingPollSlow while events still come in, then every
		// pendingPollFast: the end is seen within a few ms whichever comes last.
		if pendingZeroAt.IsZero() && (unique == k || time.Since(lastPoll) >= pendingPollSlow) {
			lastPoll = time.Now()
			n, err := relay.Pending(ctx)
			if err != nil && ctx.Err() != nil {
				stop()
				return res, ctx.Err()
			}
			if err == nil && n == 0 {
				pendingZeroAt = time.Now()
			}
			if err == nil && n != lastPending {
				lastPending, lastMove = n, time.Now()
			}
		}
		if unique != lastUnique {
			lastUnique, lastMove = unique, time.Now()
		}
		if unique == k && !pendingZeroAt.IsZero() {
			break
		}
		if now := time.Now(); now.After(deadline) || now.Sub(lastMove) > eventsStall {
			break
		}
		sleepCtx(ctx, pendingPollFast)
		if ctx.Err() != nil {
			stop()
			return res, ctx.Err()
		}
	}
	waited := time.Since(start)
	sleepCtx(ctx, eventsDupGrace)
	stop()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}

	var lastNew time.Time
	res.unique, res.dups, lastNew = t.snapshot()
	if res.unique == k {
		res.consumedAll = lastNew.Sub(start)
	}
	if !pendingZeroAt.IsZero() {
		res.pendingZero = pendingZeroAt.Sub(start)
	}
	res.elapsed = max(res.consumedAll, res.pendingZero)
	if res.unique != k || pendingZeroAt.IsZero() {
		res.elapsed = waited
	}
	if n, err := relay.Pending(context.WithoutCancel(ctx)); err == nil {
		res.pendingLeft = n
	}
	tp.mu.Lock()
	res.calls, res.maxBatch, res.failedPublish = tp.calls, tp.maxBatch, tp.failed
	tp.mu.Unlock()
	return res, nil
}

func (r drainResult) complete() bool {
	return r.unique == r.k && r.pendingZero > 0 && r.pendingLeft == 0
}

// result is the row: events/s over the time until both ends were reached.
func (r drainResult) result() loadgen.Result {
	res := loadgen.Result{Requests: r.unique, Elapsed: r.elapsed, Errors: map[string]int{}}
	if r.complete() && r.elapsed > 0 {
		res.ReqPerSec = float64(r.k) / r.elapsed.Seconds()
	}
	if r.failedPublish > 0 {
		res.Errors["Publish calls failed"] = r.failedPublish
	}
	if missing := r.k - r.unique; missing > 0 {
		res.Errors["events not received"] = missing
	}
	return res
}

func (r drainResult) notes(g *groupResult, name string) {
	calls := append([]time.Duration(nil), r.calls...)
	callText := "no Publish calls"
	if len(calls) > 0 {
		var sum time.Duration
		for _, c := range calls {
			sum += c
		}
		callText = fmt.Sprintf("%d Publish calls, up to %d events each, p50 %s, p99 %s, %.0f%% of the time in them",
			len(calls), r.maxBatch, loadgen.FormatLatency(loadgen.Percentile(calls, 50)), loadgen.FormatLatency(loadgen.Percentile(calls, 99)),
			100*sum.Seconds()/max(r.elapsed.Seconds(), 1e-9))
	}
	dup := "no duplicates"
	if r.dups > 0 {
		dup = fmt.Sprintf("**%d duplicate deliveries**", r.dups)
	}
	if !r.complete() {
		g.fail("%s: **not complete** after %s: %d of %d events received once, %s, %d still pending in the outbox; %s.",
			name, r.elapsed.Round(time.Millisecond), r.unique, r.k, dup, r.pendingLeft, callText)
		return
	}
	g.note("%s: pre-written in %s; from the relay's start, the subscriber had every event after %s and `Pending()` was 0 at %s; %d of %d events received once, %s; %s.",
		name, r.prewrite.Round(100*time.Millisecond), r.consumedAll.Round(time.Millisecond), r.pendingZero.Round(time.Millisecond),
		r.unique, r.k, dup, callText)
}

// ---- commit → consumer lag at a steady rate ----

type lagResult struct {
	window         time.Duration
	ratePerSec     float64
	written        int // committed, all
	inWindow       int // committed, slot in the measured window
	lastWindowDone time.Time
	measureStart   time.Time
	writeErrs      map[string]int
	commit         []time.Duration // occurred_at → commit returned, in the window
	startLate      []time.Duration // start against its slot, in the window
	lags           []time.Duration
	unique, dups   int
	pendingLeft    int
	settled        bool
	settle         time.Duration // writer stopped → everything in and Pending() == 0
}

// steadyLag runs a relay to pub while eventsLagWriters goroutines write one event per
// transaction at rate per second for warmup+window, then waits until every written event
// has been received and nothing is pending (or eventsSettleTimeout). An error is only
// ctx's.
func steadyLag(ctx context.Context, db *sqldb.DB, pub events.Publisher, hub *eventHub, f *eventFactory, rate float64, warmup, window time.Duration, log *slog.Logger) (lagResult, error) {
	res := lagResult{ratePerSec: rate, window: window, writeErrs: map[string]int{}}
	t := newTally()
	outbox := events.NewOutbox()
	relay := events.NewRelay(db, outbox, pub, log, events.RelayOptions{})
	stop := startRelay(ctx, relay)
	defer stop()

	start := time.Now().Add(20 * time.Millisecond)
	res.measureStart = start.Add(warmup)
	t.keepLags, t.from = true, res.measureStart
	hub.cur.Store(t)
	total := int(math.Round((warmup + window).Seconds() * rate))
	var ticket atomic.Int64
	type writerStats struct {
		written, inWindow int
		lastWindowDone    time.Time
		errs              map[string]int
		commit, late      []time.Duration
	}
	stats := make([]*writerStats, eventsLagWriters)
	var wg sync.WaitGroup
	for w := range stats {
		ws := &writerStats{errs: map[string]int{}}
		stats[w] = ws
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				k := ticket.Add(1) - 1
				if k >= int64(total) {
					return
				}
				slot := start.Add(time.Duration(float64(k) * float64(time.Second) / rate))
				if d := time.Until(slot); d > 0 {
					sleepCtx(ctx, d)
					if ctx.Err() != nil {
						return
					}
				}
				late := time.Since(slot)
				e, err := f.event() // occurred_at: now
				if err != nil {
					ws.errs[funcKind(err)]++
					continue
				}
				t.expect(e.ID)
				err = db.InTx(ctx, func(tx *sqldb.Tx) error { return outbox.Write(ctx, tx, e) })
				done := time.Now()
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					t.forget(e.ID)
					ws.errs["write: "+funcKind(err)]++
					continue
				}
				ws.written++
				if !slot.Before(res.measureStart) {
					ws.inWindow++
					ws.commit = append(ws.commit, done.Sub(e.OccurredAt))
					ws.late = append(ws.late, late)
					if done.After(ws.lastWindowDone) {
						ws.lastWindowDone = done
					}
				}
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	writerDone := time.Now()
	for _, ws := range stats {
		res.written += ws.written
		res.inWindow += ws.inWindow
		res.commit = append(res.commit, ws.commit...)
		res.startLate = append(res.startLate, ws.late...)
		if ws.lastWindowDone.After(res.lastWindowDone) {
			res.lastWindowDone = ws.lastWindowDone
		}
		for k, n := range ws.errs {
			res.writeErrs[k] += n
		}
	}

	deadline := writerDone.Add(eventsSettleTimeout)
	for time.Now().Before(deadline) {
		if unique, _, _ := t.snapshot(); unique >= res.written {
			n, err := relay.Pending(ctx)
			if err == nil && n == 0 {
				res.settled = true
				break
			}
		}
		sleepCtx(ctx, 5*time.Millisecond)
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
	}
	res.settle = time.Since(writerDone)
	sleepCtx(ctx, eventsDupGrace)
	stop()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if n, err := relay.Pending(context.WithoutCancel(ctx)); err == nil {
		res.pendingLeft = n
	}
	t.mu.Lock()
	res.unique, res.dups = t.unique, t.dups
	res.lags = append([]time.Duration(nil), t.lags...)
	t.mu.Unlock()
	return res, nil
}

// funcKind is an error's text for counting, bounded.
func funcKind(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = strings.ToValidUTF8(s[:120], "") + "…"
	}
	return s
}

// achieved is the write rate in the window: events written there over the time from the
// window's start to the last one's commit (at least the window).
func (r lagResult) achieved() float64 {
	span := max(r.lastWindowDone.Sub(r.measureStart), r.window)
	if span <= 0 {
		return 0
	}
	return float64(r.inWindow) / span.Seconds()
}

func (r lagResult) result() loadgen.Result {
	lags := append([]time.Duration(nil), r.lags...)
	res := loadgen.Result{Requests: len(lags), Elapsed: r.window, ReqPerSec: r.achieved(), Errors: map[string]int{}}
	res.P50 = loadgen.Percentile(lags, 50)
	res.P90 = loadgen.Percentile(lags, 90)
	res.P99 = loadgen.Percentile(lags, 99)
	res.Max = loadgen.Percentile(lags, 100)
	for k, n := range r.writeErrs {
		res.Errors[k] = n
	}
	if missing := r.written - r.unique; missing > 0 {
		res.Errors["events not received"] = missing
	}
	return res
}

// notes adds the row's notes and checks; it returns why the row did not keep up, or "".
func (r lagResult) notes(g *groupResult, name string) (notKeptUp string) {
	lags := append([]time.Duration(nil), r.lags...)
	commit := append([]time.Duration(nil), r.commit...)
	late := append([]time.Duration(nil), r.startLate...)
	dup := "no duplicates"
	if r.dups > 0 {
		dup = fmt.Sprintf("**%d duplicate deliveries**", r.dups)
	}
	errs := 0
	for _, n := range r.writeErrs {
		errs += n
	}
	g.note("%s: %d events written (%d in the measured window), %d received once, %s. Lag p50 %s, p90 %s, p99 %s, max %s; of which the writing transaction (event made → commit returned) p50 %s, p99 %s. Writes started late against their slots by p99 %s, max %s; written at %s/s in the window.",
		name, r.written, r.inWindow, r.unique, dup,
		loadgen.FormatLatency(loadgen.Percentile(lags, 50)), loadgen.FormatLatency(loadgen.Percentile(lags, 90)),
		loadgen.FormatLatency(loadgen.Percentile(lags, 99)), loadgen.FormatLatency(loadgen.Percentile(lags, 100)),
		loadgen.FormatLatency(loadgen.Percentile(commit, 50)), loadgen.FormatLatency(loadgen.Percentile(commit, 99)),
		loadgen.FormatLatency(loadgen.Percentile(late, 99)), loadgen.FormatLatency(loadgen.Percentile(late, 100)),
		loadgen.FormatRate(r.achieved()))
	if !r.settled || r.unique != r.written || r.pendingLeft != 0 {
		g.fail("%s: received ≠ written: **%d written, %d received** (%s after the writer stopped; %d still pending in the outbox).",
			name, r.written, r.unique, r.settle.Round(time.Millisecond), r.pendingLeft)
	}
	var why []string
	if a := r.achieved(); a < 0.95*r.ratePerSec {
		why = append(why, fmt.Sprintf("written at %s/s", loadgen.FormatRate(a)))
	}
	if errs > 0 {
		why = append(why, fmt.Sprintf("%d write errors", errs))
	}
	if !r.settled {
		why = append(why, "not every event came in")
	} else if r.settle > eventsKeepUpSettle {
		why = append(why, fmt.Sprintf("the last events came %s after the writer stopped", r.settle.Round(time.Millisecond)))
	}
	return strings.Join(why, "; ")
}
