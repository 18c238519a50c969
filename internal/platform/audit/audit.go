// Package audit records every change staff make through the admin API: who (staff id and
// role from the token; the user module adds the username), what (method, route pattern, the
// target id, the request body with secrets removed, and what was there before when the
// handler says so), the answer's status, from where (client IP, user agent, request id) and
// when.
//
// How, in every shape: Middleware wraps the whole HTTP API of every process. For a write
// (POST, PUT, PATCH, DELETE) under /api/v1/admin/ that carries a valid staff token, it runs
// the handler with its answer held back, writes an audit.recorded event to this process's
// outbox in a transaction of its own, and only then sends the answer. The user module
// consumes the event — in process, or over RabbitMQ from every service — and keeps the entry
// in its audit_log table. No service writes another's database, and the log is in one place
// whichever module served the change.
//
// What is guaranteed: the handler commits its change in its own transaction and the entry
// commits a moment later in the middleware's. A crash between those two commits loses the
// entry; but the answer was held back, so the client was not told the change succeeded
// either. Once the entry is committed, the outbox delivers it at least once and the user
// module stores it once. If the entry cannot be written (the database failed just after the
// change), the answer is still sent — the change was made and cannot be taken back — and the
// whole entry is logged at error level, so the log pipeline keeps it.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

// TypeRecorded is the event that carries one Entry; its key is the actor's staff id.
const TypeRecorded = "audit.recorded"

// Entry is one staff write. It is the payload of audit.recorded and what the audit log
// answers with.
type Entry struct {
	ID            ids.ID `json:"id"`
	ActorID       ids.ID `json:"actor_id"`
	ActorUsername string `json:"actor_username,omitempty"` // filled in by the user module, which owns staff accounts
	ActorRole     string `json:"actor_role"`
	Method        string `json:"method"`
	// Route is the pattern the request matched, e.g. /api/v1/admin/skus/{id}/stock.
	Route string `json:"route"`
	Path  string `json:"path"`
	// Target is the last parameter of the path (an id), or for a create without one the id
	// of what it made. Not an ids.ID: a refused request's path may hold anything.
	Target string `json:"target,omitempty"`
	Status int    `json:"status"`
	// Before is what the handler reported was there before the change (SetBefore); absent
	// when it did not say.
	Before json.RawMessage `json:"before,omitempty"`
	// After is what the request asked for: its JSON body with secrets replaced by
	// "[redacted]", or a note saying why the body is not kept (not JSON, too large).
	After      json.RawMessage `json:"after,omitempty"`
	ClientIP   string          `json:"client_ip"`
	UserAgent  string          `json:"user_agent,omitempty"`
	Request    string          `json:"request,omitempty"` // the X-Request-ID, to find the request in the logs
	Service    string          `json:"service"`           // the modules of the process that served it
	OccurredAt time.Time       `json:"occurred_at"`
}

// Decode reads an Entry from an audit.recorded event.
func Decode(e events.Event) (Entry, error) {
	var entry Entry
	if err := json.Unmarshal(e.Payload, &entry); err != nil {
		return Entry{}, fmt.Errorf("audit: decode event %s: %w", e.ID, err)
	}
	if entry.ID <= 0 || entry.ActorID <= 0 || entry.Method == "" || entry.Route == "" || entry.OccurredAt.IsZero() {
		return Entry{}, fmt.Errorf("audit: event %s: entry lacks id, actor, method, route or time", e.ID)
	}
	entry.OccurredAt = entry.OccurredAt.UTC()
	return entry, nil
}

// Recorder writes entries to this process's outbox.
type Recorder struct {
	db      *sqldb.DB
	outbox  *events.Outbox
	ids     *ids.Generator
	service string
	log     *slog.Logger
}

// NewRecorder records into db's outbox; service names the process in each entry.
func NewRecorder(db *sqldb.DB, outbox *events.Outbox, gen *ids.Generator, service string, log *slog.Logger) *Recorder {
	return &Recorder{db: db, outbox: outbox, ids: gen, service: service, log: log}
}

// recordTimeout bounds writing one entry; it does not end with the request, whose client
// may already have left while the change it asked for was made.
const recordTimeout = 10 * time.Second

// Record commits e as an audit.recorded event, giving it an id, the service and a time when
// it has none.
func (rec *Recorder) Record(ctx context.Context, e Entry) (Entry, error) {
	if e.ID == 0 {
		e.ID = rec.ids.New()
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = time.Now().UTC()
	}
	e.Service = rec.service
	ev, err := events.New(e.ID, TypeRecorded, e.ActorID.String(), e)
	if err != nil {
		return e, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	return e, rec.db.InTx(ctx, func(tx *sqldb.Tx) error { return rec.outbox.Write(ctx, tx, ev) })
}

// lost logs an entry that could not be recorded, whole, so the log pipeline keeps it.
func (rec *Recorder) lost(ctx context.Context, e Entry, err error) {
	body, mErr := json.Marshal(e)
	rec.log.ErrorContext(ctx, "audit entry not recorded; it is only in this log line",
		slog.String("error", errors.Join(err, mErr).Error()), slog.String("entry", string(body)))
}
