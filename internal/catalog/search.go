package catalog

import (
	"time"

	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// SearchDoc is what the index knows of one on-shelf product.
type SearchDoc struct {
	ProductID ids.ID
	Title     string
	Subtitle  string
	// Categories are the names of the product's category and its ancestors.
	Categories []string
	// CategoryIDs are the ids of the product's category and its ancestors, so a filter by a
	// top-level category finds products filed under its children.
	CategoryIDs []ids.ID
	SpecValues  []string
	Price       money.Fen
	Sales       int64
	CreatedAt   time.Time
}

// Sort orders for lists and search results.
const (
	SortRelevance = "relevance"
	SortNewest    = "newest"
	SortSales     = "sales"
	SortPriceAsc  = "price_asc"
	SortPriceDesc = "price_desc"
)

// SearchQuery is a full-text query with the list filters.
type SearchQuery struct {
	Text       string
	CategoryID ids.ID
	MinPrice   money.Fen
	MaxPrice   money.Fen // 0: no upper bound
	Sort       string
	Offset     int
	Limit      int
}

// SearchResult is a page of matching product ids, best first.
type SearchResult struct {
	ProductIDs []ids.ID
	Total      int
}
