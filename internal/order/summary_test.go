package order_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/order"
	"github.com/minimart/minimart/internal/order/orderdb"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// TestSummaryDays: the summary's days are calendar days in China Standard Time ending today,
// whatever zone the clock reads in: orders placed half a minute before and at midnight China
// time fall on two days, a payment counts on the day it was made, and the window follows
// the clock.
func TestSummaryDays(t *testing.T) {
	ctx := context.Background()
	db := sqldbtest.SQLite(t, events.OutboxMigrations, orderdb.Migrations)
	// 2026-12-01 23:59:30 in China, read in a zone eight hours behind UTC.
	c := &clock{t: time.Date(2026, 12, 1, 15, 59, 30, 0, time.UTC).In(time.FixedZone("PST", -8*3600))}
	svc := newService(t, db, 1, c)
	late := placeOrder(t, svc, "late")
	c.set(time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC))
	placeOrder(t, svc, "midnight")
	if rejected, reason, err := svc.PaymentSucceeded(ctx, late.ID, 77, late.Payable); err != nil || rejected {
		t.Fatalf("pay: rejected %v (%s), %v", rejected, reason, err)
	}

	got, err := svc.Summary(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := order.Summary{Timezone: "+08:00", PendingShipment: 1, Days: []order.SummaryDay{
		{Date: "2026-11-30"},
		{Date: "2026-12-01", DayTotals: order.DayTotals{Orders: 1}},
		{Date: "2026-12-02", DayTotals: order.DayTotals{Orders: 1, PaidOrders: 1, PaidAmount: late.Payable}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("summary at midnight China time:\n got %+v\nwant %+v", got, want)
	}

	c.set(time.Date(2026, 12, 3, 1, 0, 0, 0, time.UTC))
	got, err = svc.Summary(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	want.Days = []order.SummaryDay{want.Days[2], {Date: "2026-12-03"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("summary a day later:\n got %+v\nwant %+v", got, want)
	}
}

// TestSummaryDaysBounds: a summary covers 1 to MaxSummaryDays days; any other count is
// refused as invalid_parameter, whoever calls the service.
func TestSummaryDaysBounds(t *testing.T) {
	db := sqldbtest.SQLite(t, events.OutboxMigrations, orderdb.Migrations)
	svc := newService(t, db, 1, &clock{t: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)})
	for _, days := range []int{-1, 0, order.MaxSummaryDays + 1} {
		_, err := svc.Summary(context.Background(), days)
		if e, ok := errs.As(err); !ok || e.Code != "invalid_parameter" || !errors.Is(err, order.ErrSummaryDays) {
			t.Errorf("Summary(%d): err = %v, want invalid_parameter", days, err)
		}
	}
	for _, days := range []int{1, order.MaxSummaryDays} {
		if s, err := svc.Summary(context.Background(), days); err != nil || len(s.Days) != days {
			t.Errorf("Summary(%d) = %d days, %v", days, len(s.Days), err)
		}
	}
}
