package catalogsearch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/platform/ids"
)

// ErrUnknownSort is returned by Search for a Sort that is not one of catalog.Sort*.
var ErrUnknownSort = errors.New("catalogsearch: unknown sort order")

// fieldWeight ranks the text fields. Each (query token, field) match scores
//
//	weight × (1 + ½·s/(1+s))
//
// where s is Bleve's TF-IDF score of that term in that field, squashed into [0, 1). Field
// scores are thus banded: TF-IDF orders matches within a field but cannot lift a field
// above its band, whatever the term's rarity there. The bands are far enough apart (title
// 100, coord ¼ → at least 25 per token) that a title match of a token always outweighs the
// same token matched in every other field (at most (6+5+3)·1.5·¾ ≈ 15.8), so title matches
// come first. Per-field IDF would otherwise let a term that is rare in subtitles outrank a
// common one in titles.
var textFields = []struct {
	name   string
	weight float64
}{
	{fieldTitle, 100},
	{fieldCategories, 6},
	{fieldSubtitle, 5},
	{fieldSpecs, 3},
}

// Search returns a page of matching product ids in rank order and the total match count.
//
// Text is analysed like the indexed fields (CJK bigrams, lowercase Latin words); every
// resulting token must occur in at least one of title, subtitle, categories or spec values
// (AND across tokens, OR across fields), so 蓝牙耳机 needs 蓝牙, 牙耳 and 耳机 and does not
// match 蓝牙音箱. Text that holds no searchable token (only punctuation) matches nothing; an
// empty Text lists everything that passes the filters.
func (ix *Index) Search(ctx context.Context, q catalog.SearchQuery) (catalog.SearchResult, error) {
	order, relevance, err := sortOrder(q.Sort)
	if err != nil {
		return catalog.SearchResult{}, err
	}

	var tokens []string
	hasText := strings.TrimSpace(q.Text) != ""
	if hasText {
		tokens = ix.tokens(q.Text)
		if len(tokens) == 0 {
			return catalog.SearchResult{ProductIDs: []ids.ID{}}, nil
		}
	}
	scoring := hasText && relevance

	var must []query.Query
	for _, t := range tokens {
		must = append(must, tokenQuery(t, scoring))
	}
	var filters []query.Query
	if q.CategoryID != 0 {
		tq := query.NewTermQuery(docID(q.CategoryID))
		tq.SetField(fieldCategoryIDs)
		filters = append(filters, tq)
	}
	if q.MinPrice > 0 || q.MaxPrice > 0 {
		var lo, hi *float64
		if q.MinPrice > 0 {
			v := float64(q.MinPrice)
			lo = &v
		}
		if q.MaxPrice > 0 {
			v := float64(q.MaxPrice)
			hi = &v
		}
		inclusive := true
		rq := query.NewNumericRangeInclusiveQuery(lo, hi, &inclusive, &inclusive)
		rq.SetField(fieldPrice)
		filters = append(filters, rq)
	}

	var root query.Query
	switch {
	case scoring && len(filters) > 0:
		// Filters narrow the hits without adding to the score.
		bq := query.NewBooleanQuery(must, nil, nil)
		bq.AddFilter(conjunction(filters))
		root = bq
	case len(must)+len(filters) == 0:
		root = query.NewMatchAllQuery()
	default:
		root = conjunction(append(must, filters...))
	}

	offset := max(q.Offset, 0)
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	if offset >= MaxWindow {
		// Past the window: only the total is asked for.
		offset, limit = 0, 0
	} else {
		limit = min(limit, MaxWindow-offset)
	}

	req := bleve.NewSearchRequestOptions(root, limit, offset, false)
	req.SortByCustom(order)
	if !scoring {
		req.Score = bleve.ScoreNone
	}
	res, err := ix.idx.SearchInContext(ctx, req)
	if err != nil {
		return catalog.SearchResult{}, fmt.Errorf("catalogsearch: search: %w", err)
	}
	out := catalog.SearchResult{ProductIDs: make([]ids.ID, 0, len(res.Hits)), Total: int(res.Total)}
	if limit == 0 {
		return out, nil
	}
	for _, h := range res.Hits {
		n, err := strconv.ParseInt(h.ID, 10, 64)
		if err != nil {
			return catalog.SearchResult{}, fmt.Errorf("catalogsearch: bad document id %q: %w", h.ID, err)
		}
		out.ProductIDs = append(out.ProductIDs, ids.ID(n))
	}
	return out, nil
}

// tokens analyses query text with the query-side CJK analyzer: distinct terms in order, at
// most maxQueryTokens.
func (ix *Index) tokens(text string) []string {
	stream := ix.analyzer.Analyze([]byte(text))
	out := make([]string, 0, len(stream))
	seen := make(map[string]bool, len(stream))
	for _, t := range stream {
		term := string(t.Term)
		if term == "" || seen[term] {
			continue
		}
		seen[term] = true
		out = append(out, term)
		if len(out) == maxQueryTokens {
			break
		}
	}
	return out
}

// tokenQuery matches one analysed token in any text field.
func tokenQuery(token string, scoring bool) query.Query {
	per := make([]query.Query, 0, len(textFields))
	for _, f := range textFields {
		tq := query.NewTermQuery(token)
		tq.SetField(f.name)
		if !scoring {
			per = append(per, tq)
			continue
		}
		w := f.weight
		per = append(per, query.NewCustomScoreQueryWithScorer(tq,
			func(_ context.Context, d *search.DocumentMatch) (float64, error) {
				s := max(d.Score, 0)
				return w * (1 + 0.5*s/(1+s)), nil
			}, nil, nil))
	}
	return query.NewDisjunctionQuery(per)
}

func conjunction(qs []query.Query) query.Query {
	if len(qs) == 1 {
		return qs[0]
	}
	return query.NewConjunctionQuery(qs)
}

// sortOrder maps a catalog sort to Bleve's. Each sort key ends with the product id, so equal
// values keep one order across pages: newest, sales and price_desc put the higher id (ids
// are time-ordered: the newer product) first; price_asc is the exact reverse of price_desc.
// Relevance orders by score, then newest.
func sortOrder(s string) (order search.SortOrder, relevance bool, err error) {
	key := func(field string, desc bool) *search.SortField {
		return &search.SortField{Field: field, Desc: desc, Type: search.SortFieldAsString}
	}
	switch s {
	case "", catalog.SortRelevance:
		return search.SortOrder{&search.SortScore{Desc: true}, key(fieldKeyNew, true)}, true, nil
	case catalog.SortNewest:
		return search.SortOrder{key(fieldKeyNew, true)}, false, nil
	case catalog.SortSales:
		return search.SortOrder{key(fieldKeySales, true)}, false, nil
	case catalog.SortPriceAsc:
		return search.SortOrder{key(fieldKeyPrice, false)}, false, nil
	case catalog.SortPriceDesc:
		return search.SortOrder{key(fieldKeyPrice, true)}, false, nil
	default:
		return nil, false, fmt.Errorf("%w: %q", ErrUnknownSort, s)
	}
}
