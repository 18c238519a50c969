package order_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/order"
	"github.com/minimart/minimart/internal/order/orderdb"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// The ports stand in for the other modules; the order store is the real one on SQLite.

type shelf struct{}

func (shelf) Items(_ context.Context, skuIDs []ids.ID) (map[ids.ID]order.Item, error) {
	out := map[ids.ID]order.Item{}
	for _, id := range skuIDs {
		out[id] = order.Item{SKUID: id, ProductID: 1, Title: "测试", Price: 100, OnSale: true}
	}
	return out, nil
}

// slowStock holds stock only after `delay`, giving up when the caller's context ends (as the
// inventory HTTP client does), and records releases.
type slowStock struct {
	delay    time.Duration
	mu       sync.Mutex
	released []string
}

func (s *slowStock) Reserve(ctx context.Context, _ string, _ []order.LineRef, _ time.Time) error {
	select {
	case <-time.After(s.delay):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *slowStock) ReserveFrom(ctx context.Context, orderNo, _ string, lines []order.LineRef, expiresAt time.Time) error {
	return s.Reserve(ctx, orderNo, lines, expiresAt)
}

func (s *slowStock) Release(_ context.Context, orderNo, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.released = append(s.released, orderNo)
	return nil
}

type anyAddress struct{}

func (anyAddress) Address(context.Context, ids.ID, ids.ID) (order.AddressSnapshot, error) {
	return order.AddressSnapshot{Recipient: "张三"}, nil
}

type emptyCart struct{}

func (emptyCart) Selected(context.Context, ids.ID) ([]order.LineRef, error) { return nil, nil }
func (emptyCart) Remove(context.Context, ids.ID, []ids.ID) error            { return nil }

// TestOrderNotRecordedInTime: an order whose stock hold and write take longer than
// RecordWithin is refused with a retryable 503 and its hold released, because inventory may
// free a hold whose order it cannot find soon after; the same key then works.
func TestOrderNotRecordedInTime(t *testing.T) {
	db := sqldbtest.SQLite(t, events.OutboxMigrations, orderdb.Migrations)
	gen, err := ids.NewGenerator(3)
	if err != nil {
		t.Fatal(err)
	}
	stock := &slowStock{delay: time.Hour}
	svc := order.NewService(orderdb.New(db, events.NewOutbox()), shelf{}, stock, anyAddress{}, emptyCart{}, gen,
		order.Config{PayTimeout: time.Hour, ReservationGrace: time.Minute, RecordWithin: 50 * time.Millisecond},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	in := order.CreateInput{UserID: 9, Items: []order.LineRef{{SKUID: 5, Quantity: 1}}, AddressID: 2,
		IdempotencyKey: "k1", RequestHash: "h1"}

	_, _, err = svc.Create(context.Background(), in)
	if !errors.Is(err, order.ErrTooSlow) {
		t.Fatalf("err = %v, want order_not_recorded", err)
	}
	if e, _ := errs.As(err); e.Kind != errs.Unavailable || e.Details[errs.RetryAfterSeconds] == nil {
		t.Fatalf("err = %#v, want a 503 with Retry-After", e)
	}
	if len(stock.released) != 1 {
		t.Fatalf("released %v, want the one order's hold released", stock.released)
	}
	if list, total, err := svc.Orders(context.Background(), order.ListFilter{UserID: 9, Limit: 10}); err != nil || total != 0 {
		t.Fatalf("orders recorded: %v %d %v", list, total, err)
	}

	stock.delay = 0
	o, replayed, err := svc.Create(context.Background(), in)
	if err != nil || replayed || o.Status != order.PendingPayment {
		t.Fatalf("retry with the same key: %+v %v %v", o, replayed, err)
	}
}

// registry says which processes are alive, as liveness.Instance does.
type registry struct {
	me   string
	dead map[string]bool
}

func (r registry) ID() string { return r.me }
func (r registry) Alive(_ context.Context, id string) (bool, error) {
	return !r.dead[id], nil
}

// TestKeyOfADeadProcessIsTakenOver: a retry with the Idempotency-Key of a request whose
// process died (kill -9 between the claim and the order) makes the order at once, instead of
// answering request_in_progress until the claim is minutes old; a key held by a live
// process is still waited for.
func TestKeyOfADeadProcessIsTakenOver(t *testing.T) {
	db := sqldbtest.SQLite(t, events.OutboxMigrations, orderdb.Migrations)
	store := orderdb.New(db, events.NewOutbox())
	gen, err := ids.NewGenerator(4)
	if err != nil {
		t.Fatal(err)
	}
	svc := order.NewService(store, shelf{}, &slowStock{}, anyAddress{}, emptyCart{}, gen,
		order.Config{PayTimeout: time.Hour, ReservationGrace: time.Minute, Liveness: registry{me: "now", dead: map[string]bool{"crashed": true}}},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	for _, holder := range []string{"crashed", "alive"} {
		if _, claimed, err := store.ClaimKey(ctx, order.Idempotency{UserID: 9, Key: holder, RequestHash: "h", ClaimedBy: holder}); err != nil || !claimed {
			t.Fatal(claimed, err)
		}
	}
	in := order.CreateInput{UserID: 9, Items: []order.LineRef{{SKUID: 5, Quantity: 1}}, AddressID: 2, IdempotencyKey: "crashed", RequestHash: "h"}
	started := time.Now()
	o, replayed, err := svc.Create(ctx, in)
	if err != nil || replayed || o.ID == 0 || time.Since(started) > 5*time.Second {
		t.Fatalf("retry after the holder died: %+v %v %v after %v", o, replayed, err, time.Since(started))
	}
	if k, _, _ := store.Key(ctx, 9, "crashed"); k.OrderID != o.ID || k.ClaimedBy != "now" {
		t.Fatalf("the key is %+v, want it completed by this process", k)
	}

	waitCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	in.IdempotencyKey = "alive"
	if _, _, err := svc.Create(waitCtx, in); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a key held by a live process: %v, want to be still waiting", err)
	}
}
