package inventorydb_test

import (
	"errors"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// TestReserveBatchAnswersEachItem: in one group-committed batch, an order short of stock is
// refused with its own shortage while its neighbours are held, in arrival order; a ref seen
// before or earlier in the batch answers the stored reservation; the books balance.
func TestReserveBatchAnswersEachItem(t *testing.T) {
	sqldbtest.ForEachEngine(t, migrationSets, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		a, b := f.stocked(5), f.stocked(1)
		later := time.Now().Add(time.Hour)
		if _, err := f.reserve("before", later, inventory.ReserveLine{SKUID: a, Quantity: 1}); err != nil {
			t.Fatal(err)
		}
		rs := []inventory.Reservation{
			{Ref: "first", Lines: []inventory.ReserveLine{{SKUID: a, Quantity: 2}, {SKUID: b, Quantity: 1}}, ExpiresAt: later},
			{Ref: "short", Lines: []inventory.ReserveLine{{SKUID: a, Quantity: 1}, {SKUID: b, Quantity: 1}}, ExpiresAt: later},
			{Ref: "third", Lines: []inventory.ReserveLine{{SKUID: a, Quantity: 2}}, ExpiresAt: later},
			{Ref: "before", Lines: []inventory.ReserveLine{{SKUID: a, Quantity: 1}}, ExpiresAt: later},
			{Ref: "first", Lines: []inventory.ReserveLine{{SKUID: a, Quantity: 1}}, ExpiresAt: later},
		}
		res, err := f.s.ReserveBatch(f.ctx, rs, f.gen.New, f.event)
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Err != nil || res[2].Err != nil || res[0].Value.Status != inventory.Held || res[2].Value.Ref != "third" {
			t.Fatalf("held items: %+v / %+v", res[0], res[2])
		}
		short := shortages(t, res[1].Err)
		if len(short) != 1 || short[0].SKUID != b || short[0].Available != 0 || short[0].Requested != 1 {
			t.Fatalf("the short order names what it lacked when it was decided: %+v", short)
		}
		if res[3].Err != nil || res[3].Value.Ref != "before" || len(res[3].Value.Lines) != 1 || res[3].Value.Lines[0].Quantity != 1 {
			t.Fatalf("a stored ref answers the stored reservation: %+v", res[3])
		}
		if res[4].Err != nil || res[4].Value.Ref != "first" || len(res[4].Value.Lines) != 2 {
			t.Fatalf("a repeat within the batch answers the first: %+v", res[4])
		}
		if _, err := f.s.Reservation(f.ctx, "short"); !errors.Is(err, inventory.ErrReservationNotFound) {
			t.Fatalf("the short order must hold nothing: %v", err)
		}
		f.wantLevel(a, 0, 5, 0)
		f.wantLevel(b, 0, 1, 0)
		f.checkBooks(a, 5)
		f.checkBooks(b, 1)
	})
}

// TestReserveBatchFailsWhole: when the batch's transaction fails (here building an event
// fails for its last item), every item gets the error and nothing of the batch is held.
func TestReserveBatchFailsWhole(t *testing.T) {
	sqldbtest.ForEachEngine(t, migrationSets, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		a := f.stocked(10)
		later := time.Now().Add(time.Hour)
		broken := errors.New("event encoder broke")
		calls := 0
		event := func(before, after inventory.Level, reason string) (events.Event, error) {
			calls++
			if calls == 3 {
				return events.Event{}, broken
			}
			return f.event(before, after, reason)
		}
		rs := []inventory.Reservation{
			{Ref: "w1", Lines: []inventory.ReserveLine{{SKUID: a, Quantity: 1}}, ExpiresAt: later},
			{Ref: "w2", Lines: []inventory.ReserveLine{{SKUID: a, Quantity: 1}}, ExpiresAt: later},
			{Ref: "w3", Lines: []inventory.ReserveLine{{SKUID: a, Quantity: 1}}, ExpiresAt: later},
		}
		if _, err := f.s.ReserveBatch(f.ctx, rs, f.gen.New, event); !errors.Is(err, broken) {
			t.Fatalf("batch error = %v, want the failure", err)
		}
		for _, r := range rs {
			if _, err := f.s.Reservation(f.ctx, r.Ref); !errors.Is(err, inventory.ErrReservationNotFound) {
				t.Fatalf("%s exists after its batch failed: %v", r.Ref, err)
			}
		}
		f.wantLevel(a, 10, 0, 0)
		f.checkBooks(a, 10)
	})
}

// TestReserveFromParent: a sale's hold (placed, so never swept as unplaced) gives its units
// to children without moving stock levels; a child short of what the hold has left is
// refused; a released child's units go back to the hold while it is held and to available
// after; releasing the hold frees only what it still holds; committing a child sells.
func TestReserveFromParent(t *testing.T) {
	sqldbtest.ForEachEngine(t, migrationSets, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db)
		sku := f.stocked(10)
		later := time.Now().Add(time.Hour)
		if _, err := f.s.Reserve(f.ctx, inventory.Reservation{Ref: "flash-1", Lines: []inventory.ReserveLine{{SKUID: sku, Quantity: 4}},
			ExpiresAt: later, Placed: true}, f.gen.New, f.event); err != nil {
			t.Fatal(err)
		}
		if refs, err := f.s.Unplaced(f.ctx, time.Now().Add(time.Hour), 10); err != nil || len(refs) != 0 {
			t.Fatalf("a placed hold is not unplaced: %v %v", refs, err)
		}
		from := func(ref string, n int64) (inventory.Reservation, error) {
			return f.s.Reserve(f.ctx, inventory.Reservation{Ref: ref, From: "flash-1", Lines: []inventory.ReserveLine{{SKUID: sku, Quantity: n}},
				ExpiresAt: later}, f.gen.New, f.event)
		}
		for _, ref := range []string{"o1", "o2", "o3"} {
			if r, err := from(ref, 1); err != nil || r.From != "flash-1" {
				t.Fatalf("child %s: %+v %v", ref, r, err)
			}
		}
		f.wantLevel(sku, 6, 4, 0) // units changed hands; the levels did not move
		if short := shortages(t, second(from("o4", 2))); short[0].Available != 1 {
			t.Fatalf("the hold has 1 left: %+v", short)
		}
		if p, err := f.s.Reservation(f.ctx, "flash-1"); err != nil || p.Lines[0].Quantity != 1 {
			t.Fatalf("the hold still holds 1: %+v %v", p, err)
		}
		if _, err := f.settle("o1", inventory.Released, "unpaid"); err != nil {
			t.Fatal(err)
		}
		if p, _ := f.s.Reservation(f.ctx, "flash-1"); p.Lines[0].Quantity != 2 {
			t.Fatalf("a released child gives its unit back to the hold: %+v", p)
		}
		if _, err := f.settle("o2", inventory.Committed, ""); err != nil {
			t.Fatal(err)
		}
		f.wantLevel(sku, 6, 3, 1)
		if _, err := f.settle("flash-1", inventory.Released, "sale ended"); err != nil {
			t.Fatal(err)
		}
		f.wantLevel(sku, 8, 1, 1) // the hold's 2 go back; o3 still holds its unit
		if _, err := f.settle("o3", inventory.Released, "unpaid"); err != nil {
			t.Fatal(err)
		}
		f.wantLevel(sku, 9, 0, 1) // the hold is gone, so o3's unit goes to available
		if _, err := from("o5", 1); !errors.Is(err, inventory.ErrOutOfStock) {
			t.Fatalf("a released hold gives nothing: %v", err)
		}
		f.checkBooks(sku, 10)
	})
}

func second[T any](_ T, err error) error { return err }
