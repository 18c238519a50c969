package events

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

// Once makes a handler whose effect is in our database idempotent. Call it first in the
// handler's own transaction: it records (consumer, eventID) in processed_events and
// reports first=true, so the handler applies the event and commits both together; if the
// event was applied before, it reports first=false and the handler should change nothing
// and return nil. If the transaction rolls back, the record goes with it and a redelivery
// is applied again. On MySQL a concurrent delivery of the same event waits for the first
// transaction's outcome.
func Once(ctx context.Context, tx *sqldb.Tx, consumer string, eventID ids.ID) (first bool, err error) {
	if tx == nil {
		return false, errors.New("events: once needs a transaction")
	}
	if consumer == "" || len(consumer) > 100 {
		return false, fmt.Errorf("events: once: bad consumer name %q", consumer)
	}
	if eventID <= 0 {
		return false, fmt.Errorf("events: once %s: event id must be positive", consumer)
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES (?, ?, ?)",
		consumer, int64(eventID), sqldb.Time(time.Now()))
	switch {
	case err == nil:
		return true, nil
	case sqldb.IsUniqueViolation(err):
		return false, nil
	default:
		return false, fmt.Errorf("events: once %s %s: %w", consumer, eventID, err)
	}
}
