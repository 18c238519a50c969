package catalog_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/catalog/catalogdb"
	"github.com/minimart/minimart/internal/catalog/catalogevents"
	"github.com/minimart/minimart/internal/inventory/inventoryevents"
	"github.com/minimart/minimart/internal/platform/cache"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/servicetest"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
)

// gatedStock stands in for inventory: levels the test sets and, while armed, a gate that
// holds each read after it has taken its value, so the test decides what happens between
// a cache fill's reads and its write.
type gatedStock struct {
	mu    sync.Mutex
	level int64
	gate  chan chan struct{}
}

func (s *gatedStock) set(level int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.level = level
}

// arm makes the next reads stop at the gate; each sends the channel that lets it go on.
func (s *gatedStock) arm() chan chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate = make(chan chan struct{})
	return s.gate
}

func (s *gatedStock) disarm() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate = nil
}

func (s *gatedStock) Available(_ context.Context, skuIDs []ids.ID) (map[ids.ID]int64, error) {
	s.mu.Lock()
	level, gate := s.level, s.gate
	s.mu.Unlock()
	if gate != nil {
		proceed := make(chan struct{})
		gate <- proceed
		<-proceed
	}
	out := map[ids.ID]int64{}
	for _, id := range skuIDs {
		out[id] = level
	}
	return out, nil
}

type viewsFixture struct {
	svc     *catalog.Service
	views   *catalog.Views
	stock   *gatedStock
	gen     *ids.Generator
	product catalog.Product
}

func newViewsFixture(t *testing.T, c cache.Cache) *viewsFixture {
	t.Helper()
	db := sqldbtest.SQLite(t, events.OutboxMigrations, catalogdb.Migrations)
	gen, err := ids.NewGenerator(5)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := catalogdb.New(db, events.NewOutbox())
	f := &viewsFixture{svc: catalog.NewService(store, gen, log), stock: &gatedStock{level: 10}, gen: gen}
	f.views = catalog.NewViews(store, f.stock, nil, c, prometheus.NewRegistry(), log)
	ctx := context.Background()
	cat, err := f.svc.CreateCategory(ctx, catalog.CategoryInput{Name: "茶叶"})
	if err != nil {
		t.Fatal(err)
	}
	f.product, err = f.svc.CreateProduct(ctx, catalog.ProductInput{CategoryID: cat.ID, Title: "龙井"},
		[]catalog.SKUInput{{Price: 1000}}, true)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

type detail struct {
	Title string `json:"title"`
	Stock int64  `json:"stock"`
}

func (f *viewsFixture) detail(t *testing.T) detail {
	t.Helper()
	b, err := f.views.ProductDetail(context.Background(), f.product.ID)
	if err != nil {
		t.Fatalf("detail: %v", err)
	}
	var d detail
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func (f *viewsFixture) event(t *testing.T, typ string, payload any) events.Event {
	t.Helper()
	ev, err := events.New(f.gen.New(), typ, f.product.ID.String(), payload)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestDetailFillRacingAnEvent plays the race between a product-detail cache fill and a
// stock or catalog event, deterministically: the fill reads the product and its stock,
// the change commits and its event is handled, and only then does the fill write. The
// entry the fill wrote from what it read before the change must not outlive the event:
// the next read shows the change, not the old stock or title for the entry's whole TTL.
func TestDetailFillRacingAnEvent(t *testing.T) {
	caches := map[string]func(t *testing.T) cache.Cache{
		"memory": func(t *testing.T) cache.Cache {
			m := cache.NewMemory(1000)
			t.Cleanup(func() { m.Close() })
			return m
		},
		"redis": func(t *testing.T) cache.Cache {
			url := servicetest.RedisURL(t)
			b := make([]byte, 6)
			rand.Read(b)
			prefix := "mmtest-views-" + hex.EncodeToString(b) + ":"
			r, err := cache.NewRedis(url, prefix)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				r.Close()
				opt, err := redis.ParseURL(url)
				if err != nil {
					return
				}
				raw := redis.NewClient(opt)
				defer raw.Close()
				ctx := context.Background()
				for iter := raw.Scan(ctx, 0, prefix+"*", 100).Iterator(); iter.Next(ctx); {
					raw.Del(ctx, iter.Val())
				}
			})
			return r
		},
	}
	changes := []struct {
		name   string
		change func(t *testing.T, f *viewsFixture) events.Event
		want   detail
	}{
		{"stock", func(t *testing.T, f *viewsFixture) events.Event {
			f.stock.set(3)
			return f.event(t, inventoryevents.TypeStockChanged, inventoryevents.StockChanged{
				SKUID: f.product.SKUs[0].ID, ProductID: f.product.ID, Available: 3, DeltaAvailable: -7})
		}, detail{Title: "龙井", Stock: 3}},
		{"product", func(t *testing.T, f *viewsFixture) events.Event {
			if _, err := f.svc.UpdateProduct(context.Background(), f.product.ID, catalog.ProductInput{
				CategoryID: f.product.CategoryID, Title: "明前龙井"}); err != nil {
				t.Fatal(err)
			}
			return f.event(t, catalogevents.TypeProductChanged, catalogevents.ProductChanged{
				ProductID: f.product.ID, Change: catalogevents.ChangeUpdated, Status: string(catalog.OnShelf)})
		}, detail{Title: "明前龙井", Stock: 10}},
	}
	for name, newCache := range caches {
		for _, ch := range changes {
			t.Run(name+"/"+ch.name, func(t *testing.T) {
				f := newViewsFixture(t, newCache(t))
				ctx := context.Background()
				gate := f.stock.arm()
				type answer struct {
					body []byte
					err  error
				}
				filled := make(chan answer)
				go func() {
					b, err := f.views.ProductDetail(ctx, f.product.ID)
					filled <- answer{b, err}
				}()
				proceed := <-gate // the fill has read the product and the stock it had before the change

				if err := f.views.HandleEvent(ctx, ch.change(t, f)); err != nil {
					t.Fatalf("handle event: %v", err)
				}
				close(proceed)
				if a := <-filled; a.err != nil || !strings.Contains(string(a.body), `"stock":10`) {
					t.Fatalf("the racing read answered %s, %v; want what it read before the change", a.body, a.err)
				}
				f.stock.disarm()
				if got := f.detail(t); got != ch.want {
					t.Fatalf("after the event the detail is %+v, want %+v: the older fill overwrote the event", got, ch.want)
				}
			})
		}
	}
}
