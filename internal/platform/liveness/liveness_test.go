package liveness_test

import (
	"context"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/liveness"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// deadClaims counts the rows of a claims table whose claimer the instance considers dead.
func deadClaims(t *testing.T, db *sqldb.DB, i *liveness.Instance) int {
	t.Helper()
	cond, arg := i.Dead("claimed_by")
	var n int
	if err := db.Read().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM claims WHERE "+cond, arg).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLiveness(t *testing.T) {
	sqldbtest.ForEachEngine(t, []sqldb.Migrations{liveness.Migrations}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		if _, err := db.Write().ExecContext(ctx, "CREATE TABLE claims (claimed_by VARCHAR(40) NULL)"); err != nil {
			t.Fatal(err)
		}
		opts := liveness.Options{Every: 10 * time.Millisecond, StaleAfter: 300 * time.Millisecond}
		a, err := liveness.Register(ctx, db, opts)
		if err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- a.Run(runCtx) }()
		t.Cleanup(func() { stop(); <-done })

		// A crash leaves a row that stops beating: stale after StaleAfter.
		crashed := time.Now().Add(-time.Second).UTC()
		if _, err := db.Write().ExecContext(ctx, "INSERT INTO instances (id, started_at, heartbeat_at) VALUES ('crashed', ?, ?)", crashed, crashed); err != nil {
			t.Fatal(err)
		}
		for _, by := range []any{a.ID(), "crashed", "never-registered", nil} {
			if _, err := db.Write().ExecContext(ctx, "INSERT INTO claims (claimed_by) VALUES (?)", by); err != nil {
				t.Fatal(err)
			}
		}
		if db.Dialect == sqldb.SQLite {
			// One serving process per data file: the next one starts after the last is gone,
			// its row left behind by a crash ("crashed") or removed by a clean stop.
			stop()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			done <- nil // for the cleanup
			if _, err := db.Write().ExecContext(ctx, "INSERT INTO instances (id, started_at, heartbeat_at) VALUES (?, ?, ?)",
				a.ID(), time.Now().UTC(), time.Now().UTC()); err != nil {
				t.Fatal(err)
			}
		}
		b, err := liveness.Register(ctx, db, opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := deadClaims(t, db, b); got != map[sqldb.Dialect]int{sqldb.MySQL: 2, sqldb.SQLite: 3}[db.Dialect] {
			// On MySQL the beating instance is alive; on SQLite registering declares every
			// instance before it dead, even one whose last heartbeat is fresh.
			t.Fatalf("%s: %d dead claims", db.Dialect, got)
		}
		for _, c := range []struct {
			id   string
			want bool
		}{{b.ID(), true}, {"crashed", false}, {"never-registered", false}, {"", false}} {
			if alive, err := b.Alive(ctx, c.id); err != nil || alive != c.want {
				t.Fatalf("Alive(%q) = %v %v, want %v", c.id, alive, err, c.want)
			}
		}
		if db.Dialect == sqldb.SQLite {
			return
		}
		if alive, _ := b.Alive(ctx, a.ID()); !alive {
			t.Fatal("a beating instance is not alive")
		}
		// A clean stop removes the instance: its claims are free at once.
		stop()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		done <- nil // for the cleanup
		if got := deadClaims(t, db, b); got != 3 {
			t.Fatalf("after a clean stop: %d dead claims, want 3", got)
		}
	})
}

// TestBeatComesBack: an instance another judged dead and removed registers again on its next
// beat, so its later claims are honoured.
func TestBeatComesBack(t *testing.T) {
	sqldbtest.ForEachEngine(t, []sqldb.Migrations{liveness.Migrations}, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		a, err := liveness.Register(ctx, db, liveness.Options{Every: 10 * time.Millisecond, StaleAfter: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Write().ExecContext(ctx, "DELETE FROM instances"); err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- a.Run(runCtx) }()
		defer func() { stop(); <-done }()
		deadline := time.Now().Add(5 * time.Second)
		for {
			var n int
			if err := db.Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM instances WHERE id = ?", a.ID()).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 1 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("the removed instance did not come back")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
