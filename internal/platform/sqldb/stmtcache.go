package sqldb

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"

	"modernc.org/sqlite"
)

// SQLite compiles a statement before it runs it, and modernc's driver compiles a query
// passed to QueryContext or ExecContext anew on every call: it keeps the compiled form only
// of statements prepared explicitly. Under order load the SQL parser took a fifth of the
// server's CPU. Stores pass SQL text, not prepared statements (their queries run on a pool,
// in transactions and on either engine alike), so the cache sits where the text meets the
// connection: each SQLite connection keeps its most recently used statements compiled.
// database/sql's own *sql.Stmt would do the same per query site, but every store would have
// to prepare and close its statements, and a statement made for the pool must be re-bound
// to each transaction.

// stmtCacheSize is how many compiled statements one connection keeps. The hot paths use a
// few dozen fixed queries; statements built per call (IN lists, multi-row inserts of a
// batch's size) come and go through the least recently used end.
const stmtCacheSize = 256

// stmtCachingConnector opens modernc SQLite connections that keep compiled statements.
type stmtCachingConnector struct{ driver.Connector }

func newStmtCachingConnector(dsn string) (driver.Connector, error) {
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return stmtCachingConnector{base}, nil
}

func (c stmtCachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(sqliteConn)
	if !ok {
		// A driver version without these methods: run it as it is rather than half-wrapped.
		return conn, nil
	}
	return &stmtCachingConn{sqliteConn: inner, entries: map[string]*list.Element{}, lru: list.New()}, nil
}

// sqliteConn is what modernc's connection offers and database/sql looks for.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// contextStmt is what modernc's compiled statement offers.
type contextStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

type cachedStmt struct {
	query string
	stmt  contextStmt
	// inUse is set while rows read from stmt are open: running it again then would reset
	// them, so a second use of the same text (a nested query in one transaction) compiles its
	// own statement.
	inUse bool
	// evicted is set when the cache dropped the statement while it was in use.
	evicted bool
}

// stmtCachingConn is used by one goroutine at a time, as database/sql guarantees for a
// driver connection, so its cache needs no lock.
type stmtCachingConn struct {
	sqliteConn
	entries map[string]*list.Element // of *cachedStmt
	lru     *list.List               // front: most recently used
}

// statement returns the compiled statement for query, compiling and caching it if needed;
// nil (and no error) if the cached one is busy or the driver's statement cannot be cached.
func (c *stmtCachingConn) statement(ctx context.Context, query string) (*cachedStmt, error) {
	if el, ok := c.entries[query]; ok {
		cs := el.Value.(*cachedStmt)
		if cs.inUse {
			return nil, nil
		}
		c.lru.MoveToFront(el)
		return cs, nil
	}
	prepared, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	stmt, ok := prepared.(contextStmt)
	if !ok {
		return nil, prepared.Close()
	}
	cs := &cachedStmt{query: query, stmt: stmt}
	c.entries[query] = c.lru.PushFront(cs)
	if c.lru.Len() > stmtCacheSize {
		// sqlite3_finalize frees the statement whatever it returns; its error is that of the
		// statement's last run, already given to that run's caller, not this query's.
		_ = c.evict(c.lru.Back())
	}
	return cs, nil
}

func (c *stmtCachingConn) evict(el *list.Element) error {
	cs := el.Value.(*cachedStmt)
	c.lru.Remove(el)
	delete(c.entries, cs.query)
	if cs.inUse {
		// Its open rows close it: finalizing it under them would end their read.
		cs.evicted = true
		return nil
	}
	return cs.stmt.Close()
}

func (c *stmtCachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	return cs.stmt.ExecContext(ctx, args)
}

func (c *stmtCachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := cs.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	typed, ok := rows.(sqliteRows)
	if !ok {
		// Only a driver upgrade gets here, and the cache's tests fail on it first.
		return nil, errors.Join(rows.Close(), errors.New("sqldb: the SQLite driver's rows no longer report column types"))
	}
	cs.inUse = true
	return &cachedRows{sqliteRows: typed, stmt: cs}, nil
}

// Close finalizes the cached statements first: SQLite keeps a connection with live
// statements open as a zombie.
func (c *stmtCachingConn) Close() error {
	var errs []error
	for el := c.lru.Front(); el != nil; el = c.lru.Front() {
		errs = append(errs, c.evict(el))
	}
	return errors.Join(append(errs, c.sqliteConn.Close())...)
}

// sqliteRows is what modernc's rows offer beyond driver.Rows; database/sql reads column
// types through them.
type sqliteRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

type cachedRows struct {
	sqliteRows
	stmt *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.sqliteRows.Close()
	r.stmt.inUse = false
	if r.stmt.evicted {
		err = errors.Join(err, r.stmt.stmt.Close())
	}
	return err
}
