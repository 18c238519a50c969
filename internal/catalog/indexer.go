package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/minimart/minimart/internal/catalog/catalogevents"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
)

// Indexer keeps the search index in step with the catalog: it consumes catalog change
// events and can rebuild the whole index while it serves.
type Indexer struct {
	store   Storer
	index   SearchIndex
	log     *slog.Logger
	changed func(ctx context.Context) error
	// mu makes each change to the index (an event's, or one batch of a rebuild) read the
	// catalog and write the index as one step. Otherwise a rebuild batch that read a
	// product before a change could write it after the change's event had indexed the
	// new state, and the old one would stay.
	mu sync.Mutex
}

// NewIndexer wires an indexer. changed, if not nil, runs after each change to the index
// (the buyer views drop their cached search pages).
func NewIndexer(store Storer, index SearchIndex, log *slog.Logger, changed func(ctx context.Context) error) *Indexer {
	return &Indexer{store: store, index: index, log: log, changed: changed}
}

func (ix *Indexer) notify(ctx context.Context, err error) error {
	if err != nil || ix.changed == nil {
		return err
	}
	return ix.changed(ctx)
}

func docFor(p Product, all []Category) SearchDoc {
	d := SearchDoc{ProductID: p.ID, Title: p.Title, Subtitle: p.Subtitle, Price: p.PriceMin, Sales: p.Sales, CreatedAt: p.CreatedAt}
	for _, c := range lineage(all, p.CategoryID) {
		d.Categories = append(d.Categories, c.Name)
		d.CategoryIDs = append(d.CategoryIDs, c.ID)
	}
	seen := map[string]bool{}
	for _, k := range p.SKUs {
		for _, v := range k.Specs {
			if !seen[v] {
				seen[v] = true
				d.SpecValues = append(d.SpecValues, v)
			}
		}
	}
	return d
}

// HandleEvent updates the index for a changed product, or for every product under a
// changed category (their category names are part of the document).
func (ix *Indexer) HandleEvent(ctx context.Context, e events.Event) error {
	switch e.Type {
	case catalogevents.TypeProductChanged:
		var p catalogevents.ProductChanged
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			return fmt.Errorf("%s payload: %w", e.Type, err)
		}
		return ix.notify(ctx, ix.Reindex(ctx, p.ProductID))
	case catalogevents.TypeCategoryChanged:
		var c catalogevents.CategoryChanged
		if err := json.Unmarshal(e.Payload, &c); err != nil {
			return fmt.Errorf("%s payload: %w", e.Type, err)
		}
		return ix.notify(ctx, ix.reindexCategory(ctx, c.CategoryID))
	}
	return nil
}

// Reindex puts one product's current state in the index: indexed when on shelf, removed
// otherwise. Reading the product now (not the event) makes late or repeated events harmless.
func (ix *Indexer) Reindex(ctx context.Context, productID ids.ID) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	p, err := ix.store.Product(ctx, productID)
	if errors.Is(err, ErrProductNotFound) || (err == nil && p.Status != OnShelf) {
		return ix.index.Remove(ctx, productID)
	}
	if err != nil {
		return err
	}
	all, err := ix.store.Categories(ctx)
	if err != nil {
		return err
	}
	return ix.index.Put(ctx, docFor(p, all))
}

func (ix *Indexer) reindexCategory(ctx context.Context, categoryID ids.ID) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	all, err := ix.store.Categories(ctx)
	if err != nil {
		return err
	}
	// Off-shelf products are not in the index, so the on-shelf ones are all that changes.
	f := ListFilter{Status: OnShelf, CategoryIDs: Descendants(all, categoryID), Limit: 500, WithSKUs: true}
	for {
		page, _, err := ix.store.Products(ctx, f)
		if err != nil {
			return err
		}
		docs := make([]SearchDoc, len(page))
		for i, p := range page {
			docs[i] = docFor(p, all)
		}
		if err := ix.index.Put(ctx, docs...); err != nil {
			return err
		}
		if len(page) < f.Limit {
			return nil
		}
		f.Offset += f.Limit
	}
}

// IndexState says how an index relates to the catalog it serves.
type IndexState int

const (
	// IndexCurrent: built from this catalog database since the last reindex request; events
	// keep it up to date.
	IndexCurrent IndexState = iota
	// IndexOutdated: built from this catalog database before the last reindex request.
	IndexOutdated
	// IndexForeign: built from another database, or from nobody knows what (never stamped,
	// made before sources were recorded, or a rebuild that did not finish). Nothing in it
	// should be served.
	IndexForeign
)

func (s IndexState) String() string {
	switch s {
	case IndexCurrent:
		return "current"
	case IndexOutdated:
		return "outdated: a reindex was requested"
	default:
		return "built from another database, or its build did not finish"
	}
}

// State compares the index's source with the catalog's.
func (ix *Indexer) State(ctx context.Context) (IndexState, error) {
	want, err := ix.store.IndexSource(ctx)
	if err != nil {
		return 0, err
	}
	text, err := ix.index.Source(ctx)
	if err != nil {
		return 0, err
	}
	have, ok := ParseIndexSource(text)
	switch {
	case !ok || !have.SameDatabase(want):
		return IndexForeign, nil
	case have.Version != want.Version:
		return IndexOutdated, nil
	default:
		return IndexCurrent, nil
	}
}

// Rebuild makes the index hold exactly the catalog's on-shelf products and stamps it with
// the catalog's source (see State), calling progress after each batch with the number of
// products indexed so far. It works in place, beside event handling and searches: until it
// is done the index answers much as before. Its stamp is cleared while it works, so a
// rebuild cut short counts as foreign and is done again.
func (ix *Indexer) Rebuild(ctx context.Context, progress func(done int)) (int, error) {
	// Read first: a reindex requested while this runs leaves the index outdated again.
	src, err := ix.store.IndexSource(ctx)
	if err != nil {
		return 0, err
	}
	if err := ix.index.SetSource(ctx, ""); err != nil {
		return 0, err
	}
	done := 0
	var after ids.ID
	for {
		n, last, err := ix.putOnShelfAfter(ctx, after)
		if err != nil {
			return done, err
		}
		if n == 0 {
			break
		}
		done += n
		after = last
		if progress != nil {
			progress(done)
		}
	}
	if err := ix.prune(ctx); err != nil {
		return done, err
	}
	if err := ix.index.SetSource(ctx, src.String()); err != nil {
		return done, err
	}
	return done, ix.notify(ctx, nil)
}

// putOnShelfAfter indexes the next batch of on-shelf products after the given id, and
// returns how many there were and the last id.
func (ix *Indexer) putOnShelfAfter(ctx context.Context, after ids.ID) (int, ids.ID, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	// Read each time: a category renamed during the rebuild must not be undone by a batch.
	all, err := ix.store.Categories(ctx)
	if err != nil {
		return 0, 0, err
	}
	batch, err := ix.store.OnShelfAfter(ctx, after, 500)
	if err != nil || len(batch) == 0 {
		return 0, 0, err
	}
	docs := make([]SearchDoc, len(batch))
	for i, p := range batch {
		docs[i] = docFor(p, all)
	}
	if err := ix.index.Put(ctx, docs...); err != nil {
		return 0, 0, err
	}
	return len(batch), batch[len(batch)-1].ID, nil
}

// prune removes the indexed products that are no longer on shelf, or no longer exist.
func (ix *Indexer) prune(ctx context.Context) error {
	indexed, err := ix.index.ProductIDs(ctx)
	if err != nil {
		return err
	}
	for len(indexed) > 0 {
		n := min(len(indexed), 500)
		if err := ix.pruneBatch(ctx, indexed[:n]); err != nil {
			return err
		}
		indexed = indexed[n:]
	}
	return nil
}

func (ix *Indexer) pruneBatch(ctx context.Context, productIDs []ids.ID) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	products, err := ix.store.ProductsByIDs(ctx, productIDs)
	if err != nil {
		return err
	}
	onShelf := make(map[ids.ID]bool, len(products))
	for _, p := range products {
		onShelf[p.ID] = p.Status == OnShelf
	}
	var gone []ids.ID
	for _, id := range productIDs {
		if !onShelf[id] {
			gone = append(gone, id)
		}
	}
	return ix.index.Remove(ctx, gone...)
}
