package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func openTestSQLite(t *testing.T) (*DB, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Write().Exec("CREATE TABLE n (v INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	for v := 1; v <= 3; v++ {
		if _, err := db.Write().Exec("INSERT INTO n (v) VALUES (?)", v); err != nil {
			t.Fatal(err)
		}
	}
	return db, filepath.Join(dir, "minimart.db")
}

// cached reports the statements conn keeps compiled.
func cached(t *testing.T, conn *sql.Conn) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(*stmtCachingConn)
		if !ok {
			return fmt.Errorf("connection is %T, not cached", dc)
		}
		for q, el := range c.entries {
			out[q] = el.Value.(*cachedStmt).inUse
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sumOf(t *testing.T, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) int {
	t.Helper()
	rows, err := q.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	sum := 0
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestStatementCacheCompilesATextOncePerConnection(t *testing.T) {
	db, _ := openTestSQLite(t)
	ctx := context.Background()
	conn, err := db.Read().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const q = "SELECT v FROM n WHERE v >= ?"
	for range 3 {
		if got := sumOf(t, conn, q, 2); got != 5 {
			t.Fatalf("sum = %d, want 5", got)
		}
	}
	if got := cached(t, conn); len(got) != 1 || got[q] {
		t.Fatalf("cache = %v, want only %q, not in use", got, q)
	}
	// Arguments of another run bind afresh: no value of the last run sticks.
	if got := sumOf(t, conn, q, 3); got != 3 {
		t.Fatalf("sum = %d, want 3", got)
	}
}

// The same text run while its rows are still open (a nested query in one transaction) gets
// its own statement instead of resetting the rows being read.
func TestStatementCacheNestedUseOfOneText(t *testing.T) {
	db, _ := openTestSQLite(t)
	ctx := context.Background()
	err := db.InTx(ctx, func(tx *Tx) error {
		const q = "SELECT v FROM n ORDER BY v"
		outer, err := tx.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		defer outer.Close()
		var seen []int
		for outer.Next() {
			var v int
			if err := outer.Scan(&v); err != nil {
				return err
			}
			seen = append(seen, v)
			if inner := sumOf(t, tx, q); inner != 6 {
				return fmt.Errorf("inner sum = %d, want 6", inner)
			}
		}
		if len(seen) != 3 || seen[0] != 1 || seen[2] != 3 {
			return fmt.Errorf("outer rows = %v, want [1 2 3]", seen)
		}
		return outer.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Statements beyond the cache's size are finalized from the least recently used end, except
// one whose rows are being read: it stays readable and is finalized when they close.
func TestStatementCacheEvictsButNotUnderOpenRows(t *testing.T) {
	db, _ := openTestSQLite(t)
	ctx := context.Background()
	conn, err := db.Read().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const first = "SELECT v FROM n ORDER BY v DESC"
	// A transaction keeps every statement on this connection, the open rows among them.
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	open, err := tx.QueryContext(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	if !open.Next() {
		t.Fatal("no first row")
	}
	var v int
	if err := open.Scan(&v); err != nil {
		t.Fatal(err)
	}
	got = append(got, v)
	for i := range stmtCacheSize + 10 {
		if s := sumOf(t, tx, fmt.Sprintf("SELECT v FROM n WHERE v > %d AND %d = %d", i%3, i, i)); s == 0 && i%3 < 2 {
			t.Fatalf("query %d found nothing", i)
		}
	}
	for open.Next() {
		if err := open.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if err := errors.Join(open.Err(), open.Close()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] != 3 || got[2] != 1 {
		t.Fatalf("rows read across evictions = %v, want [3 2 1]", got)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	entries := cached(t, conn)
	if len(entries) != stmtCacheSize {
		t.Fatalf("cache holds %d statements, want %d", len(entries), stmtCacheSize)
	}
	if _, ok := entries[first]; ok {
		t.Fatalf("the least recently used statement is still cached")
	}
}

// database/sql reads column types through the driver's rows; the cache must not hide them.
func TestStatementCacheKeepsColumnTypes(t *testing.T) {
	db, _ := openTestSQLite(t)
	rows, err := db.Read().Query("SELECT v FROM n")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	if len(types) != 1 || types[0].DatabaseTypeName() != "INTEGER" {
		t.Fatalf("column types = %v, want one INTEGER", types)
	}
}

// SQLite keeps a connection with unfinalized statements open as a zombie after close, and
// the last connection to close a WAL database removes its -wal file only when it really
// closes: a -wal file left after Close means a statement was not finalized.
func TestStatementCacheFinalizesOnClose(t *testing.T) {
	db, path := openTestSQLite(t)
	for i := range 20 {
		if s := sumOf(t, db.Read(), fmt.Sprintf("SELECT v FROM n WHERE v <> %d", i)); s == 0 {
			t.Fatal("query found nothing")
		}
		if _, err := db.Write().Exec("UPDATE n SET v = v WHERE v = ?", i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no WAL file while open: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("WAL file after close: %v (a connection stayed open)", err)
	}
}
