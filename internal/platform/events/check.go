package events

import (
	"context"
	"fmt"
	"time"

	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

// StuckEvent is an event that waited too long: unpublished in the outbox (Consumer ""), or
// published to an in-process consumer that has not handled it.
type StuckEvent struct {
	ID        ids.ID
	Type      string
	Consumer  string
	CreatedAt time.Time
}

// StuckEvents lists the events of db written before t and still unpublished, and the
// in-process deliveries created before t and still unhandled, oldest first, at most limit
// of each.
func StuckEvents(ctx context.Context, db *sqldb.DB, t time.Time, limit int) ([]StuckEvent, error) {
	var out []StuckEvent
	for _, query := range []string{
		"SELECT id, type, '', created_at FROM outbox_events WHERE published_at IS NULL AND created_at < ? ORDER BY created_at, id LIMIT ?",
		"SELECT event_id, type, consumer, created_at FROM event_deliveries WHERE created_at < ? ORDER BY created_at, event_id LIMIT ?",
	} {
		rows, err := db.Read().QueryContext(ctx, query, sqldb.Time(t), limit)
		if err != nil {
			return nil, fmt.Errorf("stuck events: %w", err)
		}
		for rows.Next() {
			var e StuckEvent
			if err := rows.Scan(&e.ID, &e.Type, &e.Consumer, &e.CreatedAt); err != nil {
				rows.Close()
				return nil, fmt.Errorf("stuck events: %w", err)
			}
			e.CreatedAt = e.CreatedAt.UTC()
			out = append(out, e)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("stuck events: %w", err)
		}
	}
	return out, nil
}

// CountDeadLetters counts the dead letters of db (on RabbitMQ, the "<queue>.dlq" queues hold
// the brokers' own).
func CountDeadLetters(ctx context.Context, db *sqldb.DB) (int64, error) {
	var n int64
	if err := db.Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM dead_letters").Scan(&n); err != nil {
		return 0, fmt.Errorf("dead letters: %w", err)
	}
	return n, nil
}
