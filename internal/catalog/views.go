package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minimart/minimart/internal/catalog/catalogevents"
	"github.com/minimart/minimart/internal/inventory/inventoryevents"
	"github.com/minimart/minimart/internal/platform/cache"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// Views serves what buyers read — the category tree, product lists, product detail with
// live stock, search — as ready JSON through the cache. Entries are dropped when catalog or
// stock change events arrive, on every instance.
type Views struct {
	store  Storer
	stock  StockReader
	search SearchIndex
	cache  cache.Cache
	loader *cache.Loader
	log    *slog.Logger
	reads  *prometheus.CounterVec
	// readCounts are reads' series of the kinds Views uses, looked up once: hit, miss.
	readCounts map[string][2]prometheus.Counter
}

// Cache lifetimes: events invalidate entries, the TTLs only bound staleness should an
// event be lost and keep memory in check.
const (
	detailTTL   = 10 * time.Minute
	treeTTL     = 10 * time.Minute
	listTTL     = time.Minute
	notFoundTTL = 5 * time.Second
	// CachedListPages is how many first pages of each list are cached.
	CachedListPages = 3
)

// NewViews wires the buyer read side. reg receives the cache hit/miss counters.
func NewViews(store Storer, stock StockReader, search SearchIndex, c cache.Cache, reg prometheus.Registerer, log *slog.Logger) *Views {
	reads := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "minimart_cache_reads_total", Help: "Catalog cache reads by kind (product, categories, list, search) and result (hit, miss).",
	}, []string{"kind", "result"})
	reg.MustRegister(reads)
	counts := map[string][2]prometheus.Counter{}
	for _, kind := range []string{"product", "categories", "list", "search"} {
		counts[kind] = [2]prometheus.Counter{reads.WithLabelValues(kind, "hit"), reads.WithLabelValues(kind, "miss")}
	}
	return &Views{store: store, stock: stock, search: search, cache: c, loader: cache.NewLoader(c, log), log: log,
		reads: reads, readCounts: counts}
}

// Degraded reports whether the cache backend failed on its last use.
func (v *Views) Degraded() bool { return v.loader.Degraded() }

// read serves key through the cache. versionKey, if not empty, is the version that
// invalidations of the entry bump (see cache.Bump), so a fill racing one cannot leave an
// older value behind.
func (v *Views) read(ctx context.Context, kind, key, versionKey string, load func(ctx context.Context) (cache.Entry, error)) ([]byte, error) {
	b, hit, err := v.loader.ReadGuarded(ctx, key, versionKey, load)
	if err != nil {
		return nil, err
	}
	v.countRead(kind, hit)
	return b, nil
}

func (v *Views) countRead(kind string, hit bool) {
	c, ok := v.readCounts[kind]
	if !ok {
		result := "miss"
		if hit {
			result = "hit"
		}
		v.reads.WithLabelValues(kind, result).Inc()
		return
	}
	if hit {
		c[0].Inc()
	} else {
		c[1].Inc()
	}
}

func productKey(id ids.ID) string { return idKey("catalog:product:", id) }

// productVersionKey is bumped by every event that changes what a product's detail shows.
func productVersionKey(id ids.ID) string { return idKey("catalog:version:product:", id) }

// idKey is prefix + id.String() in one allocation (it is made on every detail read).
func idKey(prefix string, id ids.ID) string {
	var buf [64]byte
	return string(strconv.AppendInt(append(buf[:0], prefix...), int64(id), 10))
}

const (
	treeKey          = "catalog:categories"
	treeVersionKey   = "catalog:version:categories"
	listVersionKey   = "catalog:list:version"
	searchVersionKey = "catalog:search:version"
)

// notFoundMarker is cached briefly for ids that do not exist, so a flood of requests for
// them does not reach the database; it can never be valid JSON.
var notFoundMarker = []byte{0}

// CategoryRef names a category in a product's path.
type CategoryRef struct {
	ID   ids.ID `json:"id"`
	Name string `json:"name"`
}

// SKUView is a SKU with its live available stock.
type SKUView struct {
	SKU
	Stock int64 `json:"stock"`
}

// ProductView is the buyer's product detail (the seed's getProductInfo).
type ProductView struct {
	Product
	SKUs         []SKUView     `json:"skus"`
	Stock        int64         `json:"stock"`
	CategoryPath []CategoryRef `json:"category_path"`
}

// ProductDetail returns an on-shelf product's detail JSON; anything else is ErrProductNotFound.
func (v *Views) ProductDetail(ctx context.Context, id ids.ID) ([]byte, error) {
	b, err := v.read(ctx, "product", productKey(id), productVersionKey(id), func(ctx context.Context) (cache.Entry, error) {
		p, err := v.store.Product(ctx, id)
		if errors.Is(err, ErrProductNotFound) || (err == nil && p.Status != OnShelf) {
			return cache.Entry{Value: notFoundMarker, TTL: notFoundTTL}, nil
		}
		if err != nil {
			return cache.Entry{}, err
		}
		view, err := v.productView(ctx, p)
		if err != nil {
			return cache.Entry{}, err
		}
		b, err := json.Marshal(view)
		return cache.Entry{Value: b, TTL: detailTTL}, err
	})
	if err != nil {
		return nil, err
	}
	if len(b) == 1 && b[0] == 0 {
		return nil, ErrProductNotFound
	}
	return b, nil
}

func (v *Views) productView(ctx context.Context, p Product) (ProductView, error) {
	skuIDs := make([]ids.ID, len(p.SKUs))
	for i, k := range p.SKUs {
		skuIDs[i] = k.ID
	}
	stock, err := v.stock.Available(ctx, skuIDs)
	if err != nil {
		return ProductView{}, fmt.Errorf("stock: %w", err)
	}
	view := ProductView{Product: p, SKUs: make([]SKUView, len(p.SKUs)), CategoryPath: []CategoryRef{}}
	for i, k := range p.SKUs {
		view.SKUs[i] = SKUView{SKU: k, Stock: stock[k.ID]}
		view.Stock += stock[k.ID]
	}
	all, err := v.store.Categories(ctx)
	if err != nil {
		return ProductView{}, err
	}
	chain := lineage(all, p.CategoryID)
	for i := len(chain) - 1; i >= 0; i-- {
		view.CategoryPath = append(view.CategoryPath, CategoryRef{ID: chain[i].ID, Name: chain[i].Name})
	}
	return view, nil
}

// CategoryTree returns the visible category tree as JSON.
func (v *Views) CategoryTree(ctx context.Context) ([]byte, error) {
	return v.read(ctx, "categories", treeKey, treeVersionKey, func(ctx context.Context) (cache.Entry, error) {
		all, err := v.store.Categories(ctx)
		if err != nil {
			return cache.Entry{}, err
		}
		b, err := json.Marshal(struct {
			Items []*Category `json:"items"`
		}{BuildTree(all, false)})
		return cache.Entry{Value: b, TTL: treeTTL}, err
	})
}

// ListQuery is a buyer's product list or search request, as sent.
type ListQuery struct {
	Text       string
	CategoryID string
	MinPrice   string
	MaxPrice   string
	Sort       string
	Page       string
	PageSize   string
}

// Page sizes of lists.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	MaxPage         = 500
	MaxQueryRunes   = 64
)

type parsedQuery struct {
	text       string
	categoryID ids.ID
	minPrice   money.Fen
	maxPrice   money.Fen
	sort       string
	page       int
	pageSize   int
	capped     bool
}

func parseQuery(q ListQuery, search bool) (parsedQuery, error) {
	p, f := parseQueryFields(q, search)
	return p, f.Err()
}

// parseQueryFields reads a list query and collects what is wrong with it.
func parseQueryFields(q ListQuery, search bool) (parsedQuery, errs.Fields) {
	var f errs.Fields
	p := parsedQuery{text: strings.TrimSpace(q.Text), page: 1, pageSize: DefaultPageSize, sort: SortNewest}
	if search {
		p.sort = SortRelevance
		if p.text == "" {
			f.Add("q", "is required")
		}
	}
	if utf8.RuneCountInString(p.text) > MaxQueryRunes {
		f.Add("q", "must be at most 64 characters")
	}
	if q.CategoryID != "" {
		id, err := ids.Parse(q.CategoryID)
		if err != nil {
			f.Add("category_id", "must be a category id")
		}
		p.categoryID = id
	}
	price := func(field, s string) money.Fen {
		if s == "" {
			return 0
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			f.Add(field, "must be a non-negative amount in fen")
		}
		return money.Fen(n)
	}
	p.minPrice, p.maxPrice = price("min_price", q.MinPrice), price("max_price", q.MaxPrice)
	if p.maxPrice > 0 && p.minPrice > p.maxPrice {
		f.Add("max_price", "must not be below min_price")
	}
	sorts := []string{SortNewest, SortSales, SortPriceAsc, SortPriceDesc}
	if search {
		sorts = append(sorts, SortRelevance)
	}
	if q.Sort != "" {
		if !slices.Contains(sorts, q.Sort) {
			f.Add("sort", "must be one of "+strings.Join(sorts, ", "))
		}
		p.sort = q.Sort
	}
	if q.Page != "" {
		n, err := strconv.Atoi(q.Page)
		if err != nil || n < 1 || n > MaxPage {
			f.Add("page", "must be a page number from 1 to 500")
		}
		p.page = n
	}
	if q.PageSize != "" {
		n, err := strconv.Atoi(q.PageSize)
		switch {
		case err != nil || n < 1:
			f.Add("page_size", "must be a positive number")
		case n > MaxPageSize:
			p.pageSize, p.capped = MaxPageSize, true
		default:
			p.pageSize = n
		}
	}
	return p, f
}

// cacheKey names a page under the current list version. The search text is hashed: keys stay
// short and free of whatever characters buyers type.
func (p parsedQuery) cacheKey(kind, version string) string {
	text := ""
	if p.text != "" {
		sum := sha256.Sum256([]byte(p.text))
		text = hex.EncodeToString(sum[:12])
	}
	return fmt.Sprintf("catalog:%s:%s:t%s:c%d:p%d-%d:s%s:pg%d:%d", kind, version, text, p.categoryID, p.minPrice, p.maxPrice, p.sort, p.page, p.pageSize)
}

// ProductSummary is a product as lists show it.
type ProductSummary struct {
	ID         ids.ID    `json:"id"`
	CategoryID ids.ID    `json:"category_id"`
	Title      string    `json:"title"`
	Subtitle   string    `json:"subtitle"`
	Image      string    `json:"image,omitempty"`
	PriceMin   money.Fen `json:"price_min"`
	PriceMax   money.Fen `json:"price_max"`
	Sales      int64     `json:"sales"`
	CreatedAt  time.Time `json:"created_at"`
}

func summarize(p Product) ProductSummary {
	s := ProductSummary{ID: p.ID, CategoryID: p.CategoryID, Title: p.Title, Subtitle: p.Subtitle,
		PriceMin: p.PriceMin, PriceMax: p.PriceMax, Sales: p.Sales, CreatedAt: p.CreatedAt}
	if len(p.Images) > 0 {
		s.Image = p.Images[0]
	}
	return s
}

// ListPage is a page of products.
type ListPage struct {
	Items    []ProductSummary `json:"items"`
	Page     int              `json:"page"`
	PageSize int              `json:"page_size"`
	Total    int              `json:"total"`
	// PageSizeCapped says the requested page size was over the maximum and was lowered.
	PageSizeCapped bool `json:"page_size_capped,omitempty"`
}

// ProductList returns a page of on-shelf products as JSON; the first pages come from the cache.
func (v *Views) ProductList(ctx context.Context, q ListQuery) ([]byte, error) {
	// Lists do not search (that is Search): a q here is ignored, not folded into the cache key.
	q.Text = ""
	p, err := parseQuery(q, false)
	if err != nil {
		return nil, err
	}
	return v.page(ctx, "list", listVersionKey, p, v.loadList)
}

// page serves the first pages of a list or search through the cache, under the list version
// that every product change moves on.
func (v *Views) page(ctx context.Context, kind, versionKey string, p parsedQuery, loadPage func(context.Context, parsedQuery) ([]byte, error)) ([]byte, error) {
	load := func(ctx context.Context) (cache.Entry, error) {
		b, err := loadPage(ctx, p)
		return cache.Entry{Value: b, TTL: listTTL}, err
	}
	if p.page > CachedListPages {
		e, err := load(ctx)
		return e.Value, err
	}
	version, _, err := v.cache.Get(ctx, versionKey)
	if err != nil {
		// No way to know the current version: skip the cache rather than risk a stale page.
		e, err := load(ctx)
		return e.Value, err
	}
	// The version is part of the key: a page filled from before a change lands under a
	// version nobody reads any more.
	return v.read(ctx, kind, p.cacheKey(kind, string(version)), "", load)
}

func (v *Views) loadList(ctx context.Context, p parsedQuery) ([]byte, error) {
	f := ListFilter{Status: OnShelf, MinPrice: p.minPrice, MaxPrice: p.maxPrice, Sort: p.sort,
		Offset: (p.page - 1) * p.pageSize, Limit: p.pageSize}
	if p.categoryID != 0 {
		all, err := v.store.Categories(ctx)
		if err != nil {
			return nil, err
		}
		f.CategoryIDs = Descendants(all, p.categoryID)
	}
	products, total, err := v.store.Products(ctx, f)
	if err != nil {
		return nil, err
	}
	page := ListPage{Items: make([]ProductSummary, len(products)), Page: p.page, PageSize: p.pageSize, Total: total, PageSizeCapped: p.capped}
	for i, pr := range products {
		page.Items[i] = summarize(pr)
	}
	return json.Marshal(page)
}

// Search runs a full-text query over on-shelf products and returns a page as JSON; the first
// pages of each query come from the cache.
func (v *Views) Search(ctx context.Context, q ListQuery) ([]byte, error) {
	p, err := parseQuery(q, true)
	if err != nil {
		return nil, err
	}
	return v.page(ctx, "search", searchVersionKey, p, v.loadSearch)
}

func (v *Views) loadSearch(ctx context.Context, p parsedQuery) ([]byte, error) {
	res, err := v.search.Search(ctx, SearchQuery{Text: p.text, CategoryID: p.categoryID, MinPrice: p.minPrice,
		MaxPrice: p.maxPrice, Sort: p.sort, Offset: (p.page - 1) * p.pageSize, Limit: p.pageSize})
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	products, err := v.store.ProductsByIDs(ctx, res.ProductIDs)
	if err != nil {
		return nil, err
	}
	byID := make(map[ids.ID]Product, len(products))
	for _, pr := range products {
		byID[pr.ID] = pr
	}
	page := ListPage{Items: make([]ProductSummary, 0, len(res.ProductIDs)), Page: p.page, PageSize: p.pageSize,
		Total: res.Total, PageSizeCapped: p.capped}
	for _, id := range res.ProductIDs {
		// The index may briefly lag a shelf change; never show what buyers cannot open.
		if pr, ok := byID[id]; ok && pr.Status == OnShelf {
			page.Items = append(page.Items, summarize(pr))
		}
	}
	return json.Marshal(page)
}

// HandleEvent drops cache entries that a catalog or stock change made stale.
func (v *Views) HandleEvent(ctx context.Context, e events.Event) error {
	switch e.Type {
	case catalogevents.TypeProductChanged:
		var p catalogevents.ProductChanged
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			return fmt.Errorf("%s payload: %w", e.Type, err)
		}
		if err := v.dropDetails(ctx, p.ProductID); err != nil {
			return err
		}
		// Search pages carry titles and prices too; the indexer drops them again once the
		// index itself has changed.
		if err := v.SearchChanged(ctx); err != nil {
			return err
		}
		return v.bumpLists(ctx)
	case catalogevents.TypeCategoryChanged:
		var c catalogevents.CategoryChanged
		if err := json.Unmarshal(e.Payload, &c); err != nil {
			return fmt.Errorf("%s payload: %w", e.Type, err)
		}
		if err := cache.Bump(ctx, v.cache, treeVersionKey); err != nil {
			return err
		}
		if err := v.cache.Delete(ctx, treeKey); err != nil {
			return err
		}
		if err := v.dropDetailsUnder(ctx, c.CategoryID); err != nil {
			return err
		}
		return v.bumpLists(ctx)
	case inventoryevents.TypeStockChanged:
		var s inventoryevents.StockChanged
		if err := json.Unmarshal(e.Payload, &s); err != nil {
			return fmt.Errorf("%s payload: %w", e.Type, err)
		}
		return v.dropDetails(ctx, s.ProductID)
	}
	return nil
}

// dropDetails drops products' cached detail pages, bumping each one's version first so
// that a fill already under way does not put back what it read before the change.
func (v *Views) dropDetails(ctx context.Context, productIDs ...ids.ID) error {
	keys := make([]string, len(productIDs))
	for i, id := range productIDs {
		if err := cache.Bump(ctx, v.cache, productVersionKey(id)); err != nil {
			return err
		}
		keys[i] = productKey(id)
	}
	if len(keys) == 0 {
		return nil
	}
	return v.cache.Delete(ctx, keys...)
}

// dropDetailsUnder drops the cached detail pages of the on-shelf products in a category and
// its subcategories: each page names its categories (category_path). Category changes are
// rare staff actions, so a page of ids at a time is fine here.
func (v *Views) dropDetailsUnder(ctx context.Context, categoryID ids.ID) error {
	all, err := v.store.Categories(ctx)
	if err != nil {
		return err
	}
	f := ListFilter{Status: OnShelf, CategoryIDs: Descendants(all, categoryID), Limit: 500}
	for {
		page, _, err := v.store.Products(ctx, f)
		if err != nil {
			return err
		}
		productIDs := make([]ids.ID, len(page))
		for i, p := range page {
			productIDs[i] = p.ID
		}
		if err := v.dropDetails(ctx, productIDs...); err != nil {
			return err
		}
		if len(page) < f.Limit {
			return nil
		}
		f.Offset += f.Limit
	}
}

// bumpLists moves every cached list page to a new key space; the old pages expire unread.
func (v *Views) bumpLists(ctx context.Context) error {
	// A day-long window: the counter restarting after it cannot revive pages, which live a minute.
	_, _, err := v.cache.Incr(ctx, listVersionKey, 24*time.Hour)
	return err
}

// SearchChanged drops every cached search page. The indexer calls it after it changed the
// index, not when the catalog event arrives: a search cached between the two would
// otherwise keep the old results for its whole TTL.
func (v *Views) SearchChanged(ctx context.Context) error {
	_, _, err := v.cache.Incr(ctx, searchVersionKey, 24*time.Hour)
	return err
}

// StaffProductList lists products of any status (or of status) for staff, with a title
// search in q; never cached, staff must see their own changes at once.
func (v *Views) StaffProductList(ctx context.Context, q ListQuery, status string) ([]byte, error) {
	text := q.Text
	q.Text = ""
	p, f := parseQueryFields(q, false)
	if utf8.RuneCountInString(text) > MaxQueryRunes {
		f.Add("q", "must be at most 64 characters")
	}
	if status != "" && status != string(OnShelf) && status != string(OffShelf) {
		f.Add("status", "must be on_shelf or off_shelf")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	lf := ListFilter{Status: Status(status), TitleLike: text, MinPrice: p.minPrice, MaxPrice: p.maxPrice,
		Sort: p.sort, Offset: (p.page - 1) * p.pageSize, Limit: p.pageSize}
	if p.categoryID != 0 {
		all, err := v.store.Categories(ctx)
		if err != nil {
			return nil, err
		}
		lf.CategoryIDs = Descendants(all, p.categoryID)
	}
	products, total, err := v.store.Products(ctx, lf)
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		Items          []Product `json:"items"`
		Page           int       `json:"page"`
		PageSize       int       `json:"page_size"`
		Total          int       `json:"total"`
		PageSizeCapped bool      `json:"page_size_capped,omitempty"`
	}{products, p.page, p.pageSize, total, p.capped})
}

// StaffProduct returns any product that is not deleted, with SKUs and live stock.
func (v *Views) StaffProduct(ctx context.Context, id ids.ID) (ProductView, error) {
	p, err := v.store.Product(ctx, id)
	if err != nil {
		return ProductView{}, err
	}
	return v.productView(ctx, p)
}
