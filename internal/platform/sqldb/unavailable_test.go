package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// deadAddr is a loopback address nothing listens on: a listener opened and closed again.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// fakeServer accepts connections and hands each to serve, as a broken or stalled database
// server would behave.
func fakeServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
	return ln.Addr().String()
}

func openErr(t *testing.T, ctx context.Context, addr string) error {
	t.Helper()
	db, err := sqldb.Open(ctx, "mysql://root@"+addr+"/minimart", "")
	if err == nil {
		db.Close()
		t.Fatalf("open %s succeeded", addr)
	}
	return err
}

// The classifier is fed the errors a real outage produces: a server that is gone, one that
// hangs up, one that never answers, a pool that never frees a connection, a connection the
// server killed. Contention and faults of the statement are not outages.
func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	t.Run("server down: connection refused", func(t *testing.T) {
		err := openErr(t, ctx, deadAddr(t))
		if !sqldb.Unavailable(err) {
			t.Fatalf("%v: not unavailable", err)
		}
		t.Logf("%T: %v", errors.Unwrap(err), err)
	})
	t.Run("server hangs up: invalid connection", func(t *testing.T) {
		addr := fakeServer(t, func(c net.Conn) { c.Close() })
		err := openErr(t, ctx, addr)
		if !sqldb.Unavailable(err) {
			t.Fatalf("%v: not unavailable", err)
		}
		t.Logf("%T: %v", errors.Unwrap(err), err)
	})
	t.Run("server resets the connection", func(t *testing.T) {
		addr := fakeServer(t, func(c net.Conn) {
			c.(*net.TCPConn).SetLinger(0) // close with RST
			c.Close()
		})
		err := openErr(t, ctx, addr)
		if !sqldb.Unavailable(err) {
			t.Fatalf("%v: not unavailable", err)
		}
		t.Logf("%T: %v", errors.Unwrap(err), err)
	})
	t.Run("server never answers: deadline", func(t *testing.T) {
		stalled := make(chan struct{})
		t.Cleanup(func() { close(stalled) })
		addr := fakeServer(t, func(c net.Conn) { <-stalled; c.Close() })
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		err := openErr(t, cctx, addr)
		if !sqldb.Unavailable(err) {
			t.Fatalf("%v: not unavailable", err)
		}
		t.Logf("%T: %v", errors.Unwrap(err), err)
	})
	t.Run("pool never frees a connection: deadline", func(t *testing.T) {
		db := sqldbtest.SQLite(t)
		hold, err := db.Write().BeginTx(ctx, nil) // the write pool's only connection
		if err != nil {
			t.Fatal(err)
		}
		defer hold.Rollback()
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err = db.Write().ExecContext(cctx, "CREATE TABLE never (id INTEGER)")
		if err == nil || !sqldb.Unavailable(err) {
			t.Fatalf("%v: not unavailable", err)
		}
		t.Logf("%T: %v", err, err)
	})
	t.Run("connection killed by the server", func(t *testing.T) {
		db := sqldbtest.MySQL(t)
		conn, err := db.Write().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var id int64
		if err := conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Write().ExecContext(ctx, "KILL CONNECTION ?", id); err != nil {
			t.Fatal(err)
		}
		_, err = conn.ExecContext(ctx, "SELECT 1")
		if err == nil || !sqldb.Unavailable(err) {
			t.Fatalf("%v: not unavailable", err)
		}
		t.Logf("%T: %v", err, err)
	})

	t.Run("not outages", func(t *testing.T) {
		cases := map[string]error{
			"nil":               nil,
			"no rows":           sql.ErrNoRows,
			"application error": errs.New(errs.NotFound, "order_not_found", "no such order"),
			"plain":             errors.New("something else"),
			"canceled":          context.Canceled,
		}
		for name, err := range cases {
			if sqldb.Unavailable(err) {
				t.Errorf("%s (%v): unavailable", name, err)
			}
		}
	})
	t.Run("not outages: statement faults", func(t *testing.T) {
		sqldbtest.ForEachEngine(t, nil, func(t *testing.T, db *sqldb.DB) {
			_, err := db.Write().ExecContext(ctx, "SELEKT 1")
			if err == nil || sqldb.Unavailable(err) {
				t.Errorf("syntax error %v: unavailable", err)
			}
			if _, err := db.Write().ExecContext(ctx, "CREATE TABLE u (id INT PRIMARY KEY)"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Write().ExecContext(ctx, "INSERT INTO u (id) VALUES (1)"); err != nil {
				t.Fatal(err)
			}
			_, err = db.Write().ExecContext(ctx, "INSERT INTO u (id) VALUES (1)")
			if !sqldb.IsUniqueViolation(err) || sqldb.Unavailable(err) {
				t.Errorf("duplicate key %v: unavailable", err)
			}
		})
	})
	t.Run("not outages: MariaDB lock wait timeout", func(t *testing.T) {
		db := sqldbtest.MySQL(t)
		if _, err := db.Write().ExecContext(ctx, "CREATE TABLE l (id INT PRIMARY KEY) ENGINE=InnoDB"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Write().ExecContext(ctx, "INSERT INTO l (id) VALUES (1)"); err != nil {
			t.Fatal(err)
		}
		holder, err := db.Write().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer holder.Rollback()
		if _, err := holder.ExecContext(ctx, "SELECT id FROM l WHERE id = 1 FOR UPDATE"); err != nil {
			t.Fatal(err)
		}
		waiter, err := db.Write().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer waiter.Close()
		if _, err := waiter.ExecContext(ctx, "SET SESSION innodb_lock_wait_timeout = 1"); err != nil {
			t.Fatal(err)
		}
		_, err = waiter.ExecContext(ctx, "UPDATE l SET id = 2 WHERE id = 1")
		if !sqldb.IsRetryable(err) || sqldb.Unavailable(err) {
			t.Errorf("lock wait timeout %v: unavailable, or not retryable", err)
		}
	})
	t.Run("not outages: SQLite busy past the busy timeout", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "busy.db")
		db, err := sqldb.Open(ctx, "sqlite:"+path, "")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Write().ExecContext(ctx, "CREATE TABLE b (id INTEGER)"); err != nil {
			t.Fatal(err)
		}
		hold, err := db.Write().BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
		if err != nil {
			t.Fatal(err)
		}
		defer hold.Rollback()
		// A second writer on the file with a short busy timeout gives up as the shop's
		// would after its ten seconds.
		other, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?_pragma=busy_timeout(50)&_txlock=immediate")
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		_, err = other.ExecContext(ctx, "INSERT INTO b (id) VALUES (1)")
		if err == nil || !sqldb.IsRetryable(err) || sqldb.Unavailable(err) {
			t.Errorf("database is locked %v: unavailable, or not busy", err)
		}
	})
}

// UnavailableError is the 503 a request answers for an outage: database_unavailable with a
// Retry-After.
func TestUnavailableError(t *testing.T) {
	err := sqldb.UnavailableError(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")})
	if err == nil || err.Code != "database_unavailable" || err.Kind.HTTPStatus() != 503 || err.Details[errs.RetryAfterSeconds] != int64(2) {
		t.Fatalf("%+v", err)
	}
	if e := sqldb.UnavailableError(sql.ErrNoRows); e != nil {
		t.Fatalf("no rows: %+v", e)
	}
}

// The MySQL driver's own reports go to the logger given, as JSON like every other line,
// not as plain "[mysql] …" lines on stderr.
func TestDriverLogsThroughLogger(t *testing.T) {
	var buf strings.Builder
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	addr := fakeServer(t, func(c net.Conn) { c.Close() })
	db, err := sqldb.Open(context.Background(), "mysql://root@"+addr+"/minimart", "", sqldb.WithLogger(log))
	if err == nil {
		db.Close()
		t.Fatal("open succeeded")
	}
	if !strings.Contains(buf.String(), `"level":"WARN","msg":"mysql driver"`) || !strings.Contains(buf.String(), "EOF") {
		t.Fatalf("driver report not logged: %q", buf.String())
	}
}
