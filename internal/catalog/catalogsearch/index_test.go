package catalogsearch_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/catalog/catalogsearch"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

var t0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

func doc(id ids.ID, title, subtitle string, cats []string, catIDs []ids.ID, specs []string,
	price money.Fen, sales int64, hours int) catalog.SearchDoc {
	return catalog.SearchDoc{
		ProductID: id, Title: title, Subtitle: subtitle,
		Categories: cats, CategoryIDs: catIDs, SpecValues: specs,
		Price: price, Sales: sales, CreatedAt: t0.Add(time.Duration(hours) * time.Hour),
	}
}

// Category tree: 1 数码 > 11 手机, 12 耳机, 13 音箱, 14 影音, 15 配件; 2 服装 > 21 男装;
// 3 运动 > 31 运动鞋.
func fixtures() []catalog.SearchDoc {
	return []catalog.SearchDoc{
		doc(1, "华为 Mate 60 Pro 手机", "麒麟芯片 卫星通话", []string{"手机", "数码"}, []ids.ID{11, 1}, []string{"雅川青", "12GB+512GB"}, 699900, 500, 1),
		doc(2, "Apple iPhone 15 128GB", "A16 仿生芯片", []string{"手机", "数码"}, []ids.ID{11, 1}, []string{"黑色", "128GB"}, 599900, 900, 2),
		doc(3, "小米 Redmi 蓝牙耳机 AirDots", "真无线 长续航", []string{"耳机", "数码"}, []ids.ID{12, 1}, []string{"白色"}, 9900, 3000, 3),
		doc(4, "漫步者 蓝牙音箱 M230", "桌面音响", []string{"音箱", "数码"}, []ids.ID{13, 1}, []string{"黑色"}, 19900, 120, 4),
		doc(5, "Sony WH-1000XM5 头戴式", "无线耳机 旗舰降噪", []string{"影音", "数码"}, []ids.ID{14, 1}, []string{"蓝牙5.3", "黑色"}, 249900, 800, 5),
		doc(6, "手机支架 桌面懒人支架", "铝合金 可折叠", []string{"配件", "数码"}, []ids.ID{15, 1}, []string{"银色"}, 2900, 5000, 6),
		doc(7, "纯棉 短袖衬衫 男款", "夏季新品", []string{"男装", "服装"}, []ids.ID{21, 2}, []string{"白色", "XL"}, 7900, 300, 7),
		doc(8, "Anker 充电宝 20000mAh", "快充", []string{"配件", "数码"}, []ids.ID{15, 1}, []string{"适用手机 平板"}, 12900, 2000, 8),
		doc(9, "Type-C 转接头", "即插即用", []string{"配件", "数码"}, []ids.ID{15, 1}, []string{"3.5mm耳机接口"}, 1900, 4000, 9),
		doc(10, "华为 FreeBuds 5i", "降噪 蓝牙", []string{"耳机", "数码"}, []ids.ID{12, 1}, []string{"星光白"}, 39900, 1500, 10),
		// Same created_at as 10; same price, sales and created_at as 6: ties go by id.
		doc(11, "李宁 运动鞋 跑步", "轻便 透气", []string{"运动鞋", "运动"}, []ids.ID{31, 3}, []string{"42码"}, 29900, 700, 10),
		doc(12, "IPHONE 15 手机壳 透明", "防摔", []string{"配件", "数码"}, []ids.ID{15, 1}, []string{"透明"}, 2900, 5000, 6),
	}
}

func newIndex(t testing.TB, docs ...catalog.SearchDoc) *catalogsearch.Index {
	t.Helper()
	ix, err := catalogsearch.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ix.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := ix.Put(context.Background(), docs...); err != nil {
		t.Fatal(err)
	}
	return ix
}

func search(t testing.TB, ix *catalogsearch.Index, q catalog.SearchQuery) catalog.SearchResult {
	t.Helper()
	res, err := ix.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	return res
}

// matchSet runs a text query and returns the matching ids, sorted, checking Total.
func matchSet(t testing.TB, ix *catalogsearch.Index, text string) []ids.ID {
	t.Helper()
	res := search(t, ix, catalog.SearchQuery{Text: text, Limit: catalogsearch.MaxLimit})
	if res.Total != len(res.ProductIDs) {
		t.Fatalf("%q: Total %d, got %d ids", text, res.Total, len(res.ProductIDs))
	}
	got := slices.Clone(res.ProductIDs)
	slices.Sort(got)
	return got
}

func TestTextMatching(t *testing.T) {
	ix := newIndex(t, fixtures()...)
	tests := []struct {
		name string
		text string
		want []ids.ID
	}{
		{"two chars in title, category name and spec", "手机", []ids.ID{1, 2, 6, 8, 12}},
		{"two chars in title, subtitle, spec inside a longer word, category", "耳机", []ids.ID{3, 5, 9, 10}},
		{"four chars need every bigram", "蓝牙耳机", []ids.ID{3}},
		{"蓝牙音箱 is not 蓝牙耳机", "蓝牙音箱", []ids.ID{4}},
		{"two chars in several fields", "蓝牙", []ids.ID{3, 4, 5, 10}},
		{"english lower case", "iphone", []ids.ID{2, 12}},
		{"english mixed case", "IPhone", []ids.ID{2, 12}},
		{"full-width latin", "ｉＰｈｏｎｅ", []ids.ID{2, 12}},
		{"english word in title", "mate", []ids.ID{1}},
		{"english spec value", "xl", []ids.ID{7}},
		{"mixed chinese words, both in title", "华为 手机", []ids.ID{1}},
		{"mixed words across title and category", "华为 耳机", []ids.ID{10}},
		{"chinese and english", "华为 freebuds", []ids.ID{10}},
		{"single chinese character", "鞋", []ids.ID{11}},
		{"chinese in spec only", "平板", []ids.ID{8}},
		{"no such word", "冰箱", []ids.ID{}},
		{"english and chinese where one is missing", "iphone 耳机", []ids.ID{}},
		{"punctuation only matches nothing", "!!! ，。", []ids.ID{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := matchSet(t, ix, tc.text)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Search(%q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}

func TestPutReplacesAndRemoveDrops(t *testing.T) {
	ctx := context.Background()
	ix := newIndex(t, fixtures()...)
	if n, err := ix.Count(ctx); err != nil || n != 12 {
		t.Fatalf("Count = %d, %v; want 12", n, err)
	}

	renamed := fixtures()[6] // 7: 纯棉 短袖衬衫 男款
	renamed.Title = "亚麻 长袖衬衫 男款"
	if err := ix.Put(ctx, renamed); err != nil {
		t.Fatal(err)
	}
	if err := ix.Remove(ctx, 2, 999); err != nil { // 999 is unknown: ignored
		t.Fatal(err)
	}

	tests := []struct {
		text string
		want []ids.ID
	}{
		{"纯棉", []ids.ID{}},
		{"短袖", []ids.ID{}},
		{"亚麻", []ids.ID{7}},
		{"长袖", []ids.ID{7}},
		{"男款", []ids.ID{7}},
		{"iphone", []ids.ID{12}},
		{"手机", []ids.ID{1, 6, 8, 12}},
	}
	for _, tc := range tests {
		if got := matchSet(t, ix, tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("after rename/remove, Search(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
	if n, err := ix.Count(ctx); err != nil || n != 11 {
		t.Fatalf("Count after remove = %d, %v; want 11", n, err)
	}
	// Putting several at once, including one twice: the last one wins.
	a, b := fixtures()[0], fixtures()[0]
	a.Title, b.Title = "旧标题", "新标题 鼠标"
	if err := ix.Put(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	if got := matchSet(t, ix, "鼠标"); !slices.Equal(got, []ids.ID{1}) {
		t.Errorf("鼠标 = %v, want [1]", got)
	}
	if got := matchSet(t, ix, "旧标"); len(got) != 0 {
		t.Errorf("旧标 = %v, want none", got)
	}
}

func TestTitleMatchRanksFirst(t *testing.T) {
	// Many titles carry 耳机, so it is a common (low-IDF) term in titles and a rare one in
	// the other fields; the non-title matches are also newer and have short fields (high
	// norms). Title matches must still come first, then category, subtitle, spec.
	var docs []catalog.SearchDoc
	var titleIDs []ids.ID
	for i := range 20 {
		id := ids.ID(100 + i)
		titleIDs = append(titleIDs, id)
		docs = append(docs, doc(id, "某品牌 入门款 有线耳机 三点五毫米接口 超长线材 多色可选 学生 办公 通话 第"+string(rune('A'+i))+"款",
			"", []string{"影音"}, []ids.ID{14}, []string{"黑色"}, 1000, 1, i))
	}
	const category, subtitle, spec = 201, 202, 203
	docs = append(docs,
		doc(category, "Sony 旗舰", "降噪", []string{"耳机"}, []ids.ID{12}, nil, 1000, 1, 100),
		doc(subtitle, "Bose 旗舰", "耳机", []string{"影音"}, []ids.ID{14}, nil, 1000, 1, 101),
		doc(spec, "JBL 旗舰", "降噪", []string{"影音"}, []ids.ID{14}, []string{"耳机"}, 1000, 1, 102),
		doc(204, "无关 商品", "降噪", []string{"影音"}, []ids.ID{14}, nil, 1000, 1, 103),
	)
	ix := newIndex(t, docs...)

	for _, sortBy := range []string{"", catalog.SortRelevance} {
		res := search(t, ix, catalog.SearchQuery{Text: "耳机", Sort: sortBy, Limit: 50})
		if res.Total != 23 || len(res.ProductIDs) != 23 {
			t.Fatalf("sort %q: Total %d, %d ids; want 23", sortBy, res.Total, len(res.ProductIDs))
		}
		head := slices.Clone(res.ProductIDs[:20])
		slices.Sort(head)
		if !slices.Equal(head, titleIDs) {
			t.Errorf("sort %q: first 20 = %v, want the title matches %v", sortBy, res.ProductIDs[:20], titleIDs)
		}
		if tail := res.ProductIDs[20:]; !slices.Equal(tail, []ids.ID{category, subtitle, spec}) {
			t.Errorf("sort %q: after the titles got %v, want category, subtitle, spec match %v",
				sortBy, tail, []ids.ID{category, subtitle, spec})
		}
	}

	// Equal title matches: the newer comes first.
	ix2 := newIndex(t,
		doc(1, "蓝牙 耳机", "", nil, nil, nil, 1, 1, 1),
		doc(2, "蓝牙 耳机", "", nil, nil, nil, 1, 1, 3),
		doc(3, "蓝牙 耳机", "", nil, nil, nil, 1, 1, 2),
	)
	if got := search(t, ix2, catalog.SearchQuery{Text: "耳机"}).ProductIDs; !slices.Equal(got, []ids.ID{2, 3, 1}) {
		t.Errorf("equal scores: got %v, want newest first [2 3 1]", got)
	}
}

// oracle lists the fixtures that pass the filters, in the order the sort should give.
func oracle(docs []catalog.SearchDoc, q catalog.SearchQuery) []ids.ID {
	var sel []catalog.SearchDoc
	for _, d := range docs {
		if q.CategoryID != 0 && !slices.Contains(d.CategoryIDs, q.CategoryID) {
			continue
		}
		if q.MinPrice > 0 && d.Price < q.MinPrice || q.MaxPrice > 0 && d.Price > q.MaxPrice {
			continue
		}
		sel = append(sel, d)
	}
	sort.Slice(sel, func(i, j int) bool {
		a, b := sel[i], sel[j]
		switch q.Sort {
		case catalog.SortSales:
			if a.Sales != b.Sales {
				return a.Sales > b.Sales
			}
		case catalog.SortPriceAsc: // the exact reverse of price_desc
			if a.Price != b.Price {
				return a.Price < b.Price
			}
			return a.ProductID < b.ProductID
		case catalog.SortPriceDesc:
			if a.Price != b.Price {
				return a.Price > b.Price
			}
		default: // relevance without text, newest
			if !a.CreatedAt.Equal(b.CreatedAt) {
				return a.CreatedAt.After(b.CreatedAt)
			}
		}
		return a.ProductID > b.ProductID
	})
	out := make([]ids.ID, len(sel))
	for i, d := range sel {
		out[i] = d.ProductID
	}
	return out
}

func TestFiltersAndSorts(t *testing.T) {
	docs := fixtures()
	ix := newIndex(t, docs...)
	tests := []struct {
		name string
		q    catalog.SearchQuery
		want []ids.ID // nil: ask the oracle
	}{
		{name: "everything, relevance is newest", q: catalog.SearchQuery{}},
		{name: "newest", q: catalog.SearchQuery{Sort: catalog.SortNewest}},
		{name: "sales", q: catalog.SearchQuery{Sort: catalog.SortSales}},
		{name: "price asc", q: catalog.SearchQuery{Sort: catalog.SortPriceAsc}},
		{name: "price desc", q: catalog.SearchQuery{Sort: catalog.SortPriceDesc}},
		{name: "leaf category", q: catalog.SearchQuery{CategoryID: 11}},
		{name: "ancestor category", q: catalog.SearchQuery{CategoryID: 1, Sort: catalog.SortPriceAsc}},
		{name: "other top category", q: catalog.SearchQuery{CategoryID: 3}},
		{name: "unknown category", q: catalog.SearchQuery{CategoryID: 99}},
		{name: "price range inclusive", q: catalog.SearchQuery{MinPrice: 9900, MaxPrice: 19900, Sort: catalog.SortPriceAsc}},
		{name: "min price only", q: catalog.SearchQuery{MinPrice: 249900, Sort: catalog.SortPriceDesc}},
		{name: "max price only", q: catalog.SearchQuery{MaxPrice: 2900, Sort: catalog.SortSales}},
		{name: "category and price", q: catalog.SearchQuery{CategoryID: 1, MinPrice: 2000, MaxPrice: 40000, Sort: catalog.SortNewest}},
		{name: "empty range", q: catalog.SearchQuery{MinPrice: 30000, MaxPrice: 20000}},
		// With text, the oracle does not apply: explicit expectations.
		{name: "text and ancestor category", q: catalog.SearchQuery{Text: "手机", CategoryID: 1, Sort: catalog.SortPriceAsc}, want: []ids.ID{6, 12, 8, 2, 1}},
		{name: "text and leaf category", q: catalog.SearchQuery{Text: "手机", CategoryID: 15, Sort: catalog.SortSales}, want: []ids.ID{12, 6, 8}},
		{name: "text and price, relevance", q: catalog.SearchQuery{Text: "耳机", MaxPrice: 10000}, want: []ids.ID{3, 9}},
		{name: "text and category, relevance", q: catalog.SearchQuery{Text: "华为", CategoryID: 12}, want: []ids.ID{10}},
		{name: "text sorted by price desc", q: catalog.SearchQuery{Text: "蓝牙", Sort: catalog.SortPriceDesc}, want: []ids.ID{5, 10, 4, 3}},
		{name: "text sorted by newest", q: catalog.SearchQuery{Text: "蓝牙", Sort: catalog.SortNewest}, want: []ids.ID{10, 5, 4, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == nil {
				want = oracle(docs, tc.q)
			}
			q := tc.q
			q.Limit = catalogsearch.MaxLimit
			res := search(t, ix, q)
			if !slices.Equal(res.ProductIDs, want) {
				t.Errorf("got %v, want %v", res.ProductIDs, want)
			}
			if res.Total != len(want) {
				t.Errorf("Total = %d, want %d", res.Total, len(want))
			}
		})
	}
	// The oracle cases above must not all be trivially empty.
	if got := oracle(docs, catalog.SearchQuery{MinPrice: 9900, MaxPrice: 19900}); !slices.Equal(got, []ids.ID{8, 4, 3}) {
		t.Fatalf("oracle sanity: %v", got)
	}
}

func TestPaging(t *testing.T) {
	// 57 products with many equal prices, sales and times, so pages rely on the id tie-break.
	var docs []catalog.SearchDoc
	for i := range 57 {
		id := ids.ID(1_000 + i*7%57)
		docs = append(docs, doc(id, "测试 手机 商品", "", []string{"手机"}, []ids.ID{11, 1}, nil,
			money.Fen(100*(i%5)+100), int64(i%3), i%4))
	}
	docs[10].Title = "测试 商品" // one without 手机 in the title, still in the category name
	ix := newIndex(t, docs...)

	for _, sortBy := range []string{"", catalog.SortNewest, catalog.SortSales, catalog.SortPriceAsc, catalog.SortPriceDesc} {
		for _, text := range []string{"", "手机"} {
			for _, size := range []int{1, 10, 13, 57} {
				var all []ids.ID
				for off := 0; ; off += size {
					res := search(t, ix, catalog.SearchQuery{Text: text, CategoryID: 1, Sort: sortBy, Offset: off, Limit: size})
					if res.Total != 57 {
						t.Fatalf("sort %q text %q: Total %d, want 57", sortBy, text, res.Total)
					}
					if len(res.ProductIDs) == 0 {
						break
					}
					if len(res.ProductIDs) > size {
						t.Fatalf("page of %d has %d ids", size, len(res.ProductIDs))
					}
					all = append(all, res.ProductIDs...)
				}
				if len(all) != 57 {
					t.Fatalf("sort %q text %q size %d: %d ids over all pages, want 57", sortBy, text, size, len(all))
				}
				seen := map[ids.ID]bool{}
				for _, id := range all {
					if seen[id] {
						t.Fatalf("sort %q text %q size %d: %d on two pages", sortBy, text, size, id)
					}
					seen[id] = true
				}
				if text == "" {
					if want := oracle(docs, catalog.SearchQuery{Sort: sortBy}); !slices.Equal(all, want) {
						t.Errorf("sort %q size %d: pages %v, want %v", sortBy, size, all, want)
					}
				}
			}
		}
	}

	// Defaults and the window.
	res := search(t, ix, catalog.SearchQuery{})
	if len(res.ProductIDs) != catalogsearch.DefaultLimit || res.Total != 57 {
		t.Errorf("default limit: %d ids, Total %d", len(res.ProductIDs), res.Total)
	}
	res = search(t, ix, catalog.SearchQuery{Offset: catalogsearch.MaxWindow, Limit: 10})
	if len(res.ProductIDs) != 0 || res.Total != 57 {
		t.Errorf("past the window: %d ids, Total %d; want 0, 57", len(res.ProductIDs), res.Total)
	}
	res = search(t, ix, catalog.SearchQuery{Offset: -5, Limit: 3})
	if want := oracle(docs, catalog.SearchQuery{})[:3]; !slices.Equal(res.ProductIDs, want) {
		t.Errorf("negative offset: %v, want %v", res.ProductIDs, want)
	}
}

func TestUnknownSort(t *testing.T) {
	ix := newIndex(t, fixtures()...)
	_, err := ix.Search(context.Background(), catalog.SearchQuery{Sort: "cheapest"})
	if !errors.Is(err, catalogsearch.ErrUnknownSort) {
		t.Fatalf("err = %v, want ErrUnknownSort", err)
	}
}

func TestPutRejectsBadID(t *testing.T) {
	ix := newIndex(t)
	if err := ix.Put(context.Background(), catalog.SearchDoc{Title: "无编号"}); err == nil {
		t.Fatal("Put with id 0 succeeded")
	}
}

func TestCancelledContext(t *testing.T) {
	ix := newIndex(t, fixtures()...)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.Search(ctx, catalog.SearchQuery{Text: "手机"}); err == nil {
		t.Error("Search with a cancelled context succeeded")
	}
	if err := ix.Put(ctx, fixtures()[0]); err == nil {
		t.Error("Put with a cancelled context succeeded")
	}
}

func TestOpenPersistsAcrossReopen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "search")
	ix, err := catalogsearch.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Put(ctx, fixtures()...); err != nil {
		t.Fatal(err)
	}
	if err := ix.Remove(ctx, 12); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}

	ix, err = catalogsearch.Open(dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer ix.Close()
	if n, err := ix.Count(ctx); err != nil || n != 11 {
		t.Fatalf("Count after reopen = %d, %v; want 11", n, err)
	}
	if got := matchSet(t, ix, "手机"); !slices.Equal(got, []ids.ID{1, 2, 6, 8}) {
		t.Errorf("手机 after reopen = %v", got)
	}
	res := search(t, ix, catalog.SearchQuery{CategoryID: 1, Sort: catalog.SortPriceAsc, Limit: 3})
	if !slices.Equal(res.ProductIDs, []ids.ID{9, 6, 3}) || res.Total != 9 {
		t.Errorf("category/price after reopen = %v (Total %d)", res.ProductIDs, res.Total)
	}
	// The reopened index still takes writes.
	if err := ix.Put(ctx, doc(50, "无线 鼠标", "", nil, nil, nil, 1, 1, 50)); err != nil {
		t.Fatal(err)
	}
	if got := matchSet(t, ix, "鼠标"); !slices.Equal(got, []ids.ID{50}) {
		t.Errorf("鼠标 = %v", got)
	}
}

func TestOpenRefusesForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ix, err := catalogsearch.Open(dir); err == nil {
		ix.Close()
		t.Fatal("Open on a non-empty, non-index directory succeeded")
	}
	// An existing empty directory is fine.
	ix, err := catalogsearch.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesOtherSchema(t *testing.T) {
	// A Bleve index this package did not write (or wrote with another mapping version).
	dir := filepath.Join(t.TempDir(), "old")
	old, err := bleve.New(dir, bleve.NewIndexMapping())
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	ix, err := catalogsearch.Open(dir)
	if err == nil {
		ix.Close()
	}
	if !errors.Is(err, catalogsearch.ErrSchemaVersion) {
		t.Fatalf("Open = %v, want ErrSchemaVersion", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	ix := newIndex(t, fixtures()...)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 25 {
				id := ids.ID(1000 + w*100 + i)
				if err := ix.Put(ctx, doc(id, "并发 手机", "", nil, nil, nil, 1, 1, i)); err != nil {
					t.Error(err)
					return
				}
				if i%5 == 0 {
					if err := ix.Remove(ctx, id); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
		wg.Go(func() {
			for range 25 {
				res, err := ix.Search(ctx, catalog.SearchQuery{Text: "手机", Sort: catalog.SortPriceAsc})
				if err != nil {
					t.Error(err)
					return
				}
				if res.Total < 5 {
					t.Errorf("Total %d < 5 fixtures", res.Total)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := matchSet(t, ix, "并发"); len(got) != 80 {
		t.Errorf("after concurrent puts: %d docs match 并发, want 80", len(got))
	}
}

// Two processes (here: two opens) on one index directory: the second fails fast with
// ErrInUse instead of waiting forever for Bleve's file lock.
func TestOpenRefusesAnIndexInUse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ix")
	first, err := catalogsearch.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	start := time.Now()
	second, err := catalogsearch.Open(dir)
	if err == nil {
		second.Close()
	}
	if !errors.Is(err, catalogsearch.ErrInUse) || time.Since(start) > 10*time.Second {
		t.Fatalf("second Open = %v after %v, want ErrInUse within seconds", err, time.Since(start))
	}
}

// The source stamp and the product ids survive a reopen; an empty stamp is no stamp.
func TestSourceAndProductIDs(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "search")
	ix, err := catalogsearch.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if src, err := ix.Source(ctx); err != nil || src != "" {
		t.Fatalf("new index: Source = %q, %v; want none", src, err)
	}
	if got, err := ix.ProductIDs(ctx); err != nil || len(got) != 0 {
		t.Fatalf("new index: ProductIDs = %v, %v; want none", got, err)
	}
	if err := ix.Put(ctx, fixtures()...); err != nil {
		t.Fatal(err)
	}
	if err := ix.Remove(ctx, 3, 12); err != nil {
		t.Fatal(err)
	}
	if err := ix.SetSource(ctx, `{"database_id":"a"}`); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}

	ix, err = catalogsearch.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if src, err := ix.Source(ctx); err != nil || src != `{"database_id":"a"}` {
		t.Fatalf("after reopen: Source = %q, %v", src, err)
	}
	got, err := ix.ProductIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []ids.ID{1, 2, 4, 5, 6, 7, 8, 9, 10, 11}; !slices.Equal(got, want) {
		t.Fatalf("ProductIDs = %v, want %v", got, want)
	}
	if err := ix.SetSource(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if src, err := ix.Source(ctx); err != nil || src != "" {
		t.Fatalf("after clearing: Source = %q, %v", src, err)
	}
}
