// Package sqldb opens the shop's relational database — SQLite for the embedded shape,
// MySQL/MariaDB in production — and gives modules transactions and embedded migrations.
// SQL stays explicit in each module's store; this package only knows connections.
package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"go.opentelemetry.io/otel/trace"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the SQL engine behind a DB.
type Dialect string

const (
	SQLite Dialect = "sqlite"
	MySQL  Dialect = "mysql"
)

// DB is a database opened for one shape. SQLite has one writer, so writes go through a pool
// of one connection (BEGIN IMMEDIATE, busy timeout) and reads through a separate pool; buyers
// then queue for the write lock instead of failing with "database is locked". On MySQL both
// pools are the same.
type DB struct {
	Dialect Dialect
	write   *sql.DB
	read    *sql.DB
	// Target is the place the data lives, with any password removed: safe to print.
	Target string
}

// Querier is what both a *sql.DB and a transaction offer; stores write reads against it.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Option tunes Open.
type Option func(*options)

type options struct {
	log    *slog.Logger
	tracer trace.Tracer
}

// WithLogger sends what the MySQL driver itself reports (a connection that died under it,
// say) to log, at warn, instead of as plain "[mysql] …" lines on stderr.
func WithLogger(log *slog.Logger) Option { return func(o *options) { o.log = log } }

// WithTracer makes a span of every statement run under a traced context (see trace.go).
// A nil tracer is tracing off: the driver is not wrapped.
func WithTracer(tracer trace.Tracer) Option { return func(o *options) { o.tracer = tracer } }

// Open connects to the database named by rawURL: "" means SQLite at dataDir/minimart.db,
// "sqlite:///abs/path.db" or "sqlite:rel/path.db" a given SQLite file, and
// "mysql://user:pass@host:port/db" MySQL or MariaDB.
func Open(ctx context.Context, rawURL, dataDir string, opts ...Option) (*DB, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var db *DB
	var err error
	switch {
	case rawURL == "":
		db, err = openSQLite(filepath.Join(dataDir, "minimart.db"), o.tracer)
	case strings.HasPrefix(rawURL, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite:"), "//")
		if path == "" {
			return nil, errors.New("sqlite URL names no file")
		}
		db, err = openSQLite(path, o.tracer)
	case strings.HasPrefix(rawURL, "mysql://"):
		db, err = openMySQL(rawURL, o.log, o.tracer)
	default:
		return nil, errors.New("unsupported scheme: want mysql://user:pass@host:3306/db or sqlite:path")
	}
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.Ping(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", db.Target, err)
	}
	return db, nil
}

func openSQLite(path string, tracer trace.Tracer) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
	}
	base := "file:" + filepath.ToSlash(path) + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_time_format=sqlite"
	open := func(dsn string) (*sql.DB, error) {
		c, err := newStmtCachingConnector(dsn)
		if err != nil {
			return nil, err
		}
		if tracer != nil {
			return sql.OpenDB(tracedConnector{Connector: c, tracer: tracer, system: "sqlite"}), nil
		}
		return sql.OpenDB(c), nil
	}
	write, err := open(base + "&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	read, err := open(base + "&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, err
	}
	read.SetMaxOpenConns(8)
	read.SetMaxIdleConns(8)
	return &DB{Dialect: SQLite, write: write, read: read, Target: "sqlite:" + path}, nil
}

// driverLog is the MySQL driver's Logger writing to a slog.Logger.
type driverLog struct{ log *slog.Logger }

func (d driverLog) Print(v ...any) {
	d.log.Warn("mysql driver", slog.String("error.message", strings.TrimSpace(fmt.Sprint(v...))))
}

func openMySQL(rawURL string, log *slog.Logger, tracer trace.Tracer) (*DB, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("not a valid URL")
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if _, _, err := net.SplitHostPort(u.Host); err != nil {
		cfg.Addr = net.JoinHostPort(u.Host, "3306")
	}
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	if cfg.DBName == "" {
		return nil, errors.New("URL names no database (mysql://user:pass@host:3306/DB)")
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.Collation = "utf8mb4_unicode_ci"
	// One round trip per statement instead of prepare+execute; safe because the
	// connection charset is fixed to utf8mb4.
	cfg.InterpolateParams = true
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	cfg.Timeout = 5 * time.Second
	if log != nil {
		cfg.Logger = driverLog{log}
	}
	maxOpen := 32
	if v := u.Query().Get("max_open_conns"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, errors.New("max_open_conns must be a positive integer")
		}
		maxOpen = n
	}
	var connector driver.Connector
	connector, err = mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	if tracer != nil {
		connector = tracedConnector{Connector: connector, tracer: tracer, system: "mysql"}
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxOpen)
	db.SetConnMaxLifetime(5 * time.Minute)
	db.SetConnMaxIdleTime(time.Minute)
	return &DB{Dialect: MySQL, write: db, read: db, Target: "mysql://" + cfg.Addr + "/" + cfg.DBName}, nil
}

// Read is the pool for queries outside a transaction.
func (db *DB) Read() *sql.DB { return db.read }

// Write is the pool for writes outside InTx; prefer InTx.
func (db *DB) Write() *sql.DB { return db.write }

// Ping checks that both pools answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return err
	}
	if db.read != db.write {
		return db.read.PingContext(ctx)
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// SkipLocked is the suffix for a claim query that several instances may run at once.
// SQLite has a single writer per file, so a plain SELECT inside the write transaction
// already excludes others.
func (db *DB) SkipLocked() string {
	if db.Dialect == MySQL {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// LockInOrder is the suffix for a claim query whose rows must be taken in order (events):
// it waits for a row another transaction holds instead of passing over it. A locking read
// sees each row's latest commit, so SKIP LOCKED would pass over the first rows of a batch
// still being committed and take the later ones once the commit lands: out of order.
func (db *DB) LockInOrder() string {
	if db.Dialect == MySQL {
		return " FOR UPDATE"
	}
	return ""
}

// Tx is a transaction that can run functions once it has committed, such as waking the
// outbox relay so an event leaves without waiting for the next poll.
type Tx struct {
	*sql.Tx
	Dialect     Dialect
	afterCommit []func()
}

// AfterCommit schedules f to run after a successful commit; it never runs on rollback.
func (tx *Tx) AfterCommit(f func()) { tx.afterCommit = append(tx.afterCommit, f) }

const maxTxAttempts = 5

// InTx runs fn in a transaction and commits if fn returns nil. A deadlock or lock-wait
// timeout (MySQL 1213/1205) or SQLite busy error retries fn from the start a bounded number
// of times, so fn must not have effects outside the transaction.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = db.inTxOnce(ctx, fn)
		if err == nil || attempt == maxTxAttempts || !IsRetryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(attempt*attempt) * 5 * time.Millisecond):
		}
	}
}

func (db *DB) inTxOnce(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{Tx: sqlTx, Dialect: db.Dialect}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback() // the panic is what matters; rollback error adds nothing
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("rollback: %w", rbErr))
		}
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, f := range tx.afterCommit {
		f()
	}
	return nil
}

// IsUniqueViolation reports whether err is a duplicate-key error on either engine.
func IsUniqueViolation(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1062
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// ViolatedUnique names what a unique-violation error collided on, as the engine says it:
// MySQL/MariaDB's key ("skus_code", or "skus.skus_code" on MySQL 8), SQLite's columns
// ("skus.code"); "" for any other error. It reads the end of the message, never the
// duplicate value the message also quotes.
func ViolatedUnique(err error) string {
	if !IsUniqueViolation(err) {
		return ""
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		_, key, _ := strings.Cut(me.Message, "' for key '")
		return strings.TrimSuffix(key, "'")
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		_, cols, _ := strings.Cut(se.Error(), "UNIQUE constraint failed: ")
		return strings.TrimSpace(strings.SplitN(cols, " ", 2)[0])
	}
	return ""
}

// IsRetryable reports whether err is a transient lock conflict worth running the
// transaction again for.
func IsRetryable(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_LOCKED
	}
	return false
}

// ForUpdate is the suffix that locks the selected rows until the transaction ends on MySQL.
// SQLite's write transaction already holds the only write lock, and has no such clause.
func (tx *Tx) ForUpdate() string {
	if tx.Dialect == MySQL {
		return " FOR UPDATE"
	}
	return ""
}

// InList returns the placeholders "?, ?, …" for an IN (…) clause of list and its values
// as arguments.
func InList[T any](list []T) (string, []any) {
	args := make([]any, len(list))
	for i, v := range list {
		args[i] = v
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(list)), ", "), args
}

// Time is t as stored: UTC, to the microsecond that DATETIME(6) keeps, so SQLite's text
// form sorts in time order and a value reads back equal on both engines.
func Time(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// NullString stores "" as NULL, for optional columns under a UNIQUE index.
func NullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// NullTime stores an optional time: nil as NULL, else as Time does.
func NullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return Time(*t)
}

// TimePtr reads an optional time column back: NULL as nil, else in UTC.
func TimePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// Scanner is a *sql.Row or *sql.Rows, for scan functions that read either.
type Scanner interface{ Scan(...any) error }

// maxPlaceholders keeps a multi-row statement under SQLite's default limit of host
// parameters (32,766); MySQL allows 65,535.
const maxPlaceholders = 32_000

// InsertRows runs head — an INSERT … VALUES without its tuples — for rows (each the values
// of one tuple, all of one length) in as few statements as the placeholder limit allows.
// Group-committed writes use it so a batch of requests costs one round trip per table.
func InsertRows(ctx context.Context, tx *Tx, head string, rows [][]any) error {
	return InsertRowsThen(ctx, tx, head, rows, "")
}

// InsertRowsThen is InsertRows with tail (an ON CONFLICT / ON DUPLICATE KEY clause) after
// the tuples of each statement.
func InsertRowsThen(ctx context.Context, tx *Tx, head string, rows [][]any, tail string) error {
	if len(rows) == 0 {
		return nil
	}
	width := len(rows[0])
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
	perStatement := max(1, maxPlaceholders/max(1, width))
	for start := 0; start < len(rows); start += perStatement {
		chunk := rows[start:min(start+perStatement, len(rows))]
		var q strings.Builder
		q.Grow(len(head) + len(chunk)*(len(tuple)+2))
		q.WriteString(head)
		args := make([]any, 0, len(chunk)*width)
		for i, r := range chunk {
			if len(r) != width {
				return fmt.Errorf("sqldb: insert row %d has %d values, the first has %d", start+i, len(r), width)
			}
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(tuple)
			args = append(args, r...)
		}
		q.WriteString(tail)
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}
