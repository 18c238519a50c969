package promotiondb_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
	"github.com/minimart/minimart/internal/promotion"
	"github.com/minimart/minimart/internal/promotion/promotiondb"
)

var ctx = context.Background()

// TestStoreConformance runs the same behaviour checks on SQLite and MariaDB.
func TestStoreConformance(t *testing.T) {
	sqldbtest.ForEachEngine(t, []sqldb.Migrations{promotiondb.Migrations}, func(t *testing.T, db *sqldb.DB) {
		gen, err := ids.NewGenerator(1)
		if err != nil {
			t.Fatal(err)
		}
		h := harness{db: db, store: promotiondb.New(db), gen: gen}
		t.Run("sales and overlaps", h.salesAndOverlaps)
		t.Run("listing by phase", h.listing)
		t.Run("status changes", h.statusChanges)
		t.Run("recording attempts", h.recording)
		t.Run("concurrent batches never oversell", h.concurrentBatches)
		t.Run("claims", h.claims)
		t.Run("give-backs", h.giveBacks)
		t.Run("ending and settling", h.endingAndSettling)
	})
}

type harness struct {
	db    *sqldb.DB
	store *promotiondb.Store
	gen   *ids.Generator
}

// now is a fixed moment at the microsecond precision both engines keep.
var now = time.Date(2030, 5, 6, 10, 0, 0, 0, time.UTC)

func (h harness) newSale(sku ids.ID, quantity, limit int, from, to time.Time) promotion.Sale {
	return promotion.Sale{ID: h.gen.New(), SKUID: sku, ProductID: sku + 1000, Title: "秒杀手机", Image: "/media/a.png",
		ListPrice: 199900, Price: 99900, Quantity: quantity, Remaining: quantity, PerUserLimit: limit,
		StartsAt: from, EndsAt: to, Status: promotion.Holding, CreatedBy: "staff:1", CreatedAt: now, UpdatedAt: now}
}

// scheduled creates a sale that runs from now-1h to now+1h.
func (h harness) scheduled(t *testing.T, quantity, limit int) promotion.Sale {
	t.Helper()
	s := h.newSale(h.gen.New(), quantity, limit, now.Add(-time.Hour), now.Add(time.Hour))
	if err := h.store.CreateSale(ctx, s); err != nil {
		t.Fatal(err)
	}
	out, changed, err := h.store.SetSaleStatus(ctx, s.ID, []promotion.SaleStatus{promotion.Holding}, promotion.Scheduled, "", false, now)
	if err != nil || !changed {
		t.Fatalf("schedule: %v %v", changed, err)
	}
	return out
}

func (h harness) salesAndOverlaps(t *testing.T) {
	sku := h.gen.New()
	first := h.newSale(sku, 10, 1, now.Add(time.Hour), now.Add(2*time.Hour))
	if err := h.store.CreateSale(ctx, first); err != nil {
		t.Fatal(err)
	}
	got, err := h.store.Sale(ctx, first.ID)
	if err != nil || got.Title != first.Title || !got.StartsAt.Equal(first.StartsAt) || got.Status != promotion.Holding ||
		got.Remaining != 10 || got.SettledAt != nil {
		t.Fatalf("Sale = %+v, %v; want %+v", got, err, first)
	}
	// Overlapping windows are refused, with the sale they overlap.
	for _, w := range [][2]time.Duration{{30 * time.Minute, 90 * time.Minute}, {90 * time.Minute, 3 * time.Hour}, {0, 3 * time.Hour}} {
		err := h.store.CreateSale(ctx, h.newSale(sku, 5, 1, now.Add(w[0]), now.Add(w[1])))
		e, ok := errs.As(err)
		if !errors.Is(err, promotion.ErrOverlap) || !ok {
			t.Fatalf("overlap %v: %v", w, err)
		}
		if list, _ := e.Details["sales"].([]map[string]any); len(list) != 1 || list[0]["id"] != first.ID {
			t.Fatalf("overlap details %v", e.Details)
		}
	}
	// Adjacent windows, other SKUs and finished sales do not overlap.
	if err := h.store.CreateSale(ctx, h.newSale(sku, 5, 1, now.Add(2*time.Hour), now.Add(3*time.Hour))); err != nil {
		t.Fatalf("adjacent: %v", err)
	}
	if err := h.store.CreateSale(ctx, h.newSale(h.gen.New(), 5, 1, now.Add(time.Hour), now.Add(2*time.Hour))); err != nil {
		t.Fatalf("other SKU: %v", err)
	}
	if _, _, err := h.store.SetSaleStatus(ctx, first.ID, []promotion.SaleStatus{promotion.Holding}, promotion.Cancelled, "", false, now); err != nil {
		t.Fatal(err)
	}
	if err := h.store.CreateSale(ctx, h.newSale(sku, 5, 1, now.Add(time.Hour), now.Add(2*time.Hour))); err != nil {
		t.Fatalf("over a cancelled sale: %v", err)
	}
	if _, err := h.store.Sale(ctx, h.gen.New()); !errors.Is(err, promotion.ErrSaleNotFound) {
		t.Fatalf("unknown sale: %v", err)
	}

	// Concurrent creates of overlapping sales: exactly one wins.
	sku = h.gen.New()
	var wins, overlaps int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			err := h.store.CreateSale(ctx, h.newSale(sku, 5, 1, now.Add(time.Duration(i)*time.Minute), now.Add(time.Hour)))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, promotion.ErrOverlap):
				overlaps++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || overlaps != 7 {
		t.Fatalf("%d created, %d overlaps; want 1 and 7", wins, overlaps)
	}
}

func (h harness) listing(t *testing.T) {
	// Other subtests' sales share the database: only this subtest's are looked at.
	mk := func(from, to time.Duration, status promotion.SaleStatus) promotion.Sale {
		s := h.newSale(h.gen.New(), 5, 1, now.Add(from), now.Add(to))
		if err := h.store.CreateSale(ctx, s); err != nil {
			t.Fatal(err)
		}
		if status != promotion.Holding {
			var err error
			if s, _, err = h.store.SetSaleStatus(ctx, s.ID, []promotion.SaleStatus{promotion.Holding}, status, "", false, now); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	upcoming := mk(time.Hour, 2*time.Hour, promotion.Scheduled)
	active := mk(-time.Hour, time.Hour, promotion.Scheduled)
	overdue := mk(-2*time.Hour, -time.Minute, promotion.Scheduled) // ended by time, not yet swept
	cancelled := mk(-time.Hour, time.Hour, promotion.Cancelled)
	pending := mk(time.Hour, 2*time.Hour, promotion.Holding)
	phase := func(p ...promotion.Phase) []ids.ID {
		list, err := h.store.Sales(ctx, promotion.SaleFilter{Phases: p, Now: now, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var out []ids.ID
		for _, s := range list {
			if slices.Contains([]ids.ID{upcoming.ID, active.ID, overdue.ID, cancelled.ID, pending.ID}, s.ID) {
				out = append(out, s.ID)
				if len(p) > 0 && !slices.Contains(p, s.PhaseAt(now)) {
					t.Errorf("sale %s listed for %v is %s", s.ID, p, s.PhaseAt(now))
				}
			}
		}
		return out
	}
	for _, c := range []struct {
		phases []promotion.Phase
		want   []ids.ID
	}{
		{[]promotion.Phase{promotion.PhaseUpcoming}, []ids.ID{upcoming.ID}},
		{[]promotion.Phase{promotion.PhaseActive}, []ids.ID{active.ID}},
		{[]promotion.Phase{promotion.PhaseEnded}, []ids.ID{overdue.ID}},
		{[]promotion.Phase{promotion.PhaseCancelled}, []ids.ID{cancelled.ID}},
		{[]promotion.Phase{promotion.PhasePending}, []ids.ID{pending.ID}},
		{[]promotion.Phase{promotion.PhaseUpcoming, promotion.PhaseActive}, []ids.ID{active.ID, upcoming.ID}},
		{nil, []ids.ID{pending.ID, cancelled.ID, overdue.ID, active.ID, upcoming.ID}}, // newest first
	} {
		if got := phase(c.phases...); !slices.Equal(got, c.want) {
			t.Errorf("phases %v: %v, want %v", c.phases, got, c.want)
		}
	}
	// Pages continue below the cursor.
	page, err := h.store.Sales(ctx, promotion.SaleFilter{Now: now, Limit: 2})
	if err != nil || len(page) != 2 || page[0].ID != pending.ID || page[1].ID != cancelled.ID {
		t.Fatalf("first page %v %v", page, err)
	}
	next, err := h.store.Sales(ctx, promotion.SaleFilter{Now: now, Limit: 2, BeforeID: page[1].ID})
	if err != nil || len(next) != 2 || next[0].ID != overdue.ID || next[1].ID != active.ID {
		t.Fatalf("second page %v %v", next, err)
	}
	// Buyers see the scheduled sales not over, soonest first.
	current, err := h.store.CurrentSales(ctx, now, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var seen []ids.ID
	for _, s := range current {
		if slices.Contains([]ids.ID{upcoming.ID, active.ID, overdue.ID, cancelled.ID, pending.ID}, s.ID) {
			seen = append(seen, s.ID)
		}
	}
	if !slices.Equal(seen, []ids.ID{active.ID, upcoming.ID}) {
		t.Fatalf("current sales %v, want active then upcoming", seen)
	}
}

func (h harness) statusChanges(t *testing.T) {
	s := h.newSale(h.gen.New(), 5, 1, now, now.Add(time.Hour))
	if err := h.store.CreateSale(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, changed, err := h.store.SetSaleStatus(ctx, s.ID, []promotion.SaleStatus{promotion.Scheduled}, promotion.Cancelled, "", false, now)
	if err != nil || changed || got.Status != promotion.Holding {
		t.Fatalf("from the wrong status: %+v %v %v", got, changed, err)
	}
	got, changed, err = h.store.SetSaleStatus(ctx, s.ID, []promotion.SaleStatus{promotion.Holding}, promotion.Failed, "out_of_stock", true, now)
	if err != nil || !changed || got.Status != promotion.Failed || got.FailReason != "out_of_stock" || got.SettledAt == nil {
		t.Fatalf("fail: %+v %v %v", got, changed, err)
	}
	if read, _ := h.store.Sale(ctx, s.ID); read.Status != promotion.Failed || read.SettledAt == nil || read.FailReason != "out_of_stock" {
		t.Fatalf("read back %+v", read)
	}
	if _, _, err := h.store.SetSaleStatus(ctx, h.gen.New(), []promotion.SaleStatus{promotion.Holding}, promotion.Failed, "", false, now); !errors.Is(err, promotion.ErrSaleNotFound) {
		t.Fatalf("unknown sale: %v", err)
	}
	// Holding sales older than a moment are found for the sweeper.
	old := h.newSale(h.gen.New(), 5, 1, now, now.Add(time.Hour))
	old.CreatedAt = now.Add(-time.Minute)
	if err := h.store.CreateSale(ctx, old); err != nil {
		t.Fatal(err)
	}
	list, err := h.store.SalesHolding(ctx, now.Add(-30*time.Second), 1000)
	if err != nil || !slices.ContainsFunc(list, func(x promotion.Sale) bool { return x.ID == old.ID }) ||
		slices.ContainsFunc(list, func(x promotion.Sale) bool { return x.ID == s.ID }) {
		t.Fatalf("holding %v %v", list, err)
	}
}

// attempt is an attempt of buyer at sale under key.
func (h harness) attempt(sale promotion.Sale, buyer ids.ID, qty int, key string) promotion.Attempt {
	return promotion.Attempt{ID: h.gen.New(), SaleID: sale.ID, UserID: buyer, AddressID: buyer + 1, Quantity: qty,
		Status: promotion.Accepted, IdempotencyKey: key, RequestHash: "hash-" + key, CreatedAt: now, UpdatedAt: now}
}

func query(list []promotion.Attempt) promotion.AdmissionQuery {
	var q promotion.AdmissionQuery
	for _, a := range list {
		if !slices.Contains(q.SaleIDs, a.SaleID) {
			q.SaleIDs = append(q.SaleIDs, a.SaleID)
		}
		q.Buyers = append(q.Buyers, promotion.SaleBuyer{SaleID: a.SaleID, UserID: a.UserID})
		q.Keys = append(q.Keys, promotion.BuyerKey{UserID: a.UserID, Key: a.IdempotencyKey})
	}
	return q
}

// admitWithin is a decide function like the service's: each attempt in order, within the
// remaining and the limit, keys not seen before.
func admitWithin(list []promotion.Attempt, accepted *[]promotion.Attempt) func(promotion.AdmissionState) ([]promotion.Attempt, error) {
	return func(st promotion.AdmissionState) ([]promotion.Attempt, error) {
		*accepted = nil
		remaining := map[ids.ID]int{}
		for id, s := range st.Sales {
			remaining[id] = s.Remaining
		}
		bought := map[promotion.SaleBuyer]int{}
		for k, v := range st.Bought {
			bought[k] = v
		}
		for _, a := range list {
			sale, ok := st.Sales[a.SaleID]
			sb := promotion.SaleBuyer{SaleID: a.SaleID, UserID: a.UserID}
			if _, dup := st.Keys[promotion.BuyerKey{UserID: a.UserID, Key: a.IdempotencyKey}]; dup || !ok ||
				remaining[a.SaleID] < a.Quantity || bought[sb]+a.Quantity > sale.PerUserLimit {
				continue
			}
			remaining[a.SaleID] -= a.Quantity
			bought[sb] += a.Quantity
			*accepted = append(*accepted, a)
		}
		return *accepted, nil
	}
}

func (h harness) recording(t *testing.T) {
	sale := h.scheduled(t, 5, 2)
	other := h.scheduled(t, 3, 3)
	alice, bob := h.gen.New(), h.gen.New()
	batch := []promotion.Attempt{
		h.attempt(sale, alice, 2, "a1"), h.attempt(sale, alice, 1, "a2"), // the second is over alice's limit
		h.attempt(sale, bob, 2, "b1"), h.attempt(other, bob, 3, "b2"),
	}
	var seen promotion.AdmissionState
	var accepted []promotion.Attempt
	decide := admitWithin(batch, &accepted)
	err := h.store.RecordAttempts(ctx, query(batch), func(st promotion.AdmissionState) ([]promotion.Attempt, error) {
		seen = st
		return decide(st)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen.Sales) != 2 || seen.Sales[sale.ID].Remaining != 5 || len(seen.Bought) != 0 || len(seen.Keys) != 0 {
		t.Fatalf("state seen %+v", seen)
	}
	if len(accepted) != 3 {
		t.Fatalf("accepted %d, want 3", len(accepted))
	}
	wantRemaining := func(s promotion.Sale, n int) {
		t.Helper()
		if got, _ := h.store.Sale(ctx, s.ID); got.Remaining != n {
			t.Fatalf("remaining of %s = %d, want %d", s.ID, got.Remaining, n)
		}
	}
	wantRemaining(sale, 1)
	wantRemaining(other, 0)
	snap, err := h.store.AdmissionSnapshot(ctx, sale.ID)
	if err != nil || snap.Remaining != 1 || len(snap.Bought) != 2 || snap.Bought[alice] != 2 || snap.Bought[bob] != 2 {
		t.Fatalf("snapshot %+v %v", snap, err)
	}
	// The keys of the sale's recorded attempts, not those of the other sale's.
	keys := map[promotion.BuyerKey]bool{}
	for _, k := range snap.Keys {
		keys[k] = true
	}
	if len(snap.Keys) != 2 || !keys[promotion.BuyerKey{UserID: alice, Key: "a1"}] || !keys[promotion.BuyerKey{UserID: bob, Key: "b1"}] {
		t.Fatalf("snapshot keys %v, want alice's a1 and bob's b1", snap.Keys)
	}
	// The state of the next batch shows the counts and the keys.
	next := []promotion.Attempt{h.attempt(sale, alice, 1, "a1"), h.attempt(sale, h.gen.New(), 1, "c1")}
	err = h.store.RecordAttempts(ctx, query(next), func(st promotion.AdmissionState) ([]promotion.Attempt, error) {
		seen = st
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	prior, ok := seen.Keys[promotion.BuyerKey{UserID: alice, Key: "a1"}]
	if !ok || prior.ID != batch[0].ID || prior.RequestHash != "hash-a1" || prior.Status != promotion.Accepted ||
		seen.Bought[promotion.SaleBuyer{SaleID: sale.ID, UserID: alice}] != 2 || len(seen.Keys) != 1 {
		t.Fatalf("second state %+v", seen)
	}
	// decide's error rolls everything back.
	boom := errors.New("boom")
	err = h.store.RecordAttempts(ctx, query(next[1:]), func(promotion.AdmissionState) ([]promotion.Attempt, error) {
		return next[1:], boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("decide error: %v", err)
	}
	wantRemaining(sale, 1)
	// The buyer's record and the attempt read back.
	n, a, found, err := h.store.BuyerRecord(ctx, sale.ID, alice, "a1")
	if err != nil || n != 2 || !found || a.ID != batch[0].ID || a.Quantity != 2 || !a.CreatedAt.Equal(now) {
		t.Fatalf("BuyerRecord = %d %+v %v %v", n, a, found, err)
	}
	if n, _, found, err := h.store.BuyerRecord(ctx, sale.ID, h.gen.New(), "zz"); err != nil || n != 0 || found {
		t.Fatalf("unknown buyer: %d %v %v", n, found, err)
	}
	if got, err := h.store.Attempt(ctx, batch[2].ID); err != nil || got.UserID != bob || got.AddressID != bob+1 || got.Status != promotion.Accepted {
		t.Fatalf("Attempt = %+v %v", got, err)
	}
	if _, err := h.store.Attempt(ctx, h.gen.New()); !errors.Is(err, promotion.ErrAttemptNotFound) {
		t.Fatalf("unknown attempt: %v", err)
	}
}

// Many batches at once on one sale, each admitting what it sees left: the row lock makes
// what each sees true, so exactly the quantity is accepted.
func (h harness) concurrentBatches(t *testing.T) {
	const quantity, workers, perWorker = 50, 16, 10
	sale := h.scheduled(t, quantity, 1)
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				list := []promotion.Attempt{h.attempt(sale, h.gen.New(), 1, fmt.Sprintf("k%d-%d", w, i))}
				var accepted []promotion.Attempt
				if err := h.store.RecordAttempts(ctx, query(list), admitWithin(list, &accepted)); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				total += len(accepted)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	got, _ := h.store.Sale(ctx, sale.ID)
	var n int
	if err := h.db.Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM flash_attempts WHERE sale_id = ?", sale.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if total != quantity || n != quantity || got.Remaining != 0 {
		t.Fatalf("accepted %d, rows %d, remaining %d; want %d, %d, 0", total, n, got.Remaining, quantity, quantity)
	}
}

// claimant is a process for claims: dead names the instance the test declares dead.
type claimant struct{ id, dead string }

func (c claimant) ID() string { return c.id }
func (c claimant) Dead(column string) (string, any) {
	return "(" + column + " = ?)", c.dead
}

func (h harness) record(t *testing.T, list ...promotion.Attempt) {
	t.Helper()
	var accepted []promotion.Attempt
	if err := h.store.RecordAttempts(ctx, query(list), admitWithin(list, &accepted)); err != nil || len(accepted) != len(list) {
		t.Fatalf("record %d: accepted %d, %v", len(list), len(accepted), err)
	}
}

func idsOf(list []promotion.Attempt) []ids.ID {
	out := make([]ids.ID, len(list))
	for i, a := range list {
		out[i] = a.ID
	}
	slices.Sort(out)
	return out
}

func (h harness) claims(t *testing.T) {
	// Earlier subtests' accepted attempts would be claimed too: finish them first.
	a, b := claimant{"a", "gone"}, claimant{"b", "gone"}
	for {
		list, err := h.store.ClaimAccepted(ctx, a, now.Add(time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 {
			break
		}
		if err := h.store.RetryLater(ctx, idsOf(list), now.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	sale := h.scheduled(t, 10, 1)
	var list []promotion.Attempt
	for i := range 6 {
		list = append(list, h.attempt(sale, h.gen.New(), 1, fmt.Sprintf("c%d", i)))
	}
	h.record(t, list...)
	first, err := h.store.ClaimAccepted(ctx, a, now, 4)
	if err != nil || len(first) != 4 {
		t.Fatalf("a claims %d, %v", len(first), err)
	}
	rest, err := h.store.ClaimAccepted(ctx, b, now, 10)
	if err != nil || len(rest) != 2 || slices.ContainsFunc(rest, func(x promotion.Attempt) bool { return slices.Contains(idsOf(first), x.ID) }) {
		t.Fatalf("b claims %v, %v; want the other 2", idsOf(rest), err)
	}
	// Each claimer's own claims are free to it again (left by a round that failed), and to
	// nobody else while it lives.
	if again, err := h.store.ClaimAccepted(ctx, a, now, 10); err != nil || !slices.Equal(idsOf(again), idsOf(first)) {
		t.Fatalf("a again %v %v", idsOf(again), err)
	}
	if own, err := h.store.ClaimAccepted(ctx, b, now, 10); err != nil || !slices.Equal(idsOf(own), idsOf(rest)) {
		t.Fatalf("b again %v %v; want its own 2", idsOf(own), err)
	}
	// A claimer that died: its claims go to the next one.
	dead := claimant{"c", "a"}
	if taken, err := h.store.ClaimAccepted(ctx, dead, now, 10); err != nil || !slices.Equal(idsOf(taken), idsOf(first)) {
		t.Fatalf("taking over a dead claimer: %v %v", idsOf(taken), err)
	}
	// Ordered attempts leave the queue; retried ones wait until their time.
	ordered := []promotion.OrderedAttempt{{AttemptID: first[0].ID, Order: promotion.PlacedOrder{ID: h.gen.New(), OrderNo: "2030050600001"}}}
	if err := h.store.MarkOrdered(ctx, ordered, now); err != nil {
		t.Fatal(err)
	}
	got, _ := h.store.Attempt(ctx, first[0].ID)
	if got.Status != promotion.Ordered || got.OrderID != ordered[0].Order.ID || got.OrderNo != "2030050600001" {
		t.Fatalf("ordered attempt %+v", got)
	}
	if err := h.store.RetryLater(ctx, []ids.ID{first[1].ID}, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	due, err := h.store.ClaimAccepted(ctx, dead, now, 10)
	if err != nil || !slices.Equal(idsOf(due), idsOf(first[2:])) {
		t.Fatalf("due now %v %v; want %v", idsOf(due), err, idsOf(first[2:]))
	}
	later, err := h.store.ClaimAccepted(ctx, dead, now.Add(time.Minute), 10)
	if err != nil || !slices.Equal(idsOf(later), idsOf(first[1:])) {
		t.Fatalf("due later %v %v; want %v", idsOf(later), err, idsOf(first[1:]))
	}
	if retried, _ := h.store.Attempt(ctx, first[1].ID); retried.Tries != 1 {
		t.Fatalf("tries %d", retried.Tries)
	}
}

func (h harness) giveBacks(t *testing.T) {
	sale := h.scheduled(t, 3, 1)
	buyers := []ids.ID{h.gen.New(), h.gen.New(), h.gen.New()}
	var list []promotion.Attempt
	for i, b := range buyers {
		list = append(list, h.attempt(sale, b, 1, fmt.Sprintf("g%d", i)))
	}
	h.record(t, list...)
	wantCounts := func(remaining int, bought ...int) {
		t.Helper()
		snap, err := h.store.AdmissionSnapshot(ctx, sale.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range bought {
			if snap.Bought[buyers[i]] != n {
				t.Fatalf("buyer %d count %d, want %d", i, snap.Bought[buyers[i]], n)
			}
		}
		if snap.Remaining != remaining {
			t.Fatalf("remaining %d, want %d", snap.Remaining, remaining)
		}
	}
	wantCounts(0, 1, 1, 1)
	// A failed attempt gives back once.
	a, failed, err := h.store.FailAttempt(ctx, list[0].ID, "sku_unavailable", now)
	if err != nil || !failed || a.Status != promotion.AttemptFailed || a.Reason != "sku_unavailable" {
		t.Fatalf("fail %+v %v %v", a, failed, err)
	}
	if _, failed, err := h.store.FailAttempt(ctx, list[0].ID, "again", now); err != nil || failed {
		t.Fatalf("failing twice: %v %v", failed, err)
	}
	wantCounts(1, 0, 1, 1)
	// A cancelled order gives back once, while the sale runs.
	orderID := h.gen.New()
	if err := h.store.MarkOrdered(ctx, []promotion.OrderedAttempt{{AttemptID: list[1].ID, Order: promotion.PlacedOrder{ID: orderID, OrderNo: "1"}}}, now); err != nil {
		t.Fatal(err)
	}
	r, returned, err := h.store.ReturnOrder(ctx, orderID, now)
	if err != nil || !returned || r.ID != list[1].ID || r.ReturnedAt == nil {
		t.Fatalf("return %+v %v %v", r, returned, err)
	}
	if _, returned, err := h.store.ReturnOrder(ctx, orderID, now); err != nil || returned {
		t.Fatalf("returning twice: %v %v", returned, err)
	}
	wantCounts(2, 0, 0, 1)
	if _, _, err := h.store.ReturnOrder(ctx, h.gen.New(), now); !errors.Is(err, promotion.ErrAttemptNotFound) {
		t.Fatalf("an order of no attempt: %v", err)
	}
	// After the sale's end nothing comes back.
	other := h.gen.New()
	if err := h.store.MarkOrdered(ctx, []promotion.OrderedAttempt{{AttemptID: list[2].ID, Order: promotion.PlacedOrder{ID: other, OrderNo: "2"}}}, now); err != nil {
		t.Fatal(err)
	}
	if _, returned, err := h.store.ReturnOrder(ctx, other, sale.EndsAt); err != nil || returned {
		t.Fatalf("after the end: %v %v", returned, err)
	}
	wantCounts(2, 0, 0, 1)
}

func (h harness) endingAndSettling(t *testing.T) {
	sale := h.scheduled(t, 3, 1)
	list := []promotion.Attempt{h.attempt(sale, h.gen.New(), 1, "e1")}
	h.record(t, list...)
	n, err := h.store.EndDue(ctx, sale.EndsAt)
	if err != nil || n < 1 {
		t.Fatalf("EndDue %d %v", n, err)
	}
	if got, _ := h.store.Sale(ctx, sale.ID); got.Status != promotion.Ended {
		t.Fatalf("status %s", got.Status)
	}
	settleable := func() bool {
		list, err := h.store.Settleable(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(list, func(s promotion.Sale) bool { return s.ID == sale.ID })
	}
	if settleable() {
		t.Fatal("settleable while an attempt is still accepted")
	}
	if _, _, err := h.store.FailAttempt(ctx, list[0].ID, "x", now); err != nil {
		t.Fatal(err)
	}
	if !settleable() {
		t.Fatal("not settleable once no attempt is accepted")
	}
	if err := h.store.MarkSettled(ctx, sale.ID, now); err != nil {
		t.Fatal(err)
	}
	if settleable() {
		t.Fatal("settleable after being settled")
	}
	if got, _ := h.store.Sale(ctx, sale.ID); got.SettledAt == nil || !got.SettledAt.Equal(now) {
		t.Fatalf("settled at %v", got.SettledAt)
	}
}
