// Package app is the composition root: from the configuration it opens the database, cache
// and event bus of the chosen shape, builds every module and mounts their routes.
package app

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/errgroup"

	"github.com/minimart/minimart/api"
	"github.com/minimart/minimart/internal/cart"
	"github.com/minimart/minimart/internal/cart/cartclient"
	"github.com/minimart/minimart/internal/cart/cartdb"
	"github.com/minimart/minimart/internal/cart/carthttp"
	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/catalog/catalogclient"
	"github.com/minimart/minimart/internal/catalog/catalogdb"
	"github.com/minimart/minimart/internal/catalog/catalogevents"
	"github.com/minimart/minimart/internal/catalog/cataloghttp"
	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/inventory/inventoryclient"
	"github.com/minimart/minimart/internal/inventory/inventorydb"
	"github.com/minimart/minimart/internal/inventory/inventoryevents"
	"github.com/minimart/minimart/internal/inventory/inventoryhttp"
	"github.com/minimart/minimart/internal/inventory/stocksync"
	"github.com/minimart/minimart/internal/order"
	"github.com/minimart/minimart/internal/order/orderclient"
	"github.com/minimart/minimart/internal/order/orderdb"
	"github.com/minimart/minimart/internal/order/orderhttp"
	"github.com/minimart/minimart/internal/payment"
	"github.com/minimart/minimart/internal/payment/paymentdb"
	"github.com/minimart/minimart/internal/payment/paymenthttp"
	"github.com/minimart/minimart/internal/payment/sandbox"
	"github.com/minimart/minimart/internal/platform/audit"
	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/blob"
	"github.com/minimart/minimart/internal/platform/cache"
	"github.com/minimart/minimart/internal/platform/config"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/liveness"
	"github.com/minimart/minimart/internal/platform/money"
	"github.com/minimart/minimart/internal/platform/peer"
	"github.com/minimart/minimart/internal/platform/sqldb"
	"github.com/minimart/minimart/internal/platform/web"
	"github.com/minimart/minimart/internal/promotion"
	"github.com/minimart/minimart/internal/promotion/promotiondb"
	"github.com/minimart/minimart/internal/promotion/promotionhttp"
	"github.com/minimart/minimart/internal/user"
	"github.com/minimart/minimart/internal/user/userclient"
	"github.com/minimart/minimart/internal/user/userdb"
	"github.com/minimart/minimart/internal/user/userhttp"
	"github.com/minimart/minimart/internal/user/wechatlogin"
	frontend "github.com/minimart/minimart/web"
)

// moduleMigrations are each module's schemas, in the order they are applied.
var moduleMigrations = map[string][]sqldb.Migrations{
	config.ModuleUser:      {userdb.Migrations},
	config.ModuleCatalog:   {catalogdb.Migrations},
	config.ModuleInventory: {inventorydb.Migrations},
	config.ModuleCart:      {cartdb.Migrations},
	config.ModuleOrder:     {orderdb.Migrations},
	config.ModulePayment:   {paymentdb.Migrations, sandbox.Migrations},
	config.ModulePromotion: {promotiondb.Migrations},
}

// Migrations lists the schemas of the given modules (every module when none is given) with
// the outbox every process has, in the order they are applied. A service's database holds
// only these.
func Migrations(modules ...string) []sqldb.Migrations {
	if len(modules) == 0 {
		modules = config.Modules
	}
	out := []sqldb.Migrations{liveness.Migrations, events.OutboxMigrations}
	for _, m := range config.Modules {
		if slices.Contains(modules, m) {
			out = append(out, moduleMigrations[m]...)
		}
	}
	return out
}

// App is one running Minimart process. A module's field is nil when the module runs in
// another process (config.Modules).
type App struct {
	Config    config.Config
	Users     *user.Service
	Catalog   *catalog.Service
	Inventory *inventory.Service
	Cart      *cart.Service
	Orders    *order.Service
	Payments  *payment.Service
	// Promotions is the flash-sale module (promotion.go).
	Promotions *promotion.Service
	// Sandbox is the built-in payment provider; nil when it is not offered.
	Sandbox   *sandbox.Provider
	Indexer   *catalog.Indexer
	DB        *sqldb.DB
	log       *slog.Logger
	stockSync *stocksync.Consumer // nil without RabbitMQ
	cache     cache.Cache
	bus       events.Bus
	relay     *events.Relay
	handler   http.Handler
	// ops is the operator listener's handler: metrics, pprof, readiness details.
	ops     http.Handler
	closers []func() error
	// holdOrders tells the inventory sweep which holds belong to recorded orders.
	holdOrders inventory.Orders
	peers      []*peer.Client
	// instance is this process's liveness registration; claims name it.
	instance *liveness.Instance
	// publicURL is MINIMART_PUBLIC_URL, or the listening address once Run knows it.
	publicURL atomic.Pointer[string]
	// tls is the certificate of MINIMART_TLS_*; nil serves plain HTTP.
	tls *tls.Config
	// tracer makes spans (telemetry.go); nil is tracing off.
	tracer trace.Tracer
}

// New builds the app for cfg: opens and migrates the database, connects the cache and the
// bus, builds the modules this process serves and reaches the others through their HTTP
// clients. Close releases what New opened.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...Option) (_ *App, err error) {
	a := &App{Config: cfg, log: log, tracer: optionsOf(opts).tracer}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()

	base, err := OpenBase(ctx, cfg, log, opts...)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, base.Close)
	a.DB = base.DB
	// Only the serving process builds an App (commands open a Base): it registers, so that
	// the work it claims is taken over within seconds if it dies.
	if a.instance, err = liveness.Register(ctx, a.DB, liveness.Options{Log: log}); err != nil {
		return nil, err
	}

	if cfg.RedisURL != "" {
		r, err := cache.NewRedis(cfg.RedisURL, cfg.CachePrefix)
		if err != nil {
			return nil, &config.Error{Var: "MINIMART_REDIS_URL", Problem: "cannot be used: " + redact(err, cfg.RedisURL)}
		}
		a.cache = r
		a.closers = append(a.closers, r.Close)
	} else {
		m := cache.NewMemory(100_000)
		a.cache = m
		a.closers = append(a.closers, func() error { m.Close(); return nil })
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerPools(reg, a.DB)
	eventMetrics := events.NewMetrics(reg)
	if cfg.AMQPURL != "" {
		b, err := events.NewAMQP(cfg.AMQPURL, events.AMQPOptions{Exchange: cfg.AMQPPrefix + ".events",
			QueuePrefix: cfg.AMQPPrefix + ".", Metrics: eventMetrics, Tracer: a.tracer}, log)
		if err != nil {
			return nil, fmt.Errorf("rabbitmq: %s", redact(err, cfg.AMQPURL))
		}
		a.bus = b
	} else {
		// Each consumer's deliveries wait in the database, so a slow or failing one holds up
		// no other and none is lost to a restart.
		a.bus = events.NewInProc(a.DB, log, events.InProcOptions{Metrics: eventMetrics, Tracer: a.tracer})
	}
	a.closers = append(a.closers, a.bus.Close)

	gen := base.IDs
	key, err := signingKey(cfg)
	if err != nil {
		return nil, err
	}
	tokens, err := auth.NewTokens(key, cfg.AccessTokenTTL)
	if err != nil {
		return nil, err
	}
	outbox := base.Outbox
	a.relay = events.NewRelay(a.DB, outbox, a.bus, log, events.RelayOptions{Metrics: eventMetrics, Tracer: a.tracer})

	// Each module is built here when this process serves it, else reached through its client.
	// The sources below are what other modules' adapters need of it, either way.
	var (
		users     userSource
		staff     auth.StaffStatus
		skus      skuSource
		skuOwners inventory.Catalog
		stock     stockSource
		carts     cartSource
		orders    orderSource
		// saleOrders makes the orders of flash-sale attempts (promotion.go).
		saleOrders saleOrderSource
	)
	if cfg.Serves(config.ModuleUser) {
		var exchanger user.CodeExchanger
		if cfg.WeChatAppID != "" {
			exchanger = wechatlogin.New(cfg.WeChatAPIBase, cfg.WeChatAppID, cfg.WeChatSecret, nil)
		}
		a.Users, err = base.users(tokens, exchanger, a.cache)
		if err != nil {
			return nil, err
		}
		users, staff = a.Users, a.Users
	} else {
		// Every module needs user (config.ModuleNeeds): staff tokens are checked there.
		c, err := remote(a, config.ModuleUser, userclient.Errors, userclient.New)
		if err != nil {
			return nil, err
		}
		users, staff = c, c
	}
	staffTokens, err := tokens.CheckingStaff(staff, staffStatusFresh)
	if err != nil {
		return nil, err
	}

	var catalogStore *catalogdb.Store
	if cfg.Serves(config.ModuleCatalog) {
		catalogStore = base.CatalogStore()
		a.Catalog = base.Catalog(catalogStore)
		skus, skuOwners = a.Catalog, a.Catalog
	} else if needsPeer(cfg, config.ModuleCatalog) {
		c, err := remote(a, config.ModuleCatalog, catalogclient.Errors, catalogclient.New)
		if err != nil {
			return nil, err
		}
		skus, skuOwners = c, c
	}

	if cfg.Serves(config.ModuleInventory) {
		a.Inventory = base.Inventory(skuOwners)
		stockMetrics, err := inventory.NewMetrics(reg)
		if err != nil {
			return nil, err
		}
		a.Inventory.CountWith(stockMetrics)
		a.Inventory.NameSKUsWith(inventorySKUNames{skus})
		stock = a.Inventory
		if cfg.AMQPURL != "" {
			a.stockSync, err = stocksync.New(cfg.AMQPURL, cfg.InventoryQueue, a.Inventory, log, reg)
			if err != nil {
				return nil, fmt.Errorf("inventory sync: %s", redact(err, cfg.AMQPURL))
			}
		}
	} else if needsPeer(cfg, config.ModuleInventory) {
		if stock, err = remote(a, config.ModuleInventory, inventoryclient.Errors, inventoryclient.New); err != nil {
			return nil, err
		}
	}

	var views *catalog.Views
	images, err := blob.NewDir(filepath.Join(cfg.DataDir, "media"), "/media/")
	if err != nil {
		return nil, err
	}
	if a.Catalog != nil {
		index, indexer, err := base.OpenSearchIndex(ctx, catalogStore, func(ctx context.Context) error { return views.SearchChanged(ctx) })
		if err != nil {
			return nil, err
		}
		a.Indexer = indexer
		views = catalog.NewViews(catalogStore, stock, index, a.cache, reg, log)
	}

	if cfg.Serves(config.ModuleCart) {
		a.Cart = cart.NewService(cartdb.New(a.DB), cartCatalog{skus}, stock)
		carts = a.Cart
	} else if needsPeer(cfg, config.ModuleCart) {
		if carts, err = remote(a, config.ModuleCart, cartclient.Errors, cartclient.New); err != nil {
			return nil, err
		}
	}

	if cfg.Serves(config.ModuleOrder) {
		orderMetrics, err := order.NewMetrics(reg)
		if err != nil {
			return nil, err
		}
		a.Orders = order.NewService(orderdb.New(a.DB, outbox), orderCatalog{skus}, orderStock{stock},
			orderAddresses{users}, orderCart{carts}, gen, order.Config{
				PayTimeout: cfg.OrderPayTimeout, AutoComplete: cfg.OrderAutoComplete, ReservationGrace: 10 * time.Minute,
				RecordWithin: cfg.OrphanHoldAfter / 3, Liveness: a.instance,
				ShippingFee: money.Fen(cfg.ShippingFee), FreeShippingOver: money.Fen(cfg.FreeShippingOver),
				Metrics: orderMetrics,
			}, log)
		orders, a.holdOrders, saleOrders = a.Orders, a.Orders, a.Orders
	} else if needsPeer(cfg, config.ModuleOrder) {
		c, err := remote(a, config.ModuleOrder, orderclient.Errors, orderclient.New)
		if err != nil {
			return nil, err
		}
		orders, a.holdOrders, saleOrders = c, c, c
	}

	if cfg.Serves(config.ModulePayment) {
		if err := a.buildPayments(ctx, base, key, orders, users, reg); err != nil {
			return nil, err
		}
	}

	if cfg.Serves(config.ModulePromotion) {
		if err := a.buildPromotions(gen, skus, stock, users, saleOrders); err != nil {
			return nil, err
		}
	}

	ips, err := web.NewClientIPs(cfg.TrustedProxies)
	if err != nil {
		return nil, &config.Error{Var: "MINIMART_TRUSTED_PROXIES", Problem: err.Error()}
	}
	if a.tls, err = loadTLS(cfg); err != nil {
		return nil, err
	}
	a.registerOutboxGauges(reg)
	if err := a.subscribe(views); err != nil {
		return nil, err
	}

	rt := web.NewRouter()
	rt.Handle("GET /healthz", web.Liveness())
	rt.Handle("GET /readyz", web.ReadinessStatus(a.readinessChecks()...))
	api.Routes(rt)
	ui, err := frontend.New(frontend.Embedded)
	if err != nil {
		return nil, err
	}
	ui.Routes(rt)
	rt.Handle("GET /api/v1/admin/events/dead-letters", staffTokens.Staff(auth.RoleAdmin)(web.HandlerFunc(a.deadLetters)))
	a.routes(rt, staffTokens, ips, views, images)
	a.ops = web.Ops(reg, a.readinessChecks()...)

	a.handler = web.Chain(rt,
		web.Observe(log, web.NewMetrics(reg)),
		web.Trace(a.tracer, peer.CarriesToken(a.Config.ServiceToken)),
		// A database that cannot be reached answers 503 database_unavailable, not 500.
		web.ClassifyErrors(sqldb.UnavailableError),
		web.Recover(),
		web.SecurityHeaders(),
		// Before the router, which knows no OPTIONS: it answers preflights itself.
		web.CORS(cfg.CORSOrigins),
		web.LimitBody(cfg.MaxBodyBytes, map[string]int64{cataloghttp.UploadPath: cfg.MaxUploadBytes}),
		// Innermost, so it sees the body as the handler reads it, within its limit.
		audit.Middleware(audit.NewRecorder(a.DB, outbox, gen, strings.Join(cfg.Modules, ","), log), tokens.StaffClaim, ips),
	)
	return a, nil
}

// routes mounts the public endpoints of the modules served here and, when a service token
// is set, their internal endpoints for the other services.
func (a *App) routes(rt *web.Router, tokens *auth.Tokens, ips *web.ClientIPs, views *catalog.Views, images *blob.Dir) {
	guard := func(h http.Handler) http.Handler { return h }
	limit := a.rateLimits(ips)
	internal := a.Config.ServiceToken != ""
	if internal {
		guard = peer.RequireToken(a.Config.ServiceToken)
	}
	if a.Users != nil {
		userhttp.Routes(rt, a.Users, tokens, ips, userhttp.Limits{Register: limit.register, Login: limit.login, Refresh: limit.refresh})
		if internal {
			userhttp.InternalRoutes(rt, a.Users, guard)
		}
	}
	if a.Catalog != nil {
		cataloghttp.Routes(rt, a.Catalog, views, images, a.Config.MaxUploadBytes, tokens, limit.search)
		rt.Handle("GET /media/{name}", images.Handler())
		if internal {
			cataloghttp.InternalRoutes(rt, a.Catalog, guard)
		}
	}
	if a.Inventory != nil {
		inventoryhttp.Routes(rt, a.Inventory, tokens)
		if internal {
			inventoryhttp.InternalRoutes(rt, a.Inventory, guard)
		}
	}
	if a.Cart != nil {
		carthttp.Routes(rt, a.Cart, tokens)
		if internal {
			carthttp.InternalRoutes(rt, a.Cart, guard)
		}
	}
	if a.Orders != nil {
		orderhttp.Routes(rt, a.Orders, tokens, limit.order)
		if internal {
			orderhttp.InternalRoutes(rt, a.Orders, guard)
		}
	}
	if a.Payments != nil {
		paymenthttp.Routes(rt, a.Payments, tokens, ips, limit.payment)
		if a.Sandbox != nil {
			sandbox.CashierRoutes(rt, a.Sandbox)
		}
	}
	if a.Promotions != nil {
		promotionhttp.Routes(rt, a.Promotions, tokens)
	}
}

// staffStatusFresh is how long a process trusts its last answer about a staff account: a
// disabled or deleted account, or a changed role, takes effect within it on every service.
const staffStatusFresh = 5 * time.Second

// needsPeer reports whether a module served here calls module (which is not served here).
func needsPeer(cfg config.Config, module string) bool {
	for _, m := range cfg.Modules {
		if slices.Contains(config.ModuleNeeds[m], module) {
			return true
		}
	}
	return false
}

// remote builds the HTTP client of a module that runs elsewhere, at its MINIMART_PEER_
// address; the app closes it.
func remote[C any](a *App, module string, known []*errs.Error, wrap func(*peer.Client) C) (C, error) {
	var zero C
	p, err := peer.New(peer.Options{Module: module, Target: a.Config.Peers[module], Token: a.Config.ServiceToken,
		Known: known, Log: a.log, Tracer: a.tracer})
	if err != nil {
		return zero, &config.Error{Var: config.PeerVar(module), Problem: err.Error()}
	}
	a.peers = append(a.peers, p)
	a.closers = append(a.closers, func() error { p.Close(); return nil })
	return wrap(p), nil
}

// subscribe connects the consumers of the modules served here. The cache consumer is shared
// by all instances when the cache is shared (Redis); otherwise, like the search index, each
// instance keeps its own copy and needs its own queue.
func (a *App) subscribe(views *catalog.Views) error {
	node := fmt.Sprintf("node%d", a.Config.NodeID)
	if a.Catalog != nil {
		cacheConsumer := "catalog-cache"
		if a.Config.RedisURL == "" {
			cacheConsumer += "-" + node
		}
		if err := a.bus.Subscribe(cacheConsumer, []string{catalogevents.TypeProductChanged, catalogevents.TypeCategoryChanged,
			inventoryevents.TypeStockChanged}, views.HandleEvent); err != nil {
			return err
		}
		if err := a.bus.Subscribe("catalog-search-"+node, []string{catalogevents.TypeProductChanged,
			catalogevents.TypeCategoryChanged}, a.Indexer.HandleEvent); err != nil {
			return err
		}
	}
	if a.Orders != nil {
		if err := a.bus.Subscribe("order-payments", order.PaymentEventTypes, a.Orders.HandlePaymentEvent); err != nil {
			return err
		}
	}
	if a.Payments != nil {
		if err := a.bus.Subscribe("payment", payment.EventTypes, a.Payments.HandleEvent); err != nil {
			return err
		}
	}
	if a.Inventory != nil {
		if err := a.bus.Subscribe("inventory", inventory.EventTypes, a.Inventory.HandleEvent); err != nil {
			return err
		}
	}
	if a.Users != nil {
		if err := a.bus.Subscribe("user-audit", user.AuditEventTypes, a.Users.HandleAuditEvent); err != nil {
			return err
		}
	}
	if a.Promotions != nil {
		if err := a.bus.Subscribe("promotion", promotion.EventTypes, a.Promotions.HandleEvent); err != nil {
			return err
		}
	}
	return nil
}

// keepIndexCurrent rebuilds the search index whenever it is not what the catalog would
// build now: at start when it is new or was built from another database, and while serving
// when `minimart reindex` asked every index of the catalog to be rebuilt (it cannot touch
// the index this process holds open). It checks every MINIMART_SCHEDULE_INTERVAL.
func (a *App) keepIndexCurrent(ctx context.Context) error {
	t := time.NewTicker(a.Config.ScheduleInterval)
	defer t.Stop()
	for {
		if err := a.rebuildIndexIfStale(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("building the search index failed; search answers from what is indexed", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (a *App) rebuildIndexIfStale(ctx context.Context) error {
	state, err := a.Indexer.State(ctx)
	if err != nil || state == catalog.IndexCurrent {
		return err
	}
	a.log.Info("rebuilding the search index", slog.String("reason", state.String()))
	done, err := a.Indexer.Rebuild(ctx, nil)
	if err != nil {
		return err
	}
	a.log.Info("search index built from the catalog", slog.Int("products", done))
	return nil
}

func (a *App) readinessChecks() []web.Check {
	checks := []web.Check{
		{Name: "database", Critical: true, Ping: a.DB.Ping},
		{Name: "cache", Ping: a.cache.Ping},
		{Name: "broker", Ping: a.bus.Ping},
	}
	if a.stockSync != nil {
		checks = append(checks, web.Check{Name: "inventory_sync", Ping: a.stockSync.Ping})
	}
	// A peer that is down degrades this service (its buyers get 503s for what needs the
	// peer) but does not make it unready: restarting it would not bring the peer back.
	for _, p := range a.peers {
		checks = append(checks, web.Check{Name: "peer_" + p.Module(), Ping: p.Ping})
	}
	return checks
}

// deadLetters lists the events an in-process consumer gave up on, newest first. (With
// RabbitMQ they sit in each consumer's <queue>.dlq instead.)
func (a *App) deadLetters(w http.ResponseWriter, r *http.Request) error {
	list, err := a.relay.DeadLetters(r.Context(), 100)
	if err != nil {
		return err
	}
	type item struct {
		EventID   ids.ID          `json:"event_id"`
		Consumer  string          `json:"consumer"`
		Type      string          `json:"type"`
		Error     string          `json:"error"`
		Attempts  int             `json:"attempts"`
		Event     json.RawMessage `json:"event"`
		CreatedAt time.Time       `json:"created_at"`
	}
	out := make([]item, len(list))
	for i, d := range list {
		event := json.RawMessage(d.Payload)
		if !json.Valid(event) {
			// Dead-lettered because it could not be decoded: show it as text.
			if event, err = json.Marshal(string(d.Payload)); err != nil {
				return err
			}
		}
		out[i] = item{EventID: d.EventID, Consumer: d.Consumer, Type: d.Type, Error: d.Error, Attempts: d.Attempts,
			Event: event, CreatedAt: d.CreatedAt.UTC()}
	}
	web.WriteJSON(w, http.StatusOK, struct {
		Items []item `json:"items"`
	}{out})
	return nil
}

// PendingEvents counts events committed but not yet published and handled.
func (a *App) PendingEvents(ctx context.Context) (int, error) { return a.relay.Pending(ctx) }

// Handler is the whole HTTP API with its middleware.
func (a *App) Handler() http.Handler { return a.handler }

// OpsHandler is what the operator listener serves (web.Ops): metrics, pprof and readiness
// with each check's details.
func (a *App) OpsHandler() http.Handler { return a.ops }

// Run starts the bus and the outbox relay and serves HTTP on ln until ctx is cancelled;
// then in-flight requests finish and background work stops. ops, when not nil, serves
// OpsHandler (MINIMART_OPS_ADDR).
func (a *App) Run(ctx context.Context, ln, ops net.Listener) error {
	if a.Config.PublicURL == "" {
		u := listenURL(ln.Addr(), a.tls != nil)
		a.publicURL.Store(&u)
	}
	a.relay.ClaimAs(a.instance)
	if b, ok := a.bus.(*events.InProc); ok {
		b.ClaimAs(a.instance) // its consumers' claims too, so a restart takes them over at once
	}
	if err := a.bus.Start(ctx); err != nil {
		// A broker that is down is not fatal: the outbox keeps events until it returns.
		a.log.Warn("event bus not connected yet; events wait in the outbox", slog.String("error", err.Error()))
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.instance.Run(gctx) })
	g.Go(func() error { return a.relay.Run(gctx) })
	if a.Orders != nil {
		g.Go(func() error { return a.Orders.RunScheduler(gctx, a.Config.ScheduleInterval) })
	}
	if a.Inventory != nil {
		g.Go(func() error {
			return a.Inventory.RunSweeper(gctx, inventory.Sweeps{Every: a.Config.ScheduleInterval,
				Orders: a.holdOrders, UnplacedAfter: a.Config.OrphanHoldAfter})
		})
	}
	if a.Payments != nil {
		g.Go(func() error { return a.Payments.RunQuerier(gctx, a.Config.ScheduleInterval, a.instance) })
	}
	if a.Sandbox != nil {
		g.Go(func() error { return a.Sandbox.RunNotifier(gctx, a.instance) })
	}
	if a.Promotions != nil {
		g.Go(func() error { return a.runPromotions(gctx) })
	}
	if a.stockSync != nil {
		g.Go(func() error { return a.stockSync.Run(gctx) })
	}
	if a.Indexer != nil {
		g.Go(func() error { return a.keepIndexCurrent(gctx) })
	}
	g.Go(func() error { return web.Serve(gctx, ln, a.handler, a.log, 20*time.Second, a.tls) })
	if ops != nil {
		// Plain HTTP on its own address: Prometheus and operators reach it inside the network.
		g.Go(func() error { return web.Serve(gctx, ops, a.ops, a.log, 5*time.Second, nil) })
	}
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Close releases the database, cache and bus.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}

// signingKey is MINIMART_JWT_SECRET, or in the embedded shape a key generated once and
// kept in the data dir so tokens survive restarts.
func signingKey(cfg config.Config) ([]byte, error) {
	if cfg.JWTSecret != "" {
		return []byte(cfg.JWTSecret), nil
	}
	path := filepath.Join(cfg.DataDir, "jwt.key")
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 64 {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, err
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	key := hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	return []byte(key), nil
}

// redact removes a URL (and so its password) from an error message.
func redact(err error, secretURL string) string {
	return strings.ReplaceAll(err.Error(), secretURL, "<url>")
}
