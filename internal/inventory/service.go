package inventory

import (
	"context"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/minimart/minimart/internal/inventory/inventoryevents"
	"github.com/minimart/minimart/internal/platform/batch"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
)

// Service is the inventory use cases.
type Service struct {
	store   Storer
	catalog Catalog
	ids     *ids.Generator
	log     *slog.Logger
	now     func() time.Time
	// reserves group concurrent reservations into shared transactions.
	reserves *batch.Batcher[Reservation, Reservation]
	metrics  *Metrics
	// names names SKUs in staff lists (NameSKUsWith).
	names SKUNames
}

// CountWith makes the service count its refusals in m; call it before the service is used.
func (s *Service) CountWith(m *Metrics) { s.metrics = m }

// NewService wires the inventory service.
func NewService(store Storer, catalog Catalog, gen *ids.Generator, log *slog.Logger) *Service {
	s := &Service{store: store, catalog: catalog, ids: gen, log: log, now: time.Now}
	s.reserves = batch.New(func(ctx context.Context, rs []Reservation) ([]batch.Result[Reservation], error) {
		return store.ReserveBatch(ctx, rs, s.ids.New, s.stockEvent)
	}, batch.Options{MaxBatch: reserveBatchSize, Concurrency: store.WriteConcurrency()})
	return s
}

// reserveBatchSize bounds a group-committed batch of reservations: large enough to carry a
// burst of orders, small enough that its locks are held for a few milliseconds.
const reserveBatchSize = 64

func checkReason(f *errs.Fields, reason string, required bool) {
	switch {
	case required && strings.TrimSpace(reason) == "":
		f.Add("reason", "is required: say why stock changes")
	case utf8.RuneCountInString(reason) > 200:
		f.Add("reason", "must be at most 200 characters")
	}
}

// SetStock makes a SKU's available stock exactly stock (the seed's updateProductStock);
// reserved and sold stock are kept.
func (s *Service) SetStock(ctx context.Context, actor string, skuID ids.ID, stock int64, reason string) (Level, error) {
	var f errs.Fields
	if stock < 0 || stock > MaxStock {
		f.Add("stock", "must be between 0 and 100000000")
	}
	checkReason(&f, reason, false)
	if err := f.Err(); err != nil {
		return Level{}, err
	}
	if reason == "" {
		reason = "stock set"
	}
	return s.apply(ctx, Change{SKUID: skuID, Set: &stock, Actor: actor, Reason: reason, Source: "admin"})
}

// AdjustStock adds delta (negative to remove) to a SKU's available stock.
func (s *Service) AdjustStock(ctx context.Context, actor string, skuID ids.ID, delta int64, reason string) (Level, error) {
	var f errs.Fields
	if delta == 0 || delta > MaxStock || delta < -MaxStock {
		f.Add("delta", "must be a non-zero number between -100000000 and 100000000")
	}
	checkReason(&f, reason, true)
	if err := f.Err(); err != nil {
		return Level{}, err
	}
	return s.apply(ctx, Change{SKUID: skuID, Delta: delta, Actor: actor, Reason: reason, Source: "admin"})
}

func (s *Service) apply(ctx context.Context, c Change) (Level, error) {
	productID, err := s.catalog.ProductOfSKU(ctx, c.SKUID)
	if err != nil {
		return Level{}, err
	}
	c.ProductID = productID
	return s.store.Apply(ctx, c, s.ids.New(), s.changeEvent(c))
}

// changeEvent builds the inventory.stock.changed event of c from the levels around it.
func (s *Service) changeEvent(c Change) func(before, after Level) (events.Event, error) {
	return func(before, after Level) (events.Event, error) {
		return events.New(s.ids.New(), inventoryevents.TypeStockChanged, c.SKUID.String(), inventoryevents.StockChanged{
			SKUID: c.SKUID, ProductID: c.ProductID, Available: after.Available, Reserved: after.Reserved, Sold: after.Sold,
			DeltaAvailable: after.Available - before.Available, Reason: c.Reason, Source: c.Source,
		})
	}
}

// Available returns the available stock of each SKU that has a stock row.
func (s *Service) Available(ctx context.Context, skuIDs []ids.ID) (map[ids.ID]int64, error) {
	levels, err := s.store.Levels(ctx, skuIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[ids.ID]int64, len(levels))
	for _, l := range levels {
		out[l.SKUID] = l.Available
	}
	return out, nil
}

// Level returns a SKU's stock; a SKU never stocked has zeros.
func (s *Service) Level(ctx context.Context, skuID ids.ID) (Level, error) {
	productID, err := s.catalog.ProductOfSKU(ctx, skuID)
	if err != nil {
		return Level{}, err
	}
	levels, err := s.store.Levels(ctx, []ids.ID{skuID})
	if err != nil {
		return Level{}, err
	}
	if len(levels) == 0 {
		return Level{SKUID: skuID, ProductID: productID}, nil
	}
	return levels[0], nil
}

// Ledger lists a SKU's stock changes, newest first, from before beforeSeq (0: the newest).
func (s *Service) Ledger(ctx context.Context, skuID ids.ID, beforeSeq int64, limit int) ([]LedgerEntry, error) {
	return s.store.Ledger(ctx, skuID, beforeSeq, limit)
}
