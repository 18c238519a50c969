package cart

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// Service is the cart use cases.
type Service struct {
	store   Storer
	catalog Catalog
	stock   Stock
	now     func() time.Time
}

// NewService wires the cart service.
func NewService(store Storer, catalog Catalog, stock Stock) *Service {
	return &Service{store: store, catalog: catalog, stock: stock, now: time.Now}
}

// LineUpdate changes a line; nil fields are kept. At least one must be set.
type LineUpdate struct {
	Quantity *int
	Selected *bool
}

func checkQuantity(f *errs.Fields, quantity int) {
	if quantity < 1 || quantity > MaxQuantity {
		f.Add("quantity", fmt.Sprintf("must be 1 to %d", MaxQuantity))
	}
}

// stamp is the time written to lines; MySQL keeps microseconds, so both engines get the same.
func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Add puts quantity pieces of a SKU in the buyer's cart: a new line, or more of an existing
// one (whose total may not pass MaxQuantity). The line becomes selected either way. The
// SKU must be known to the catalog, not deleted (ErrSKUNotFound) and on sale
// (ErrSKUUnavailable); stock is not checked here, the view shows it.
func (s *Service) Add(ctx context.Context, userID, skuID ids.ID, quantity int) error {
	var f errs.Fields
	if skuID <= 0 {
		f.Add("sku_id", "is required")
	}
	checkQuantity(&f, quantity)
	if err := f.Err(); err != nil {
		return err
	}
	items, err := s.catalog.Items(ctx, []ids.ID{skuID})
	if err != nil {
		return err
	}
	it, ok := items[skuID]
	switch {
	case !ok || it.Deleted:
		return ErrSKUNotFound
	case !it.OnSale:
		return ErrSKUUnavailable
	}
	now := s.stamp()
	line := Line{UserID: userID, SKUID: skuID, Quantity: quantity, Selected: true, AddedAt: now, UpdatedAt: now}
	_, err = s.store.AddLine(ctx, line, func(l *Line) error {
		if l.Quantity+quantity > MaxQuantity {
			var f errs.Fields
			f.Add("quantity", fmt.Sprintf("the cart already holds %d of this SKU; adding %d would make %d, over the %d a line may hold",
				l.Quantity, quantity, l.Quantity+quantity, MaxQuantity))
			return f.Err()
		}
		l.Quantity += quantity
		l.Selected = true
		l.UpdatedAt = now
		return nil
	})
	return err
}

// UpdateLine changes the quantity, the selected flag or both of a line in the cart.
func (s *Service) UpdateLine(ctx context.Context, userID, skuID ids.ID, in LineUpdate) error {
	var f errs.Fields
	if in.Quantity == nil && in.Selected == nil {
		f.Add("quantity", "give quantity, selected or both")
	}
	if in.Quantity != nil {
		checkQuantity(&f, *in.Quantity)
	}
	if err := f.Err(); err != nil {
		return err
	}
	now := s.stamp()
	_, err := s.store.UpdateLine(ctx, userID, skuID, func(l *Line) error {
		if in.Quantity != nil {
			l.Quantity = *in.Quantity
		}
		if in.Selected != nil {
			l.Selected = *in.Selected
		}
		l.UpdatedAt = now
		return nil
	})
	return err
}

// SetQuantity makes a line hold exactly quantity pieces.
func (s *Service) SetQuantity(ctx context.Context, userID, skuID ids.ID, quantity int) error {
	return s.UpdateLine(ctx, userID, skuID, LineUpdate{Quantity: &quantity})
}

// SetSelected selects or deselects the lines of skuIDs, or every line when skuIDs is
// empty. A SKU not in the cart fails the whole call with ErrLineNotFound.
func (s *Service) SetSelected(ctx context.Context, userID ids.ID, skuIDs []ids.ID, selected bool) error {
	skuIDs = unique(skuIDs)
	var f errs.Fields
	if len(skuIDs) > MaxLines {
		f.Add("sku_ids", fmt.Sprintf("must list at most %d SKUs (a cart holds no more)", MaxLines))
	}
	if slices.ContainsFunc(skuIDs, func(id ids.ID) bool { return id <= 0 }) {
		f.Add("sku_ids", "must hold SKU ids")
	}
	if err := f.Err(); err != nil {
		return err
	}
	return s.store.SetSelected(ctx, userID, skuIDs, selected, s.stamp())
}

// Remove takes a SKU out of the cart; ErrLineNotFound if it is not there.
func (s *Service) Remove(ctx context.Context, userID, skuID ids.ID) error {
	n, err := s.store.RemoveLines(ctx, userID, []ids.ID{skuID})
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrLineNotFound
	}
	return nil
}

// RemoveSKUs takes the given SKUs out of the cart, for the order module once they are
// ordered. SKUs not in the cart are ignored, so a repeated call changes nothing.
func (s *Service) RemoveSKUs(ctx context.Context, userID ids.ID, skuIDs []ids.ID) error {
	// Most orders are "buy now" for SKUs not in the cart: a read spares them a write
	// transaction (an fsync per order on MySQL).
	lines, err := s.store.Lines(ctx, userID)
	if err != nil {
		return err
	}
	wanted := map[ids.ID]bool{}
	for _, id := range skuIDs {
		wanted[id] = true
	}
	var present []ids.ID
	for _, l := range lines {
		if wanted[l.SKUID] {
			present = append(present, l.SKUID)
		}
	}
	if len(present) == 0 {
		return nil
	}
	_, err = s.store.RemoveLines(ctx, userID, present)
	return err
}

// Clear empties the buyer's cart.
func (s *Service) Clear(ctx context.Context, userID ids.ID) error {
	return s.store.Clear(ctx, userID)
}

// orderable says whether a line of this SKU can be bought at all.
func orderable(it Item, known bool) bool { return known && !it.Deleted && it.OnSale }

// View is the buyer's cart with live prices and stock: one catalog call and at most one
// stock call whatever the number of lines.
func (s *Service) View(ctx context.Context, userID ids.ID) (View, error) {
	lines, err := s.store.Lines(ctx, userID)
	if err != nil {
		return View{}, err
	}
	v := View{Lines: make([]ViewLine, 0, len(lines)), LineCount: len(lines)}
	if len(lines) == 0 {
		return v, nil
	}
	skuIDs := make([]ids.ID, len(lines))
	for i, l := range lines {
		skuIDs[i] = l.SKUID
	}
	items, err := s.catalog.Items(ctx, skuIDs)
	if err != nil {
		return View{}, err
	}
	var onSale []ids.ID
	for _, id := range skuIDs {
		it, known := items[id]
		if orderable(it, known) {
			onSale = append(onSale, id)
		}
	}
	stock := map[ids.ID]int64{}
	if len(onSale) > 0 {
		if stock, err = s.stock.Available(ctx, onSale); err != nil {
			return View{}, err
		}
	}
	for _, l := range lines {
		vl := ViewLine{SKUID: l.SKUID, Quantity: l.Quantity, Selected: l.Selected, Specs: map[string]string{},
			AddedAt: l.AddedAt, UpdatedAt: l.UpdatedAt}
		it, known := items[l.SKUID]
		if known {
			vl.ProductID, vl.Title, vl.Image, vl.Price = it.ProductID, it.Title, it.Image, it.Price
			if it.Specs != nil {
				vl.Specs = maps.Clone(it.Specs)
			}
		}
		vl.LineTotal = vl.Price * money.Fen(l.Quantity)
		available := stock[l.SKUID]
		switch {
		case !orderable(it, known):
			vl.State = StateUnavailable
		case available <= 0:
			vl.State = StateOutOfStock
		case available < int64(l.Quantity):
			vl.State, vl.Available = StateShort, available
		default:
			vl.State = StateInStock
		}
		if l.Selected && vl.State != StateUnavailable {
			v.SelectedCount++
			v.SelectedQuantity += l.Quantity
			v.SelectedTotal += vl.LineTotal
		}
		v.Lines = append(v.Lines, vl)
	}
	return v, nil
}

// Selected is what an order made from the cart would hold: the selected lines whose SKU is
// on sale, in cart order. Unavailable lines are left out (the view never counts them
// either); stock is not checked, the order's reservation decides that.
func (s *Service) Selected(ctx context.Context, userID ids.ID) ([]SelectedLine, error) {
	lines, err := s.store.Lines(ctx, userID)
	if err != nil {
		return nil, err
	}
	var skuIDs []ids.ID
	for _, l := range lines {
		if l.Selected {
			skuIDs = append(skuIDs, l.SKUID)
		}
	}
	out := []SelectedLine{}
	if len(skuIDs) == 0 {
		return out, nil
	}
	items, err := s.catalog.Items(ctx, skuIDs)
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		it, known := items[l.SKUID]
		if l.Selected && orderable(it, known) {
			out = append(out, SelectedLine{SKUID: l.SKUID, Quantity: l.Quantity})
		}
	}
	return out, nil
}

// unique drops repeated ids, keeping the first of each.
func unique(list []ids.ID) []ids.ID {
	seen := make(map[ids.ID]bool, len(list))
	out := make([]ids.ID, 0, len(list))
	for _, id := range list {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
