package catalog

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"

	"github.com/minimart/minimart/internal/catalog/catalogevents"
	"github.com/minimart/minimart/internal/platform/errs"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// Service is the catalog's use cases for staff, and the port other modules read SKUs by.
type Service struct {
	store    Storer
	ids      *ids.Generator
	log      *slog.Logger
	now      func() time.Time
	richText *bluemonday.Policy
}

// NewService wires the catalog service.
func NewService(store Storer, gen *ids.Generator, log *slog.Logger) *Service {
	return &Service{store: store, ids: gen, log: log, now: time.Now, richText: bluemonday.UGCPolicy()}
}

// Limits of catalog input.
const (
	MaxTitle       = 100
	MaxSubtitle    = 200
	MaxDescription = 50_000
	MaxImages      = 20
	MaxSpecs       = 5
	MaxSpecValues  = 50
	MaxSKUs        = 200
	MaxURL         = 500
)

func checkText(f *errs.Fields, field, v string, min, max int) {
	n := utf8.RuneCountInString(v)
	switch {
	case !utf8.ValidString(v):
		f.Add(field, "must be valid UTF-8")
	case min > 0 && strings.TrimSpace(v) == "":
		f.Add(field, "is required")
	case n > max:
		f.Add(field, "must be at most "+strconv.Itoa(max)+" characters")
	}
}

func checkURL(f *errs.Fields, field, v string) {
	if v == "" {
		return
	}
	if len(v) > MaxURL {
		f.Add(field, "must be at most 500 characters")
		return
	}
	u, err := url.Parse(v)
	if err != nil || !(u.Scheme == "https" || u.Scheme == "http" || (u.Scheme == "" && strings.HasPrefix(v, "/"))) {
		f.Add(field, "must be an http(s) URL or a path on this server such as /media/…")
	}
}

// CategoryInput is what staff send to create or change a category.
type CategoryInput struct {
	ParentID ids.ID
	// KeepParent leaves an updated category under its current parent, whatever ParentID says.
	KeepParent bool
	Name       string
	SortOrder  int
	IconURL    string
	Hidden     bool
}

// Categories returns the whole tree, hidden nodes included, for staff.
func (s *Service) Categories(ctx context.Context) ([]*Category, error) {
	all, err := s.store.Categories(ctx)
	if err != nil {
		return nil, err
	}
	return BuildTree(all, true), nil
}

// BuildTree arranges categories into a tree ordered by sort order then id. Without hidden,
// hidden categories and everything under them are left out.
func BuildTree(all []Category, withHidden bool) []*Category {
	nodes := make(map[ids.ID]*Category, len(all))
	for i := range all {
		c := all[i]
		c.Children = nil
		nodes[c.ID] = &c
	}
	var roots []*Category
	for i := range all {
		c := nodes[all[i].ID]
		if c.Hidden && !withHidden {
			continue
		}
		if c.ParentID == 0 {
			roots = append(roots, c)
		} else if p, ok := nodes[c.ParentID]; ok {
			p.Children = append(p.Children, c)
		}
	}
	var order func([]*Category)
	order = func(cs []*Category) {
		sort.Slice(cs, func(i, j int) bool {
			if cs[i].SortOrder != cs[j].SortOrder {
				return cs[i].SortOrder < cs[j].SortOrder
			}
			return cs[i].ID < cs[j].ID
		})
		for _, c := range cs {
			order(c.Children)
		}
	}
	order(roots)
	if roots == nil {
		roots = []*Category{}
	}
	return roots
}

// lineage returns the category and its ancestors, nearest first.
func lineage(all []Category, id ids.ID) []Category {
	byID := make(map[ids.ID]Category, len(all))
	for _, c := range all {
		byID[c.ID] = c
	}
	var out []Category
	for c, ok := byID[id]; ok && len(out) <= MaxCategoryDepth; c, ok = byID[c.ParentID] {
		out = append(out, c)
	}
	return out
}

// Descendants returns id and every category below it.
func Descendants(all []Category, id ids.ID) []ids.ID {
	children := map[ids.ID][]ids.ID{}
	for _, c := range all {
		children[c.ParentID] = append(children[c.ParentID], c.ID)
	}
	out := []ids.ID{id}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

func (in CategoryInput) validate(f *errs.Fields) {
	checkText(f, "name", in.Name, 1, 30)
	checkURL(f, "icon_url", in.IconURL)
	if in.SortOrder < -1_000_000 || in.SortOrder > 1_000_000 {
		f.Add("sort_order", "must be between -1000000 and 1000000")
	}
}

// parentLevel checks the parent exists and leaves room below it.
func parentLevel(all []Category, parentID ids.ID, f *errs.Fields) int {
	if parentID == 0 {
		return 0
	}
	chain := lineage(all, parentID)
	if len(chain) == 0 {
		f.Add("parent_id", "no such category")
		return 0
	}
	if chain[0].Level >= MaxCategoryDepth {
		f.Add("parent_id", "categories nest at most 3 levels deep")
	}
	return chain[0].Level
}

// CreateCategory adds a category under ParentID (0: a top-level one). The parent is checked
// inside the store's transaction, against the tree as it commits.
func (s *Service) CreateCategory(ctx context.Context, in CategoryInput) (Category, error) {
	now := s.now().UTC()
	c := Category{ID: s.ids.New(), ParentID: in.ParentID, Name: in.Name, SortOrder: in.SortOrder,
		IconURL: in.IconURL, Hidden: in.Hidden, CreatedAt: now, UpdatedAt: now}
	ev, err := s.categoryEvent(c.ID, catalogevents.ChangeCreated)
	if err != nil {
		return Category{}, err
	}
	return s.store.CreateCategory(ctx, c, func(c *Category, all []Category) error {
		var f errs.Fields
		in.validate(&f)
		c.Level = parentLevel(all, c.ParentID, &f) + 1
		return f.Err()
	}, ev)
}

// UpdateCategory changes a category. Moving it is allowed when the subtree still fits
// within three levels and does not end up under itself; both are checked inside the
// store's transaction, so two moves at once cannot together make a cycle.
func (s *Service) UpdateCategory(ctx context.Context, id ids.ID, in CategoryInput) (Category, error) {
	ev, err := s.categoryEvent(id, catalogevents.ChangeUpdated)
	if err != nil {
		return Category{}, err
	}
	return s.store.UpdateCategory(ctx, id, func(c *Category, all []Category) error {
		var f errs.Fields
		in.validate(&f)
		parentID := in.ParentID
		if in.KeepParent {
			parentID = c.ParentID
		}
		level := 0
		if parentID != 0 {
			chain := lineage(all, parentID)
			switch {
			case len(chain) == 0:
				f.Add("parent_id", "no such category")
			case slices.ContainsFunc(chain, func(c Category) bool { return c.ID == id }):
				f.Add("parent_id", "a category cannot move under itself")
			default:
				level = chain[0].Level
			}
		}
		if level+subtreeDepth(all, id) > MaxCategoryDepth {
			f.Add("parent_id", "categories nest at most 3 levels deep")
		}
		if err := f.Err(); err != nil {
			return err
		}
		c.ParentID, c.Name, c.SortOrder, c.IconURL, c.Hidden = parentID, in.Name, in.SortOrder, in.IconURL, in.Hidden
		c.Level = level + 1
		c.UpdatedAt = s.now().UTC()
		return nil
	}, ev)
}

func (s *Service) categoryEvent(id ids.ID, change string) (events.Event, error) {
	return events.New(s.ids.New(), catalogevents.TypeCategoryChanged, id.String(), catalogevents.CategoryChanged{CategoryID: id, Change: change})
}

// subtreeDepth is how many levels the category and those below it span. It stops counting
// past MaxCategoryDepth, so a cycle left in the data (by a write before moves were checked
// in the store's transaction) cannot make it recurse forever.
func subtreeDepth(all []Category, id ids.ID) int {
	return spanBelow(all, id, 1)
}

func spanBelow(all []Category, id ids.ID, depth int) int {
	if depth > MaxCategoryDepth {
		return depth
	}
	deepest := depth
	for _, c := range all {
		if c.ParentID == id {
			deepest = max(deepest, spanBelow(all, c.ID, depth+1))
		}
	}
	return deepest
}

// DeleteCategory removes an empty category.
func (s *Service) DeleteCategory(ctx context.Context, id ids.ID) error {
	ev, err := s.categoryEvent(id, catalogevents.ChangeDeleted)
	if err != nil {
		return err
	}
	return s.store.DeleteCategory(ctx, id, ev)
}

// ProductInput is what staff send to create or change a product's own fields.
type ProductInput struct {
	CategoryID  ids.ID
	Title       string
	Subtitle    string
	Description string
	Images      []string
	Specs       []SpecDef
}

// SKUInput is what staff send to create or change a SKU.
type SKUInput struct {
	Specs     map[string]string
	Price     money.Fen
	ListPrice money.Fen
	Code      string
	Image     string
}

func (s *Service) validateProduct(ctx context.Context, in *ProductInput, f *errs.Fields) error {
	checkText(f, "title", in.Title, 1, MaxTitle)
	checkText(f, "subtitle", in.Subtitle, 0, MaxSubtitle)
	if len(in.Description) > MaxDescription {
		f.Add("description", "must be at most 50000 bytes")
	}
	// Rich text: keep formatting, drop script, event handlers and javascript: URLs.
	in.Description = s.richText.Sanitize(in.Description)
	if len(in.Images) > MaxImages {
		f.Add("images", "at most 20 images")
	}
	for i, img := range in.Images {
		checkURL(f, fmt.Sprintf("images[%d]", i), img)
	}
	if len(in.Specs) > MaxSpecs {
		f.Add("specs", "at most 5 specs")
	}
	names := map[string]bool{}
	for i, sp := range in.Specs {
		field := fmt.Sprintf("specs[%d]", i)
		checkText(f, field+".name", sp.Name, 1, 20)
		if names[sp.Name] {
			f.Add(field+".name", "spec names must be unique")
		}
		names[sp.Name] = true
		if len(sp.Values) == 0 || len(sp.Values) > MaxSpecValues {
			f.Add(field+".values", "must list 1 to 50 values")
		}
		seen := map[string]bool{}
		for j, v := range sp.Values {
			checkText(f, fmt.Sprintf("%s.values[%d]", field, j), v, 1, 30)
			if seen[v] {
				f.Add(fmt.Sprintf("%s.values[%d]", field, j), "values must be unique")
			}
			seen[v] = true
		}
	}
	if in.CategoryID == 0 {
		f.Add("category_id", "is required")
		return nil
	}
	all, err := s.store.Categories(ctx)
	if err != nil {
		return err
	}
	if len(lineage(all, in.CategoryID)) == 0 {
		f.Add("category_id", "no such category")
	}
	return nil
}

// validateSKU checks one SKU against the product's declared specs.
func validateSKU(f *errs.Fields, field string, specs []SpecDef, in SKUInput) {
	if in.Price <= 0 {
		f.Add(field+".price", "must be a positive amount in fen")
	}
	if in.ListPrice < 0 {
		f.Add(field+".list_price", "must be zero (none) or a positive amount in fen")
	}
	if in.Price > 100_000_000_00 || in.ListPrice > 100_000_000_00 {
		f.Add(field+".price", "must be at most 100000000 yuan")
	}
	checkText(f, field+".code", in.Code, 0, 64)
	checkURL(f, field+".image", in.Image)
	declared := map[string][]string{}
	for _, sp := range specs {
		declared[sp.Name] = sp.Values
	}
	for name, v := range in.Specs {
		values, ok := declared[name]
		if !ok {
			f.Add(field+".specs."+name, "is not a spec the product declares")
		} else if !slices.Contains(values, v) {
			f.Add(field+".specs."+name, fmt.Sprintf("%q is not one of the declared values", v))
		}
	}
	for name := range declared {
		if _, ok := in.Specs[name]; !ok {
			f.Add(field+".specs."+name, "is required: the product declares this spec")
		}
	}
}

// SpecKey is a canonical form of spec values: two SKUs of a product may not share one.
func SpecKey(specs map[string]string) string {
	keys := make([]string, 0, len(specs))
	for k := range specs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(strconv.Quote(k))
		b.WriteByte('=')
		b.WriteString(strconv.Quote(specs[k]))
		b.WriteByte(';')
	}
	return b.String()
}

// checkSKUSet validates every SKU and that no two share spec values.
func checkSKUSet(f *errs.Fields, specs []SpecDef, skus []SKU) {
	if len(skus) > MaxSKUs {
		f.Add("skus", "at most 200 SKUs")
	}
	seen := map[string]int{}
	codes := map[string]int{}
	for i, sku := range skus {
		field := fmt.Sprintf("skus[%d]", i)
		validateSKU(f, field, specs, SKUInput{Specs: sku.Specs, Price: sku.Price, ListPrice: sku.ListPrice, Code: sku.Code, Image: sku.Image})
		key := SpecKey(sku.Specs)
		if j, dup := seen[key]; dup {
			f.Add(field+".specs", fmt.Sprintf("same spec values as skus[%d]", j))
		}
		seen[key] = i
		if sku.Code != "" {
			if j, dup := codes[sku.Code]; dup {
				f.Add(field+".code", fmt.Sprintf("same SKU code as skus[%d]", j))
			}
			codes[sku.Code] = i
		}
	}
}

func priceSpan(p *Product) {
	p.PriceMin, p.PriceMax = 0, 0
	for i, sku := range p.SKUs {
		if i == 0 || sku.Price < p.PriceMin {
			p.PriceMin = sku.Price
		}
		if sku.Price > p.PriceMax {
			p.PriceMax = sku.Price
		}
	}
}

func (s *Service) changedEvent(p Product, change string) (events.Event, error) {
	skuIDs := make([]ids.ID, len(p.SKUs))
	for i, sku := range p.SKUs {
		skuIDs[i] = sku.ID
	}
	return events.New(s.ids.New(), catalogevents.TypeProductChanged, p.ID.String(),
		catalogevents.ProductChanged{ProductID: p.ID, Change: change, SKUIDs: skuIDs, Status: string(p.Status)})
}

// CreateProduct adds a product with its SKUs, off shelf unless onShelf.
func (s *Service) CreateProduct(ctx context.Context, in ProductInput, skus []SKUInput, onShelf bool) (Product, error) {
	var f errs.Fields
	if err := s.validateProduct(ctx, &in, &f); err != nil {
		return Product{}, err
	}
	now := s.now().UTC()
	p := Product{ID: s.ids.New(), CategoryID: in.CategoryID, Title: in.Title, Subtitle: in.Subtitle,
		Description: in.Description, Images: nonNil(in.Images), Specs: nonNilSpecs(in.Specs), Status: OffShelf,
		CreatedAt: now, UpdatedAt: now}
	for _, sk := range skus {
		p.SKUs = append(p.SKUs, SKU{ID: s.ids.New(), ProductID: p.ID, Specs: nonNilMap(sk.Specs), Price: sk.Price,
			ListPrice: sk.ListPrice, Code: sk.Code, Image: sk.Image})
	}
	checkSKUSet(&f, p.Specs, p.SKUs)
	if onShelf && len(p.SKUs) == 0 {
		f.Add("on_shelf", "a product needs at least one SKU to go on shelf")
	}
	if err := f.Err(); err != nil {
		return Product{}, err
	}
	if onShelf {
		p.Status = OnShelf
	}
	priceSpan(&p)
	ev, err := s.changedEvent(p, catalogevents.ChangeCreated)
	if err != nil {
		return Product{}, err
	}
	return p, s.store.CreateProduct(ctx, p, ev)
}

// UpdateProduct changes a product's own fields; its SKUs must still fit the specs.
func (s *Service) UpdateProduct(ctx context.Context, id ids.ID, in ProductInput) (Product, error) {
	var f errs.Fields
	if err := s.validateProduct(ctx, &in, &f); err != nil {
		return Product{}, err
	}
	if err := f.Err(); err != nil {
		return Product{}, err
	}
	return s.store.UpdateProduct(ctx, id, func(p *Product) (events.Event, error) {
		p.CategoryID, p.Title, p.Subtitle, p.Description = in.CategoryID, in.Title, in.Subtitle, in.Description
		p.Images, p.Specs = nonNil(in.Images), nonNilSpecs(in.Specs)
		var f errs.Fields
		checkSKUSet(&f, p.Specs, p.SKUs)
		if err := f.Err(); err != nil {
			return events.Event{}, err
		}
		p.UpdatedAt = s.now().UTC()
		return s.changedEvent(*p, catalogevents.ChangeUpdated)
	})
}

// SetShelf puts a product on or takes it off the shelf.
func (s *Service) SetShelf(ctx context.Context, id ids.ID, onShelf bool) (Product, error) {
	return s.store.UpdateProduct(ctx, id, func(p *Product) (events.Event, error) {
		change := catalogevents.ChangeOffShelf
		p.Status = OffShelf
		if onShelf {
			if len(p.SKUs) == 0 {
				return events.Event{}, ErrNoSKUs
			}
			change, p.Status = catalogevents.ChangeOnShelf, OnShelf
		}
		p.UpdatedAt = s.now().UTC()
		return s.changedEvent(*p, change)
	})
}

// DeleteProduct removes a product and its SKUs from sale; orders keep their snapshots.
func (s *Service) DeleteProduct(ctx context.Context, id ids.ID) error {
	p, err := s.store.Product(ctx, id)
	if err != nil {
		return err
	}
	p.Status = OffShelf
	ev, err := s.changedEvent(p, catalogevents.ChangeDeleted)
	if err != nil {
		return err
	}
	return s.store.DeleteProduct(ctx, id, ev)
}

// AddSKU adds a SKU to a product.
func (s *Service) AddSKU(ctx context.Context, productID ids.ID, in SKUInput) (SKU, error) {
	sku := SKU{ID: s.ids.New(), ProductID: productID, Specs: nonNilMap(in.Specs), Price: in.Price,
		ListPrice: in.ListPrice, Code: in.Code, Image: in.Image}
	_, err := s.store.UpdateProduct(ctx, productID, func(p *Product) (events.Event, error) {
		p.SKUs = append(p.SKUs, sku)
		return s.skusChanged(p, len(p.SKUs)-1)
	})
	return sku, err
}

// skusChanged validates the product's SKUs after a change, naming the changed one by its
// request fields, and returns the event.
func (s *Service) skusChanged(p *Product, changed int) (events.Event, error) {
	var f errs.Fields
	checkSKUSet(&f, p.Specs, p.SKUs)
	if len(f) > 0 {
		// Report against the request body ("price", "specs.颜色") rather than the list index.
		prefix := fmt.Sprintf("skus[%d].", changed)
		for i := range f {
			f[i].Field = strings.TrimPrefix(f[i].Field, prefix)
		}
		return events.Event{}, f.Err()
	}
	priceSpan(p)
	p.UpdatedAt = s.now().UTC()
	return s.changedEvent(*p, catalogevents.ChangeUpdated)
}

// UpdateSKU changes a SKU.
func (s *Service) UpdateSKU(ctx context.Context, skuID ids.ID, in SKUInput) (SKU, error) {
	refs, err := s.store.SKURefs(ctx, []ids.ID{skuID})
	if err != nil {
		return SKU{}, err
	}
	if len(refs) == 0 || refs[0].Deleted {
		return SKU{}, ErrSKUNotFound
	}
	var out SKU
	_, err = s.store.UpdateProduct(ctx, refs[0].ProductID, func(p *Product) (events.Event, error) {
		i := slices.IndexFunc(p.SKUs, func(k SKU) bool { return k.ID == skuID })
		if i < 0 {
			return events.Event{}, ErrSKUNotFound
		}
		p.SKUs[i] = SKU{ID: skuID, ProductID: p.ID, Specs: nonNilMap(in.Specs), Price: in.Price,
			ListPrice: in.ListPrice, Code: in.Code, Image: in.Image}
		out = p.SKUs[i]
		return s.skusChanged(p, i)
	})
	return out, err
}

// DeleteSKU removes a SKU; a product left without SKUs goes off shelf.
func (s *Service) DeleteSKU(ctx context.Context, skuID ids.ID) error {
	refs, err := s.store.SKURefs(ctx, []ids.ID{skuID})
	if err != nil {
		return err
	}
	if len(refs) == 0 || refs[0].Deleted {
		return ErrSKUNotFound
	}
	_, err = s.store.UpdateProduct(ctx, refs[0].ProductID, func(p *Product) (events.Event, error) {
		p.SKUs = slices.DeleteFunc(p.SKUs, func(k SKU) bool { return k.ID == skuID })
		if len(p.SKUs) == 0 {
			p.Status = OffShelf
		}
		priceSpan(p)
		p.UpdatedAt = s.now().UTC()
		return s.changedEvent(*p, catalogevents.ChangeUpdated)
	})
	return err
}

// Product returns any product that is not deleted, on or off shelf, for staff.
func (s *Service) Product(ctx context.Context, id ids.ID) (Product, error) {
	return s.store.Product(ctx, id)
}

// StaffProducts lists products for staff: any status unless one is given.
func (s *Service) StaffProducts(ctx context.Context, f ListFilter) ([]Product, int, error) {
	return s.store.Products(ctx, f)
}

// SKURefs returns SKUs by id for other modules (inventory, cart, order), deleted ones
// included and marked.
func (s *Service) SKURefs(ctx context.Context, skuIDs []ids.ID) ([]SKURef, error) {
	return s.store.SKURefs(ctx, skuIDs)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilSpecs(s []SpecDef) []SpecDef {
	if s == nil {
		return []SpecDef{}
	}
	return s
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// ProductOfSKU returns the product of a live SKU; it is inventory's port into the catalog.
func (s *Service) ProductOfSKU(ctx context.Context, skuID ids.ID) (ids.ID, error) {
	refs, err := s.store.SKURefs(ctx, []ids.ID{skuID})
	if err != nil {
		return 0, err
	}
	if len(refs) == 0 || refs[0].Deleted {
		return 0, ErrSKUNotFound
	}
	return refs[0].ProductID, nil
}

// SKUByCode returns the id of the live SKU with this code (matched exactly); with
// LiveSKUsOfProduct it lets inventory find the SKU an external stock update names.
func (s *Service) SKUByCode(ctx context.Context, code string) (ids.ID, error) {
	if code == "" {
		return 0, ErrSKUNotFound
	}
	return s.store.SKUByCode(ctx, code)
}

// LiveSKUsOfProduct returns the ids of a live product's live SKUs in ascending order, or
// ErrProductNotFound.
func (s *Service) LiveSKUsOfProduct(ctx context.Context, productID ids.ID) ([]ids.ID, error) {
	return s.store.LiveSKUsOfProduct(ctx, productID)
}
