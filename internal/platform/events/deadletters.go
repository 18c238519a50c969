package events

import (
	"context"
	"fmt"
	"time"

	"github.com/minimart/minimart/internal/platform/ids"
)

// DeadLetter is an event given up on for one consumer, from the dead_letters table: the
// consumer's handler failed it InProcOptions.MaxAttempts times in process, or the relay
// could not read its outbox row (Consumer then being ""). On RabbitMQ the equivalent is
// a message in the consumer's "<queue>.dlq" queue.
type DeadLetter struct {
	ID        int64  // the dead letter's own id, in the order they were written
	EventID   ids.ID // the event's id
	Consumer  string // the consumer whose handler failed; "" when unknown
	Type      string
	Payload   []byte // the whole envelope as JSON, as the outbox held it
	Error     string // the last error
	Attempts  int    // handler failures (1 for an unreadable outbox row)
	CreatedAt time.Time
}

// Event decodes the envelope the dead letter holds.
func (d DeadLetter) Event() (Event, error) { return Decode(d.Payload) }

// DeadLetters lists the most recent dead letters of the relay's database (the in-process
// consumers' and the relay's own), newest first. limit defaults to 100 and is at most 1000.
func (r *Relay) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	rows, err := r.db.Read().QueryContext(ctx, "SELECT id, event_id, consumer, type, payload, error, attempts, created_at"+
		" FROM dead_letters ORDER BY id DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var d DeadLetter
		if err := rows.Scan(&d.ID, &d.EventID, &d.Consumer, &d.Type, &d.Payload, &d.Error, &d.Attempts, &d.CreatedAt); err != nil {
			return nil, fmt.Errorf("dead letters: scan: %w", err)
		}
		d.CreatedAt = d.CreatedAt.UTC()
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	return out, nil
}
