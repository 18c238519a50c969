package catalogdb_test

import (
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/catalog/catalogdb"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// TestConcurrentMovesNeverMakeACycle: two staff move A under B and B under A at the same
// moment, round after round, on each engine. Either move may win; the other must be
// refused, because A and B each under the other would be a cycle cut off from the tree.
func TestConcurrentMovesNeverMakeACycle(t *testing.T) {
	sets := []sqldb.Migrations{events.OutboxMigrations, catalogdb.Migrations}
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		gen, err := ids.NewGenerator(4)
		if err != nil {
			t.Fatal(err)
		}
		store := catalogdb.New(db, events.NewOutbox())
		svc := catalog.NewService(store, gen, slog.New(slog.NewTextHandler(io.Discard, nil)))
		a, err := svc.CreateCategory(ctx, catalog.CategoryInput{Name: "甲"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := svc.CreateCategory(ctx, catalog.CategoryInput{Name: "乙"})
		if err != nil {
			t.Fatal(err)
		}
		moves := []struct {
			cat    catalog.Category
			parent ids.ID
		}{{a, b.ID}, {b, a.ID}}

		const rounds = 30
		won := map[ids.ID]int{}
		for round := range rounds {
			start := make(chan struct{})
			results := make([]error, len(moves))
			var wg sync.WaitGroup
			for i, m := range moves {
				wg.Go(func() {
					<-start
					_, results[i] = svc.UpdateCategory(ctx, m.cat.ID, catalog.CategoryInput{ParentID: m.parent, Name: m.cat.Name})
				})
			}
			close(start)
			wg.Wait()

			all, err := store.Categories(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if c := cycle(all); c != nil {
				t.Fatalf("round %d: categories %v are each other's ancestors (move errors: %v)", round, c, results)
			}
			ok := 0
			for i, err := range results {
				switch {
				case err == nil:
					ok++
					won[moves[i].cat.ID]++
				case !errors.Is(err, errs.ErrValidation):
					t.Fatalf("round %d: move %d failed with %v, want a refusal of the cycle", round, i, err)
				}
			}
			if ok != 1 {
				t.Fatalf("round %d: %d moves went through, want exactly one (errors: %v)", round, ok, results)
			}
			// Back to two top-level categories for the next round.
			for _, m := range moves {
				if _, err := svc.UpdateCategory(ctx, m.cat.ID, catalog.CategoryInput{Name: m.cat.Name}); err != nil {
					t.Fatal(err)
				}
			}
		}
		t.Logf("moves that won: %s %d, %s %d", a.Name, won[a.ID], b.Name, won[b.ID])
	})
}

// cycle returns the categories on a parent chain that comes back to itself, or nil.
func cycle(all []catalog.Category) []ids.ID {
	parent := map[ids.ID]ids.ID{}
	for _, c := range all {
		parent[c.ID] = c.ParentID
	}
	for _, c := range all {
		var chain []ids.ID
		for id := c.ID; id != 0; id = parent[id] {
			chain = append(chain, id)
			if len(chain) > len(all) {
				return chain
			}
		}
	}
	return nil
}
