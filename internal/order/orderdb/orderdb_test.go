package orderdb_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/order"
	"github.com/minimart/minimart/internal/order/orderdb"
	"github.com/minimart/minimart/internal/order/orderevents"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

var ctx = context.Background()

// TestStoreConformance runs the same behaviour checks on SQLite and MariaDB.
func TestStoreConformance(t *testing.T) {
	sets := []sqldb.Migrations{events.OutboxMigrations, orderdb.Migrations}
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		gen, err := ids.NewGenerator(5)
		if err != nil {
			t.Fatal(err)
		}
		h := &harness{db: db, store: orderdb.New(db, events.NewOutbox()), gen: gen,
			base: time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)}
		t.Run("round trip", h.roundTrip)
		t.Run("unique order number", h.uniqueOrderNo)
		t.Run("idempotency keys", h.idempotency)
		t.Run("concurrent claims", h.concurrentClaims)
		t.Run("batches", h.batches)
		t.Run("update", h.update)
		t.Run("concurrent updates", h.concurrentUpdates)
		t.Run("due", h.due)
		t.Run("placed", h.placed)
		t.Run("summary", h.summary)
		t.Run("lists", h.lists) // last: it counts every order the other subtests made
	})
}

type harness struct {
	db    *sqldb.DB
	store *orderdb.Store
	gen   *ids.Generator
	base  time.Time

	mu  sync.Mutex
	seq int
}

// at is a fixed instant, minutes after the harness base, with microseconds so that
// precision loss would show.
func (h *harness) at(minutes int) time.Time {
	return h.base.Add(time.Duration(minutes)*time.Minute + 123456*time.Microsecond)
}

func (h *harness) orderNo() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	return fmt.Sprintf("20250301%012d", h.seq)
}

// newOrder builds a pending order of two lines placed at created.
func (h *harness) newOrder(userID ids.ID, created time.Time) order.Order {
	return order.Order{
		ID: h.gen.New(), OrderNo: h.orderNo(), UserID: userID, Status: order.PendingPayment,
		Lines: []order.Line{
			{SKUID: h.gen.New(), ProductID: h.gen.New(), Title: "华为 Mate 60 手机'); DROP TABLE orders;--",
				Specs: map[string]string{"颜色": "黑", "容量": "512G"}, Image: "/media/a.jpg",
				UnitPrice: 599900, Quantity: 2, LineTotal: 1199800},
			{SKUID: h.gen.New(), ProductID: h.gen.New(), Title: "手机壳", Specs: map[string]string{},
				UnitPrice: 1990, Quantity: 1, LineTotal: 1990},
		},
		ItemsTotal: 1201790, ShippingFee: 1000, Payable: 1202790, Remark: "请尽快发货 😀",
		Address: order.AddressSnapshot{Recipient: "张三", Phone: "13800000000", Province: "广东省", City: "深圳市",
			District: "南山区", Detail: `科技园 "1" 号 \ 101`},
		PayDeadline: created.Add(30 * time.Minute), CreatedAt: created, UpdatedAt: created,
	}
}

func (h *harness) event(t *testing.T, typ string, o order.Order) events.Event {
	t.Helper()
	ev, err := events.New(h.gen.New(), typ, o.ID.String(), orderevents.Changed{OrderID: o.ID, OrderNo: o.OrderNo,
		UserID: o.UserID, Status: o.Status, Payable: o.Payable})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func created(o order.Order) order.Transition {
	return order.Transition{To: order.PendingPayment, Actor: "buyer", Reason: "placed", CreatedAt: o.CreatedAt}
}

func (h *harness) create(t *testing.T, o order.Order) order.Order {
	t.Helper()
	if err := h.store.Create(ctx, o, created(o), "", h.event(t, orderevents.TypeCreated, o)); err != nil {
		t.Fatalf("create order: %v", err)
	}
	return o
}

func (h *harness) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := h.db.Read().QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (h *harness) outboxRows(t *testing.T, o order.Order) int {
	t.Helper()
	return h.count(t, "SELECT COUNT(*) FROM outbox_events WHERE event_key = ?", o.ID.String())
}

func (h *harness) historyRows(t *testing.T, o order.Order) int {
	t.Helper()
	return h.count(t, "SELECT COUNT(*) FROM order_history WHERE order_id = ?", o.ID)
}

func tp(t time.Time) *time.Time { return &t }

func sameOrder(t *testing.T, what string, got, want order.Order) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func (h *harness) roundTrip(t *testing.T) {
	buyer, other := h.gen.New(), h.gen.New()
	o := h.create(t, h.newOrder(buyer, h.at(0)))
	if n := h.outboxRows(t, o); n != 1 {
		t.Fatalf("outbox rows after create = %d, want 1", n)
	}

	got, err := h.store.Order(ctx, o.ID, buyer)
	if err != nil {
		t.Fatal(err)
	}
	sameOrder(t, "order read by its buyer", got, o)
	if got.PaidAt != nil || got.ShippedAt != nil || got.CompletedAt != nil || got.CancelledAt != nil || got.AutoCompleteAt != nil {
		t.Fatalf("unset times came back set: %+v", got)
	}
	if got, err := h.store.Order(ctx, o.ID, 0); err != nil || got.ID != o.ID {
		t.Fatalf("staff read (user 0) = %v, %v", got.ID, err)
	}
	if _, err := h.store.Order(ctx, o.ID, other); !errors.Is(err, order.ErrOrderNotFound) {
		t.Fatalf("another buyer's order: err = %v, want ErrOrderNotFound", err)
	}
	if _, err := h.store.Order(ctx, h.gen.New(), 0); !errors.Is(err, order.ErrOrderNotFound) {
		t.Fatalf("unknown order: err = %v, want ErrOrderNotFound", err)
	}

	// Every optional field set, in a zone other than UTC: it comes back in UTC, the same instant.
	shanghai := time.FixedZone("CST", 8*3600)
	full := h.newOrder(buyer, h.at(1).In(shanghai))
	full.Status = order.Completed
	full.Lines = full.Lines[:1]
	full.Lines[0].Specs = nil
	full.PaidAt, full.ShippedAt, full.CompletedAt = tp(h.at(2).In(shanghai)), tp(h.at(3)), tp(h.at(4))
	full.CancelledAt, full.AutoCompleteAt = tp(h.at(5)), tp(h.at(6))
	full.Carrier, full.TrackingNo, full.StaffNote = "顺丰", "SF1234567890", "VIP 客户"
	full.UpdatedAt = h.at(7)
	h.create(t, full)
	got, err = h.store.Order(ctx, full.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := full
	want.CreatedAt, want.PayDeadline, want.PaidAt = full.CreatedAt.UTC(), full.PayDeadline.UTC(), tp(full.PaidAt.UTC())
	sameOrder(t, "order with every field", got, want)

	hist, err := h.store.History(ctx, o.ID)
	if err != nil || len(hist) != 1 || !reflect.DeepEqual(hist[0], created(o)) {
		t.Fatalf("history of a new order = %+v, %v; want the creation row", hist, err)
	}
	if hist, err := h.store.History(ctx, h.gen.New()); err != nil || len(hist) != 0 {
		t.Fatalf("history of an unknown order = %+v, %v", hist, err)
	}
}

func (h *harness) uniqueOrderNo(t *testing.T) {
	buyer := h.gen.New()
	first := h.create(t, h.newOrder(buyer, h.at(10)))
	dup := h.newOrder(buyer, h.at(11))
	dup.OrderNo = first.OrderNo
	if _, _, err := h.store.ClaimKey(ctx, order.Idempotency{UserID: buyer, Key: "dup", RequestHash: hash('d')}); err != nil {
		t.Fatal(err)
	}
	err := h.store.Create(ctx, dup, created(dup), "dup", h.event(t, orderevents.TypeCreated, dup))
	if err == nil || !sqldb.IsUniqueViolation(err) {
		t.Fatalf("second order with number %s: err = %v, want a unique violation", first.OrderNo, err)
	}
	if _, err := h.store.Order(ctx, dup.ID, 0); !errors.Is(err, order.ErrOrderNotFound) {
		t.Fatalf("refused order is readable: %v", err)
	}
	lines := h.count(t, "SELECT COUNT(*) FROM order_lines WHERE order_id = ?", dup.ID)
	if lines != 0 || h.historyRows(t, dup) != 0 || h.outboxRows(t, dup) != 0 {
		t.Fatalf("refused order left lines %d, history %d, outbox %d", lines, h.historyRows(t, dup), h.outboxRows(t, dup))
	}
	k, claimed, err := h.store.ClaimKey(ctx, order.Idempotency{UserID: buyer, Key: "dup", RequestHash: hash('x')})
	if err != nil || claimed || k.OrderID != 0 || k.RequestHash != hash('d') {
		t.Fatalf("claim after a refused create = %+v, %v, %v; want it still in progress", k, claimed, err)
	}
}

// batches: a group-committed batch answers each order its own (one whose claim is gone is
// refused, its neighbours stored), claims in one batch answer each key (a repeat within the
// batch sees the first), and a batch whose transaction fails stores nothing.
func (h *harness) batches(t *testing.T) {
	buyer := h.gen.New()
	claims, err := h.store.ClaimKeys(ctx, []order.Idempotency{
		{UserID: buyer, Key: "b1", RequestHash: hash('1')},
		{UserID: buyer, Key: "b2", RequestHash: hash('2')},
		{UserID: buyer, Key: "b1", RequestHash: hash('9')},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !claims[0].Value.Claimed || !claims[1].Value.Claimed || claims[2].Value.Claimed || claims[2].Value.Existing.RequestHash != hash('1') {
		t.Fatalf("claims %+v: the repeat of b1 must see the first claim", claims)
	}
	if err := h.store.DropKey(ctx, claims[1].Value.Existing); err != nil {
		t.Fatal(err)
	}
	kept, lost, unkeyed := h.newOrder(buyer, h.at(20)), h.newOrder(buyer, h.at(21)), h.newOrder(buyer, h.at(22))
	batch := []order.NewOrder{
		{Order: kept, Transition: created(kept), Key: "b1", Event: h.event(t, orderevents.TypeCreated, kept)},
		{Order: lost, Transition: created(lost), Key: "b2", Event: h.event(t, orderevents.TypeCreated, lost)},
		{Order: unkeyed, Transition: created(unkeyed), Event: h.event(t, orderevents.TypeCreated, unkeyed)},
	}
	res, err := h.store.CreateBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[1].Err == nil || res[2].Err != nil {
		t.Fatalf("answers %+v: only the order whose claim was dropped is refused", res)
	}
	for _, o := range []order.Order{kept, unkeyed} {
		got, err := h.store.Order(ctx, o.ID, buyer)
		if err != nil || h.historyRows(t, o) != 1 || h.outboxRows(t, o) != 1 {
			t.Fatalf("order %s: %v, history %d, outbox %d", o.OrderNo, err, h.historyRows(t, o), h.outboxRows(t, o))
		}
		sameOrder(t, "batched order", got, o)
	}
	if _, err := h.store.Order(ctx, lost.ID, 0); !errors.Is(err, order.ErrOrderNotFound) || h.outboxRows(t, lost) != 0 {
		t.Fatalf("the refused order was stored: %v", err)
	}
	if k, found, err := h.store.Key(ctx, buyer, "b1"); err != nil || !found || k.OrderID != kept.ID {
		t.Fatalf("b1 = %+v %v %v, want completed with the kept order", k, found, err)
	}

	// A failing statement (an order number taken) fails the whole batch: its other order and
	// its claim completion are not stored either.
	if _, claimed, err := h.store.ClaimKey(ctx, order.Idempotency{UserID: buyer, Key: "b3", RequestHash: hash('3')}); err != nil || !claimed {
		t.Fatal(claimed, err)
	}
	fine, clash := h.newOrder(buyer, h.at(23)), h.newOrder(buyer, h.at(24))
	clash.OrderNo = kept.OrderNo
	_, err = h.store.CreateBatch(ctx, []order.NewOrder{
		{Order: fine, Transition: created(fine), Key: "b3", Event: h.event(t, orderevents.TypeCreated, fine)},
		{Order: clash, Transition: created(clash), Event: h.event(t, orderevents.TypeCreated, clash)},
	})
	if !sqldb.IsUniqueViolation(err) {
		t.Fatalf("batch with a taken order number: %v, want the unique violation for the whole batch", err)
	}
	if _, err := h.store.Order(ctx, fine.ID, 0); !errors.Is(err, order.ErrOrderNotFound) || h.outboxRows(t, fine) != 0 || h.historyRows(t, fine) != 0 {
		t.Fatalf("half a failed batch was stored: %v", err)
	}
	if k, _, _ := h.store.Key(ctx, buyer, "b3"); k.OrderID != 0 {
		t.Fatalf("the failed batch completed claim b3: %+v", k)
	}
}

func hash(c byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

func (h *harness) idempotency(t *testing.T) {
	buyer, other := h.gen.New(), h.gen.New()
	at := h.at(20)
	k := order.Idempotency{UserID: buyer, Key: "Key-1", RequestHash: hash('a'), CreatedAt: at, ClaimedBy: "instance-1"}
	got, claimed, err := h.store.ClaimKey(ctx, k)
	if err != nil || !claimed || got != k {
		t.Fatalf("first claim = %+v, %v, %v; want %+v claimed", got, claimed, err, k)
	}
	got, claimed, err = h.store.ClaimKey(ctx, order.Idempotency{UserID: buyer, Key: "Key-1", RequestHash: hash('b')})
	if err != nil || claimed || got != k {
		t.Fatalf("second claim = %+v, %v, %v; want the first claim, not claimed", got, claimed, err)
	}
	// Keys are per buyer and compared byte for byte.
	for _, other := range []order.Idempotency{
		{UserID: other, Key: "Key-1", RequestHash: hash('c')},
		{UserID: buyer, Key: "key-1", RequestHash: hash('c')},
		{UserID: buyer, Key: "Key-1 ", RequestHash: hash('c')},
	} {
		if _, claimed, err := h.store.ClaimKey(ctx, other); err != nil || !claimed {
			t.Fatalf("claim of %q for user %d = %v, %v; want a separate claim", other.Key, other.UserID, claimed, err)
		}
	}

	// Create completes the claim in the same transaction.
	o := h.newOrder(buyer, h.at(21))
	if err := h.store.Create(ctx, o, created(o), "Key-1", h.event(t, orderevents.TypeCreated, o)); err != nil {
		t.Fatal(err)
	}
	got, claimed, err = h.store.ClaimKey(ctx, order.Idempotency{UserID: buyer, Key: "Key-1", RequestHash: hash('a')})
	if err != nil || claimed || got.OrderID != o.ID || got.RequestHash != hash('a') {
		t.Fatalf("claim after create = %+v, %v, %v; want the completed claim with order %d", got, claimed, err, o.ID)
	}
	// A completed claim cannot complete another order, and DropKey leaves it.
	again := h.newOrder(buyer, h.at(22))
	if err := h.store.Create(ctx, again, created(again), "Key-1", h.event(t, orderevents.TypeCreated, again)); err == nil {
		t.Fatal("a second order completed an already completed claim")
	}
	if err := h.store.DropKey(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := h.store.ClaimKey(ctx, order.Idempotency{UserID: buyer, Key: "Key-1", RequestHash: hash('z')}); got.OrderID != o.ID {
		t.Fatalf("DropKey removed a completed claim: %+v", got)
	}
	// A key never claimed cannot be completed: the whole create is refused.
	if err := h.store.Create(ctx, again, created(again), "never-claimed", h.event(t, orderevents.TypeCreated, again)); err == nil {
		t.Fatal("create completed a key that was never claimed")
	}
	if _, err := h.store.Order(ctx, again.ID, 0); !errors.Is(err, order.ErrOrderNotFound) || h.outboxRows(t, again) != 0 {
		t.Fatalf("refused create left an order (%v) or %d outbox rows", err, h.outboxRows(t, again))
	}

	// DropKey frees an in-progress claim for a retry, but only the claim it names: a newer
	// claim of the key (another retry took it over) stays.
	held, found, err := h.store.Key(ctx, other, "Key-1")
	if err != nil || !found || held.OrderID != 0 || held.ClaimedBy != "" {
		t.Fatalf("in-progress claim = %+v, %v, %v", held, found, err)
	}
	stale := held
	stale.CreatedAt = held.CreatedAt.Add(-time.Second)
	if err := h.store.DropKey(ctx, stale); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := h.store.Key(ctx, other, "Key-1"); !found {
		t.Fatal("DropKey of an older claim removed the current one")
	}
	if err := h.store.DropKey(ctx, held); err != nil {
		t.Fatal(err)
	}
	if _, claimed, err := h.store.ClaimKey(ctx, order.Idempotency{UserID: other, Key: "Key-1", RequestHash: hash('e')}); err != nil || !claimed {
		t.Fatalf("claim after drop = %v, %v; want claimed", claimed, err)
	}
	if err := h.store.DropKey(ctx, order.Idempotency{UserID: other, Key: "no-such-key", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	// Key reads claims without writing.
	if k, found, err := h.store.Key(ctx, buyer, "Key-1"); err != nil || !found || k.OrderID != o.ID || k.RequestHash != hash('a') {
		t.Fatalf("Key = %+v, %v, %v; want the completed claim", k, found, err)
	}
	if _, found, err := h.store.Key(ctx, buyer, "no-such-key"); err != nil || found {
		t.Fatalf("Key of an unknown key = %v, %v", found, err)
	}
}

func (h *harness) concurrentClaims(t *testing.T) {
	buyer := h.gen.New()
	const n = 20
	type result struct {
		k       order.Idempotency
		claimed bool
		err     error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			k, claimed, err := h.store.ClaimKey(ctx, order.Idempotency{UserID: buyer, Key: "same", RequestHash: hash(byte('A' + i))})
			results[i] = result{k, claimed, err}
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("claim %d: %v", i, r.err)
		}
		if r.claimed {
			if winner >= 0 {
				t.Fatalf("claims %d and %d both won", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no claim won")
	}
	for i, r := range results {
		if r.k.RequestHash != hash(byte('A'+winner)) || r.k.UserID != buyer || r.k.Key != "same" || r.k.OrderID != 0 {
			t.Fatalf("claim %d saw %+v; want the winner's (%d) claim", i, r.k, winner)
		}
	}
	if c := h.count(t, "SELECT COUNT(*) FROM order_idempotency WHERE user_id = ?", buyer); c != 1 {
		t.Fatalf("%d claim rows, want 1", c)
	}
}

func (h *harness) update(t *testing.T) {
	buyer := h.gen.New()
	o := h.create(t, h.newOrder(buyer, h.at(30)))

	// A failing fn changes nothing, records nothing, publishes nothing.
	boom := errors.New("boom")
	if _, err := h.store.Update(ctx, o.ID, func(x *order.Order) (order.Transition, *events.Event, error) {
		x.Status, x.StaffNote, x.PaidAt = order.Paid, "changed", tp(h.at(31))
		ev := h.event(t, orderevents.TypePaid, *x)
		return order.Transition{To: order.Paid, Actor: "system"}, &ev, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("failing fn: err = %v, want boom", err)
	}
	got, _ := h.store.Order(ctx, o.ID, 0)
	sameOrder(t, "order after a failed update", got, o)
	if h.historyRows(t, o) != 1 || h.outboxRows(t, o) != 1 {
		t.Fatalf("failed update wrote history (%d rows) or outbox (%d rows)", h.historyRows(t, o), h.outboxRows(t, o))
	}

	// A note-only update saves the note and records no transition.
	noted, err := h.store.Update(ctx, o.ID, func(x *order.Order) (order.Transition, *events.Event, error) {
		x.StaffNote = "客户要求周末送货"
		return order.Transition{}, nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if noted.StaffNote != "客户要求周末送货" || noted.Status != order.PendingPayment || !noted.UpdatedAt.After(o.UpdatedAt) {
		t.Fatalf("note update returned %+v", noted)
	}
	got, _ = h.store.Order(ctx, o.ID, 0)
	sameOrder(t, "order after a note update", got, noted)
	if h.historyRows(t, o) != 1 || h.outboxRows(t, o) != 1 {
		t.Fatalf("note update wrote history (%d rows) or outbox (%d rows)", h.historyRows(t, o), h.outboxRows(t, o))
	}

	// A transition saves every mutable column, its history row and its event.
	paidAt := h.at(32)
	paid, err := h.store.Update(ctx, o.ID, func(x *order.Order) (order.Transition, *events.Event, error) {
		x.Status, x.PaidAt, x.UpdatedAt = order.Paid, &paidAt, paidAt
		ev := h.event(t, orderevents.TypePaid, *x)
		return order.Transition{To: order.Paid, Actor: "payment", Reason: "wechat 4200001"}, &ev, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	shipAt := h.at(40)
	shipped, err := h.store.Update(ctx, o.ID, func(x *order.Order) (order.Transition, *events.Event, error) {
		x.Status, x.ShippedAt, x.AutoCompleteAt = order.Shipped, &shipAt, tp(shipAt.Add(7*24*time.Hour))
		x.Carrier, x.TrackingNo, x.UpdatedAt = "顺丰", "SF0001", shipAt
		x.Remark, x.Address.Detail = "改了备注", "新地址"
		ev := h.event(t, orderevents.TypeShipped, *x)
		x.ID, x.OrderNo, x.Lines = 42, "changed", nil // fixed columns: ignored
		return order.Transition{From: order.Paid, To: order.Shipped, Actor: "staff:7", Reason: "shipped", CreatedAt: shipAt}, &ev, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := noted
	want.Status, want.PaidAt, want.ShippedAt, want.AutoCompleteAt = order.Shipped, &paidAt, &shipAt, tp(shipAt.Add(7*24*time.Hour))
	want.Carrier, want.TrackingNo, want.UpdatedAt, want.Remark, want.Address.Detail = "顺丰", "SF0001", shipAt, "改了备注", "新地址"
	sameOrder(t, "Update's result", shipped, want)
	got, _ = h.store.Order(ctx, o.ID, buyer)
	sameOrder(t, "order after shipping", got, want)
	if paid.Status != order.Paid || h.outboxRows(t, o) != 3 {
		t.Fatalf("paid = %+v, outbox rows %d, want 3", paid.Status, h.outboxRows(t, o))
	}
	hist, err := h.store.History(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantHist := []order.Transition{
		created(o),
		{From: order.PendingPayment, To: order.Paid, Actor: "payment", Reason: "wechat 4200001", CreatedAt: paidAt},
		{From: order.Paid, To: order.Shipped, Actor: "staff:7", Reason: "shipped", CreatedAt: shipAt},
	}
	if !reflect.DeepEqual(hist, wantHist) {
		t.Fatalf("history:\n got %+v\nwant %+v", hist, wantHist)
	}

	if _, err := h.store.Update(ctx, h.gen.New(), func(*order.Order) (order.Transition, *events.Event, error) {
		t.Error("fn called for an unknown order")
		return order.Transition{}, nil, nil
	}); !errors.Is(err, order.ErrOrderNotFound) {
		t.Fatalf("update of an unknown order: err = %v, want ErrOrderNotFound", err)
	}
}

// concurrentUpdates pays one order from many goroutines: the row lock lets exactly one see
// it pending, so there is one transition and one event.
func (h *harness) concurrentUpdates(t *testing.T) {
	o := h.create(t, h.newOrder(h.gen.New(), h.at(50)))
	const n = 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, lost := 0, 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.store.Update(ctx, o.ID, func(x *order.Order) (order.Transition, *events.Event, error) {
				if !order.CanTransition(x.Status, order.Paid) {
					return order.Transition{}, nil, order.ErrInvalidState
				}
				x.Status, x.PaidAt = order.Paid, tp(time.Now())
				ev, err := events.New(h.gen.New(), orderevents.TypePaid, x.ID.String(), orderevents.Changed{OrderID: x.ID})
				return order.Transition{To: order.Paid, Actor: "payment"}, &ev, err
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, order.ErrInvalidState):
				lost++
			default:
				t.Errorf("update: %v", err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || lost != n-1 {
		t.Fatalf("%d updates paid the order and %d were refused; want 1 and %d", won, lost, n-1)
	}
	if h.historyRows(t, o) != 2 || h.outboxRows(t, o) != 2 {
		t.Fatalf("history rows %d, outbox rows %d; want 2 each", h.historyRows(t, o), h.outboxRows(t, o))
	}
}

func (h *harness) due(t *testing.T) {
	buyer := h.gen.New()
	// Before every other subtest's deadlines, so only these orders can be due.
	now := h.base.Add(-1000 * time.Hour)
	mk := func(status order.Status, deadline time.Time, autoComplete *time.Time) order.Order {
		o := h.newOrder(buyer, deadline.Add(-30*time.Minute))
		o.Status, o.PayDeadline, o.AutoCompleteAt = status, deadline, autoComplete
		return h.create(t, o)
	}
	lateB := mk(order.PendingPayment, now.Add(-time.Minute), nil)
	lateA := mk(order.PendingPayment, now.Add(-time.Hour), nil)
	lateC := mk(order.PendingPayment, now.Add(-time.Microsecond), nil)
	mk(order.PendingPayment, now, nil)                  // exactly now: not before now
	mk(order.PendingPayment, now.Add(time.Minute), nil) // not yet
	mk(order.Paid, now.Add(-2*time.Hour), nil)          // paid: its payment deadline no longer counts
	shipOld := mk(order.Shipped, now.Add(-100*time.Hour), tp(now.Add(-2*time.Hour)))
	shipNew := mk(order.Shipped, now.Add(-100*time.Hour), tp(now.Add(-time.Second)))
	mk(order.Shipped, now.Add(-100*time.Hour), tp(now.Add(time.Hour))) // not yet
	mk(order.Shipped, now.Add(-100*time.Hour), nil)                    // no auto-complete time
	mk(order.Completed, now.Add(-100*time.Hour), tp(now.Add(-3*time.Hour)))

	check := func(status order.Status, limit int, want ...order.Order) {
		t.Helper()
		got, err := h.store.Due(ctx, status, now, limit)
		if err != nil {
			t.Fatal(err)
		}
		wantIDs := []ids.ID{}
		for _, o := range want {
			wantIDs = append(wantIDs, o.ID)
		}
		if !reflect.DeepEqual(got, wantIDs) {
			t.Fatalf("Due(%s, limit %d) = %v, want %v", status, limit, got, wantIDs)
		}
	}
	check(order.PendingPayment, 10, lateA, lateB, lateC)
	check(order.PendingPayment, 2, lateA, lateB)
	check(order.Shipped, 10, shipOld, shipNew)
	check(order.Completed, 10)
	check(order.Paid, 10)
	check(order.PendingPayment, 0)
	// A caller's zone does not matter.
	if got, _ := h.store.Due(ctx, order.PendingPayment, now.In(time.FixedZone("X", -5*3600)), 10); len(got) != 3 {
		t.Fatalf("Due with a non-UTC now = %v", got)
	}
}

func (h *harness) placed(t *testing.T) {
	ctx := context.Background()
	a, b := h.create(t, h.newOrder(7, h.at(1))), h.create(t, h.newOrder(8, h.at(2)))
	never := h.orderNo()
	got, err := h.store.Placed(ctx, []string{never, b.OrderNo, a.OrderNo})
	slices.Sort(got)
	want := []string{a.OrderNo, b.OrderNo}
	slices.Sort(want)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("placed = %v, %v; want %v", got, err, want)
	}
	if got, err := h.store.Placed(ctx, nil); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("none asked: %#v, %v", got, err)
	}
}

// summary: orders are counted on the calendar day of the zone asked for, placed by
// created_at and paid by paid_at, to the microsecond at a day's edge; statuses are counted now.
func (h *harness) summary(t *testing.T) {
	statuses := []order.Status{order.Paid, order.Refunding}
	before, err := h.store.StatusCounts(ctx, statuses...)
	if err != nil {
		t.Fatal(err)
	}
	// 2025-09-09 00:00 in UTC+8 is 2025-09-08 16:00 UTC.
	cst := time.FixedZone("UTC+8", 8*3600)
	day := func(d int) time.Time { return time.Date(2025, 9, d, 0, 0, 0, 0, cst) }
	lastMicro := -time.Microsecond
	place := func(created time.Time, status order.Status, paid *time.Time, payable money.Fen) {
		o := h.newOrder(h.gen.New(), created)
		o.Status, o.PaidAt, o.Payable = status, paid, payable
		h.create(t, o)
	}
	place(day(8).Add(23*time.Hour), order.Paid, tp(day(9).Add(8*time.Hour)), 400) // placed before the window, paid on the 9th
	place(day(9).Add(lastMicro), order.Paid, tp(day(9)), 300)                     // the same: the last microsecond of the 8th
	place(day(10).Add(lastMicro), order.PendingPayment, nil, 1000)                // the 9th's last microsecond
	place(day(10), order.Refunding, tp(day(11).Add(lastMicro)), 2000)             // the 10th's first, paid at its last
	place(day(10).Add(18*time.Hour), order.Shipped, tp(day(11)), 3000)            // paid on the 11th's first
	place(day(12), order.Paid, tp(day(12)), 5000)                                 // the window's end: outside
	place(day(12).Add(lastMicro).In(time.UTC), order.Cancelled, nil, 1)           // the 11th's last, given in UTC

	got, err := h.store.DayTotals(ctx, day(9), day(12), 8*3600)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]order.DayTotals{
		"2025-09-09": {Orders: 1, PaidOrders: 2, PaidAmount: 700},
		"2025-09-10": {Orders: 2, PaidOrders: 1, PaidAmount: 2000},
		"2025-09-11": {Orders: 1, PaidOrders: 1, PaidAmount: 3000},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("day totals in UTC+8 = %+v\nwant %+v", got, want)
	}
	// The same orders by UTC days: the edges move eight hours.
	got, err = h.store.DayTotals(ctx, day(9).Add(8*time.Hour), day(11).Add(8*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]order.DayTotals{
		"2025-09-09": {Orders: 2, PaidOrders: 1, PaidAmount: 400},
		"2025-09-10": {Orders: 1, PaidOrders: 2, PaidAmount: 5000},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("day totals in UTC = %+v\nwant %+v", got, want)
	}
	if got, err := h.store.DayTotals(ctx, day(1), day(8), 8*3600); err != nil || len(got) != 0 {
		t.Fatalf("days without orders = %+v, %v; want none", got, err)
	}

	after, err := h.store.StatusCounts(ctx, statuses...)
	if err != nil {
		t.Fatal(err)
	}
	if after[order.Paid] != before[order.Paid]+3 || after[order.Refunding] != before[order.Refunding]+1 || len(after) != 2 {
		t.Fatalf("status counts %v → %v, want 3 more paid and 1 more refunding, nothing else", before, after)
	}
	if none, err := h.store.StatusCounts(ctx); err != nil || len(none) != 0 {
		t.Fatalf("no statuses asked = %v, %v", none, err)
	}
}

func (h *harness) lists(t *testing.T) {
	before := h.count(t, "SELECT COUNT(*) FROM orders")
	alice, bob := h.gen.New(), h.gen.New()
	// Placed far after every other subtest's orders, so they are the newest.
	t0 := h.base.Add(10000 * time.Hour)
	var mine []order.Order // alice's, newest first
	for i := range 5 {
		o := h.newOrder(alice, t0.Add(time.Duration(i)*time.Hour))
		o.Lines = o.Lines[:1+i%2]
		if i == 1 {
			o.Status = order.Paid
		}
		mine = append([]order.Order{h.create(t, o)}, mine...)
	}
	// Two of bob's orders at the same instant: the larger id comes first.
	b1 := h.create(t, h.newOrder(bob, t0.Add(90*time.Minute)))
	b2 := h.create(t, h.newOrder(bob, t0.Add(90*time.Minute)))

	idsOf := func(list []order.Order) []ids.ID {
		out := []ids.ID{}
		for _, o := range list {
			out = append(out, o.ID)
		}
		return out
	}
	cases := []struct {
		name  string
		f     order.ListFilter
		want  []order.Order
		total int
	}{
		{"a buyer's orders", order.ListFilter{UserID: alice, Limit: 10}, mine, 5},
		{"first page", order.ListFilter{UserID: alice, Limit: 2}, mine[:2], 5},
		{"second page", order.ListFilter{UserID: alice, Offset: 2, Limit: 2}, mine[2:4], 5},
		{"past the end", order.ListFilter{UserID: alice, Offset: 5, Limit: 2}, nil, 5},
		{"by status", order.ListFilter{UserID: alice, Status: order.Paid, Limit: 10}, mine[3:4], 1},
		{"by number", order.ListFilter{OrderNo: mine[2].OrderNo, Limit: 10}, mine[2:3], 1},
		{"other buyer's number", order.ListFilter{UserID: bob, OrderNo: mine[2].OrderNo, Limit: 10}, nil, 0},
		{"time window", order.ListFilter{UserID: alice, From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour), Limit: 10}, mine[2:4], 2},
		{"window in another zone", order.ListFilter{UserID: alice, From: t0.Add(time.Hour).In(time.FixedZone("X", 8*3600)), Limit: 10}, mine[:4], 4},
		{"every buyer", order.ListFilter{From: t0, Limit: 4}, []order.Order{mine[0], mine[1], mine[2], b2}, 7},
		{"ties by id", order.ListFilter{UserID: bob, Limit: 10}, []order.Order{b2, b1}, 2},
		{"count only", order.ListFilter{UserID: alice}, nil, 5},
	}
	for _, c := range cases {
		got, total, err := h.store.Orders(ctx, c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if total != c.total || !reflect.DeepEqual(idsOf(got), idsOf(c.want)) {
			t.Fatalf("%s: got %v (total %d), want %v (total %d)", c.name, idsOf(got), total, idsOf(c.want), c.total)
		}
		for i := range got {
			sameOrder(t, c.name+": listed order", got[i], c.want[i])
		}
	}
	if _, total, _ := h.store.Orders(ctx, order.ListFilter{Limit: 1}); total != before+7 {
		t.Fatalf("unfiltered total = %d, want %d", total, before+7)
	}
	var sum money.Fen
	all, _, _ := h.store.Orders(ctx, order.ListFilter{UserID: alice, Limit: 10})
	for _, o := range all {
		for _, l := range o.Lines {
			sum += l.LineTotal
		}
	}
	if sum != 3*1199800+2*(1199800+1990) {
		t.Fatalf("lines of the listed orders add up to %d", sum)
	}
}
