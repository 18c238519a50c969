package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/minimart/minimart/internal/platform/clip"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

// InProcOptions tunes an InProc bus; zero fields take their defaults.
type InProcOptions struct {
	// Batch is the most deliveries one consumer claims at once. Default 100.
	Batch int
	// Poll is how often a consumer looks for due deliveries when no commit woke it: it
	// finds claims that lapsed and work other processes recorded. Default 500ms.
	Poll time.Duration
	// Lease is how long a claim keeps other processes off a consumer's batch, and so the
	// most the batch's handlers are given: a handler still running then sees its context
	// end, and the deliveries not yet begun are given back. Default 30s.
	Lease time.Duration
	// RetryBase is the wait after a delivery's first handler failure; each further failure
	// doubles it, up to MaxBackoff. Default 100ms.
	RetryBase time.Duration
	// MaxBackoff bounds the wait before a failed delivery is tried again, and the wait of a
	// consumer whose database is down. Default 5s.
	MaxBackoff time.Duration
	// MaxAttempts is how many times a consumer's handler is given a delivery: after that
	// many failures the delivery moves to the dead_letters table and the consumer goes on.
	// Default 10.
	MaxAttempts int
	// Metrics, if not nil, counts the consumers' handler failures, retries and dead letters.
	Metrics *Metrics
	// Tracer, if not nil, makes a consumer span for each handling of a delivery, a child
	// of the span that published its event; nil is tracing off.
	Tracer trace.Tracer
}

func (o InProcOptions) withDefaults() InProcOptions {
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	o.MaxBackoff = max(o.MaxBackoff, o.RetryBase)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	return o
}

// InProc is the bus of the embedded shape, and of any shape without RabbitMQ. It gives
// every consumer what RabbitMQ gives it with a queue of its own, kept in the
// event_deliveries table of the database the outbox is in (see the package doc):
//
//   - Publish records one delivery per matching consumer, in one transaction, and returns
//     once that committed; a delivery already recorded is left as it is, so an event the
//     relay publishes again does not queue a second delivery while the first waits.
//   - From Start, one worker per consumer claims the consumer's due deliveries in event
//     order and hands them to its handlers one at a time (a handler sees the try's number
//     through Attempt). A delivery handled is deleted; a failed one is tried again after
//     Backoff; after MaxAttempts failures it is moved to dead_letters with the consumer and
//     the error, and the consumer goes on. A consumer that is slow or failing holds up no
//     other consumer.
//   - Claims name the process's liveness instance (ClaimAs): deliveries held by a process
//     that died are taken over as soon as it is known dead — at once on SQLite, whose data
//     file has one serving process — and otherwise when the claim's Lease ends.
//
// A delivery handled but not yet deleted when the process stops is handled again:
// handlers must be idempotent, as on RabbitMQ.
type InProc struct {
	db   *sqldb.DB
	log  *slog.Logger
	opts InProcOptions

	mu        sync.Mutex
	consumers map[string]*inprocConsumer
	order     []string        // consumer names in subscription order
	claimant  Claimant        // set by ClaimAs; nil holds claims by lease alone
	runCtx    context.Context // the workers' lifetime: from Start, ended by its ctx or Close
	stopRun   context.CancelFunc
	closed    bool
	workers   sync.WaitGroup
}

var _ Bus = (*InProc)(nil)

// inprocConsumer is one consumer's subscriptions and the signal that wakes its worker.
type inprocConsumer struct {
	name string
	// wake holds at most one pending signal, so a commit never waits for a busy worker.
	wake chan struct{}

	mu   sync.RWMutex
	subs []subscription
}

// NewInProc returns an in-process bus keeping its deliveries in db, which must have
// OutboxMigrations applied. log may be nil.
func NewInProc(db *sqldb.DB, log *slog.Logger, opts InProcOptions) *InProc {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &InProc{db: db, log: log, opts: opts.withDefaults(), consumers: map[string]*inprocConsumer{}}
}

// ClaimAs ties the workers' claims to a liveness registration; call it before Start.
func (b *InProc) ClaimAs(c Claimant) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.claimant = c
}

// Subscribe adds h for the events whose type matches one of types. Several subscriptions
// of one consumer share its deliveries: each delivery runs every matching handler of the
// consumer, and is tried again if any of them fails.
func (b *InProc) Subscribe(consumer string, types []string, h Handler) error {
	s, err := newSubscription(consumer, types, h)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	c, existed := b.consumers[consumer]
	if !existed {
		c = &inprocConsumer{name: consumer, wake: make(chan struct{}, 1)}
	}
	c.mu.Lock()
	c.subs = append(c.subs, s)
	c.mu.Unlock()
	if !existed {
		b.consumers[consumer] = c
		b.order = append(b.order, consumer)
		b.opts.Metrics.consumerStarted(consumer)
		if b.runCtx != nil {
			b.startWorkerLocked(c)
		}
	}
	return nil
}

// Publish records, in one transaction, a delivery of each event to every consumer
// subscribed to its type; an event no one subscribed to is accepted, as a topic exchange
// without a matching binding would. It returns nil once the deliveries are committed, an
// error if they could not be (nothing was recorded), or a *PublishError naming the events
// that are not valid envelopes (the others were recorded). Handlers run later, in the
// consumers' workers; their failures are the workers' to retry and dead-letter.
func (b *InProc) Publish(ctx context.Context, evs ...Event) error {
	b.mu.Lock()
	closed := b.closed
	consumers := make([]*inprocConsumer, len(b.order))
	for i, name := range b.order {
		consumers[i] = b.consumers[name]
	}
	b.mu.Unlock()
	if closed {
		return ErrClosed
	}
	var failed []FailedEvent
	var rows []deliveryRow
	for _, e := range evs {
		if err := e.Validate(); err != nil {
			failed = append(failed, FailedEvent{ID: e.ID, Err: err})
			continue
		}
		body, err := json.Marshal(e)
		if err != nil {
			failed = append(failed, FailedEvent{ID: e.ID, Err: err})
			continue
		}
		for _, c := range consumers {
			if c.matches(e.Type) {
				rows = append(rows, deliveryRow{consumer: c, event: e, body: body})
			}
		}
	}
	if len(rows) > 0 {
		if err := b.db.InTx(ctx, func(tx *sqldb.Tx) error { return b.record(ctx, tx, rows) }); err != nil {
			return fmt.Errorf("events: record deliveries: %w", err)
		}
		for _, r := range rows {
			r.consumer.signal()
		}
	}
	if len(failed) > 0 {
		return &PublishError{Failed: failed}
	}
	return nil
}

// deliveryRow is one delivery Publish records.
type deliveryRow struct {
	consumer *inprocConsumer
	event    Event
	body     []byte
}

// record inserts rows, leaving any delivery already recorded as it is: a second publish
// of an event whose delivery still waits (or is being handled) changes nothing.
func (b *InProc) record(ctx context.Context, tx *sqldb.Tx, rows []deliveryRow) error {
	ignore := " ON CONFLICT (consumer, event_id) DO NOTHING"
	if b.db.Dialect == sqldb.MySQL {
		// Not INSERT IGNORE, which would also turn other errors into warnings.
		ignore = " ON DUPLICATE KEY UPDATE event_id = event_id"
	}
	now := sqldb.Time(time.Now())
	for start := 0; start < len(rows); start += insertChunk {
		chunk := rows[start:min(start+insertChunk, len(rows))]
		var q strings.Builder
		q.WriteString("INSERT INTO event_deliveries (consumer, event_id, type, payload, attempts, next_attempt_at, created_at," +
			" trace_parent, request_id) VALUES ")
		args := make([]any, 0, len(chunk)*8)
		for i, r := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, 0, ?, ?, ?, ?)")
			args = append(args, r.consumer.name, int64(r.event.ID), r.event.Type, string(r.body), now, now,
				sqldb.NullString(r.event.Origin.TraceParent), sqldb.NullString(r.event.Origin.RequestID))
		}
		q.WriteString(ignore)
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// Start runs a worker for every consumer, and for each consumer subscribed later as it
// comes. The workers stop when ctx ends or at Close.
func (b *InProc) Start(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	if b.runCtx != nil {
		b.mu.Unlock()
		return errors.New("events: in-process bus already started")
	}
	b.runCtx, b.stopRun = context.WithCancel(ctx)
	for _, name := range b.order {
		b.startWorkerLocked(b.consumers[name])
	}
	b.mu.Unlock()
	b.warnUnconsumed(ctx)
	return nil
}

// warnUnconsumed logs the consumers that have deliveries waiting but no subscription
// here (a consumer renamed, or a node id changed, unless another process sharing the
// database runs it): this process does not handle them, and its Pending does not count them.
func (b *InProc) warnUnconsumed(ctx context.Context) {
	rows, err := b.db.Read().QueryContext(ctx, "SELECT consumer, COUNT(*) FROM event_deliveries GROUP BY consumer")
	if err != nil {
		b.log.WarnContext(ctx, "events: counting waiting deliveries failed", "err", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			b.log.WarnContext(ctx, "events: counting waiting deliveries failed", "err", err)
			return
		}
		b.mu.Lock()
		_, known := b.consumers[name]
		b.mu.Unlock()
		if !known {
			b.log.WarnContext(ctx, "events: deliveries wait for a consumer not subscribed in this process",
				"consumer", name, "deliveries", n)
		}
	}
}

// startWorkerLocked runs c's worker until the bus stops. b.mu is held.
func (b *InProc) startWorkerLocked(c *inprocConsumer) {
	ctx := b.runCtx
	b.workers.Add(1)
	go func() {
		defer b.workers.Done()
		b.work(ctx, c)
	}()
}

// Ping fails only after Close.
func (b *InProc) Ping(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	return nil
}

// Close stops the workers and waits for the handlers running: they see their context end,
// and what they did not finish is handled again at the next start. Further Publish and
// Subscribe calls fail with ErrClosed.
func (b *InProc) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	if b.stopRun != nil {
		b.stopRun()
	}
	b.mu.Unlock()
	b.workers.Wait()
	return nil
}

// backlog counts the deliveries not yet handled of the consumers subscribed here; the
// Relay adds it to its Pending.
func (b *InProc) backlog(ctx context.Context) (int, error) {
	b.mu.Lock()
	names := append([]string(nil), b.order...)
	b.mu.Unlock()
	if len(names) == 0 {
		return 0, nil
	}
	in, args := sqldb.InList(names)
	var n int
	if err := b.db.Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM event_deliveries WHERE consumer IN ("+in+")",
		args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("events: deliveries pending: %w", err)
	}
	return n, nil
}

func (c *inprocConsumer) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *inprocConsumer) matches(typ string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, s := range c.subs {
		if s.matches(typ) {
			return true
		}
	}
	return false
}

// handle runs every handler of c that matches e. A delivery no handler matches any more
// (the consumer's subscriptions changed since it was recorded) is handled by no one, as
// on RabbitMQ: it is logged and dropped.
func (c *inprocConsumer) handle(ctx context.Context, log *slog.Logger, e Event) error {
	c.mu.RLock()
	subs := c.subs
	c.mu.RUnlock()
	matched, err := callMatching(ctx, subs, e)
	if !matched {
		log.WarnContext(ctx, "events: no handler for delivery; dropped", "consumer", c.name,
			"event_type", e.Type, "event_id", e.ID)
	}
	return err
}

// work is a consumer's worker: it handles due deliveries until ctx ends, waiting between
// passes for a commit, the poll or the end of a failed delivery's backoff.
func (b *InProc) work(ctx context.Context, c *inprocConsumer) {
	failures := 0
	for ctx.Err() == nil {
		res, err := b.pass(ctx, c)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			wait := Backoff(failures, 100*time.Millisecond, b.opts.MaxBackoff)
			b.log.WarnContext(ctx, "events: consumer cannot reach its deliveries", "consumer", c.name,
				"err", err, "failures", failures, "retry_in", wait)
			sleep(ctx, wait) // a commit does not cut this short: the database is down
			continue
		}
		if failures > 0 {
			b.log.InfoContext(ctx, "events: consumer handling deliveries again", "consumer", c.name,
				"after_failures", failures)
			failures = 0
		}
		if res.more {
			continue
		}
		wait := b.opts.Poll
		if res.retryIn > 0 && res.retryIn < wait {
			wait = res.retryIn
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-c.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// claimedDelivery is one delivery a worker holds.
type claimedDelivery struct {
	eventID  ids.ID
	typ      string
	payload  []byte
	attempts int // handler failures before this try
	origin   Origin
}

// outcome is what became of one claimed delivery.
type outcome struct {
	kind outcomeKind
	err  error         // failed, dead: why
	wait time.Duration // failed: the backoff before the next try
	// handlerFailed: err is the handler's (counted as a handler failure), not an
	// unreadable delivery's.
	handlerFailed bool
}

type outcomeKind int

const (
	released outcomeKind = iota // not tried, or interrupted by a stop: given back as it was
	handled
	failed
	deadLettered
)

// workResult is what one pass of a worker found.
type workResult struct {
	more    bool          // due deliveries may be left: a full batch, or one cut short
	retryIn time.Duration // when the earliest delivery this pass failed may be tried again
}

// pass claims a batch of c's due deliveries, hands them to its handlers in event order,
// and records the outcomes in one transaction. It returns an error only when the database
// could not be used.
func (b *InProc) pass(ctx context.Context, c *inprocConsumer) (workResult, error) {
	ds, until, err := b.claim(ctx, c.name)
	if err != nil || len(ds) == 0 {
		return workResult{}, err
	}
	res := workResult{more: len(ds) == b.opts.Batch}
	out := make([]outcome, len(ds))
	// The claim's end bounds the handlers: past it another process may hold the batch.
	hctx, cancel := context.WithDeadline(ctx, until)
	for i, d := range ds {
		if hctx.Err() != nil {
			res.more = true // the rest are given back, to be claimed again
			break
		}
		out[i] = b.deliver(ctx, hctx, c, d)
		if o := out[i]; o.kind == failed && (res.retryIn == 0 || o.wait < res.retryIn) {
			res.retryIn = o.wait
		}
	}
	cancel()
	// Record even when ctx ended meanwhile: what was handled must not be handled again
	// needlessly, and claims must not linger until the lease ends.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer rcancel()
	dead, err := b.settle(rctx, c.name, until, ds, out)
	if err != nil {
		return res, err
	}
	b.report(ctx, c.name, ds, out, dead)
	return res, nil
}

// deliver hands d to c's handlers. ctx is the worker's, hctx bounds the handlers.
func (b *InProc) deliver(ctx, hctx context.Context, c *inprocConsumer, d claimedDelivery) outcome {
	e, err := Decode(d.payload)
	if err == nil && e.ID != d.eventID {
		err = fmt.Errorf("envelope id %s differs from the delivery's", e.ID)
	}
	if err != nil {
		// Written by Publish from a valid event: this can only be damage, and it never heals.
		return outcome{kind: deadLettered, err: fmt.Errorf("unreadable delivery: %w", err)}
	}
	e.Origin = d.origin
	n := d.attempts + 1
	hctx, end := startConsumer(withAttempt(hctx, n), b.opts.Tracer, c.name, e)
	err = c.handle(hctx, b.log, e)
	end(err)
	switch {
	case err == nil:
		b.opts.Metrics.observeConsumerLag(c.name, e.OccurredAt)
		return outcome{kind: handled}
	case ctx.Err() != nil:
		return outcome{kind: released} // stopping: not the handler's fault
	case n >= b.opts.MaxAttempts:
		return outcome{kind: deadLettered, err: err, handlerFailed: true}
	default:
		return outcome{kind: failed, err: err, handlerFailed: true, wait: Backoff(n, b.opts.RetryBase, b.opts.MaxBackoff)}
	}
}

// claim takes up to Batch of consumer's due deliveries whose claim is free, in event
// order, and holds them until the returned time. On MySQL it runs at READ COMMITTED so the
// locking read takes no gap locks that would hold up Publish.
func (b *InProc) claim(ctx context.Context, consumer string) ([]claimedDelivery, time.Time, error) {
	b.mu.Lock()
	claimant := b.claimant
	b.mu.Unlock()
	now := sqldb.Time(time.Now())
	due, args := "consumer = ? AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?",
		[]any{consumer, now, now}
	if claimant != nil {
		dead, arg := claimant.Dead("claimed_by")
		due, args = due+" OR "+dead, append(args, arg)
	}
	due += ")"

	// A plain read first, so that an idle consumer's poll takes no write lock: SQLite has
	// one writer for the whole shop.
	var one int
	err := b.db.Read().QueryRowContext(ctx, "SELECT 1 FROM event_deliveries WHERE "+due+" LIMIT 1", args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("claim deliveries: %w", err)
	}

	var txOpts sql.TxOptions
	if b.db.Dialect == sqldb.MySQL {
		txOpts.Isolation = sql.LevelReadCommitted
	}
	tx, err := b.db.Write().BeginTx(ctx, &txOpts)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("claim deliveries: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	q, err := tx.QueryContext(ctx, "SELECT event_id, type, payload, attempts, trace_parent, request_id FROM event_deliveries WHERE "+due+
		" ORDER BY event_id LIMIT ?"+b.db.LockInOrder(), append(args, b.opts.Batch)...)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("claim deliveries: %w", err)
	}
	var ds []claimedDelivery
	for q.Next() {
		var d claimedDelivery
		var traceParent, requestID sql.NullString
		if err := q.Scan(&d.eventID, &d.typ, &d.payload, &d.attempts, &traceParent, &requestID); err != nil {
			q.Close()
			return nil, time.Time{}, fmt.Errorf("claim deliveries: scan: %w", err)
		}
		d.origin = Origin{TraceParent: traceParent.String, RequestID: requestID.String}
		ds = append(ds, d)
	}
	if err := q.Close(); err != nil {
		return nil, time.Time{}, fmt.Errorf("claim deliveries: %w", err)
	}
	if err := q.Err(); err != nil {
		return nil, time.Time{}, fmt.Errorf("claim deliveries: %w", err)
	}
	if len(ds) == 0 {
		return nil, time.Time{}, tx.Commit()
	}
	eventIDs := make([]ids.ID, len(ds))
	for i, d := range ds {
		eventIDs[i] = d.eventID
	}
	in, inArgs := sqldb.InList(eventIDs)
	var by any // NULL: a bus without liveness holds deliveries by lease alone
	if claimant != nil {
		by = claimant.ID()
	}
	until := now.Add(b.opts.Lease)
	if _, err := tx.ExecContext(ctx, "UPDATE event_deliveries SET claimed_by = ?, claimed_until = ?"+
		" WHERE consumer = ? AND event_id IN ("+in+")", append([]any{by, until, consumer}, inArgs...)...); err != nil {
		return nil, time.Time{}, fmt.Errorf("claim deliveries: lease: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, time.Time{}, fmt.Errorf("claim deliveries: commit: %w", err)
	}
	return ds, until, nil
}

// settle records the outcomes of a batch claimed until until: it deletes the deliveries
// handled; marks the failed ones with their attempt, error and next try; moves those given
// up on to dead_letters; and gives the others back. It returns the event ids it
// dead-lettered. A delivery whose claim was taken over meanwhile (until no longer matches)
// is left to its new holder, except that one handled is deleted all the same.
func (b *InProc) settle(ctx context.Context, consumer string, until time.Time, ds []claimedDelivery, out []outcome) ([]ids.ID, error) {
	var dead []ids.ID
	err := b.db.InTx(ctx, func(tx *sqldb.Tx) error {
		dead = nil
		now := sqldb.Time(time.Now())
		var done, back []ids.ID
		for i, d := range ds {
			o := out[i]
			switch o.kind {
			case handled:
				done = append(done, d.eventID)
			case released:
				back = append(back, d.eventID)
			case failed:
				if _, err := tx.ExecContext(ctx, "UPDATE event_deliveries SET attempts = attempts + 1, last_error = ?,"+
					" next_attempt_at = ?, claimed_by = NULL, claimed_until = NULL"+
					" WHERE consumer = ? AND event_id = ? AND claimed_until = ?",
					clip.Bytes(o.err.Error(), 2000), now.Add(o.wait), consumer, int64(d.eventID), until); err != nil {
					return err
				}
			case deadLettered:
				ok, err := b.deadLetter(ctx, tx, consumer, until, d, o, now)
				if err != nil {
					return err
				}
				if ok {
					dead = append(dead, d.eventID)
				}
			}
		}
		for start := 0; start < len(done); start += insertChunk {
			in, args := sqldb.InList(done[start:min(start+insertChunk, len(done))])
			if _, err := tx.ExecContext(ctx, "DELETE FROM event_deliveries WHERE consumer = ? AND event_id IN ("+in+")",
				append([]any{consumer}, args...)...); err != nil {
				return err
			}
		}
		if len(back) > 0 {
			in, args := sqldb.InList(back)
			if _, err := tx.ExecContext(ctx, "UPDATE event_deliveries SET claimed_by = NULL, claimed_until = NULL"+
				" WHERE consumer = ? AND claimed_until = ? AND event_id IN ("+in+")",
				append([]any{consumer, until}, args...)...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record deliveries handled: %w", err)
	}
	return dead, nil
}

// deadLetter moves d from event_deliveries to dead_letters. It reports false, writing
// nothing, if the claim was taken over meanwhile.
func (b *InProc) deadLetter(ctx context.Context, tx *sqldb.Tx, consumer string, until time.Time, d claimedDelivery, o outcome, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, "DELETE FROM event_deliveries WHERE consumer = ? AND event_id = ? AND claimed_until = ?",
		consumer, int64(d.eventID), until)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO dead_letters (event_id, consumer, type, payload, error, attempts, created_at)"+
		" VALUES (?, ?, ?, ?, ?, ?, ?)", int64(d.eventID), consumer, d.typ, string(d.payload),
		clip.Bytes(o.err.Error(), 2000), d.attempts+1, now)
	return err == nil, err
}

// report logs and counts what a pass did, once it is committed.
func (b *InProc) report(ctx context.Context, consumer string, ds []claimedDelivery, out []outcome, dead []ids.ID) {
	for i, d := range ds {
		o := out[i]
		if o.handlerFailed {
			b.opts.Metrics.incFailure(consumer)
		}
		switch o.kind {
		case failed:
			b.opts.Metrics.incRetried(consumer)
			// With the event's origin, so the line names the request that caused the event.
			b.log.WarnContext(d.origin.Context(ctx), "events: handler failed; delivery will be retried", "consumer", consumer,
				"event_type", d.typ, "event_id", d.eventID, "attempt", d.attempts+1, "retry_in", o.wait, "err", o.err)
		case deadLettered:
			if !slices.Contains(dead, d.eventID) {
				continue // taken over meanwhile: its new holder decides
			}
			b.opts.Metrics.incDeadLettered(consumer)
			b.log.ErrorContext(d.origin.Context(ctx), "events: delivery dead-lettered", "consumer", consumer,
				"event_type", d.typ, "event_id", d.eventID, "attempts", d.attempts+1, "err", o.err)
		}
	}
}
