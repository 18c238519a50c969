package app

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/order"
	"github.com/minimart/minimart/internal/order/orderevents"
	"github.com/minimart/minimart/internal/platform/cache"
	"github.com/minimart/minimart/internal/platform/config"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/promotion"
	"github.com/minimart/minimart/internal/promotion/promotiondb"
)

// saleOrderSource is what the promotion module needs of the order module: the order
// service in process, orderclient when orders run in another service.
type saleOrderSource interface {
	CreateForSale(ctx context.Context, in order.SaleInput) (order.Order, error)
}

// buildPromotions builds the promotion module over the sources of the modules it calls.
func (a *App) buildPromotions(gen *ids.Generator, skus skuSource, stock stockSource, users userSource, orders saleOrderSource) error {
	filter, err := a.admissionFilter()
	if err != nil {
		return err
	}
	concurrency := 1 // SQLite has one writer
	if a.DB.Dialect == sqldb.MySQL {
		// Batches of different sales overlap; those of one sale queue on its row lock.
		concurrency = 4
	}
	a.Promotions = promotion.NewService(promotiondb.New(a.DB), promotionStock{stock}, promotionCatalog{skus},
		promotionAddresses{users}, promotionOrders{orders}, filter, gen,
		promotion.Config{Claimant: a.instance, RecordConcurrency: concurrency,
			// Units of an order never recorded come back to the sale's hold through
			// inventory's unplaced sweep, once the hold is MINIMART_ORPHAN_HOLD_AFTER old.
			OutOfStockPatience: a.Config.OrphanHoldAfter + time.Minute}, a.log)
	return nil
}

// admissionFilter is the flash-sale filter of the shape: shared by every instance through
// Redis (the cache's server and key prefix) when there is one, else this process's memory.
func (a *App) admissionFilter() (promotion.Admission, error) {
	cfg := a.Config
	if cfg.RedisURL == "" {
		return promotion.NewMemoryAdmission(), nil
	}
	client, err := cache.NewRedisClient(cfg.RedisURL)
	if err != nil {
		return nil, &config.Error{Var: "MINIMART_REDIS_URL", Problem: "cannot be used: " + redact(err, cfg.RedisURL)}
	}
	a.closers = append(a.closers, client.Close)
	return promotion.NewRedisAdmission(client, cfg.CachePrefix), nil
}

// runPromotions turns accepted attempts into orders and sweeps sales (holds left by a crash,
// ends, settlements) until ctx ends: at least every second, sooner with a shorter schedule.
func (a *App) runPromotions(ctx context.Context) error {
	every := min(a.Config.ScheduleInterval, time.Second)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.Promotions.RunOrderWorker(gctx, every) })
	g.Go(func() error { return a.Promotions.RunSweeper(gctx, every) })
	return g.Wait()
}

// The adapters below satisfy the promotion module's ports with the sources (adapters.go).

type promotionCatalog struct{ src skuSource }

func (c promotionCatalog) Items(ctx context.Context, skuIDs []ids.ID) (map[ids.ID]promotion.Item, error) {
	refs, err := c.src.SKURefs(ctx, skuIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[ids.ID]promotion.Item, len(refs))
	for _, r := range refs {
		out[r.ID] = promotion.Item{SKUID: r.ID, ProductID: r.ProductID, Title: r.ProductTitle, Image: image(r), Price: r.Price,
			OnSale: onSale(r)}
	}
	return out, nil
}

type promotionStock struct{ src stockSource }

func (s promotionStock) Hold(ctx context.Context, ref string, skuID ids.ID, quantity int, expiresAt time.Time) error {
	_, err := s.src.Hold(ctx, ref, []inventory.ReserveLine{{SKUID: skuID, Quantity: int64(quantity)}}, expiresAt)
	return err
}

func (s promotionStock) Release(ctx context.Context, ref, reason string) error {
	_, err := s.src.Release(ctx, ref, reason)
	if errors.Is(err, inventory.ErrReservationNotFound) {
		return nil // nothing was held
	}
	return err
}

type promotionAddresses struct{ src userSource }

func (a promotionAddresses) CheckAddress(ctx context.Context, userID, addressID ids.ID) error {
	_, err := a.src.Address(ctx, userID, addressID)
	return err
}

type promotionOrders struct{ src saleOrderSource }

func (o promotionOrders) CreateForSale(ctx context.Context, in promotion.SaleOrder) (promotion.PlacedOrder, error) {
	ord, err := o.src.CreateForSale(ctx, order.SaleInput{AttemptID: in.AttemptID, SaleID: in.SaleID, UserID: in.UserID,
		SKUID: in.SKUID, AddressID: in.AddressID, Quantity: in.Quantity, UnitPrice: in.UnitPrice, StockRef: in.StockRef})
	if err != nil {
		return promotion.PlacedOrder{}, err
	}
	return promotion.PlacedOrder{ID: ord.ID, OrderNo: ord.OrderNo, Cancelled: ord.Status == orderevents.Cancelled}, nil
}
