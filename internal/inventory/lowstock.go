package inventory

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/minimart/minimart/internal/platform/ids"
)

// Bounds of a low-stock list.
const (
	MaxLowStockThreshold = 1_000_000
	MaxLowStockItems     = 200
)

// LowStockItem is a SKU whose available stock runs low, named for staff.
type LowStockItem struct {
	SKUID     ids.ID `json:"sku_id"`
	ProductID ids.ID `json:"product_id"`
	// Title is the product's title.
	Title string `json:"title"`
	// Spec is the SKU's spec values as SpecText renders them.
	Spec      string `json:"spec"`
	Available int64  `json:"available"`
	Reserved  int64  `json:"reserved"`
	Sold      int64  `json:"sold"`
}

// NameSKUsWith makes the service name SKUs in its staff lists with n; call it before the
// service is used.
func (s *Service) NameSKUsWith(n SKUNames) { s.names = n }

// errNoSKUNames is a wiring mistake: LowStock called on a service never given NameSKUsWith.
var errNoSKUNames = errors.New("inventory: low stock listed before NameSKUsWith")

// The low-stock list reads the stock rows in pages of lowStockBatch, whatever its limit, and
// reads at most lowStockPasses pages. Each page scans the whole stock table (it has no index
// on available) and asks the catalog for names (an HTTP call in the split shape), and the
// rows of deleted SKUs stay forever at their last level: paging by the limit, a limit of 1
// behind N deleted low rows would cost N scans and N calls. With the bound, a request costs
// at most lowStockPasses of each, and past lowStockBatch*lowStockPasses deleted rows ahead of the live
// ones the list holds the live SKUs found among those rows.
const (
	lowStockBatch  = 200
	lowStockPasses = 5
)

// LowStock lists up to limit SKUs (1 to MaxLowStockItems) whose available stock is at most
// threshold, lowest first and then by SKU id. Only SKUs that still exist are listed: the
// stock rows of deleted ones stay (the ledger needs them) and are skipped.
func (s *Service) LowStock(ctx context.Context, threshold int64, limit int) ([]LowStockItem, error) {
	if s.names == nil {
		return nil, errNoSKUNames
	}
	out := []LowStockItem{}
	var after Level
	for range lowStockPasses {
		levels, err := s.store.LowLevels(ctx, threshold, after, lowStockBatch)
		if err != nil {
			return nil, err
		}
		if len(levels) == 0 {
			return out, nil
		}
		skuIDs := make([]ids.ID, len(levels))
		for i, l := range levels {
			skuIDs[i] = l.SKUID
		}
		names, err := s.names.SKUNames(ctx, skuIDs)
		if err != nil {
			return nil, err
		}
		for _, l := range levels {
			n, ok := names[l.SKUID]
			if !ok {
				continue
			}
			out = append(out, LowStockItem{SKUID: l.SKUID, ProductID: n.ProductID, Title: n.Title, Spec: SpecText(n.Specs),
				Available: l.Available, Reserved: l.Reserved, Sold: l.Sold})
			if len(out) == limit {
				return out, nil
			}
		}
		if len(levels) < lowStockBatch {
			return out, nil
		}
		after = levels[len(levels)-1]
	}
	return out, nil
}

// SpecText renders a SKU's spec values as "容量:128G / 颜色:黑": name:value pairs ordered by
// name, as every list of spec values in the API is (JSON objects' keys are sorted); "" for a
// SKU without specs.
func SpecText(specs map[string]string) string {
	names := make([]string, 0, len(specs))
	for name := range specs {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = name + ":" + specs[name]
	}
	return strings.Join(parts, " / ")
}
