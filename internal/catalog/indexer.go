package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/minimart/minimart/internal/catalog/catalogevents"
	"github.com/minimart/minimart/internal/platform/events"
	"github.com/minimart/minimart/internal/platform/ids"
)

// Indexer keeps the search index in step with the catalog: it consumes catalog change
// events and can rebuild the whole index.
type Indexer struct {
	store   Storer
	index   SearchIndex
	log     *slog.Logger
	changed func(ctx context.Context) error
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

// Rebuild indexes every on-shelf product, calling progress after each batch with the
// number done so far. Run it on an empty index: it adds and replaces, it does not remove.
func (ix *Indexer) Rebuild(ctx context.Context, progress func(done int)) (int, error) {
	all, err := ix.store.Categories(ctx)
	if err != nil {
		return 0, err
	}
	done := 0
	var after ids.ID
	for {
		batch, err := ix.store.OnShelfAfter(ctx, after, 500)
		if err != nil {
			return done, err
		}
		if len(batch) == 0 {
			return done, ix.notify(ctx, nil)
		}
		docs := make([]SearchDoc, len(batch))
		for i, p := range batch {
			docs[i] = docFor(p, all)
		}
		if err := ix.index.Put(ctx, docs...); err != nil {
			return done, err
		}
		done += len(batch)
		after = batch[len(batch)-1].ID
		if progress != nil {
			progress(done)
		}
	}
}
