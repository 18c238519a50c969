package sqldb_test

import (
	"context"
	"slices"
	"testing"

	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// ViolatedUnique names the key that collided, whatever the duplicate value says.
func TestViolatedUnique(t *testing.T) {
	sqldbtest.ForEachEngine(t, nil, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		if _, err := db.Write().ExecContext(ctx, `CREATE TABLE vu (id INT PRIMARY KEY, code VARCHAR(20),
			spec VARCHAR(20), CONSTRAINT vu_code UNIQUE (code), CONSTRAINT vu_spec UNIQUE (spec))`); err != nil {
			t.Fatal(err)
		}
		insert := func(id int, code, spec string) error {
			_, err := db.Write().ExecContext(ctx, "INSERT INTO vu (id, code, spec) VALUES (?, ?, ?)", id, code, spec)
			return err
		}
		if err := insert(1, "A1", "barcode-red"); err != nil {
			t.Fatal(err)
		}
		codeKey := map[sqldb.Dialect][]string{sqldb.SQLite: {"vu.code"}, sqldb.MySQL: {"vu_code", "vu.vu_code"}}[db.Dialect]
		specKey := map[sqldb.Dialect][]string{sqldb.SQLite: {"vu.spec"}, sqldb.MySQL: {"vu_spec", "vu.vu_spec"}}[db.Dialect]
		if got := sqldb.ViolatedUnique(insert(2, "A1", "blue")); !slices.Contains(codeKey, got) {
			t.Errorf("duplicate code: %q, want one of %v", got, codeKey)
		}
		// The duplicate value mentions "code"; the key is still spec's.
		if got := sqldb.ViolatedUnique(insert(3, "B2", "barcode-red")); !slices.Contains(specKey, got) {
			t.Errorf("duplicate spec: %q, want one of %v", got, specKey)
		}
		if got := sqldb.ViolatedUnique(nil); got != "" {
			t.Errorf("no error: %q", got)
		}
	})
}
