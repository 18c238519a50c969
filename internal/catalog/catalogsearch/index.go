// Package catalogsearch is the embedded catalog.SearchIndex: a Bleve (scorch) index with a
// CJK-aware analyzer, so that Chinese and English queries both work without a search server.
package catalogsearch

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/platform/ids"
)

// Field names in the index.
const (
	fieldTitle       = "title"
	fieldSubtitle    = "subtitle"
	fieldCategories  = "categories"
	fieldSpecs       = "specs"
	fieldCategoryIDs = "category_ids"
	fieldPrice       = "price" // numeric, for the price range filter
	// Sort keys: one fixed-width hex term per document, the sort value then the product id,
	// kept as doc values. See sortKey.
	fieldKeyPrice = "k_price"
	fieldKeySales = "k_sales"
	fieldKeyNew   = "k_new"
)

// Analyzer names registered in the index mapping.
const (
	// indexAnalyzer is Bleve's CJK pipeline (unicode tokenizer, width folding, lowercase,
	// bigrams) that also keeps single CJK characters, so that a one-character query (鞋, 书)
	// finds words containing it. Queries are analysed with the plain "cjk" analyzer, which
	// makes bigrams of runs of two or more characters and a unigram only of a lone one.
	indexAnalyzer = "minimart_cjk_index"
	queryAnalyzer = cjk.AnalyzerName
)

// schemaVersion is written into every index this package creates. Bump it whenever the
// mapping or the document shape changes: Open then refuses an old index with
// ErrSchemaVersion, and the caller deletes the directory and re-indexes the catalog.
const (
	schemaKey     = "minimart.catalogsearch.schema"
	schemaVersion = "1"
	// sourceKey holds what the index was last completely built from (SetSource).
	sourceKey = "minimart.catalogsearch.source"
)

// Paging limits. Bleve keeps Offset+Limit hits in memory per query, so the window is bounded
// like Elasticsearch's max_result_window; pages past it are empty but Total stays exact.
const (
	DefaultLimit = 20
	MaxLimit     = 200
	MaxWindow    = 10000
	// maxQueryTokens bounds the clauses a single query builds; tokens past it are ignored.
	maxQueryTokens = 32
)

// ErrInUse is returned by Open when another process has the index open: every instance
// needs its own index (its own MINIMART_DATA_DIR).
var ErrInUse = errors.New("catalogsearch: the index is open in another process; give each instance its own data directory")

// lockWait bounds how long Open waits for another process's lock on the index; Bleve's
// default is to wait forever.
const lockWait = 2 * time.Second

func runtimeConfig() map[string]any { return map[string]any{"bolt_timeout": lockWait.String()} }

// ErrSchemaVersion is returned by Open for an index written with another mapping version.
var ErrSchemaVersion = errors.New("catalogsearch: index was built with another schema version; delete it and re-index")

// Index is a catalog.SearchIndex backed by Bleve. It is safe for concurrent use.
type Index struct {
	idx      bleve.Index
	analyzer analysis.Analyzer // query-side analyzer
}

var _ catalog.SearchIndex = (*Index)(nil)

// Open opens the persistent index in dir, creating it (and dir) when dir does not exist or
// is empty. A non-empty dir that is not a Bleve index is refused.
func Open(dir string) (*Index, error) {
	if dir == "" {
		return nil, errors.New("catalogsearch: empty index directory")
	}
	_, err := os.Stat(filepath.Join(dir, "index_meta.json"))
	switch {
	case err == nil:
		b, err := bleve.OpenUsing(dir, runtimeConfig())
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("%w (%s)", ErrInUse, dir)
		}
		if err != nil {
			return nil, fmt.Errorf("catalogsearch: open %s: %w", dir, err)
		}
		v, err := b.GetInternal([]byte(schemaKey))
		if err != nil || string(v) != schemaVersion {
			_ = b.Close()
			if err != nil {
				return nil, fmt.Errorf("catalogsearch: read schema version in %s: %w", dir, err)
			}
			return nil, fmt.Errorf("%w (%s has %q, want %q)", ErrSchemaVersion, dir, v, schemaVersion)
		}
		return newIndex(b)
	case errors.Is(err, os.ErrNotExist):
		entries, rerr := os.ReadDir(dir)
		if rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			return nil, fmt.Errorf("catalogsearch: %w", rerr)
		}
		if len(entries) > 0 {
			return nil, fmt.Errorf("catalogsearch: %s is not empty and holds no search index", dir)
		}
		return create(dir)
	default:
		return nil, fmt.Errorf("catalogsearch: %w", err)
	}
}

// OpenMemory makes an index that lives in memory only (scorch without a persister), for
// tests and throwaway processes.
func OpenMemory() (*Index, error) {
	return create("")
}

func create(dir string) (*Index, error) {
	m, err := newMapping()
	if err != nil {
		return nil, err
	}
	b, err := bleve.NewUsing(dir, m, scorch.Name, scorch.Name, runtimeConfig())
	if err != nil {
		return nil, fmt.Errorf("catalogsearch: create index %q: %w", dir, err)
	}
	if err := b.SetInternal([]byte(schemaKey), []byte(schemaVersion)); err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("catalogsearch: write schema version: %w", err)
	}
	return newIndex(b)
}

func newIndex(b bleve.Index) (*Index, error) {
	a := b.Mapping().AnalyzerNamed(queryAnalyzer)
	if a == nil {
		_ = b.Close()
		return nil, fmt.Errorf("catalogsearch: analyzer %q not registered", queryAnalyzer)
	}
	return &Index{idx: b, analyzer: a}, nil
}

// Close flushes and closes the index. Calls after Close return an error.
func (ix *Index) Close() error { return ix.idx.Close() }

func newMapping() (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	const bigrams = "minimart_cjk_bigram_unigram"
	if err := im.AddCustomTokenFilter(bigrams, map[string]any{
		"type":           cjk.BigramName,
		"output_unigram": true,
	}); err != nil {
		return nil, err
	}
	if err := im.AddCustomAnalyzer(indexAnalyzer, map[string]any{
		"type":          custom.Name,
		"tokenizer":     unicode.Name,
		"token_filters": []string{cjk.WidthName, lowercase.Name, bigrams},
	}); err != nil {
		return nil, err
	}

	// Nothing is stored: results need only the document id. Only the sort keys keep doc
	// values.
	text := func(analyzer string) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	price := bleve.NewNumericFieldMapping()
	price.Store = false
	price.IncludeInAll = false
	price.DocValues = false
	key := func() *mapping.FieldMapping {
		f := text(keyword.Name)
		f.DocValues = true
		return f
	}

	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt(fieldTitle, text(indexAnalyzer))
	dm.AddFieldMappingsAt(fieldSubtitle, text(indexAnalyzer))
	dm.AddFieldMappingsAt(fieldCategories, text(indexAnalyzer))
	dm.AddFieldMappingsAt(fieldSpecs, text(indexAnalyzer))
	dm.AddFieldMappingsAt(fieldCategoryIDs, text(keyword.Name))
	dm.AddFieldMappingsAt(fieldPrice, price)
	dm.AddFieldMappingsAt(fieldKeyPrice, key())
	dm.AddFieldMappingsAt(fieldKeySales, key())
	dm.AddFieldMappingsAt(fieldKeyNew, key())

	im.DefaultMapping = dm
	im.IndexDynamic = false
	im.StoreDynamic = false
	im.DocValuesDynamic = false
	im.DefaultAnalyzer = indexAnalyzer
	if err := im.Validate(); err != nil {
		return nil, fmt.Errorf("catalogsearch: mapping: %w", err)
	}
	return im, nil
}

// docID is the Bleve document id of a product: its decimal id.
func docID(id ids.ID) string { return strconv.FormatInt(int64(id), 10) }

// sortKey is a 32-hex-digit term whose byte order is the order of (v, id) as int64s: each
// value with its sign bit flipped, big-endian. Sorting on it orders by v and breaks ties by
// product id, so pages are stable.
//
// Why not Bleve numeric/datetime fields with doc values: those keep all ~16 prefix-coded
// terms of every value in the doc values, and a sort decodes (snappy) the doc-value chunk of
// every hit; one short term per document made searches several times faster in
// BenchmarkSearch10k. Price is still indexed as a number for the range filter.
func sortKey(v int64, id ids.ID) string {
	const flip = 1 << 63
	return fmt.Sprintf("%016x%016x", uint64(v)^flip, uint64(id)^flip)
}

// body is the document Bleve's mapping walks.
func body(d catalog.SearchDoc) map[string]any {
	created := int64(math.MinInt64) // no time: last among the newest
	if !d.CreatedAt.IsZero() {
		created = d.CreatedAt.UnixNano()
	}
	m := map[string]any{
		fieldTitle:    d.Title,
		fieldSubtitle: d.Subtitle,
		fieldPrice:    float64(d.Price),
		fieldKeyPrice: sortKey(int64(d.Price), d.ProductID),
		fieldKeySales: sortKey(d.Sales, d.ProductID),
		fieldKeyNew:   sortKey(created, d.ProductID),
	}
	if len(d.Categories) > 0 {
		m[fieldCategories] = d.Categories
	}
	if len(d.SpecValues) > 0 {
		m[fieldSpecs] = d.SpecValues
	}
	if len(d.CategoryIDs) > 0 {
		cids := make([]string, len(d.CategoryIDs))
		for i, c := range d.CategoryIDs {
			cids[i] = docID(c)
		}
		m[fieldCategoryIDs] = cids
	}
	return m
}

// Put adds or replaces documents, in one batch.
func (ix *Index) Put(ctx context.Context, docs ...catalog.SearchDoc) error {
	if len(docs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b := ix.idx.NewBatch()
	for _, d := range docs {
		if d.ProductID <= 0 {
			return fmt.Errorf("catalogsearch: put: product id %d is not positive", d.ProductID)
		}
		if err := b.Index(docID(d.ProductID), body(d)); err != nil {
			return fmt.Errorf("catalogsearch: put %d: %w", d.ProductID, err)
		}
	}
	if err := ix.idx.Batch(b); err != nil {
		return fmt.Errorf("catalogsearch: put: %w", err)
	}
	return nil
}

// Remove deletes products from the index; unknown ids are ignored.
func (ix *Index) Remove(ctx context.Context, productIDs ...ids.ID) error {
	if len(productIDs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b := ix.idx.NewBatch()
	for _, id := range productIDs {
		b.Delete(docID(id))
	}
	if err := ix.idx.Batch(b); err != nil {
		return fmt.Errorf("catalogsearch: remove: %w", err)
	}
	return nil
}

// Count is the number of documents in the index.
func (ix *Index) Count(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n, err := ix.idx.DocCount()
	if err != nil {
		return 0, fmt.Errorf("catalogsearch: count: %w", err)
	}
	return int(n), nil
}

// Source is what the index was last completely built from, as given to SetSource; "" for
// an index never stamped, or whose stamp a rebuild cleared and did not put back.
func (ix *Index) Source(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	v, err := ix.idx.GetInternal([]byte(sourceKey))
	if err != nil {
		return "", fmt.Errorf("catalogsearch: read source: %w", err)
	}
	return string(v), nil
}

// SetSource stamps the index with what it was built from; "" clears the stamp.
func (ix *Index) SetSource(ctx context.Context, source string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var err error
	if source == "" {
		err = ix.idx.DeleteInternal([]byte(sourceKey))
	} else {
		err = ix.idx.SetInternal([]byte(sourceKey), []byte(source))
	}
	if err != nil {
		return fmt.Errorf("catalogsearch: write source: %w", err)
	}
	return nil
}

// ProductIDs lists every product in the index, in no given order.
func (ix *Index) ProductIDs(ctx context.Context) ([]ids.ID, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	adv, err := ix.idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("catalogsearch: product ids: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, fmt.Errorf("catalogsearch: product ids: %w", err)
	}
	defer r.Close()
	docs, err := r.DocIDReaderAll()
	if err != nil {
		return nil, fmt.Errorf("catalogsearch: product ids: %w", err)
	}
	defer docs.Close()
	var out []ids.ID
	for {
		internal, err := docs.Next()
		if err != nil {
			return nil, fmt.Errorf("catalogsearch: product ids: %w", err)
		}
		if internal == nil {
			return out, nil
		}
		ext, err := r.ExternalID(internal)
		if err != nil {
			return nil, fmt.Errorf("catalogsearch: product ids: %w", err)
		}
		id, err := ids.Parse(ext)
		if err != nil {
			return nil, fmt.Errorf("catalogsearch: document %q is not a product id", ext)
		}
		out = append(out, id)
	}
}
