package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"
	"syscall"

	"github.com/go-sql-driver/mysql"

	"github.com/minimart/minimart/internal/platform/errs"
)

// ErrUnavailable is what a request that failed because the database could not be reached
// answers: 503 with Retry-After, never 500. The composition root turns errors Unavailable
// recognises into it (see web.ClassifyErrors).
var ErrUnavailable = errs.New(errs.Unavailable, "database_unavailable",
	"the database cannot be reached right now; try again shortly (retry writes with the same Idempotency-Key)").
	With(map[string]any{errs.RetryAfterSeconds: int64(UnavailableRetryAfter)})

// UnavailableRetryAfter is the Retry-After, in seconds, of ErrUnavailable: a restarted or
// failed-over database is usually back within seconds.
const UnavailableRetryAfter = 2

// mysqlUnavailable are the MySQL/MariaDB server errors that mean "no database right now",
// not "this statement is wrong": too many connections (1040, 1203), shutdown in progress
// (1053), the connection killed by the server (MariaDB 1927) or dropped for inactivity
// (MySQL 4031).
var mysqlUnavailable = map[uint16]bool{1040: true, 1053: true, 1203: true, 1927: true, 4031: true}

// Unavailable reports whether err means the database could not be reached or answer — a
// server that is down, restarting, out of connections, or so stalled that a deadline ran
// out — as opposed to a fault of the request or of our code. Such a request may succeed
// when tried again shortly, so it answers 503 database_unavailable rather than 500.
//
// Recognised: driver.ErrBadConn and sql.ErrConnDone (database/sql gave up on a broken
// connection), the MySQL driver's ErrInvalidConn (the connection died mid-statement), the
// MySQL server errors in mysqlUnavailable, network errors (connection refused or reset,
// broken pipe, unreachable hosts, i/o timeouts — the MySQL driver returns a dial's
// *net.OpError as it is), and context.DeadlineExceeded (a deadline set below the request
// ran out waiting for a pooled connection or an answer; the request's own cancellation
// never gets here, see web.WriteError).
//
// Not recognised: lock conflicts. MySQL deadlocks and lock-wait timeouts (1213, 1205) are
// retried by InTx and then are contention, not an outage. SQLite's "database is locked"
// (SQLITE_BUSY) after the 10 s busy timeout means one writer held the only write lock that
// long — a stuck or runaway transaction in this process, since SQLite has no server to lose
// — so it stays a 500 internal that is logged as an error and investigated, not a 503 that
// tells clients to come back.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return mysqlUnavailable[me.Number]
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
		syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ETIMEDOUT} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

// UnavailableError is ErrUnavailable when err is Unavailable, else nil: the classifier the
// composition root hands to web.ClassifyErrors.
func UnavailableError(err error) *errs.Error {
	if Unavailable(err) {
		return ErrUnavailable
	}
	return nil
}
