package catalogdb_test

import (
	"strings"
	"testing"

	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/catalog/catalogdb"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// TestIndexSource: each catalog database names itself with a random id its migration made,
// and where it is (never with a password); the index version starts at 0 and each reindex
// request raises it.
func TestIndexSource(t *testing.T) {
	sets := []sqldb.Migrations{events.OutboxMigrations, catalogdb.Migrations}
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		s := catalogdb.New(db, events.NewOutbox())
		src, err := s.IndexSource(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(src.DatabaseID) != 32 || src.Version != 0 || !strings.HasPrefix(src.Database, string(db.Dialect)+":") {
			t.Fatalf("a new catalog's source: %+v", src)
		}
		if strings.Contains(src.Database, "@") {
			t.Fatalf("the source names credentials: %q", src.Database)
		}
		for want := int64(1); want <= 2; want++ {
			if v, err := s.RaiseIndexVersion(ctx); err != nil || v != want {
				t.Fatalf("RaiseIndexVersion = %d, %v; want %d", v, err, want)
			}
		}
		again, err := s.IndexSource(ctx)
		if err != nil || again != (catalog.IndexSource{DatabaseID: src.DatabaseID, Database: src.Database, Version: 2}) {
			t.Fatalf("after two reindex requests: %+v, %v", again, err)
		}

		other, err := catalogdb.New(sqldbtest.SQLite(t, sets...), events.NewOutbox()).IndexSource(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if other.DatabaseID == src.DatabaseID {
			t.Fatalf("two databases have the same id %s", src.DatabaseID)
		}
	})
}
