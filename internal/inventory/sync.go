package inventory

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
)

// What the ledger says about stock set by an outside system (the inventory_update queue).
const (
	SyncActor  = "sync"
	SyncReason = "inventory_update"
	// DefaultSyncSource is the ledger and event source of an update that names none.
	DefaultSyncSource = "inventory_update"
	// MaxSyncSource bounds the source an update may name (characters).
	MaxSyncSource = 64
	// MaxSKUCode is the longest SKU code the catalog accepts (characters).
	MaxSKUCode = 64
	// MaxSyncClockSkew is how far in the future an update's UpdatedAt may be. A later one
	// is refused: kept as the SKU's newest mark it would make every real update stale.
	MaxSyncClockSkew = 24 * time.Hour
)

// minSyncTime is the earliest UpdatedAt accepted; every engine stores it exactly.
var minSyncTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// SyncUpdate is one stock update from an outside system. It names its SKU in exactly one
// way: SKUID, SKUCode, or ProductID of a product with exactly one live SKU. It either sets
// available stock (Set) or adds to it (Delta, not zero). Version and UpdatedAt, when
// given, order the updates of a SKU: one not newer than what was applied before is stale
// and ignored, so duplicates and reorderings are harmless. Without either it always
// applies, so such updates are applied in the order they arrive and a repeated Delta
// counts twice.
type SyncUpdate struct {
	SKUID     ids.ID
	SKUCode   string
	ProductID ids.ID
	// Set, when not nil, is the new available stock (0–MaxStock); reserved and sold stock
	// are kept, so the stock held by unpaid orders is never handed out again.
	Set *int64
	// Delta is added to available stock when Set is nil; the update is refused with
	// ErrInsufficientStock if available would go below zero.
	Delta     int64
	Version   *int64
	UpdatedAt *time.Time
	// Source names the sending system in the ledger and the event; "" is
	// DefaultSyncSource.
	Source string
}

// ValidSyncSource reports why source cannot name a sync source, or "" if it can.
func ValidSyncSource(source string) string {
	switch {
	case !utf8.ValidString(source):
		return "must be valid UTF-8"
	case utf8.RuneCountInString(source) > MaxSyncSource:
		return fmt.Sprintf("must be at most %d characters", MaxSyncSource)
	}
	for _, r := range source {
		if !unicode.IsPrint(r) {
			return "must be printable text (no control characters)"
		}
	}
	return ""
}

func (s *Service) checkSync(u SyncUpdate) error {
	var f errs.Fields
	named := 0
	if u.SKUID != 0 {
		named++
		if u.SKUID < 0 {
			f.Add("sku_id", "must be a positive id")
		}
	}
	if u.SKUCode != "" {
		named++
		if !utf8.ValidString(u.SKUCode) || utf8.RuneCountInString(u.SKUCode) > MaxSKUCode {
			f.Add("sku_code", fmt.Sprintf("must be valid UTF-8 of at most %d characters", MaxSKUCode))
		}
	}
	if u.ProductID != 0 {
		named++
		if u.ProductID < 0 {
			f.Add("product_id", "must be a positive id")
		}
	}
	switch {
	case named == 0:
		f.Add("sku_id", "is required: name the SKU by sku_id or sku_code (or product_id for a product with one SKU)")
	case named > 1:
		f.Add("sku_id", "name the SKU in one way only: sku_id, sku_code or product_id")
	}
	switch {
	case u.Set == nil && u.Delta == 0:
		f.Add("new_inventory", "is required (or a non-zero delta)")
	case u.Set != nil && u.Delta != 0:
		f.Add("delta", "give new_inventory or delta, not both")
	case u.Set != nil && (*u.Set < 0 || *u.Set > MaxStock):
		f.Add("new_inventory", fmt.Sprintf("must be between 0 and %d", MaxStock))
	case u.Set == nil && (u.Delta > MaxStock || u.Delta < -MaxStock):
		f.Add("delta", fmt.Sprintf("must be a non-zero number between -%d and %d", MaxStock, MaxStock))
	}
	if u.Version != nil && *u.Version < 0 {
		f.Add("version", "must not be negative")
	}
	if u.UpdatedAt != nil {
		if u.UpdatedAt.Before(minSyncTime) || u.UpdatedAt.Year() > 9999 {
			f.Add("updated_at", "must be a time between 1970 and 9999")
		} else if u.UpdatedAt.After(s.now().Add(MaxSyncClockSkew)) {
			f.Add("updated_at", fmt.Sprintf("%s is more than %s ahead of this server's clock",
				u.UpdatedAt.UTC().Format(time.RFC3339), MaxSyncClockSkew))
		}
	}
	if why := ValidSyncSource(u.Source); why != "" {
		f.Add("source", why)
	}
	return f.Err()
}

// Sync applies an update from an outside stock system. It reports applied false, with no
// error, when the update is stale. The staleness check, the change, its ledger row (actor
// SyncActor, reason SyncReason, source u.Source) and its inventory.stock.changed event
// are one transaction. Errors: a validation error; ErrSKUNotFound (also for a product
// without live SKUs) or ErrProductNotFound when the catalog does not know what u names;
// ErrProductHasSeveralSKUs; ErrInsufficientStock for a Delta that would take available
// stock below zero. These are the update's fault and will not change on a retry; any other
// error (a database or catalog outage) may pass when tried again.
func (s *Service) Sync(ctx context.Context, u SyncUpdate) (applied bool, err error) {
	if err := s.checkSync(u); err != nil {
		return false, err
	}
	skuID, productID, err := s.resolve(ctx, u)
	if err != nil {
		return false, err
	}
	source := u.Source
	if source == "" {
		source = DefaultSyncSource
	}
	var updatedAt *time.Time
	if u.UpdatedAt != nil {
		t := u.UpdatedAt.UTC().Truncate(time.Microsecond)
		updatedAt = &t
	}
	c := Change{SKUID: skuID, ProductID: productID, Set: u.Set, Delta: u.Delta,
		Actor: SyncActor, Reason: SyncReason, Source: source}
	applied, _, err = s.store.ApplySync(ctx, c, u.Version, updatedAt, s.ids.New(), s.changeEvent(c))
	if errors.Is(err, ErrInsufficientStock) {
		err = ErrInsufficientStock.Withf("delta %d would take the available stock of SKU %s below zero", u.Delta, skuID)
	}
	return applied, err
}

// resolve finds the SKU an update names, and its product.
func (s *Service) resolve(ctx context.Context, u SyncUpdate) (skuID, productID ids.ID, err error) {
	switch {
	case u.SKUID != 0:
		productID, err = s.catalog.ProductOfSKU(ctx, u.SKUID)
		if errors.Is(err, ErrSKUNotFound) {
			return 0, 0, ErrSKUNotFound.Withf("no live SKU has id %s", u.SKUID)
		}
		return u.SKUID, productID, err
	case u.SKUCode != "":
		skuID, err = s.catalog.SKUByCode(ctx, u.SKUCode)
		if err == nil {
			productID, err = s.catalog.ProductOfSKU(ctx, skuID)
		}
		if errors.Is(err, ErrSKUNotFound) {
			return 0, 0, ErrSKUNotFound.Withf("no live SKU has code %q", u.SKUCode)
		}
		return skuID, productID, err
	default:
		skus, err := s.catalog.LiveSKUsOfProduct(ctx, u.ProductID)
		switch {
		case errors.Is(err, ErrProductNotFound):
			return 0, 0, ErrProductNotFound.Withf("no live product has id %s", u.ProductID)
		case err != nil:
			return 0, 0, err
		case len(skus) == 0:
			return 0, 0, ErrSKUNotFound.Withf("product %s has no live SKU to hold stock", u.ProductID)
		case len(skus) > 1:
			return 0, 0, ErrProductHasSeveralSKUs.Withf(
				"product %s has %d live SKUs and stock is kept per SKU; name the one to update with sku_id or sku_code",
				u.ProductID, len(skus)).With(map[string]any{"product_id": u.ProductID, "live_skus": len(skus)})
		}
		return skus[0], u.ProductID, nil
	}
}
