package promotion_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/minimart/minimart/internal/order/orderevents"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
	"github.com/minimart/minimart/internal/promotion"
	"github.com/minimart/minimart/internal/promotion/promotiondb"
)

// The other modules behind the promotion's ports, as small in-memory stand-ins.

// stock holds per reference, all or nothing, like inventory.
type stock struct {
	mu        sync.Mutex
	available map[ids.ID]int
	holds     map[string]int
	released  map[string]int // releases per reference
	failHold  error          // returned by Hold when set (a dependency failure)
}

func (s *stock) Hold(_ context.Context, ref string, sku ids.ID, q int, expiresAt time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failHold != nil {
		return s.failHold
	}
	if _, ok := s.holds[ref]; ok {
		return nil
	}
	if s.available[sku] < q {
		return errs.New(errs.Conflict, "out_of_stock", "short").With(map[string]any{"skus": []map[string]any{
			{"sku_id": sku, "requested": q, "available": s.available[sku]}}})
	}
	s.available[sku] -= q
	s.holds[ref] = q
	return nil
}

func (s *stock) Release(_ context.Context, ref, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.released[ref]++
	return nil
}

func (s *stock) held(ref string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.holds[ref]
	return n, ok
}

func (s *stock) releases(ref string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.released[ref]
}

type catalog map[ids.ID]promotion.Item

func (c catalog) Items(_ context.Context, skuIDs []ids.ID) (map[ids.ID]promotion.Item, error) {
	out := map[ids.ID]promotion.Item{}
	for _, id := range skuIDs {
		if it, ok := c[id]; ok {
			out[id] = it
		}
	}
	return out, nil
}

// addresses: each buyer's address id is the buyer's id + 1.
type addresses struct{}

var errAddressNotFound = errs.New(errs.NotFound, "address_not_found", "no such address")

func (addresses) CheckAddress(_ context.Context, userID, addressID ids.ID) error {
	if addressID != userID+1 {
		return errAddressNotFound
	}
	return nil
}

// orders makes one order per attempt; refuse, when set, answers instead for every call.
type orders struct {
	mu     sync.Mutex
	made   map[ids.ID]promotion.SaleOrder
	refuse error
	gen    *ids.Generator
	byID   map[ids.ID]promotion.PlacedOrder
}

func (o *orders) CreateForSale(_ context.Context, in promotion.SaleOrder) (promotion.PlacedOrder, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.refuse != nil {
		return promotion.PlacedOrder{}, o.refuse
	}
	if p, ok := o.byID[in.AttemptID]; ok {
		return p, nil
	}
	id := o.gen.New()
	p := promotion.PlacedOrder{ID: id, OrderNo: "2030" + id.String()}
	o.made[in.AttemptID], o.byID[in.AttemptID] = in, p
	return p, nil
}

func (o *orders) setRefuse(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.refuse = err
}

// claimant is this process; nobody is dead.
type claimant struct{ id string }

func (c claimant) ID() string                       { return c.id }
func (c claimant) Dead(column string) (string, any) { return "(" + column + " = ?)", "nobody" }

// clock is a settable time, so tests move past a sale's end instead of waiting for it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var ctx = context.Background()

const (
	skuPhone = ids.ID(101) // on sale, price 199900, stock 1000
	skuOld   = ids.ID(102) // off shelf
)

// fixture is a promotion service over a real database with stand-in ports.
type fixture struct {
	db     *sqldb.DB
	store  *promotiondb.Store
	stock  *stock
	orders *orders
	clock  *clock
	gen    *ids.Generator
	filter promotion.Admission
	svc    *promotion.Service
}

func newFixture(t testing.TB, db *sqldb.DB, filter promotion.Admission) *fixture {
	t.Helper()
	gen, err := ids.NewGenerator(2)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, store: promotiondb.New(db), gen: gen, filter: filter,
		stock:  &stock{available: map[ids.ID]int{skuPhone: 1000, skuOld: 1000}, holds: map[string]int{}, released: map[string]int{}},
		orders: &orders{made: map[ids.ID]promotion.SaleOrder{}, byID: map[ids.ID]promotion.PlacedOrder{}, gen: gen},
		clock:  &clock{t: time.Now().UTC().Truncate(time.Second)},
	}
	f.svc = f.service(filter)
	return f
}

// service is another process over the same database and ports, with its own filter.
func (f *fixture) service(filter promotion.Admission) *promotion.Service {
	concurrency := 1
	if f.db.Dialect == sqldb.MySQL {
		concurrency = 4
	}
	cat := catalog{
		skuPhone: {SKUID: skuPhone, ProductID: 1, Title: "秒杀手机", Image: "/media/p.png", Price: 199900, OnSale: true},
		skuOld:   {SKUID: skuOld, ProductID: 2, Title: "旧款", Price: 100, OnSale: false},
	}
	svc := promotion.NewService(f.store, f.stock, cat, addresses{}, f.orders, filter, f.gen,
		promotion.Config{Claimant: claimant{"me"}, RecordConcurrency: concurrency}, slog.New(slog.DiscardHandler))
	promotion.SetClock(svc, f.clock.now)
	return svc
}

// sale creates a sale of the phone that started a moment ago and runs an hour.
func (f *fixture) sale(t testing.TB, quantity, limit int) promotion.Sale {
	t.Helper()
	now := f.clock.now()
	s, err := f.svc.CreateSale(ctx, "staff:1", promotion.SaleInput{SKUID: skuPhone, Price: 99900, Quantity: quantity,
		PerUserLimit: limit, StartsAt: now.Add(-time.Second), EndsAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) try(sale promotion.Sale, buyer ids.ID, qty int, key string) (promotion.Attempt, bool, error) {
	return f.svc.Admit(ctx, promotion.AttemptInput{SaleID: sale.ID, UserID: buyer, AddressID: buyer + 1, Quantity: qty,
		IdempotencyKey: key, RequestHash: fmt.Sprintf("%s/%d/%d", sale.ID, qty, buyer+1)})
}

func (f *fixture) remaining(t testing.TB, sale promotion.Sale) int {
	t.Helper()
	s, err := f.store.Sale(ctx, sale.ID)
	if err != nil {
		t.Fatal(err)
	}
	return s.Remaining
}

func code(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return "(no code: " + err.Error() + ")"
}

func fields(err error) []string {
	e, _ := errs.As(err)
	if e == nil {
		return nil
	}
	list, _ := e.Details["fields"].([]errs.FieldError)
	var out []string
	for _, fe := range list {
		out = append(out, fe.Field)
	}
	return out
}

func forEachEngine(t *testing.T, fn func(t *testing.T, db *sqldb.DB)) {
	sqldbtest.ForEachEngine(t, []sqldb.Migrations{promotiondb.Migrations}, fn)
}

func TestCreateSale(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, promotion.NewMemoryAdmission())
		now := f.clock.now()
		s := f.sale(t, 10, 2)
		if s.Status != promotion.Scheduled || s.Remaining != 10 || s.Title != "秒杀手机" || s.ListPrice != 199900 || s.Price != 99900 {
			t.Fatalf("sale %+v", s)
		}
		if n, ok := f.stock.held(s.StockRef()); !ok || n != 10 {
			t.Fatalf("held %d %v; want 10 under %s", n, ok, s.StockRef())
		}
		good := promotion.SaleInput{SKUID: skuPhone, Price: 500, Quantity: 5, PerUserLimit: 1,
			StartsAt: now.Add(2 * time.Hour), EndsAt: now.Add(3 * time.Hour)}
		with := func(change func(*promotion.SaleInput)) promotion.SaleInput {
			in := good
			change(&in)
			return in
		}
		for _, c := range []struct {
			name   string
			in     promotion.SaleInput
			code   string
			fields []string
		}{
			{"price 0", with(func(in *promotion.SaleInput) { in.Price = 0 }), "validation_failed", []string{"price"}},
			{"negative price", with(func(in *promotion.SaleInput) { in.Price = -1 }), "validation_failed", []string{"price"}},
			{"limit 0", with(func(in *promotion.SaleInput) { in.PerUserLimit = 0 }), "validation_failed", []string{"per_user_limit"}},
			{"limit over quantity", with(func(in *promotion.SaleInput) { in.PerUserLimit = 6 }), "validation_failed", []string{"per_user_limit"}},
			{"quantity 0", with(func(in *promotion.SaleInput) { in.Quantity = 0 }), "validation_failed", []string{"quantity"}},
			{"start in the past", with(func(in *promotion.SaleInput) { in.StartsAt = now.Add(-time.Hour) }), "validation_failed", []string{"starts_at"}},
			{"end in the past", with(func(in *promotion.SaleInput) { in.StartsAt, in.EndsAt = now, now.Add(-time.Second) }), "validation_failed", []string{"ends_at"}},
			{"reversed", with(func(in *promotion.SaleInput) { in.StartsAt, in.EndsAt = now.Add(3*time.Hour), now.Add(2*time.Hour) }), "validation_failed", []string{"ends_at"}},
			{"no times", with(func(in *promotion.SaleInput) { in.StartsAt, in.EndsAt = time.Time{}, time.Time{} }), "validation_failed", []string{"starts_at", "ends_at"}},
			{"unknown SKU", with(func(in *promotion.SaleInput) { in.SKUID = 999 }), "validation_failed", []string{"sku_id"}},
			{"off shelf", with(func(in *promotion.SaleInput) { in.SKUID = skuOld }), "sku_unavailable", []string{"sku_id"}},
			{"overlapping", with(func(in *promotion.SaleInput) { in.StartsAt, in.EndsAt = now, now.Add(30*time.Minute) }), "flash_sale_overlap", nil},
			{"more than the stock", with(func(in *promotion.SaleInput) { in.Quantity, in.PerUserLimit = 2000, 1 }), "out_of_stock", nil},
		} {
			_, err := f.svc.CreateSale(ctx, "staff:1", c.in)
			if code(err) != c.code || !slices.Equal(fields(err), c.fields) {
				t.Errorf("%s: %v (fields %v); want %s %v", c.name, err, fields(err), c.code, c.fields)
			}
		}
		// The stock refusal names the SKU, and leaves a failed sale that holds nothing.
		_, err := f.svc.CreateSale(ctx, "staff:1", with(func(in *promotion.SaleInput) { in.Quantity, in.PerUserLimit = 2000, 1 }))
		if e, _ := errs.As(err); e == nil || e.Details["skus"] == nil {
			t.Fatalf("out_of_stock without details: %v", err)
		}
		failed, err := f.svc.Sales(ctx, promotion.SaleFilter{Phases: []promotion.Phase{promotion.PhaseFailed}, Limit: 10})
		if err != nil || len(failed) != 2 || failed[0].FailReason != "out_of_stock" || failed[0].SettledAt == nil {
			t.Fatalf("failed sales %+v %v", failed, err)
		}
		// A hold that may or may not have landed: the sale fails, and the sweep releases
		// whatever it may hold.
		f.stock.failHold = errors.New("connection reset")
		_, err = f.svc.CreateSale(ctx, "staff:1", good)
		f.stock.failHold = nil
		if err == nil {
			t.Fatal("created though the hold failed")
		}
		failed, err = f.svc.Sales(ctx, promotion.SaleFilter{Phases: []promotion.Phase{promotion.PhaseFailed}, Limit: 1})
		if err != nil || len(failed) != 1 || failed[0].FailReason != "internal" || failed[0].SettledAt != nil {
			t.Fatalf("sale after a failed hold: %+v", failed)
		}
		if err := f.svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if f.stock.releases(failed[0].StockRef()) != 1 {
			t.Fatal("the sweep did not release the hold of a sale whose hold failed")
		}
		// The failed sales do not block the window.
		if _, err := f.svc.CreateSale(ctx, "staff:1", good); err != nil {
			t.Fatalf("after failed sales: %v", err)
		}
	})
}

func TestAdmit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, promotion.NewMemoryAdmission())
		sale := f.sale(t, 3, 1)
		alice, bob := f.gen.New(), f.gen.New()
		a, replayed, err := f.try(sale, alice, 1, "k1")
		if err != nil || replayed || a.Status != promotion.Accepted || a.SaleID != sale.ID || a.UserID != alice {
			t.Fatalf("first attempt %+v %v %v", a, replayed, err)
		}
		// The same key and request: the same attempt, counted once.
		again, replayed, err := f.try(sale, alice, 1, "k1")
		if err != nil || !replayed || again.ID != a.ID {
			t.Fatalf("replay %+v %v %v", again, replayed, err)
		}
		if f.remaining(t, sale) != 2 {
			t.Fatalf("remaining %d after a replay", f.remaining(t, sale))
		}
		// The same key, another request.
		_, _, err = f.svc.Admit(ctx, promotion.AttemptInput{SaleID: sale.ID, UserID: alice, AddressID: alice + 1, Quantity: 1,
			IdempotencyKey: "k1", RequestHash: "other"})
		if code(err) != "idempotency_key_reused" {
			t.Fatalf("reused key: %v", err)
		}
		if _, _, err := f.try(sale, alice, 1, "k2"); code(err) != "limit_reached" {
			t.Fatalf("over the limit: %v", err)
		}
		if _, _, err := f.try(sale, bob, 2, "b1"); code(err) != "validation_failed" || !slices.Equal(fields(err), []string{"quantity"}) {
			t.Fatalf("quantity over the limit: %v", err)
		}
		for _, key := range []string{"", "é", "with space", string(make([]byte, 65))} {
			if _, _, err := f.try(sale, bob, 1, key); code(err) != "idempotency_key_required" {
				t.Fatalf("key %q: %v", key, err)
			}
		}
		// Another buyer's address: refused, nothing counted.
		_, _, err = f.svc.Admit(ctx, promotion.AttemptInput{SaleID: sale.ID, UserID: bob, AddressID: alice + 1, Quantity: 1,
			IdempotencyKey: "b2", RequestHash: "h"})
		if code(err) != "address_not_found" || f.remaining(t, sale) != 2 {
			t.Fatalf("foreign address: %v, remaining %d", err, f.remaining(t, sale))
		}
		if _, _, err := f.try(sale, bob, 1, "b3"); err != nil {
			t.Fatalf("bob with his own address: %v", err)
		}
		if _, _, err := f.try(sale, f.gen.New(), 1, "c1"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.try(sale, f.gen.New(), 1, "d1"); code(err) != "sold_out" {
			t.Fatalf("sold out: %v", err)
		}
		// The replay of an accepted attempt still answers it once the sale is sold out.
		if again, replayed, err := f.try(sale, alice, 1, "k1"); err != nil || !replayed || again.ID != a.ID {
			t.Fatalf("replay after the sell-out: %+v %v %v", again, replayed, err)
		}
		if _, _, err := f.svc.Admit(ctx, promotion.AttemptInput{SaleID: f.gen.New(), UserID: bob, AddressID: bob + 1, Quantity: 1,
			IdempotencyKey: "x", RequestHash: "h"}); code(err) != "flash_sale_not_found" {
			t.Fatalf("unknown sale: %v", err)
		}
		// Only the buyer reads an attempt.
		if got, err := f.svc.AttemptOf(ctx, alice, a.ID); err != nil || got.ID != a.ID {
			t.Fatalf("own attempt %+v %v", got, err)
		}
		if _, err := f.svc.AttemptOf(ctx, bob, a.ID); code(err) != "flash_attempt_not_found" {
			t.Fatalf("another buyer's attempt: %v", err)
		}

		// Upcoming, ended and cancelled sales refuse attempts.
		now := f.clock.now()
		upcoming, err := f.svc.CreateSale(ctx, "staff:1", promotion.SaleInput{SKUID: skuPhone, Price: 1, Quantity: 5, PerUserLimit: 1,
			StartsAt: now.Add(2 * time.Hour), EndsAt: now.Add(3 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.try(upcoming, bob, 1, "u1"); code(err) != "not_started" {
			t.Fatalf("upcoming: %v", err)
		}
		if _, err := f.svc.CancelSale(ctx, upcoming.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CancelSale(ctx, upcoming.ID); code(err) != "flash_sale_not_cancellable" {
			t.Fatalf("cancelling twice: %v", err)
		}
		if _, _, err := f.try(upcoming, bob, 1, "u2"); code(err) != "sale_cancelled" {
			t.Fatalf("cancelled: %v", err)
		}
		f.clock.advance(time.Hour + time.Second)
		if _, _, err := f.try(sale, f.gen.New(), 1, "e1"); code(err) != "ended" {
			t.Fatalf("ended: %v", err)
		}
		// A retry of an attempt accepted before the end still answers it.
		if again, replayed, err := f.try(sale, alice, 1, "k1"); err != nil || !replayed || again.ID != a.ID {
			t.Fatalf("replay after the end: %+v %v %v", again, replayed, err)
		}
	})
}

// attemptStorm sends tries attempts from each of buyers at once, against svcs in turn (as
// if several processes served them); midway it calls forget (the filter loses its state).
// It returns the accepted attempts, failing the test on any answer but an acceptance or a
// refusal.
func attemptStorm(t *testing.T, f *fixture, sale promotion.Sale, svcs []*promotion.Service, buyers, tries int, forget func()) []promotion.Attempt {
	users := make([]ids.ID, buyers)
	for i := range users {
		users[i] = f.gen.New()
	}
	var mu sync.Mutex
	var accepted []promotion.Attempt
	var answered atomic.Int64
	var once sync.Once
	var wg sync.WaitGroup
	for i := range buyers * tries {
		wg.Go(func() {
			svc := svcs[i%len(svcs)]
			user := users[i%buyers]
			a, _, err := svc.Admit(ctx, promotion.AttemptInput{SaleID: sale.ID, UserID: user, AddressID: user + 1, Quantity: 1,
				IdempotencyKey: fmt.Sprintf("storm-%d", i), RequestHash: fmt.Sprintf("h%d", i)})
			switch {
			case err == nil:
				mu.Lock()
				accepted = append(accepted, a)
				mu.Unlock()
			case code(err) != "sold_out" && code(err) != "limit_reached":
				t.Errorf("attempt %d: %v", i, err)
			}
			if answered.Add(1) == int64(buyers*tries/2) && forget != nil {
				once.Do(forget)
			}
		})
	}
	wg.Wait()
	return accepted
}

func checkStorm(t *testing.T, f *fixture, sale promotion.Sale, accepted []promotion.Attempt) {
	t.Helper()
	per := map[ids.ID]int{}
	for _, a := range accepted {
		per[a.UserID]++
		if per[a.UserID] > sale.PerUserLimit {
			t.Fatalf("buyer %s has %d attempts, over the limit", a.UserID, per[a.UserID])
		}
	}
	var rows int
	if err := f.db.Read().QueryRowContext(ctx, "SELECT COUNT(*) FROM flash_attempts WHERE sale_id = ?", sale.ID).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if len(accepted) != sale.Quantity || rows != sale.Quantity || f.remaining(t, sale) != 0 {
		t.Fatalf("accepted %d, rows %d, remaining %d; want %d, %d, 0", len(accepted), rows, f.remaining(t, sale), sale.Quantity, sale.Quantity)
	}
}

// The database decides: however the filter behaves — forgetting everything mid-sale (a
// flushed Redis), or several processes each with its own (the in-process filter) — exactly
// the sale's quantity is accepted and no buyer passes the limit.
func TestAttemptStormNeverOversells(t *testing.T) {
	t.Run("memory, two processes", func(t *testing.T) {
		forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
			f := newFixture(t, db, promotion.NewMemoryAdmission())
			sale := f.sale(t, 50, 1)
			second := f.service(promotion.NewMemoryAdmission())
			checkStorm(t, f, sale, attemptStorm(t, f, sale, []*promotion.Service{f.svc, second}, 200, 3, nil))
		})
	})
	t.Run("redis flushed midway", func(t *testing.T) {
		forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
			client, prefix := testRedis(t)
			f := newFixture(t, db, promotion.NewRedisAdmission(client, prefix))
			sale := f.sale(t, 50, 1)
			second := f.service(promotion.NewRedisAdmission(client, prefix))
			checkStorm(t, f, sale, attemptStorm(t, f, sale, []*promotion.Service{f.svc, second}, 200, 3,
				func() { deleteKeys(t, client, prefix) }))
		})
	})
}

// With the filter down (Redis unreachable), the database decides every attempt alone: the
// sale still sells exactly what it holds.
func TestFilterDownTheDatabaseDecides(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 50 * time.Millisecond, MaxRetries: -1})
		t.Cleanup(func() { down.Close() })
		f := newFixture(t, db, promotion.NewRedisAdmission(down, "down:"))
		sale := f.sale(t, 20, 1)
		checkStorm(t, f, sale, attemptStorm(t, f, sale, []*promotion.Service{f.svc}, 60, 2, nil))
	})
}

// A filter behind the database (units given back without it hearing) is caught up by the
// sold-out check instead of underselling.
func TestSoldOutFilterCatchesUp(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		filter := promotion.NewMemoryAdmission()
		f := newFixture(t, db, filter)
		sale := f.sale(t, 1, 1)
		first, _, err := f.try(sale, f.gen.New(), 1, "a")
		if err != nil {
			t.Fatal(err)
		}
		// The unit goes back in the database only (as if the filter's give-back was lost).
		if _, failed, err := f.store.FailAttempt(ctx, first.ID, "test", f.clock.now()); err != nil || !failed {
			t.Fatal(failed, err)
		}
		buyer := f.gen.New()
		if _, _, err := f.try(sale, buyer, 1, "b"); err != nil {
			t.Fatalf("a unit back in the database is sold: %v", err)
		}
		if _, _, err := f.try(sale, f.gen.New(), 1, "c"); code(err) != "sold_out" {
			t.Fatalf("then sold out: %v", err)
		}
	})
}

func TestOrderWorker(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, promotion.NewMemoryAdmission())
		sale := f.sale(t, 3, 1)
		alice, bob, carol := f.gen.New(), f.gen.New(), f.gen.New()
		a, _, err := f.try(sale, alice, 1, "a")
		if err != nil {
			t.Fatal(err)
		}
		if n, err := f.svc.MakeOrders(ctx); err != nil || n != 1 {
			t.Fatalf("MakeOrders = %d, %v", n, err)
		}
		got, _ := f.svc.AttemptOf(ctx, alice, a.ID)
		made := f.orders.made[a.ID]
		if got.Status != promotion.Ordered || got.OrderID != f.orders.byID[a.ID].ID ||
			made != (promotion.SaleOrder{AttemptID: a.ID, SaleID: sale.ID, UserID: alice, SKUID: skuPhone, AddressID: alice + 1,
				Quantity: 1, UnitPrice: money.Fen(99900), StockRef: sale.StockRef()}) {
			t.Fatalf("ordered attempt %+v from %+v", got, made)
		}
		// A refusal that may pass (the order module down): tried again later.
		b, _, err := f.try(sale, bob, 1, "b")
		if err != nil {
			t.Fatal(err)
		}
		f.orders.setRefuse(errs.New(errs.Unavailable, "dependency_unavailable", "down"))
		if _, err := f.svc.MakeOrders(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.svc.AttemptOf(ctx, bob, b.ID); got.Status != promotion.Accepted || got.Tries != 1 {
			t.Fatalf("after a passing refusal %+v", got)
		}
		if n, _ := f.svc.MakeOrders(ctx); n != 0 {
			t.Fatalf("tried again at once: %d", n)
		}
		// A refusal that is the answer: the attempt fails and its unit goes back.
		f.orders.setRefuse(errs.New(errs.Conflict, "sku_unavailable", "off shelf"))
		f.clock.advance(2 * time.Second)
		if n, err := f.svc.MakeOrders(ctx); err != nil || n != 1 {
			t.Fatalf("MakeOrders = %d, %v", n, err)
		}
		if got, _ := f.svc.AttemptOf(ctx, bob, b.ID); got.Status != promotion.AttemptFailed || got.Reason != "sku_unavailable" {
			t.Fatalf("after a refusal %+v", got)
		}
		if f.remaining(t, sale) != 2 {
			t.Fatalf("remaining %d; want the failed unit back", f.remaining(t, sale))
		}
		// The buyer's count went back too, in the database and the filter.
		f.orders.setRefuse(nil)
		if _, _, err := f.try(sale, bob, 1, "b2"); err != nil {
			t.Fatalf("bob again: %v", err)
		}
		if _, _, err := f.try(sale, carol, 1, "c"); err != nil {
			t.Fatalf("carol: %v", err)
		}
		if _, err := f.svc.MakeOrders(ctx); err != nil {
			t.Fatal(err)
		}
		if len(f.orders.made) != 3 {
			t.Fatalf("%d orders made, want 3", len(f.orders.made))
		}
	})
}

// The worker wakes as soon as attempts are accepted; polling is only the fallback.
func TestOrderWorkerWakesOnAcceptance(t *testing.T) {
	f := newFixture(t, sqldbtest.SQLite(t, promotiondb.Migrations), promotion.NewMemoryAdmission())
	sale := f.sale(t, 5, 1)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f.svc.RunOrderWorker(runCtx, time.Hour) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	buyer := f.gen.New()
	a, _, err := f.try(sale, buyer, 1, "w")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := f.svc.AttemptOf(ctx, buyer, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == promotion.Ordered {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("attempt still %s after 5s with an hourly poll", got.Status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSweep(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, promotion.NewMemoryAdmission())
		sale := f.sale(t, 3, 1)
		if _, _, err := f.try(sale, f.gen.New(), 1, "a"); err != nil {
			t.Fatal(err)
		}
		// At the end the sale stops, but settles only once its accepted attempt has its order.
		f.clock.advance(time.Hour)
		if err := f.svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Sale(ctx, sale.ID)
		if err != nil || got.Status != promotion.Ended || got.SettledAt != nil || f.stock.releases(sale.StockRef()) != 0 {
			t.Fatalf("after the end: %+v, releases %d", got, f.stock.releases(sale.StockRef()))
		}
		if _, err := f.svc.MakeOrders(ctx); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err = f.svc.Sale(ctx, sale.ID); err != nil {
			t.Fatal(err)
		}
		if got.SettledAt == nil || f.stock.releases(sale.StockRef()) != 1 {
			t.Fatalf("after the order: %+v, releases %d", got, f.stock.releases(sale.StockRef()))
		}
		if err := f.svc.Sweep(ctx); err != nil || f.stock.releases(sale.StockRef()) != 1 {
			t.Fatalf("settled twice: %v, releases %d", err, f.stock.releases(sale.StockRef()))
		}

		// A creator that died between recording the sale and holding its stock: the sweep
		// finishes the hold once the sale has waited long enough.
		now := f.clock.now()
		orphan := promotion.Sale{ID: f.gen.New(), SKUID: skuPhone, ProductID: 1, Title: "t", Price: 1, ListPrice: 2, Quantity: 4,
			Remaining: 4, PerUserLimit: 1, StartsAt: now, EndsAt: now.Add(time.Hour), Status: promotion.Holding,
			CreatedBy: "staff:1", CreatedAt: now, UpdatedAt: now}
		if err := f.store.CreateSale(ctx, orphan); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.svc.Sale(ctx, orphan.ID); got.Status != promotion.Holding {
			t.Fatalf("finished while its creator may still be at it: %s", got.Status)
		}
		f.clock.advance(time.Minute)
		if err := f.svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.svc.Sale(ctx, orphan.ID); got.Status != promotion.Scheduled {
			t.Fatalf("orphan sale %s", got.Status)
		}
		if n, ok := f.stock.held(orphan.StockRef()); !ok || n != 4 {
			t.Fatalf("orphan hold %d %v", n, ok)
		}
		// A cancelled sale settles at once when nothing is waiting.
		if _, err := f.svc.CancelSale(ctx, orphan.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Sweep(ctx); err != nil || f.stock.releases(orphan.StockRef()) != 1 {
			t.Fatalf("cancelled sale: %v, releases %d", err, f.stock.releases(orphan.StockRef()))
		}
	})
}

func cancelled(t *testing.T, gen *ids.Generator, orderID ids.ID) events.Event {
	t.Helper()
	e, err := events.New(gen.New(), orderevents.TypeCancelled, orderID.String(), orderevents.Changed{OrderID: orderID, OrderNo: "1",
		UserID: gen.New(), Status: orderevents.Cancelled})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestCancelledOrderGivesBack(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, promotion.NewMemoryAdmission())
		sale := f.sale(t, 1, 1)
		alice := f.gen.New()
		a, _, err := f.try(sale, alice, 1, "a")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.MakeOrders(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.try(sale, f.gen.New(), 1, "b"); code(err) != "sold_out" {
			t.Fatalf("before the cancel: %v", err)
		}
		ev := cancelled(t, f.gen, f.orders.byID[a.ID].ID)
		for range 2 { // at-least-once: a redelivery gives back nothing more
			if err := f.svc.HandleEvent(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		if f.remaining(t, sale) != 1 {
			t.Fatalf("remaining %d after the cancel, want 1", f.remaining(t, sale))
		}
		bob := f.gen.New()
		b, _, err := f.try(sale, bob, 1, "b2")
		if err != nil {
			t.Fatalf("the returned unit is sold again: %v", err)
		}
		// Alice may try again too: her count went back (the unit is bob's now).
		if _, _, err := f.try(sale, alice, 1, "a2"); code(err) != "sold_out" {
			t.Fatalf("alice again: %v", err)
		}
		// Orders of no sale, unreadable payloads and other events are ignored.
		for _, e := range []events.Event{cancelled(t, f.gen, f.gen.New()), {ID: 1, Type: orderevents.TypeCancelled, Payload: []byte(`"x"`)},
			{ID: 2, Type: orderevents.TypePaid, Payload: []byte(`{}`)}} {
			if err := f.svc.HandleEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		// After the sale's end, a cancelled order gives nothing back (the settlement returns
		// the stock to available instead).
		if _, err := f.svc.MakeOrders(ctx); err != nil {
			t.Fatal(err)
		}
		f.clock.advance(time.Hour)
		if err := f.svc.HandleEvent(ctx, cancelled(t, f.gen, f.orders.byID[b.ID].ID)); err != nil {
			t.Fatal(err)
		}
		if f.remaining(t, sale) != 0 {
			t.Fatalf("remaining %d after a cancel past the end", f.remaining(t, sale))
		}
	})
}

// A process that made an attempt's order and died before marking the attempt leaves an order
// no attempt names; cancelled meanwhile, its cancellation finds nothing to give back. The
// retry gets the cancelled order back and gives its units back itself, once.
func TestOrderCancelledBeforeItsAttemptWasMarked(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, promotion.NewMemoryAdmission())
		sale := f.sale(t, 1, 1)
		alice := f.gen.New()
		a, _, err := f.try(sale, alice, 1, "a")
		if err != nil {
			t.Fatal(err)
		}
		orderID := f.gen.New()
		f.orders.byID[a.ID] = promotion.PlacedOrder{ID: orderID, OrderNo: "2030" + orderID.String(), Cancelled: true}
		ev := cancelled(t, f.gen, orderID)
		if err := f.svc.HandleEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
		if f.remaining(t, sale) != 0 {
			t.Fatalf("remaining %d before the retry, want 0", f.remaining(t, sale))
		}
		if n, err := f.svc.MakeOrders(ctx); err != nil || n != 1 {
			t.Fatalf("MakeOrders = %d, %v", n, err)
		}
		got, err := f.svc.AttemptOf(ctx, alice, a.ID)
		if err != nil || got.Status != promotion.Ordered || got.OrderID != orderID || got.ReturnedAt == nil {
			t.Fatalf("attempt %+v, %v; want ordered with its units returned", got, err)
		}
		if err := f.svc.HandleEvent(ctx, ev); err != nil { // the cancellation again: nothing more
			t.Fatal(err)
		}
		if f.remaining(t, sale) != 1 {
			t.Fatalf("remaining %d, want the cancelled order's unit back once", f.remaining(t, sale))
		}
		if _, _, err := f.try(sale, alice, 1, "a2"); err != nil {
			t.Fatalf("alice's count went back too, yet: %v", err)
		}
	})
}
