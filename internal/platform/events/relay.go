package events

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/minimart/minimart/internal/platform/clip"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

// RelayOptions tunes a Relay; zero fields take their defaults.
type RelayOptions struct {
	// Batch is the most events claimed and held in memory at once. Default 100.
	Batch int
	// Poll is how often the outbox is checked when no commit woke the relay. Default 500ms.
	Poll time.Duration
	// Lease is how long a claim keeps other relays off a batch; a batch whose relay died
	// is taken over after it. Publish is given this long. Default 30s.
	Lease time.Duration
	// MaxBackoff bounds the wait after a failure, both for a failed event before it is
	// tried again and for the relay when the bus or database is down. Default 5s.
	MaxBackoff time.Duration
	// Retention is how long published rows are kept before they are deleted.
	// Default 72h; negative keeps them forever.
	Retention time.Duration
	// Metrics, if not nil, counts published events, and dead letters of unreadable rows
	// (with consumer "").
	Metrics *Metrics
	// Tracer, if not nil, makes a producer span for each event published whose writer was
	// traced, continuing the writer's trace; nil is tracing off.
	Tracer trace.Tracer
}

// Claimant is the liveness registration claims are tied to (liveness.Instance): claims name
// it, and a batch claimed by an instance that stopped beating is taken over at once instead
// of when its lease ends, so a restart after kill -9 republishes (and, in process, handles)
// within seconds.
type Claimant interface {
	ID() string
	// Dead returns an SQL condition true when column names a claimer that is not alive.
	Dead(column string) (cond string, arg any)
}

func (o RelayOptions) withDefaults() RelayOptions {
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.Retention == 0 {
		o.Retention = 72 * time.Hour
	}
	return o
}

// Relay moves events from the outbox to a Publisher. Several relays may run against one
// MySQL database: each claims a batch with SELECT … FOR UPDATE and a lease, so no two
// publish the same batch at once (not SKIP LOCKED, which would take a writer's events out of
// order: see sqldb.LockInOrder). A row is marked published only after Publish
// accepted it (the broker confirmed it, or InProc recorded its deliveries); a failed row
// records attempts and last_error and is tried again after a bounded backoff, for as long
// as it takes: a bus that cannot take events never loses one. Rows are never dropped: a
// row that cannot be read is copied to dead_letters (see DeadLetters) in the same
// transaction that marks it published. Handler failures are not the relay's: each bus
// retries and dead-letters its own consumers' deliveries.
type Relay struct {
	db      *sqldb.DB
	pub     Publisher
	log     *slog.Logger
	opts    RelayOptions
	wake    chan struct{}
	running atomic.Bool
	// claimant is set by ClaimAs before Run; nil holds claims by lease alone.
	claimant Claimant

	lastPrune time.Time
}

// NewRelay returns a relay from the outbox table of db to pub. Commits through o wake
// it. log may be nil.
func NewRelay(db *sqldb.DB, o *Outbox, pub Publisher, log *slog.Logger, opts RelayOptions) *Relay {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Relay{db: db, pub: pub, log: log, opts: opts.withDefaults()}
	if o != nil {
		r.wake = o.listen()
	} else {
		r.wake = make(chan struct{})
	}
	return r
}

// ClaimAs ties the relay's claims to a liveness registration; call it before Run.
func (r *Relay) ClaimAs(c Claimant) { r.claimant = c }

// Run publishes until ctx is done, then returns nil. It keeps going through database and
// broker outages, backing off; it returns an error only if the relay is already running.
func (r *Relay) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("events: relay is already running")
	}
	defer r.running.Store(false)
	failures := 0
	for ctx.Err() == nil {
		res, err := r.pass(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			failures++
			wait := Backoff(failures, 100*time.Millisecond, r.opts.MaxBackoff)
			r.log.WarnContext(ctx, "outbox relay: nothing published", "err", err,
				"failures", failures, "retry_in", wait)
			sleep(ctx, wait) // a commit does not cut this short: the bus or database is down
			continue
		}
		if failures > 0 {
			r.log.InfoContext(ctx, "outbox relay: publishing again", "after_failures", failures)
			failures = 0
		}
		if res.claimed == r.opts.Batch {
			continue // there may be more waiting
		}
		r.maybePrune(ctx)
		wait := r.opts.Poll
		if res.retryIn > 0 && res.retryIn < wait {
			wait = res.retryIn
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-r.wake:
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

// Pending counts the events not yet published and, when the relay publishes to an InProc
// bus, the deliveries its consumers have not yet handled (nor dead-lettered): zero means
// every committed event has been published and, in process, handled.
func (r *Relay) Pending(ctx context.Context) (int, error) {
	var n int
	err := r.db.Read().QueryRowContext(ctx,
		"SELECT COUNT(*) FROM outbox_events WHERE published_at IS NULL").Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("outbox pending: %w", err)
	}
	if b, ok := r.pub.(backlogger); ok {
		m, err := b.backlog(ctx)
		if err != nil {
			return 0, err
		}
		n += m
	}
	return n, nil
}

// OldestPending is the age of the oldest event not yet published (0 when none waits): an
// outbox that stops draining shows here before anywhere else.
func (r *Relay) OldestPending(ctx context.Context) (time.Duration, error) {
	var created time.Time
	// The index (published_at, id) puts unpublished rows first, and ids grow with time.
	err := r.db.Read().QueryRowContext(ctx,
		"SELECT created_at FROM outbox_events WHERE published_at IS NULL ORDER BY published_at, id LIMIT 1").Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("outbox oldest pending: %w", err)
	}
	return max(time.Since(created), 0), nil
}

// backlogger is a bus with its own queue of work not yet done (InProc's deliveries).
type backlogger interface {
	backlog(ctx context.Context) (int, error)
}

type passResult struct {
	claimed int
	retryIn time.Duration // when the earliest failed row of this pass may be tried again
}

type claimedRow struct {
	id       ids.ID
	typ      string
	payload  []byte
	attempts int // failed tries
	origin   Origin
}

// failure is why one claimed row was not published.
type failure struct {
	err error
	// unreadable: the row's payload is not an envelope, and never will be.
	unreadable bool
}

// pass claims one batch, publishes it and records the outcome. It returns an error when
// nothing could be published for a reason other than the events themselves: the database
// or the bus is unavailable.
func (r *Relay) pass(ctx context.Context) (passResult, error) {
	rows, err := r.claim(ctx)
	if err != nil {
		return passResult{}, err
	}
	if len(rows) == 0 {
		return passResult{}, nil
	}
	res := passResult{claimed: len(rows)}

	evs := make([]Event, 0, len(rows))
	failed := map[ids.ID]failure{}
	for _, row := range rows {
		e, err := Decode(row.payload)
		if err == nil && e.ID != row.id {
			err = fmt.Errorf("envelope id %s differs from row id", e.ID)
		}
		if err != nil {
			failed[row.id] = failure{err: fmt.Errorf("unreadable outbox row: %w", err), unreadable: true}
			continue
		}
		e.Origin = row.origin
		evs = append(evs, e)
	}

	var pubErr error
	endSpans := startPublish(r.opts.Tracer, evs)
	if len(evs) > 0 {
		pctx, cancel := context.WithTimeout(ctx, r.opts.Lease)
		pubErr = r.pub.Publish(pctx, evs...)
		cancel()
	}
	var perEvent *PublishError
	switch {
	case pubErr == nil:
	case errors.As(pubErr, &perEvent):
		for _, f := range perEvent.Failed {
			failed[f.ID] = failure{err: f.Err}
		}
	default:
		for _, e := range evs {
			failed[e.ID] = failure{err: pubErr}
		}
	}
	endSpans(func(id ids.ID) error { return failed[id].err })

	// Record the outcome even when ctx was cancelled during Publish: what the bus accepted
	// must not be published again needlessly, and claims must not linger until the lease ends.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	out, err := r.record(rctx, rows, failed)
	if err != nil {
		return res, err
	}
	r.report(ctx, rows, evs, failed, out)
	res.retryIn = out.retryIn
	if len(failed) > 0 {
		r.log.WarnContext(ctx, "outbox relay: events not published", "failed", len(failed),
			"dead_lettered", len(out.dead), "claimed", len(rows), "err", firstErr(pubErr, failed))
	}
	if pubErr != nil && perEvent == nil {
		return res, fmt.Errorf("publish: %w", pubErr)
	}
	return res, nil
}

// claim takes up to Batch unpublished rows whose claim has lapsed and leases them. On
// MySQL it runs at READ COMMITTED so the locking read takes no gap locks that would hold
// up writers inserting new events.
func (r *Relay) claim(ctx context.Context) ([]claimedRow, error) {
	var txOpts sql.TxOptions
	if r.db.Dialect == sqldb.MySQL {
		txOpts.Isolation = sql.LevelReadCommitted
	}
	tx, err := r.db.Write().BeginTx(ctx, &txOpts)
	if err != nil {
		return nil, fmt.Errorf("outbox claim: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op

	now := sqldb.Time(time.Now())
	free, args := "claimed_until IS NULL OR claimed_until <= ?", []any{now}
	if r.claimant != nil {
		// Rows this instance claimed are free too: a relay works one batch at a time, so any it
		// still holds belong to a pass that failed before recording them (the database went
		// away mid-pass), and must not wait out their lease.
		dead, arg := r.claimant.Dead("claimed_by")
		free, args = free+" OR "+dead+" OR claimed_by = ?", append(args, arg, r.claimant.ID())
	}
	q, err := tx.QueryContext(ctx, "SELECT id, type, payload, attempts, trace_parent, request_id FROM outbox_events"+
		" WHERE published_at IS NULL AND ("+free+")"+
		" ORDER BY id LIMIT ?"+r.db.LockInOrder(), append(args, r.opts.Batch)...)
	if err != nil {
		return nil, fmt.Errorf("outbox claim: %w", err)
	}
	var rows []claimedRow
	for q.Next() {
		var row claimedRow
		var traceParent, requestID sql.NullString
		if err := q.Scan(&row.id, &row.typ, &row.payload, &row.attempts, &traceParent, &requestID); err != nil {
			q.Close()
			return nil, fmt.Errorf("outbox claim: scan: %w", err)
		}
		row.origin = Origin{TraceParent: traceParent.String, RequestID: requestID.String}
		rows = append(rows, row)
	}
	if err := q.Close(); err != nil {
		return nil, fmt.Errorf("outbox claim: %w", err)
	}
	if err := q.Err(); err != nil {
		return nil, fmt.Errorf("outbox claim: %w", err)
	}
	if len(rows) == 0 {
		return nil, tx.Commit()
	}
	claimed := make([]ids.ID, len(rows))
	for i, row := range rows {
		claimed[i] = row.id
	}
	in, inArgs := sqldb.InList(claimed)
	var by any // NULL: a relay without liveness holds rows by lease alone
	if r.claimant != nil {
		by = r.claimant.ID()
	}
	if _, err := tx.ExecContext(ctx, "UPDATE outbox_events SET claimed_until = ?, claimed_by = ? WHERE id IN ("+in+")",
		append([]any{now.Add(r.opts.Lease), by}, inArgs...)...); err != nil {
		return nil, fmt.Errorf("outbox claim: lease: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("outbox claim: commit: %w", err)
	}
	return rows, nil
}

// recorded is what record did with a pass's rows.
type recorded struct {
	retryIn time.Duration // the shortest wait before a failed row is tried again
	done    []ids.ID      // published
	dead    []ids.ID      // dead-lettered (and so marked published)
}

// record marks accepted rows published; dead-letters the unreadable rows; and marks the
// other failed rows with their attempt, error and the time before which no relay tries
// them again.
func (r *Relay) record(ctx context.Context, rows []claimedRow, failed map[ids.ID]failure) (recorded, error) {
	now := sqldb.Time(time.Now())
	var out recorded
	err := r.db.InTx(ctx, func(tx *sqldb.Tx) error {
		out = recorded{}
		for _, row := range rows {
			f, bad := failed[row.id]
			if !bad {
				out.done = append(out.done, row.id)
				continue
			}
			if f.unreadable {
				ok, err := r.deadLetter(ctx, tx, row, f, now)
				if err != nil {
					return err
				}
				if ok {
					out.dead = append(out.dead, row.id)
				}
				continue
			}
			wait := Backoff(row.attempts+1, 100*time.Millisecond, r.opts.MaxBackoff)
			if out.retryIn == 0 || wait < out.retryIn {
				out.retryIn = wait
			}
			if _, err := tx.ExecContext(ctx, "UPDATE outbox_events SET attempts = attempts + 1,"+
				" last_error = ?, claimed_until = ?, claimed_by = NULL WHERE id = ? AND published_at IS NULL",
				clip.Bytes(f.err.Error(), 2000), now.Add(wait), int64(row.id)); err != nil {
				return err
			}
		}
		for start := 0; start < len(out.done); start += insertChunk {
			in, args := sqldb.InList(out.done[start:min(start+insertChunk, len(out.done))])
			args = append([]any{now}, args...)
			if _, err := tx.ExecContext(ctx, "UPDATE outbox_events SET published_at = ?,"+
				" claimed_until = NULL, claimed_by = NULL WHERE id IN ("+in+")", args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return recorded{}, fmt.Errorf("outbox record: %w", err)
	}
	return out, nil
}

// deadLetter marks an unreadable row published and copies it to dead_letters, with no
// consumer (none could be given it) and one attempt. It reports false if the row was
// published meanwhile (by a relay that took over after the lease), and then writes nothing.
func (r *Relay) deadLetter(ctx context.Context, tx *sqldb.Tx, row claimedRow, f failure, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, "UPDATE outbox_events SET attempts = attempts + 1,"+
		" last_error = ?, published_at = ?, claimed_until = NULL, claimed_by = NULL WHERE id = ? AND published_at IS NULL",
		clip.Bytes(f.err.Error(), 2000), now, int64(row.id))
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO dead_letters (event_id, consumer, type, payload, error, attempts, created_at)"+
		" VALUES (?, '', ?, ?, ?, 1, ?)", int64(row.id), row.typ, string(row.payload),
		clip.Bytes(f.err.Error(), 2000), now); err != nil {
		return false, err
	}
	return true, nil
}

// report logs and counts what a pass did, once it is committed.
func (r *Relay) report(ctx context.Context, rows []claimedRow, evs []Event, failed map[ids.ID]failure, out recorded) {
	byID := make(map[ids.ID]Event, len(evs))
	for _, e := range evs {
		byID[e.ID] = e
	}
	for _, id := range out.done {
		r.opts.Metrics.incPublished(byID[id].Type)
		r.opts.Metrics.observeRelayLag(byID[id].OccurredAt)
	}
	for _, row := range rows {
		if !slices.Contains(out.dead, row.id) {
			continue
		}
		r.opts.Metrics.incDeadLettered("")
		r.log.ErrorContext(ctx, "outbox relay: event dead-lettered", "event_id", row.id,
			"event_type", row.typ, "err", failed[row.id].err)
	}
}

// pruneChunk bounds the rows one DELETE removes, so pruning never holds long locks.
const pruneChunk = 1000

// maybePrune deletes published rows older than Retention, at most once a minute (or once
// per Retention, if that is shorter).
func (r *Relay) maybePrune(ctx context.Context) {
	if r.opts.Retention < 0 {
		return
	}
	if time.Since(r.lastPrune) < min(r.opts.Retention, time.Minute) {
		return
	}
	r.lastPrune = time.Now()
	before := sqldb.Time(time.Now().Add(-r.opts.Retention))
	q := "DELETE FROM outbox_events WHERE id IN (SELECT id FROM outbox_events" +
		" WHERE published_at IS NOT NULL AND published_at < ? ORDER BY published_at LIMIT ?)"
	if r.db.Dialect == sqldb.MySQL {
		// MySQL allows no LIMIT in an IN subquery, but has DELETE … LIMIT.
		q = "DELETE FROM outbox_events WHERE published_at IS NOT NULL AND published_at < ?" +
			" ORDER BY published_at LIMIT ?"
	}
	for range 10 {
		res, err := r.db.Write().ExecContext(ctx, q, before, pruneChunk)
		if err != nil {
			if ctx.Err() == nil {
				r.log.WarnContext(ctx, "outbox relay: prune failed", "err", err)
			}
			return
		}
		if n, err := res.RowsAffected(); err != nil || n < pruneChunk {
			return
		}
	}
}

// Backoff is the wait after the n-th consecutive failure: base doubling up to max, less up
// to 20% jitter so workers that failed together do not retry together.
func Backoff(n int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d - rand.N(d/5+1)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func firstErr(pubErr error, failed map[ids.ID]failure) error {
	if pubErr != nil {
		return pubErr
	}
	for _, f := range failed {
		return f.err
	}
	return nil
}
