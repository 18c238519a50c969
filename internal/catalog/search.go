package catalog

import (
	"encoding/json"
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

// IndexSource is what a search index is built from: a catalog database, named by the
// random id it made for itself and by where it is (without any password), and the index
// version that `minimart reindex` raises to have every index rebuilt. An index whose
// source is not the catalog's current one is rebuilt.
type IndexSource struct {
	DatabaseID string `json:"database_id"`
	Database   string `json:"database"`
	Version    int64  `json:"index_version"`
}

// SameDatabase reports whether both name one database, whatever their index versions.
func (s IndexSource) SameDatabase(o IndexSource) bool {
	return s.DatabaseID == o.DatabaseID && s.Database == o.Database
}

// String is how an index records its source.
func (s IndexSource) String() string {
	b, _ := json.Marshal(s) // three plain fields: cannot fail
	return string(b)
}

// ParseIndexSource reads what String wrote; anything else (an index from before sources
// were recorded, or whose rebuild did not finish) is ok=false.
func ParseIndexSource(text string) (src IndexSource, ok bool) {
	if err := json.Unmarshal([]byte(text), &src); err != nil || src.DatabaseID == "" {
		return IndexSource{}, false
	}
	return src, true
}
