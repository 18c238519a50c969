package paymentdb_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/payment/paymentdb"
	"github.com/minimart/minimart/internal/payment/paymentevents"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

var ctx = context.Background()

// TestStoreConformance runs the same behaviour checks on SQLite and MariaDB.
func TestStoreConformance(t *testing.T) {
	sets := []sqldb.Migrations{events.OutboxMigrations, paymentdb.Migrations}
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		gen, err := ids.NewGenerator(7)
		if err != nil {
			t.Fatal(err)
		}
		h := &harness{db: db, store: paymentdb.New(db, events.NewOutbox()), gen: gen,
			base: time.Date(2026, 5, 1, 8, 0, 0, 123456000, time.UTC)}
		t.Run("start and read", h.startAndRead)
		t.Run("concurrent starts", h.concurrentStarts)
		t.Run("concurrent starts of many orders", h.concurrentStartsOfManyOrders)
		t.Run("update writes events", h.updateWritesEvents)
		t.Run("concurrent mark succeeded applies once", h.markSucceededOnce)
		t.Run("claims skip each other", h.claims)
		t.Run("claims of a dead querier", h.deadQuerier)
		t.Run("refunds", h.refunds)
		t.Run("concurrent refunds never exceed the payment", h.concurrentRefunds)
		t.Run("idempotency keys", h.keys)
		t.Run("notification log", h.notifications)
	})
}

type harness struct {
	db    *sqldb.DB
	store *paymentdb.Store
	gen   *ids.Generator
	base  time.Time
	seq   atomic.Int64
}

func (h *harness) newPayment(provider string, amount money.Fen) payment.Payment {
	n := h.seq.Add(1)
	next := h.base.Add(time.Minute)
	return payment.Payment{ID: h.gen.New(), OrderID: h.gen.New(), OrderNo: fmt.Sprintf("2026050108%012d", n), UserID: 42,
		Provider: provider, Method: payment.SandboxPay, Amount: amount, Status: payment.Pending,
		ExpiresAt: h.base.Add(30 * time.Minute), NextQueryAt: &next, CreatedAt: h.base, UpdatedAt: h.base}
}

func (h *harness) start(t *testing.T, p payment.Payment) payment.Payment {
	t.Helper()
	got, err := h.store.StartPayment(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (h *harness) startAndRead(t *testing.T) {
	p := h.start(t, h.newPayment("sandbox", 3500))
	in := payment.Instructions{PayURL: "http://shop/sandbox/pay/" + p.OrderNo}
	if err := h.store.SetInstructions(ctx, p.ID, in); err != nil {
		t.Fatal(err)
	}
	got, err := h.store.PaymentByTradeNo(ctx, "sandbox", p.OrderNo)
	if err != nil {
		t.Fatal(err)
	}
	p.Instructions = in
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("read back\n%+v\nwant\n%+v", got, p)
	}
	if _, err := h.store.PaymentByTradeNo(ctx, "wechat", p.OrderNo); !errors.Is(err, payment.ErrPaymentNotFound) {
		t.Fatalf("other provider: %v", err)
	}
	// Starting again returns the same payment; a pending one takes the new method.
	again := p
	again.ID, again.Method = h.gen.New(), payment.Method("sandbox_other")
	got = h.start(t, again)
	if got.ID != p.ID || got.Method != "sandbox_other" {
		t.Fatalf("restart = %+v", got)
	}
	list, err := h.store.PaymentsOfOrder(ctx, p.OrderID)
	if err != nil || len(list) != 1 {
		t.Fatalf("payments of order: %v %v", list, err)
	}
}

func (h *harness) concurrentStarts(t *testing.T) {
	p := h.newPayment("sandbox", 100)
	var wg sync.WaitGroup
	got := make([]ids.ID, 10)
	for i := range got {
		wg.Go(func() {
			q := p
			q.ID = h.gen.New()
			r, err := h.store.StartPayment(ctx, q)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = r.ID
		})
	}
	wg.Wait()
	for _, id := range got {
		if id != got[0] {
			t.Fatalf("concurrent starts made several payments: %v", got)
		}
	}
}

// Buyers paying different orders at once all start their payments: no two starts lock
// each other out (on MySQL a locking read of a missing row would take gap locks that make
// concurrent inserts deadlock, past the store's retries).
func (h *harness) concurrentStartsOfManyOrders(t *testing.T) {
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			p := h.newPayment("many", 100)
			p.NextQueryAt = nil // not due: the claim tests count what is
			if _, err := h.store.StartPayment(ctx, p); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func (h *harness) updateWritesEvents(t *testing.T) {
	p := h.start(t, h.newPayment("sandbox", 100))
	paidAt := h.base.Add(3 * time.Minute)
	ev, err := events.New(h.gen.New(), paymentevents.TypeSucceeded, p.ID.String(), paymentevents.Paid{PaymentID: p.ID})
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.store.UpdatePayment(ctx, p.ID, func(q *payment.Payment) ([]events.Event, error) {
		q.Status, q.TransactionID, q.PaidAt, q.NextQueryAt = payment.Succeeded, "T1", &paidAt, nil
		return []events.Event{ev}, nil
	})
	if err != nil || got.Status != payment.Succeeded {
		t.Fatalf("update: %+v %v", got, err)
	}
	read, _ := h.store.Payment(ctx, p.ID)
	if read.Status != payment.Succeeded || read.TransactionID != "T1" || !read.PaidAt.Equal(paidAt) || read.NextQueryAt != nil {
		t.Fatalf("read back %+v", read)
	}
	var n int
	if err := h.db.Read().QueryRow("SELECT COUNT(*) FROM outbox_events WHERE id = ?", ev.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("event rows %d, %v", n, err)
	}
	// A failing fn changes nothing and writes no event.
	boom := errors.New("boom")
	ev2, _ := events.New(h.gen.New(), paymentevents.TypeFailed, p.ID.String(), paymentevents.Failed{PaymentID: p.ID})
	_, err = h.store.UpdatePayment(ctx, p.ID, func(q *payment.Payment) ([]events.Event, error) {
		q.Status = payment.Closed
		return []events.Event{ev2}, boom
	})
	read, _ = h.store.Payment(ctx, p.ID)
	if !errors.Is(err, boom) || read.Status != payment.Succeeded {
		t.Fatalf("failed update: %v, %+v", err, read)
	}
	if _, err := h.store.UpdatePayment(ctx, h.gen.New(), nil); !errors.Is(err, payment.ErrPaymentNotFound) {
		t.Fatalf("update unknown: %v", err)
	}
}

func (h *harness) markSucceededOnce(t *testing.T) {
	p := h.start(t, h.newPayment("sandbox", 100))
	paidAt := h.base.Add(4 * time.Minute)
	var applied atomic.Int64
	evIDs := make([]ids.ID, 10)
	var wg sync.WaitGroup
	for i := range evIDs {
		ev, err := events.New(h.gen.New(), paymentevents.TypeSucceeded, p.ID.String(), paymentevents.Paid{PaymentID: p.ID})
		if err != nil {
			t.Fatal(err)
		}
		evIDs[i] = ev.ID
		wg.Go(func() {
			ok, err := h.store.MarkSucceeded(ctx, p.ID, "T-once", paidAt, paidAt, ev)
			if err != nil {
				t.Error(err)
			}
			if ok {
				applied.Add(1)
			}
		})
	}
	wg.Wait()
	in, args := sqldb.InList(evIDs)
	var n int
	if err := h.db.Read().QueryRow("SELECT COUNT(*) FROM outbox_events WHERE id IN ("+in+")", args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	got, _ := h.store.Payment(ctx, p.ID)
	if applied.Load() != 1 || n != 1 || got.Status != payment.Succeeded || got.TransactionID != "T-once" ||
		!got.PaidAt.Equal(paidAt) || got.NextQueryAt != nil {
		t.Fatalf("applied %d times, %d events, payment %+v", applied.Load(), n, got)
	}
}

// Two sweeps at once never claim the same payment, and a claim moves the next query on.
func (h *harness) claims(t *testing.T) {
	provider := fmt.Sprintf("claim%d", h.seq.Add(1))
	for range 20 {
		h.start(t, h.newPayment(provider, 100))
	}
	now := h.base.Add(2 * time.Minute)
	later := now.Add(time.Hour)
	var mu sync.Mutex
	seen := map[ids.ID]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			list, err := h.store.ClaimDuePayments(ctx, now, func(payment.Payment) time.Time { return later }, 8, nil)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, p := range list {
				if p.Provider == provider {
					seen[p.ID]++
				}
				if p.QueryAttempts != 1 || !p.NextQueryAt.Equal(later) {
					t.Errorf("claimed %+v", p)
				}
			}
		})
	}
	wg.Wait()
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("payment %s claimed %d times", id, n)
		}
	}
	if len(seen) == 0 {
		t.Fatal("nothing claimed")
	}
	rest, err := h.store.ClaimDuePayments(ctx, now, func(payment.Payment) time.Time { return later }, 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rest {
		if seen[p.ID] > 0 {
			t.Fatalf("payment %s claimed again before its next query", p.ID)
		}
	}
}

// claimant is a querier process; the processes named in dead have died.
type claimant struct {
	id   string
	dead string
}

func (c claimant) ID() string { return c.id }
func (c claimant) Dead(column string) (string, any) {
	return "(" + column + " = ?)", c.dead
}

// A payment whose querier died mid-query is due again at once, whatever its next query
// time says; one whose querier finished (released) or lives is not.
func (h *harness) deadQuerier(t *testing.T) {
	provider := fmt.Sprintf("dead%d", h.seq.Add(1))
	a, b := h.start(t, h.newPayment(provider, 100)), h.start(t, h.newPayment(provider, 200))
	now := h.base.Add(2 * time.Minute)
	later := now.Add(time.Hour)
	first, second := claimant{id: "first", dead: "none"}, claimant{id: "second", dead: "first"}
	mine := func(list []payment.Payment) (out []ids.ID) {
		for _, p := range list {
			if p.Provider == provider {
				out = append(out, p.ID)
			}
		}
		return out
	}
	got, err := h.store.ClaimDuePayments(ctx, now, func(payment.Payment) time.Time { return later }, 100, first)
	if err != nil || len(mine(got)) != 2 {
		t.Fatalf("first claim: %v %v", mine(got), err)
	}
	if err := h.store.ReleasePaymentClaim(ctx, b.ID, first); err != nil {
		t.Fatal(err)
	}
	// "first" died holding a: another querier takes it, not b (finished), before `later`.
	got, err = h.store.ClaimDuePayments(ctx, now, func(payment.Payment) time.Time { return later }, 100, second)
	if ids := mine(got); err != nil || len(ids) != 1 || ids[0] != a.ID {
		t.Fatalf("after the querier died: %v %v; want only %s", ids, err, a.ID)
	}
	got, err = h.store.ClaimDuePayments(ctx, now, func(payment.Payment) time.Time { return later }, 100, claimant{id: "third", dead: "first"})
	if err != nil || len(mine(got)) != 0 {
		t.Fatalf("a live querier's claim was taken: %v %v", mine(got), err)
	}
}

func (h *harness) succeeded(t *testing.T, amount money.Fen) payment.Payment {
	t.Helper()
	p := h.start(t, h.newPayment("sandbox", amount))
	paidAt := h.base.Add(5 * time.Minute)
	p, err := h.store.UpdatePayment(ctx, p.ID, func(q *payment.Payment) ([]events.Event, error) {
		q.Status, q.PaidAt, q.NextQueryAt = payment.Succeeded, &paidAt, nil
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (h *harness) newRefund(p payment.Payment, outNo string, amount money.Fen) payment.Refund {
	next := h.base.Add(time.Minute)
	return payment.Refund{ID: h.gen.New(), PaymentID: p.ID, OrderID: p.OrderID, OrderNo: p.OrderNo, OutRefundNo: outNo,
		Amount: amount, Reason: "测试", Status: payment.RefundRequested, RequestedBy: "staff:1", NextQueryAt: &next, CreatedAt: h.base}
}

// notOver refuses a refund that would take more than the payment.
func notOver(amount money.Fen) func(payment.Payment, []payment.Refund) error {
	return func(p payment.Payment, refunds []payment.Refund) error {
		var held money.Fen
		for _, r := range refunds {
			if r.Status != payment.RefundRejected {
				held += r.Amount
			}
		}
		if held+amount > p.Amount {
			return payment.ErrRefundTooLarge
		}
		return nil
	}
}

func (h *harness) refunds(t *testing.T) {
	p := h.succeeded(t, 1000)
	outNo := fmt.Sprintf("R%d", h.seq.Add(1))
	r, created, err := h.store.CreateRefund(ctx, h.newRefund(p, outNo, 400), notOver(400))
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	// The same refund number returns the stored refund.
	again, created, err := h.store.CreateRefund(ctx, h.newRefund(p, outNo, 999), notOver(999))
	if err != nil || created || again.ID != r.ID || again.Amount != 400 {
		t.Fatalf("again: %+v %v %v", again, created, err)
	}
	if _, _, err := h.store.CreateRefund(ctx, h.newRefund(p, outNo+"x", 601), notOver(601)); !errors.Is(err, payment.ErrRefundTooLarge) {
		t.Fatalf("over-refund: %v", err)
	}
	done := h.base.Add(9 * time.Minute)
	ev, _ := events.New(h.gen.New(), paymentevents.TypeRefunded, p.ID.String(), paymentevents.Refunded{RefundID: r.ID})
	got, err := h.store.UpdateRefund(ctx, r.ID, func(r *payment.Refund, p *payment.Payment) ([]events.Event, error) {
		r.Status, r.CompletedAt, r.NextQueryAt, r.RefundID = payment.RefundDone, &done, nil, "W1"
		p.Refunded += r.Amount
		return []events.Event{ev}, nil
	})
	if err != nil || got.Status != payment.RefundDone {
		t.Fatalf("update refund: %+v %v", got, err)
	}
	read, _ := h.store.RefundByOutNo(ctx, outNo)
	pay, _ := h.store.Payment(ctx, p.ID)
	if read.RefundID != "W1" || !read.CompletedAt.Equal(done) || pay.Refunded != 400 {
		t.Fatalf("refund %+v payment %+v", read, pay)
	}
	pays, refunds, err := h.store.SucceededBetween(ctx, "sandbox", h.base, h.base.Add(time.Hour))
	if err != nil || !containsPayment(pays, p.ID) || len(refunds) == 0 {
		t.Fatalf("succeeded between: %v %v %v", pays, refunds, err)
	}
	if _, err := h.store.RefundByOutNo(ctx, "nope"); !errors.Is(err, payment.ErrRefundNotFound) {
		t.Fatalf("unknown refund: %v", err)
	}
	pending, _, err := h.store.CreateRefund(ctx, h.newRefund(p, outNo+"p", 100), notOver(100))
	if err != nil {
		t.Fatal(err)
	}
	due, err := h.store.ClaimDueRefunds(ctx, h.base.Add(time.Hour), h.base.Add(2*time.Hour), 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	claimed := false
	for _, d := range due {
		if d.ID == r.ID {
			t.Fatal("a settled refund was claimed for a query")
		}
		if d.ID == pending.ID {
			claimed = d.NextQueryAt.Equal(h.base.Add(2 * time.Hour))
		}
	}
	if !claimed {
		t.Fatalf("the pending refund due at %v was not claimed and moved on: %+v", pending.NextQueryAt, due)
	}
}

func containsPayment(list []payment.Payment, id ids.ID) bool {
	for _, p := range list {
		if p.ID == id {
			return true
		}
	}
	return false
}

// Ten refunds of 300 at once on a payment of 1000: exactly three are stored.
func (h *harness) concurrentRefunds(t *testing.T) {
	p := h.succeeded(t, 1000)
	var ok atomic.Int64
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			_, created, err := h.store.CreateRefund(ctx, h.newRefund(p, fmt.Sprintf("C%d-%d", p.ID, i), 300), notOver(300))
			switch {
			case err == nil && created:
				ok.Add(1)
			case !errors.Is(err, payment.ErrRefundTooLarge):
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 3 {
		t.Fatalf("%d refunds stored, want 3", ok.Load())
	}
}

func (h *harness) keys(t *testing.T) {
	k := payment.Idempotency{Scope: "user:1", Key: fmt.Sprintf("k%d", h.seq.Add(1)), RequestHash: "a", ResultID: 5, CreatedAt: h.base}
	if _, saved, err := h.store.SaveKey(ctx, k); err != nil || !saved {
		t.Fatalf("save: %v %v", saved, err)
	}
	other := k
	other.RequestHash, other.ResultID = "b", 6
	existing, saved, err := h.store.SaveKey(ctx, other)
	if err != nil || saved || existing.RequestHash != "a" || existing.ResultID != 5 {
		t.Fatalf("second save: %+v %v %v", existing, saved, err)
	}
	// Keys compare byte for byte.
	upper := k
	upper.Key = "K" + k.Key[1:]
	if _, saved, err := h.store.SaveKey(ctx, upper); err != nil || !saved {
		t.Fatalf("case-different key: %v %v", saved, err)
	}
	if _, found, err := h.store.Key(ctx, "user:2", k.Key); err != nil || found {
		t.Fatalf("other scope: %v %v", found, err)
	}
}

func (h *harness) notifications(t *testing.T) {
	tradeNo := fmt.Sprintf("N%d", h.seq.Add(1))
	var list []payment.Notification
	for i := range 450 { // more than one INSERT chunk
		list = append(list, payment.Notification{ID: h.gen.New(), Provider: "wechat", Kind: "trade", OutTradeNo: tradeNo,
			Verified: i%2 == 0, Outcome: payment.OutcomeDuplicate, Headers: "Wechatpay-Serial: X\n", Body: `{"中文":"✓"}`,
			ReceivedAt: h.base.Add(time.Duration(i) * time.Millisecond)})
	}
	if err := h.store.LogNotifications(ctx, list); err != nil {
		t.Fatal(err)
	}
	got, err := h.store.Notifications(ctx, payment.NotificationFilter{OutTradeNo: tradeNo}, 1000)
	if err != nil || len(got) != 450 || got[0].ID != list[449].ID || got[0].Body != `{"中文":"✓"}` {
		t.Fatalf("read %d, %v", len(got), err)
	}
	refused := payment.Notification{ID: h.gen.New(), Provider: "alipay", Outcome: payment.OutcomeRejected,
		Reason: "bad signature", Body: "x=1", ReceivedAt: h.base}
	if err := h.store.LogNotifications(ctx, []payment.Notification{refused}); err != nil {
		t.Fatal(err)
	}
	got, err = h.store.Notifications(ctx, payment.NotificationFilter{Outcome: payment.OutcomeRejected}, 10)
	if err != nil || len(got) == 0 || got[0].ID != refused.ID || got[0].Reason != "bad signature" {
		t.Fatalf("refused notifies: %+v %v", got, err)
	}
}
