package orderdb

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/minimart/minimart/internal/order"
	"github.com/minimart/minimart/internal/platform/sqldb"
)

// localDay is the SQL expression of column's calendar day (YYYY-MM-DD) in the zone whose
// offset from UTC the one placeholder it holds gives; times are stored in UTC on both
// engines. SQLite's date() truncates the fraction of a second (it does not round
// 23:59:59.9999 into the next day), as MySQL's DATETIME arithmetic does.
func (s *Store) localDay(column string) string {
	if s.db.Dialect == sqldb.MySQL {
		return "DATE_FORMAT(" + column + " + INTERVAL ? SECOND, '%Y-%m-%d')"
	}
	return "date(" + column + ", ?)"
}

// offsetArg is the placeholder value of localDay's offset on each engine.
func (s *Store) offsetArg(offsetSeconds int) any {
	if s.db.Dialect == sqldb.MySQL {
		return offsetSeconds
	}
	return strconv.Itoa(offsetSeconds) + " seconds"
}

// DayTotals groups the orders placed and the orders paid in [from, to) by their calendar day
// in the zone offsetSeconds east of UTC, with two aggregate queries over the indexes on
// created_at and on (paid_at, payable).
func (s *Store) DayTotals(ctx context.Context, from, to time.Time, offsetSeconds int) (map[string]order.DayTotals, error) {
	out := map[string]order.DayTotals{}
	q := s.db.Read()
	offset, lo, hi := s.offsetArg(offsetSeconds), sqldb.Time(from), sqldb.Time(to)
	rows, err := q.QueryContext(ctx, "SELECT "+s.localDay("created_at")+" AS local_day, COUNT(*) FROM orders"+
		" WHERE created_at >= ? AND created_at < ? GROUP BY local_day", offset, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("count placed orders per day: %w", err)
	}
	for rows.Next() {
		var day string
		var n int
		if err := rows.Scan(&day, &n); err != nil {
			rows.Close()
			return nil, err
		}
		t := out[day]
		t.Orders = n
		out[day] = t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count placed orders per day: %w", err)
	}

	rows, err = q.QueryContext(ctx, "SELECT "+s.localDay("paid_at")+" AS local_day, COUNT(*), SUM(payable) FROM orders"+
		" WHERE paid_at >= ? AND paid_at < ? GROUP BY local_day", offset, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("total paid orders per day: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day string
		var t order.DayTotals
		if err := rows.Scan(&day, &t.PaidOrders, &t.PaidAmount); err != nil {
			return nil, err
		}
		t.Orders = out[day].Orders
		out[day] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("total paid orders per day: %w", err)
	}
	return out, nil
}

// StatusCounts counts the orders in each of statuses, over the index that leads with status.
func (s *Store) StatusCounts(ctx context.Context, statuses ...order.Status) (map[order.Status]int, error) {
	out := map[order.Status]int{}
	if len(statuses) == 0 {
		return out, nil
	}
	in, args := sqldb.InList(statuses)
	rows, err := s.db.Read().QueryContext(ctx, "SELECT status, COUNT(*) FROM orders WHERE status IN ("+in+") GROUP BY status", args...)
	if err != nil {
		return nil, fmt.Errorf("count orders by status: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st order.Status
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}
