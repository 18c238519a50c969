package order

import (
	"context"
	"fmt"
	"time"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/money"
)

// MaxSummaryDays bounds how many days one summary covers.
const MaxSummaryDays = 90

// ErrSummaryDays refuses a summary of fewer than 1 or more than MaxSummaryDays days.
var ErrSummaryDays = errs.New(errs.Invalid, "invalid_parameter", fmt.Sprintf("days must be a whole number from 1 to %d", MaxSummaryDays))

// DayTotals is what happened on one calendar day: the orders placed that day, and the orders
// paid that day (by when they were paid, whatever their status now) with the sum of what
// they were paid.
type DayTotals struct {
	Orders     int       `json:"orders"`
	PaidOrders int       `json:"paid_orders"`
	PaidAmount money.Fen `json:"paid_amount"`
}

// SummaryDay is one day of a Summary; Date is YYYY-MM-DD in China Standard Time
// (money.ChinaTime), the shop's and its payment providers' day.
type SummaryDay struct {
	Date string `json:"date"`
	DayTotals
}

// Summary is the staff dashboard: the last days, oldest first and today last, and the work
// waiting now.
type Summary struct {
	// Timezone is the days' offset from UTC, "+08:00".
	Timezone string       `json:"timezone"`
	Days     []SummaryDay `json:"days"`
	// PendingShipment counts the orders paid and not shipped.
	PendingShipment int `json:"pending_shipment"`
	// PendingRefund counts the orders whose refund is under way.
	PendingRefund int `json:"pending_refund"`
}

// Summary counts the orders of the last days (1 to MaxSummaryDays, today included) in
// China Standard Time, and the orders waiting to be shipped or refunded now. Other numbers of
// days are refused with ErrSummaryDays.
func (s *Service) Summary(ctx context.Context, days int) (Summary, error) {
	if days < 1 || days > MaxSummaryDays {
		return Summary{}, ErrSummaryDays
	}
	now := s.now().In(money.ChinaTime())
	tomorrow := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, money.ChinaTime())
	first := tomorrow.AddDate(0, 0, -days)
	_, offset := now.Zone()
	totals, err := s.store.DayTotals(ctx, first, tomorrow, offset)
	if err != nil {
		return Summary{}, err
	}
	counts, err := s.store.StatusCounts(ctx, Paid, Refunding)
	if err != nil {
		return Summary{}, err
	}
	out := Summary{Timezone: now.Format("-07:00"), Days: make([]SummaryDay, days),
		PendingShipment: counts[Paid], PendingRefund: counts[Refunding]}
	for i := range out.Days {
		date := first.AddDate(0, 0, i).Format(time.DateOnly)
		out.Days[i] = SummaryDay{Date: date, DayTotals: totals[date]}
	}
	return out, nil
}
