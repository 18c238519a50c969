package backup

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/minimart/minimart/internal/platform/sqldb"
)

// columns is a table's column list as a backup records it.
type columns struct {
	Names []string `json:"names"`
	// Types are the SQL type names the driver reports (BIGINT, VARCHAR, DATETIME, VARBINARY…):
	// they decide how a value is written as JSON and read back.
	Types []string `json:"types"`
}

// valueKind is how a column's values travel in JSON.
type valueKind int

const (
	kindText   valueKind = iota // a JSON string
	kindInt                     // a JSON number
	kindBinary                  // base64 in a JSON string
	kindTime                    // "2006-01-02 15:04:05.999999" in UTC
)

func kindOf(sqlType string) valueKind {
	t := strings.ToUpper(sqlType)
	switch {
	case strings.HasSuffix(t, "INT") || t == "YEAR":
		return kindInt
	case strings.Contains(t, "BINARY") || strings.HasSuffix(t, "BLOB"):
		return kindBinary
	case t == "DATETIME" || t == "TIMESTAMP" || t == "DATE":
		return kindTime
	default:
		return kindText
	}
}

const mysqlTime = "2006-01-02 15:04:05.999999"

// dumpMySQL reads every table in one REPEATABLE READ transaction started WITH CONSISTENT
// SNAPSHOT: the counts and all rows are of the same moment, while orders keep committing.
func dumpMySQL(ctx context.Context, db *sqldb.DB, tables []string, aw *archiveWriter, p Progress) (map[string]int64, error) {
	conn, err := db.Write().Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"); err != nil {
		return nil, fmt.Errorf("backup: start the snapshot: %w", err)
	}
	// Read only: ending it either way changes nothing.
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	counts, err := countRows(ctx, conn, sqldb.MySQL, tables)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if _, ok := counts[processTable]; ok {
		counts[processTable] = 0
	}
	var total int64
	for _, n := range counts {
		total += n
	}
	p.Start("copying rows", total)
	defer p.Done()
	for _, t := range tables {
		n, err := dumpTable(ctx, conn, t, aw, p)
		if err != nil {
			return nil, fmt.Errorf("backup: table %s: %w", t, err)
		}
		if n != counts[t] {
			return nil, fmt.Errorf("backup: table %s: read %d rows, the snapshot counted %d", t, n, counts[t])
		}
	}
	return counts, nil
}

func dumpTable(ctx context.Context, q sqldb.Querier, table string, aw *archiveWriter, p Progress) (int64, error) {
	query := "SELECT * FROM " + quote(sqldb.MySQL, table)
	if table == processTable {
		query += " WHERE 1 = 0"
	}
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return 0, err
	}
	var cols columns
	kinds := make([]valueKind, len(types))
	for i, ct := range types {
		cols.Names = append(cols.Names, ct.Name())
		cols.Types = append(cols.Types, ct.DatabaseTypeName())
		kinds[i] = kindOf(ct.DatabaseTypeName())
	}
	if err := aw.writeJSON(tablePrefix+table+"/columns.json", cols); err != nil {
		return 0, err
	}
	raw := make([]any, len(types))
	dest := make([]any, len(types))
	for i := range raw {
		dest[i] = &raw[i]
	}
	out := make([]any, len(types))
	var part bytes.Buffer
	parts, n := 0, int64(0)
	flush := func() error {
		if part.Len() == 0 {
			return nil
		}
		parts++
		err := aw.write(fmt.Sprintf("%s%s/%06d.jsonl", tablePrefix, table, parts), part.Bytes())
		part.Reset()
		return err
	}
	enc := json.NewEncoder(&part)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return 0, err
		}
		for i, v := range raw {
			if out[i], err = encodeValue(kinds[i], v); err != nil {
				return 0, fmt.Errorf("column %s: %w", cols.Names[i], err)
			}
		}
		if err := enc.Encode(out); err != nil {
			return 0, err
		}
		n++
		p.Add(1)
		if part.Len() >= partBytes {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	return n, flush()
}

// encodeValue turns a scanned value into what the backup writes for its column's kind.
func encodeValue(k valueKind, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch k {
	case kindInt:
		switch x := v.(type) {
		case int64:
			return x, nil
		case []byte:
			return strconv.ParseInt(string(x), 10, 64)
		}
	case kindBinary:
		if b, ok := v.([]byte); ok {
			return base64.StdEncoding.EncodeToString(b), nil
		}
	case kindTime:
		if t, ok := v.(time.Time); ok {
			return t.UTC().Format(mysqlTime), nil
		}
	default:
		switch x := v.(type) {
		case []byte:
			return string(x), nil
		case string:
			return x, nil
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		}
	}
	return nil, fmt.Errorf("unexpected %T for a %v column", v, k)
}

// decodeValue turns a value read from a backup line back into an SQL argument.
func decodeValue(k valueKind, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch k {
	case kindInt:
		if n, ok := v.(json.Number); ok {
			return n.Int64()
		}
	case kindBinary:
		if s, ok := v.(string); ok {
			return base64.StdEncoding.DecodeString(s)
		}
	default:
		if s, ok := v.(string); ok {
			return s, nil
		}
	}
	return nil, fmt.Errorf("unexpected %T", v)
}

// insertBatch bounds one multi-row INSERT: rows, and bytes of the statement (well under
// MariaDB's default max_allowed_packet of 16 MiB).
const (
	insertRows  = 500
	insertBytes = 4 << 20
)

// tableLoader inserts a table's rows in multi-row INSERT statements.
type tableLoader struct {
	q       sqldb.Querier
	table   string
	cols    columns
	kinds   []valueKind
	args    []any
	rows    int
	bytes   int
	written int64
}

func newTableLoader(q sqldb.Querier, table string, cols columns) *tableLoader {
	kinds := make([]valueKind, len(cols.Types))
	for i, t := range cols.Types {
		kinds[i] = kindOf(t)
	}
	return &tableLoader{q: q, table: table, cols: cols, kinds: kinds}
}

func (l *tableLoader) add(ctx context.Context, line []byte) error {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var vals []any
	if err := dec.Decode(&vals); err != nil {
		return fmt.Errorf("table %s: a row: %w", l.table, err)
	}
	if len(vals) != len(l.kinds) {
		return fmt.Errorf("table %s: a row of %d values for %d columns", l.table, len(vals), len(l.kinds))
	}
	for i, v := range vals {
		arg, err := decodeValue(l.kinds[i], v)
		if err != nil {
			return fmt.Errorf("table %s, column %s: %w", l.table, l.cols.Names[i], err)
		}
		l.args = append(l.args, arg)
	}
	l.rows++
	l.bytes += len(line)
	if l.rows >= insertRows || l.bytes >= insertBytes {
		return l.flush(ctx)
	}
	return nil
}

func (l *tableLoader) flush(ctx context.Context) error {
	if l.rows == 0 {
		return nil
	}
	names := make([]string, len(l.cols.Names))
	for i, n := range l.cols.Names {
		names[i] = quote(sqldb.MySQL, n)
	}
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(names)), ",") + ")"
	query := "INSERT INTO " + quote(sqldb.MySQL, l.table) + " (" + strings.Join(names, ",") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(one+",", l.rows), ",")
	if _, err := l.q.ExecContext(ctx, query, l.args...); err != nil {
		return fmt.Errorf("table %s: insert: %w", l.table, err)
	}
	l.written += int64(l.rows)
	l.args, l.rows, l.bytes = l.args[:0], 0, 0
	return nil
}

// mysqlTables lists the tables of the connection's database.
func mysqlTables(ctx context.Context, q sqldb.Querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name")
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return scanStrings(rows)
}
