package promotion

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/minimart/minimart/internal/platform/batch"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// Config tunes the promotion service.
type Config struct {
	// Claimant names this process in claims of attempts to turn into orders (required).
	Claimant Claimant
	// RecordConcurrency is how many attempt batches may be recorded at once: 1 on SQLite
	// (one writer), more on a server database where batches of different sales overlap.
	RecordConcurrency int
	// HoldGrace keeps a sale's stock held this long past its end, so the sale's own
	// settlement, not inventory's expiry sweep, is what normally frees it (default 1h).
	HoldGrace time.Duration
	// OutOfStockPatience is how long an attempt whose order inventory finds short (the
	// sale's hold lacks the unit) is tried again before it fails (default 1 min). Units on
	// their way back to the hold arrive within it: a cancelled order's, through inventory's
	// own consumer of the cancellation, which may run after ours; an order's that was never
	// recorded (a crash between its hold and its write), through inventory's unplaced sweep
	// — so it must outlast MINIMART_ORPHAN_HOLD_AFTER.
	OutOfStockPatience time.Duration
}

// Tuning that operators have no reason to change.
const (
	// recordBatch is the most attempts recorded in one transaction.
	recordBatch = 128
	// saleFresh is how long an attempt trusts a sale read by an earlier one: a cancelled
	// sale stops being let through the filter within it (the database refuses it at once).
	saleFresh = time.Second
	// soldOutRecheck is how often, per sale and process, a filter that says sold out is
	// checked against the database, so a filter behind the database does not undersell.
	soldOutRecheck = time.Second
	// holdTimeout bounds the inventory call that holds a new sale's stock.
	holdTimeout = 10 * time.Second
	// holdingPatience is how long the sweeper leaves a sale Holding to its creator before
	// finishing it itself (a creator that crashed between recording and holding).
	holdingPatience           = 30 * time.Second
	defaultHoldGrace          = time.Hour
	defaultOutOfStockPatience = time.Minute
)

// Service is the flash-sale use cases.
type Service struct {
	store     Storer
	stock     Stock
	catalog   Catalog
	addresses Addresses
	orders    Orders
	filter    Admission
	ids       *ids.Generator
	cfg       Config
	log       *slog.Logger
	now       func() time.Time

	recorder *batch.Batcher[Attempt, recorded]
	// wake tells the order worker that attempts were accepted.
	wake chan struct{}
	// loads makes concurrent attempts that need the same sale or the same filter rebuild
	// wait for one database read.
	loads singleflight.Group

	mu sync.Mutex
	// sales are sales read recently for attempts.
	sales map[ids.ID]cachedSale
	// soldOutChecked is when each sale's sold-out filter was last checked against the database.
	soldOutChecked map[ids.ID]time.Time
	// filterWarned is when a filter that could not answer was last logged.
	filterWarned time.Time
}

type cachedSale struct {
	sale Sale
	at   time.Time
}

// NewService wires the promotion service.
func NewService(store Storer, stock Stock, catalog Catalog, addresses Addresses, orders Orders, filter Admission,
	gen *ids.Generator, cfg Config, log *slog.Logger) *Service {
	if cfg.HoldGrace <= 0 {
		cfg.HoldGrace = defaultHoldGrace
	}
	if cfg.OutOfStockPatience <= 0 {
		cfg.OutOfStockPatience = defaultOutOfStockPatience
	}
	s := &Service{store: store, stock: stock, catalog: catalog, addresses: addresses, orders: orders, filter: filter,
		ids: gen, cfg: cfg, log: log, now: time.Now, wake: make(chan struct{}, 1),
		sales: map[ids.ID]cachedSale{}, soldOutChecked: map[ids.ID]time.Time{}}
	s.recorder = batch.New(s.recordBatch, batch.Options{MaxBatch: recordBatch, Concurrency: cfg.RecordConcurrency})
	return s
}

// stamp is the time written to rows; MySQL keeps microseconds, so both engines get the same.
func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// SaleInput is a new sale as staff describe it.
type SaleInput struct {
	SKUID        ids.ID
	Price        money.Fen
	Quantity     int
	PerUserLimit int
	StartsAt     time.Time
	EndsAt       time.Time
}

func (s *Service) checkSaleInput(in SaleInput) error {
	now := s.now()
	var f errs.Fields
	if in.SKUID <= 0 {
		f.Add("sku_id", "is required")
	}
	if in.Price <= 0 {
		f.Add("price", "must be a positive amount in fen")
	}
	if in.Quantity < 1 || in.Quantity > MaxSaleQuantity {
		f.Add("quantity", fmt.Sprintf("must be 1 to %d", MaxSaleQuantity))
	}
	switch {
	case in.PerUserLimit < 1 || in.PerUserLimit > MaxPerUserLimit:
		f.Add("per_user_limit", fmt.Sprintf("must be 1 to %d", MaxPerUserLimit))
	case in.PerUserLimit > in.Quantity && in.Quantity >= 1:
		f.Add("per_user_limit", "must not be more than the quantity")
	}
	switch {
	case in.StartsAt.IsZero():
		f.Add("starts_at", "is required")
	case in.StartsAt.Before(now.Add(-StartTolerance)):
		f.Add("starts_at", "is in the past")
	case in.StartsAt.After(now.Add(MaxScheduleAhead)):
		f.Add("starts_at", "is more than a year ahead")
	}
	switch {
	case in.EndsAt.IsZero():
		f.Add("ends_at", "is required")
	case !in.EndsAt.After(now):
		f.Add("ends_at", "is in the past")
	case !in.StartsAt.IsZero() && !in.EndsAt.After(in.StartsAt):
		f.Add("ends_at", "must be after starts_at")
	case !in.StartsAt.IsZero() && in.EndsAt.Sub(in.StartsAt) > MaxSaleLength:
		f.Add("ends_at", "a sale runs at most 31 days")
	}
	return f.Err()
}

// CreateSale records a sale and holds its quantity out of the SKU's available stock. A SKU
// that is unknown, deleted or off shelf, a window that overlaps another live sale of the
// SKU, or too little stock (inventory's out_of_stock, with details) refuse it.
func (s *Service) CreateSale(ctx context.Context, actor string, in SaleInput) (Sale, error) {
	if err := s.checkSaleInput(in); err != nil {
		return Sale{}, err
	}
	items, err := s.catalog.Items(ctx, []ids.ID{in.SKUID})
	if err != nil {
		return Sale{}, err
	}
	it, known := items[in.SKUID]
	if !known {
		var f errs.Fields
		f.Add("sku_id", "no such SKU")
		return Sale{}, f.Err()
	}
	if !it.OnSale {
		return Sale{}, ErrSKUUnavailable.With(map[string]any{"fields": []errs.FieldError{{Field: "sku_id", Reason: "is not on sale"}}})
	}
	now := s.stamp()
	sale := Sale{ID: s.ids.New(), SKUID: it.SKUID, ProductID: it.ProductID, Title: it.Title, Image: it.Image,
		ListPrice: it.Price, Price: in.Price, Quantity: in.Quantity, Remaining: in.Quantity, PerUserLimit: in.PerUserLimit,
		StartsAt: in.StartsAt.UTC().Truncate(time.Microsecond), EndsAt: in.EndsAt.UTC().Truncate(time.Microsecond),
		Status: Holding, CreatedBy: actor, CreatedAt: now, UpdatedAt: now}
	// The row first, then the hold: a crash between leaves a Holding row the sweeper
	// finishes (Hold is idempotent by reference), never stock held for no sale.
	if err := s.store.CreateSale(ctx, sale); err != nil {
		return Sale{}, err
	}
	holdCtx, cancel := context.WithTimeout(ctx, holdTimeout)
	defer cancel()
	if err := s.stock.Hold(holdCtx, sale.StockRef(), sale.SKUID, sale.Quantity, sale.EndsAt.Add(s.cfg.HoldGrace)); err != nil {
		// Failed either way. Refused by inventory, nothing was held; otherwise the hold may
		// have landed, and the sale's settlement releases it.
		nothingHeld := !transient(err)
		if _, _, markErr := s.store.SetSaleStatus(context.WithoutCancel(ctx), sale.ID, []SaleStatus{Holding}, Failed,
			failReason(err), nothingHeld, s.stamp()); markErr != nil {
			s.log.WarnContext(ctx, "flash sale not marked failed; the sweeper finishes it", slog.String("sale_id", sale.ID.String()),
				slog.String("error", markErr.Error()))
		}
		return Sale{}, err
	}
	out, _, err := s.store.SetSaleStatus(ctx, sale.ID, []SaleStatus{Holding}, Scheduled, "", false, s.stamp())
	return out, err
}

// failReason is the code an error carries, or "internal" for one without.
func failReason(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Code
	}
	return "internal"
}

// transient reports whether an error may pass if the call is tried again: the dependency
// or database could not be reached, or failed on its side (any 5xx kind), or the call did
// not finish in time. An error with a 4xx code is the answer and stays the answer.
func transient(err error) bool {
	e, ok := errs.As(err)
	if !ok {
		return true // a network, database or context error: no answer was given
	}
	switch e.Kind {
	case errs.Internal, errs.Unavailable, errs.TooManyRequests:
		return true
	}
	return e.Code == "dependency_unavailable" || e.Code == "database_unavailable"
}

// Sale is one sale for staff.
func (s *Service) Sale(ctx context.Context, id ids.ID) (Sale, error) { return s.store.Sale(ctx, id) }

// MaxListLimit bounds one listing of sales.
const MaxListLimit = 100

// Sales lists sales for staff, newest first; f.Limit is bounded by MaxListLimit + 1 (a
// caller paging asks for one more than it shows, to know whether another page follows).
func (s *Service) Sales(ctx context.Context, f SaleFilter) ([]Sale, error) {
	var fe errs.Fields
	for _, p := range f.Phases {
		if !slices.Contains(Phases, p) {
			fe.Add("status", fmt.Sprintf("%q is not a status; use one of %v", p, Phases))
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	f.Limit = max(1, min(f.Limit, MaxListLimit+1))
	f.Now = s.now()
	return s.store.Sales(ctx, f)
}

// CurrentSales lists the sales buyers see: active and upcoming, soonest first, at most
// MaxListLimit.
func (s *Service) CurrentSales(ctx context.Context) ([]Sale, error) {
	return s.store.CurrentSales(ctx, s.now(), MaxListLimit)
}

// CancelSale stops a sale that is pending, upcoming or active: nothing more is admitted.
// Attempts already accepted still become orders; then the sweeper returns what is unsold.
func (s *Service) CancelSale(ctx context.Context, id ids.ID) (Sale, error) {
	sale, err := s.store.Sale(ctx, id)
	if err != nil {
		return Sale{}, err
	}
	if p := sale.PhaseAt(s.now()); p == PhaseEnded || p == PhaseCancelled || p == PhaseFailed {
		return Sale{}, ErrNotCancellable.Withf("the flash sale is %s; only a pending, upcoming or active one can be cancelled", p)
	}
	sale, changed, err := s.store.SetSaleStatus(ctx, id, []SaleStatus{Holding, Scheduled}, Cancelled, "", false, s.stamp())
	if err != nil {
		return Sale{}, err
	}
	if !changed {
		return Sale{}, ErrNotCancellable.Withf("the flash sale is %s; only a pending, upcoming or active one can be cancelled", sale.PhaseAt(s.now()))
	}
	s.mu.Lock()
	delete(s.sales, id)
	s.mu.Unlock()
	return sale, nil
}
