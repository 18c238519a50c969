package payment

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/minimart/minimart/internal/platform/money"
)

// Mismatch is a difference between a provider's bill and our records.
type Mismatch struct {
	Provider    string    `json:"provider"`
	Kind        BillKind  `json:"kind"`
	OutTradeNo  string    `json:"out_trade_no"`
	OutRefundNo string    `json:"out_refund_no,omitempty"`
	Problem     string    `json:"problem"`
	Theirs      money.Fen `json:"theirs"`
	Ours        money.Fen `json:"ours"`
}

// Problems a reconciliation reports.
const (
	ProblemMissingHere    = "paid at the provider, not here"
	ProblemMissingThere   = "paid here, not in the provider's bill"
	ProblemAmount         = "amounts differ"
	ProblemRefundMissing  = "refunded at the provider, not here"
	ProblemRefundNotThere = "refunded here, not in the provider's bill"
)

// BillDay is the start of a bill day (YYYY-MM-DD, China Standard Time).
func BillDay(date string) (time.Time, error) {
	return time.ParseInLocation(time.DateOnly, date, money.ChinaTime())
}

// Reconciliation is what comparing the providers' bills of a day with our records found.
type Reconciliation struct {
	// Matched counts the bill lines, payments and refunds, that agree with our records.
	Matched int
	// Mismatches lists every difference, provider by provider in name order.
	Mismatches []Mismatch
}

// Reconcile compares each provider's bill for a day with the payments and refunds recorded
// here and lists every difference. A provider whose bill cannot be had fails the whole
// reconciliation with ErrProvider: a partial answer would read as a clean one.
func (s *Service) Reconcile(ctx context.Context, day time.Time) (Reconciliation, error) {
	local := day.In(money.ChinaTime())
	from := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, money.ChinaTime())
	to := from.AddDate(0, 0, 1)
	names := make([]string, 0, len(s.providers))
	for name := range s.providers {
		names = append(names, name)
	}
	sort.Strings(names)
	out := Reconciliation{Mismatches: []Mismatch{}}
	for _, name := range names {
		prov := s.providers[name]
		bill, err := prov.Bill(ctx, from)
		if err != nil && ctx.Err() != nil {
			// The caller went away or ran out of time: no fault of the provider's. The cause
			// is kept as text only, as a provider's error may wrap ErrProvider.
			return Reconciliation{}, fmt.Errorf("%s bill: %w (%v)", name, ctx.Err(), err)
		}
		if err != nil {
			return Reconciliation{}, fmt.Errorf("%w: %w", ErrProvider.Withf("the %s bill of %s cannot be read; try again later",
				name, from.Format(time.DateOnly)), err)
		}
		pays, refunds, err := s.store.SucceededBetween(ctx, name, from.UTC(), to.UTC())
		if err != nil {
			return Reconciliation{}, err
		}
		matched, found, err := s.reconcileProvider(ctx, name, bill, pays, refunds)
		if err != nil {
			return Reconciliation{}, err
		}
		out.Matched += matched
		out.Mismatches = append(out.Mismatches, found...)
	}
	return out, nil
}

// reconcileProvider compares one provider's bill with our records of its day and answers how
// many bill lines agree, and every difference.
func (s *Service) reconcileProvider(ctx context.Context, provider string, bill []BillLine, pays []Payment, refunds []Refund) (int, []Mismatch, error) {
	var out []Mismatch
	matched := 0
	ourPays := map[string]Payment{}
	for _, p := range pays {
		ourPays[p.OrderNo] = p
	}
	ourRefunds := map[string]Refund{}
	for _, r := range refunds {
		ourRefunds[r.OutRefundNo] = r
	}
	for _, line := range bill {
		switch line.Kind {
		case BillPayment:
			p, ok := ourPays[line.OutTradeNo]
			delete(ourPays, line.OutTradeNo)
			if !ok {
				// Paid near midnight, the two sides may date it differently: look it up.
				var err error
				p, err = s.store.PaymentByTradeNo(ctx, provider, line.OutTradeNo)
				if err != nil && !errors.Is(err, ErrPaymentNotFound) {
					return 0, nil, err
				}
				if err != nil || p.Status != Succeeded {
					out = append(out, Mismatch{Provider: provider, Kind: BillPayment, OutTradeNo: line.OutTradeNo,
						Problem: ProblemMissingHere, Theirs: line.Amount})
					continue
				}
			}
			if p.Amount != line.Amount {
				out = append(out, Mismatch{Provider: provider, Kind: BillPayment, OutTradeNo: line.OutTradeNo,
					Problem: ProblemAmount, Theirs: line.Amount, Ours: p.Amount})
				continue
			}
			matched++
		case BillRefund:
			r, ok := ourRefunds[line.OutRefundNo]
			delete(ourRefunds, line.OutRefundNo)
			if !ok {
				var err error
				r, err = s.store.RefundByOutNo(ctx, line.OutRefundNo)
				if err != nil && !errors.Is(err, ErrRefundNotFound) {
					return 0, nil, err
				}
				if err != nil || r.Status != RefundDone {
					out = append(out, Mismatch{Provider: provider, Kind: BillRefund, OutTradeNo: line.OutTradeNo,
						OutRefundNo: line.OutRefundNo, Problem: ProblemRefundMissing, Theirs: line.Amount})
					continue
				}
			}
			if r.Amount != line.Amount {
				out = append(out, Mismatch{Provider: provider, Kind: BillRefund, OutTradeNo: line.OutTradeNo,
					OutRefundNo: line.OutRefundNo, Problem: ProblemAmount, Theirs: line.Amount, Ours: r.Amount})
				continue
			}
			matched++
		}
	}
	for _, p := range sortedPayments(ourPays) {
		out = append(out, Mismatch{Provider: provider, Kind: BillPayment, OutTradeNo: p.OrderNo,
			Problem: ProblemMissingThere, Ours: p.Amount})
	}
	for _, r := range sortedRefunds(ourRefunds) {
		out = append(out, Mismatch{Provider: provider, Kind: BillRefund, OutTradeNo: r.OrderNo, OutRefundNo: r.OutRefundNo,
			Problem: ProblemRefundNotThere, Ours: r.Amount})
	}
	return matched, out, nil
}

func sortedPayments(m map[string]Payment) []Payment {
	out := make([]Payment, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OrderNo < out[j].OrderNo })
	return out
}

func sortedRefunds(m map[string]Refund) []Refund {
	out := make([]Refund, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OutRefundNo < out[j].OutRefundNo })
	return out
}
