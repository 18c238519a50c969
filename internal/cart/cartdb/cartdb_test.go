package cartdb_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/cart"
	"github.com/minimart/minimart/internal/cart/cartdb"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

var sets = []sqldb.Migrations{cartdb.Migrations}

var ctx = context.Background()

// TestStoreConformance runs the same behaviour checks on SQLite and MariaDB.
func TestStoreConformance(t *testing.T) {
	sqldbtest.ForEachEngine(t, sets, func(t *testing.T, db *sqldb.DB) {
		gen, err := ids.NewGenerator(1)
		if err != nil {
			t.Fatal(err)
		}
		h := harness{db: db, store: cartdb.New(db), gen: gen}
		t.Run("lines", h.lines)
		t.Run("selection", h.selection)
		t.Run("remove and clear", h.removeAndClear)
		t.Run("limit", h.limit)
		t.Run("concurrent adds keep the limit", h.concurrentNewLines)
		t.Run("concurrent adds of one SKU lose nothing", h.concurrentSameLine)
	})
}

type harness struct {
	db    *sqldb.DB
	store *cartdb.Store
	gen   *ids.Generator
}

// tick makes line times distinct and ordered, at the microsecond precision both engines keep.
var clock = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
var clockMu sync.Mutex

func tick() time.Time {
	clockMu.Lock()
	defer clockMu.Unlock()
	clock = clock.Add(time.Millisecond + time.Microsecond)
	return clock
}

func newLine(userID, skuID ids.ID, qty int) cart.Line {
	now := tick()
	return cart.Line{UserID: userID, SKUID: skuID, Quantity: qty, Selected: true, AddedAt: now, UpdatedAt: now}
}

// addQty merges by adding quantities, as the service does.
func addQty(qty int) func(*cart.Line) error {
	return func(l *cart.Line) error { l.Quantity += qty; return nil }
}

func (h harness) add(t *testing.T, userID, skuID ids.ID, qty int) cart.Line {
	t.Helper()
	l, err := h.store.AddLine(ctx, newLine(userID, skuID, qty), addQty(qty))
	if err != nil {
		t.Fatalf("add %d×%d: %v", qty, skuID, err)
	}
	return l
}

func (h harness) skus(t *testing.T, userID ids.ID) []ids.ID {
	t.Helper()
	lines, err := h.store.Lines(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]ids.ID, len(lines))
	for i, l := range lines {
		out[i] = l.SKUID
	}
	return out
}

func equalIDs(a, b []ids.ID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (h harness) lines(t *testing.T) {
	buyer, other := h.gen.New(), h.gen.New()
	if got, err := h.store.Lines(ctx, buyer); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("empty cart = %#v, %v; want an empty, non-nil list", got, err)
	}
	first := newLine(buyer, 11, 2)
	if got, err := h.store.AddLine(ctx, first, func(*cart.Line) error { t.Fatal("merge called for a new line"); return nil }); err != nil || got != first {
		t.Fatalf("AddLine = %+v, %v; want %+v", got, err, first)
	}
	h.add(t, buyer, 33, 1)
	h.add(t, buyer, 22, 5)
	h.add(t, other, 11, 7)
	// Adding more of an existing line merges and keeps its place.
	merged := h.add(t, buyer, 11, 3)
	if merged.Quantity != 5 || !merged.AddedAt.Equal(first.AddedAt) {
		t.Fatalf("merged line = %+v; want quantity 5, added at %v", merged, first.AddedAt)
	}
	if got, want := h.skus(t, buyer), []ids.ID{22, 33, 11}; !equalIDs(got, want) {
		t.Fatalf("order = %v, want newest first %v", got, want)
	}
	lines, _ := h.store.Lines(ctx, buyer)
	last := lines[2]
	if last.UserID != buyer || last.Quantity != 5 || !last.Selected || !last.AddedAt.Equal(first.AddedAt) ||
		last.AddedAt.Location() != time.UTC {
		t.Fatalf("stored line = %+v", last)
	}
	if got := h.skus(t, other); !equalIDs(got, []ids.ID{11}) {
		t.Fatalf("other buyer's cart = %v", got)
	}

	// A refusing merge changes nothing.
	refuse := errors.New("refused")
	if _, err := h.store.AddLine(ctx, newLine(buyer, 11, 1), func(*cart.Line) error { return refuse }); !errors.Is(err, refuse) {
		t.Fatalf("merge error = %v", err)
	}

	upd, err := h.store.UpdateLine(ctx, buyer, 22, func(l *cart.Line) error {
		l.Quantity, l.Selected, l.UpdatedAt = 9, false, tick()
		return nil
	})
	if err != nil || upd.Quantity != 9 || upd.Selected {
		t.Fatalf("UpdateLine = %+v, %v", upd, err)
	}
	lines, _ = h.store.Lines(ctx, buyer)
	if lines[0].SKUID != 22 || lines[0].Quantity != 9 || lines[0].Selected || !lines[0].UpdatedAt.Equal(upd.UpdatedAt) {
		t.Fatalf("update not stored: %+v", lines[0])
	}
	if lines[2].Quantity != 5 {
		t.Fatalf("refused merge was stored: %+v", lines[2])
	}
	if _, err := h.store.UpdateLine(ctx, buyer, 99, func(*cart.Line) error { return nil }); !errors.Is(err, cart.ErrLineNotFound) {
		t.Fatalf("update of a missing line: %v", err)
	}
	if _, err := h.store.UpdateLine(ctx, other, 22, func(*cart.Line) error { return nil }); !errors.Is(err, cart.ErrLineNotFound) {
		t.Fatalf("another buyer's line must not be found: %v", err)
	}
	// The database refuses quantities outside 1–99 even if a bug let one through.
	if _, err := h.store.UpdateLine(ctx, buyer, 22, func(l *cart.Line) error { l.Quantity = 100; return nil }); err == nil {
		t.Fatal("quantity 100 was stored")
	}
}

func (h harness) selected(t *testing.T, userID ids.ID) map[ids.ID]bool {
	t.Helper()
	lines, err := h.store.Lines(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[ids.ID]bool{}
	for _, l := range lines {
		out[l.SKUID] = l.Selected
	}
	return out
}

func (h harness) selection(t *testing.T) {
	buyer, other := h.gen.New(), h.gen.New()
	for _, sku := range []ids.ID{1, 2, 3} {
		h.add(t, buyer, sku, 1)
	}
	h.add(t, other, 1, 1)
	if err := h.store.SetSelected(ctx, buyer, nil, false, tick()); err != nil {
		t.Fatal(err)
	}
	if got := h.selected(t, buyer); got[1] || got[2] || got[3] {
		t.Fatalf("deselect all: %v", got)
	}
	if got := h.selected(t, other); !got[1] {
		t.Fatal("deselecting one buyer's cart changed another's")
	}
	if err := h.store.SetSelected(ctx, buyer, []ids.ID{1, 3}, true, tick()); err != nil {
		t.Fatal(err)
	}
	if got := h.selected(t, buyer); !got[1] || got[2] || !got[3] {
		t.Fatalf("select 1 and 3: %v", got)
	}
	err := h.store.SetSelected(ctx, buyer, []ids.ID{2, 7, 8}, true, tick())
	e, ok := errs.As(err)
	if !ok || !errors.Is(err, cart.ErrLineNotFound) {
		t.Fatalf("selecting SKUs not in the cart: %v", err)
	}
	if missing, _ := e.Details["sku_ids"].([]ids.ID); !equalIDs(missing, []ids.ID{7, 8}) {
		t.Fatalf("details = %v, want sku_ids [7 8]", e.Details)
	}
	if got := h.selected(t, buyer); got[2] {
		t.Fatal("a refused selection changed a line")
	}
	if err := h.store.SetSelected(ctx, h.gen.New(), nil, true, tick()); err != nil {
		t.Fatalf("select all of an empty cart: %v", err)
	}
}

func (h harness) removeAndClear(t *testing.T) {
	buyer, other := h.gen.New(), h.gen.New()
	for _, sku := range []ids.ID{1, 2, 3, 4} {
		h.add(t, buyer, sku, 1)
	}
	h.add(t, other, 1, 1)
	if n, err := h.store.RemoveLines(ctx, buyer, []ids.ID{1, 3, 9}); err != nil || n != 2 {
		t.Fatalf("RemoveLines = %d, %v; want 2", n, err)
	}
	if n, err := h.store.RemoveLines(ctx, buyer, []ids.ID{1}); err != nil || n != 0 {
		t.Fatalf("removing again = %d, %v; want 0", n, err)
	}
	if n, err := h.store.RemoveLines(ctx, buyer, nil); err != nil || n != 0 {
		t.Fatalf("removing nothing = %d, %v", n, err)
	}
	if got := h.skus(t, buyer); !equalIDs(got, []ids.ID{4, 2}) {
		t.Fatalf("after remove: %v", got)
	}
	if err := h.store.Clear(ctx, buyer); err != nil {
		t.Fatal(err)
	}
	if got := h.skus(t, buyer); len(got) != 0 {
		t.Fatalf("after clear: %v", got)
	}
	if got := h.skus(t, other); !equalIDs(got, []ids.ID{1}) {
		t.Fatalf("clear emptied another buyer's cart: %v", got)
	}
	// A cleared cart fills again.
	h.add(t, buyer, 5, 1)
}

func (h harness) limit(t *testing.T) {
	buyer := h.gen.New()
	for sku := range ids.ID(cart.MaxLines) {
		h.add(t, buyer, sku+1, 1)
	}
	if _, err := h.store.AddLine(ctx, newLine(buyer, 1000, 1), addQty(1)); !errors.Is(err, cart.ErrCartFull) {
		t.Fatalf("line %d: %v, want ErrCartFull", cart.MaxLines+1, err)
	}
	// A full cart still takes more of a line it has.
	if l := h.add(t, buyer, 7, 2); l.Quantity != 3 {
		t.Fatalf("merge into a full cart: %+v", l)
	}
	if n, err := h.store.RemoveLines(ctx, buyer, []ids.ID{1}); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	h.add(t, buyer, 1000, 1)
	if got := h.skus(t, buyer); len(got) != cart.MaxLines {
		t.Fatalf("%d lines, want %d", len(got), cart.MaxLines)
	}
}

// concurrentNewLines adds 120 different SKUs to one empty cart at once: exactly 100 must
// be stored and the other 20 refused with ErrCartFull, never another error.
func (h harness) concurrentNewLines(t *testing.T) {
	const adds = 120
	buyer := h.gen.New()
	var ok, full atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range adds {
		wg.Go(func() {
			<-start
			_, err := h.store.AddLine(ctx, newLine(buyer, ids.ID(i+1), 1), addQty(1))
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, cart.ErrCartFull):
				full.Add(1)
			default:
				t.Errorf("add: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != cart.MaxLines || full.Load() != adds-cart.MaxLines {
		t.Fatalf("%d stored, %d refused; want %d and %d", ok.Load(), full.Load(), cart.MaxLines, adds-cart.MaxLines)
	}
	var n int
	if err := h.db.Read().QueryRow("SELECT COUNT(*) FROM cart_lines WHERE user_id = ?", buyer).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != cart.MaxLines {
		t.Fatalf("%d lines stored, want %d", n, cart.MaxLines)
	}
}

// concurrentSameLine adds one piece of the same SKU 60 times at once: no add may be lost.
func (h harness) concurrentSameLine(t *testing.T) {
	const adds = 60
	buyer := h.gen.New()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range adds {
		wg.Go(func() {
			<-start
			if _, err := h.store.AddLine(ctx, newLine(buyer, 42, 1), addQty(1)); err != nil {
				t.Errorf("add: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	lines, err := h.store.Lines(ctx, buyer)
	if err != nil || len(lines) != 1 || lines[0].Quantity != adds {
		t.Fatalf("lines = %+v, %v; want one line of %d", lines, err, adds)
	}
}
