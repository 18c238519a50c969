package events

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/minimart/minimart/internal/platform/sqldb"
)

//go:embed migrations
var migrationFiles embed.FS

// OutboxMigrations creates the outbox_events table, with dead_letters and event_deliveries
// (InProc's per-consumer queues). Every database that a module writes events into needs them;
// in the split shape that is each service's own database.
var OutboxMigrations = sqldb.Migrations{Module: "outbox", FS: migrationsFS()}

// Outbox writes events into the outbox_events table inside the caller's transaction, so
// an event exists exactly when the state change that caused it was committed.
type Outbox struct {
	mu    sync.Mutex
	wakes []chan struct{}
}

// NewOutbox returns an outbox. Share one between the modules and the relays of a
// process, so that a commit wakes the relays at once instead of at their next poll.
func NewOutbox() *Outbox { return &Outbox{} }

// insertChunk bounds the rows of one INSERT statement (SQLite allows 32766 parameters).
const insertChunk = 500

// Write inserts evs in tx. Once tx commits, relays sharing this Outbox are woken; if it
// rolls back, nothing was written and nothing is published. An event without OccurredAt
// gets the current time; one without an Origin gets ctx's (OriginFrom), so its consumers
// continue the request's trace and log its request id.
func (o *Outbox) Write(ctx context.Context, tx *sqldb.Tx, evs ...Event) error {
	if len(evs) == 0 {
		return nil
	}
	if tx == nil {
		return errors.New("events: outbox write needs a transaction")
	}
	now := time.Now().UTC()
	origin := OriginFrom(ctx)
	for start := 0; start < len(evs); start += insertChunk {
		chunk := evs[start:min(start+insertChunk, len(evs))]
		var q strings.Builder
		q.WriteString("INSERT INTO outbox_events (id, type, event_key, payload, created_at, attempts, trace_parent, request_id) VALUES ")
		args := make([]any, 0, len(chunk)*7)
		for i, e := range chunk {
			if e.OccurredAt.IsZero() {
				e.OccurredAt = now
			}
			e.OccurredAt = e.OccurredAt.UTC()
			if err := e.Validate(); err != nil {
				return fmt.Errorf("outbox: %w", err)
			}
			body, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("outbox: event %s: %w", e.ID, err)
			}
			if i > 0 {
				q.WriteString(", ")
			}
			if e.Origin == (Origin{}) {
				e.Origin = origin
			}
			q.WriteString("(?, ?, ?, ?, ?, 0, ?, ?)")
			args = append(args, int64(e.ID), e.Type, e.Key, string(body), sqldb.Time(now),
				sqldb.NullString(e.Origin.TraceParent), sqldb.NullString(e.Origin.RequestID))
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("outbox: insert %d events: %w", len(chunk), err)
		}
	}
	tx.AfterCommit(o.wake)
	return nil
}

// listen returns a channel that receives a value after a transaction that wrote events
// commits. It holds at most one pending wake-up, so a slow reader never blocks a writer.
func (o *Outbox) listen() chan struct{} {
	ch := make(chan struct{}, 1)
	o.mu.Lock()
	o.wakes = append(o.wakes, ch)
	o.mu.Unlock()
	return ch
}

func (o *Outbox) wake() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, ch := range o.wakes {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func migrationsFS() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // a constant, valid directory name: cannot happen
	}
	return sub
}
