package catalog

import (
	"context"

	"github.com/minimart/minimart/internal/platform/ids"
)

// StockReader gives the available stock of SKUs; inventory satisfies it in process, and an
// HTTP client does when inventory runs as its own service. SKUs inventory does not know
// have no entry (read as zero).
type StockReader interface {
	Available(ctx context.Context, skuIDs []ids.ID) (map[ids.ID]int64, error)
}

// SearchIndex is the full-text index over on-shelf products. The embedded implementation is
// Bleve with a CJK analyzer; Elasticsearch, OpenSearch or Meilisearch can stand behind the
// same interface.
type SearchIndex interface {
	// Put adds or replaces documents.
	Put(ctx context.Context, docs ...SearchDoc) error
	// Remove drops products from the index; unknown ids are ignored.
	Remove(ctx context.Context, productIDs ...ids.ID) error
	// Search returns matching product ids in rank order and the total number of matches.
	Search(ctx context.Context, q SearchQuery) (SearchResult, error)
	// Count is the number of documents in the index.
	Count(ctx context.Context) (int, error)
	// ProductIDs lists every product in the index, in no given order.
	ProductIDs(ctx context.Context) ([]ids.ID, error)
	// Source is what the index was last completely built from (an IndexSource, as the
	// indexer wrote it with SetSource); "" when unknown.
	Source(ctx context.Context) (string, error)
	// SetSource stamps the index with what it was built from; "" clears the stamp.
	SetSource(ctx context.Context, source string) error
}
