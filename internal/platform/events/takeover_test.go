package events_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/liveness"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// beating registers an instance and keeps it beating until stop is called or the test ends.
func beating(t *testing.T, db *sqldb.DB, staleAfter time.Duration) (inst *liveness.Instance, stop func()) {
	t.Helper()
	inst, err := liveness.Register(context.Background(), db, liveness.Options{Every: 10 * time.Millisecond, StaleAfter: staleAfter})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { inst.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return inst, stop
}

// TestRelayTakesOverFromDeadInstance: a batch claimed by a relay whose process died is
// republished as soon as the process is known dead — at once on SQLite, where a new
// serving process means the old one is gone, and when its heartbeat stops on MySQL — not
// when the claim's (here one-hour) lease ends. A live claimer keeps its batch.
func TestRelayTakesOverFromDeadInstance(t *testing.T) {
	t.Parallel()
	sets := []sqldb.Migrations{liveness.Migrations, events.OutboxMigrations}
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		g := newGen(t)
		ob := events.NewOutbox()
		e := mustEvent(t, g, "order.created", 1)
		write(t, db, ob, e)

		const stale = 300 * time.Millisecond
		first, stopFirst := beating(t, db, stale)
		stuck := &stuckPublisher{}
		hung := events.NewRelay(db, ob, stuck, testLog(t), events.RelayOptions{Lease: time.Hour, Poll: 5 * time.Millisecond})
		hung.ClaimAs(first)
		startRelay(t, hung)
		waitFor(t, 5*time.Second, "the first relay to claim", func() bool { return stuck.calls.Load() == 1 })

		var mu sync.Mutex
		counts := map[ids.ID]int{}
		healthy := &slowPublisher{mu: &mu, counts: counts}
		published := func() bool { mu.Lock(); defer mu.Unlock(); return counts[e.ID] == 1 }
		if db.Dialect == sqldb.SQLite {
			// One serving process per file: the first is gone before the next starts. (A
			// heartbeat still running would register its instance again after the next
			// one's registration removed it, and the claim would hold until the lease.)
			stopFirst()
		}
		second, _ := beating(t, db, stale)
		next := events.NewRelay(db, ob, healthy, testLog(t), events.RelayOptions{Lease: time.Hour, Poll: 5 * time.Millisecond})
		next.ClaimAs(second)
		startRelay(t, next)

		if db.Dialect == sqldb.MySQL {
			// The first instance still beats: its claim holds for several stale periods.
			deadline := time.Now().Add(3 * stale)
			for time.Now().Before(deadline) {
				if published() {
					t.Fatal("a batch claimed by a live instance was taken over")
				}
				time.Sleep(10 * time.Millisecond)
			}
			// kill -9: the instance stops beating and its row stays behind, stale.
			stopFirst()
			old := time.Now().Add(-time.Minute).UTC()
			if _, err := db.Write().ExecContext(context.Background(),
				"INSERT INTO instances (id, started_at, heartbeat_at) VALUES (?, ?, ?)", first.ID(), old, old); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, 5*time.Second, "the second relay to publish the dead instance's batch", published)
		waitFor(t, 5*time.Second, "published", func() bool { return readRow(t, db, e.ID).published })
	})
}
