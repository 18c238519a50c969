package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// histogramCount is the number of observations of name's series with label=value ("" for
// a histogram without labels); -1 when there is no such series.
func histogramCount(t *testing.T, reg *prometheus.Registry, name, label, value string) int {
	t.Helper()
	m := series(t, reg, name, label, value)
	if m == nil {
		return -1
	}
	return int(m.GetHistogram().GetSampleCount())
}

// A consumer's series exist at zero once it subscribes, so that an alert sees its first
// dead letter as an increase; the relay lag is observed for each event published, the
// consumer lag for each event handled, and OldestPending tells how long the oldest
// unpublished event has waited.
func TestEventMetrics(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEachEngine(t, outboxSets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		ob := events.NewOutbox()
		reg := prometheus.NewRegistry()
		metrics := events.NewMetrics(reg)
		bus := inProc(t, db, events.InProcOptions{Poll: 10 * time.Millisecond, Metrics: metrics})
		rec := newRecorder()
		if err := bus.Subscribe("inventory", []string{"order.*"}, rec.handle); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"minimart_events_dead_lettered_total", "minimart_events_handler_failures_total", "minimart_events_retried_total"} {
			if v := counter(t, reg, name, "consumer", "inventory"); v != 0 {
				t.Errorf("%s{consumer=inventory} = %v before any event, want a series at 0", name, v)
			}
		}
		if n := histogramCount(t, reg, "minimart_events_consumer_lag_seconds", "consumer", "inventory"); n != 0 {
			t.Errorf("consumer lag of inventory has %d observations before any event, want a series with 0", n)
		}
		if v := counter(t, reg, "minimart_events_dead_lettered_total", "consumer", ""); v != 0 {
			t.Errorf("the relay's dead-letter series = %v, want a series at 0", v)
		}

		r := events.NewRelay(db, ob, bus, testLog(t), events.RelayOptions{Poll: 10 * time.Millisecond, Metrics: metrics})
		if age, err := r.OldestPending(context.Background()); err != nil || age != 0 {
			t.Fatalf("OldestPending of an empty outbox = %v, %v; want 0", age, err)
		}
		e := mustEvent(t, g, "order.paid", 1)
		write(t, db, ob, e)
		age, err := r.OldestPending(context.Background())
		if err != nil || age <= 0 || age > time.Minute {
			t.Fatalf("OldestPending with one event waiting = %v, %v; want its age", age, err)
		}

		startBus(t, bus)
		startRelay(t, r)
		waitFor(t, 5*time.Second, "the event handled", func() bool { return rec.succeeded() == 1 })
		waitFor(t, 5*time.Second, "the consumer lag observed", func() bool {
			return histogramCount(t, reg, "minimart_events_consumer_lag_seconds", "consumer", "inventory") == 1
		})
		// The relay records the publication after the bus took the event, so possibly after
		// the consumer handled it.
		waitFor(t, 5*time.Second, "the relay lag observed once", func() bool {
			return histogramCount(t, reg, "minimart_events_relay_lag_seconds", "", "") == 1
		})
		if age, err := r.OldestPending(context.Background()); err != nil || age != 0 {
			t.Errorf("OldestPending once published = %v, %v; want 0", age, err)
		}
	})
}
