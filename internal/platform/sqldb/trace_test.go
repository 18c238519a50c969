package sqldb_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/minimart/minimart/internal/platform/servicetest"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// With a tracer, statements under a traced context are client spans carrying the statement
// (never its arguments), children of the caller's span; statements outside a trace make no
// span; and the wrapped driver reads and writes what the plain one does, in and out of
// transactions, on both engines.
func TestStatementSpans(t *testing.T) {
	urls := map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "t.db") },
		"mariadb": func(t *testing.T) string {
			servicetest.MySQLURL(t)
			return sqldbtest.MySQLDatabaseURL(t)
		},
	}
	for _, engine := range []string{"sqlite", "mariadb"} {
		t.Run(engine, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			tracer := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)).Tracer("test")
			db, err := sqldb.Open(context.Background(), urls[engine](t), "", sqldb.WithTracer(tracer))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			datetime := "DATETIME"
			if db.Dialect == sqldb.MySQL {
				datetime = "DATETIME(6)"
			}
			if _, err := db.Write().Exec("CREATE TABLE st (id BIGINT PRIMARY KEY, note VARCHAR(40), at " + datetime + ")"); err != nil {
				t.Fatal(err)
			}
			ctx, parent := tracer.Start(context.Background(), "request")
			at := sqldb.Time(time.Now())
			if err := db.InTx(ctx, func(tx *sqldb.Tx) error {
				_, err := tx.ExecContext(ctx, "INSERT INTO st (id, note, at) VALUES (?, ?, ?)", int64(7), "13800001234", at)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			var note string
			var got time.Time
			if err := db.Read().QueryRowContext(ctx, "SELECT note, at FROM st WHERE id = ?", 7).Scan(&note, &got); err != nil {
				t.Fatal(err)
			}
			parent.End()
			if note != "13800001234" || !got.Equal(at) {
				t.Errorf("read back %q %v, want 13800001234 %v", note, got, at)
			}
			var ops []string
			for _, s := range exp.GetSpans().Snapshots() {
				if s.SpanKind() != trace.SpanKindClient {
					continue
				}
				ops = append(ops, s.Name())
				if s.Parent().SpanID() != parent.SpanContext().SpanID() {
					t.Errorf("span %s is not a child of the request", s.Name())
				}
				for _, a := range s.Attributes() {
					if a.Value.String() == "13800001234" {
						t.Errorf("span %s holds a statement argument", s.Name())
					}
				}
			}
			if len(ops) != 2 || ops[0] != "INSERT" || ops[1] != "SELECT" {
				t.Errorf("statement spans %v, want [INSERT SELECT]", ops)
			}
		})
	}
}
