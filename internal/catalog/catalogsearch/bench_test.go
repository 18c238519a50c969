package catalogsearch_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// benchCategory is one leaf of the generated category tree, with its top-level parent.
type benchCategory struct {
	topID, id ids.ID
	top, name string
	nouns     []string
}

var benchCategories = []benchCategory{
	{1, 11, "数码", "手机", []string{"手机", "智能手机", "5G手机", "phone"}},
	{1, 12, "数码", "耳机", []string{"蓝牙耳机", "降噪耳机", "头戴耳机", "earbuds"}},
	{1, 13, "数码", "电脑", []string{"笔记本电脑", "平板电脑", "laptop", "键盘", "鼠标"}},
	{1, 14, "数码", "音箱", []string{"蓝牙音箱", "智能音箱", "speaker"}},
	{2, 21, "家电", "厨房电器", []string{"电饭煲", "空气炸锅", "微波炉", "kettle"}},
	{2, 22, "家电", "大家电", []string{"冰箱", "洗衣机", "空调", "电视"}},
	{3, 31, "服装", "男装", []string{"T恤", "衬衫", "夹克", "shirt", "jacket"}},
	{3, 32, "服装", "女装", []string{"连衣裙", "半身裙", "针织衫", "dress"}},
	{4, 41, "运动", "运动鞋", []string{"跑步鞋", "篮球鞋", "运动鞋", "sneakers"}},
	{4, 42, "运动", "户外", []string{"背包", "帐篷", "登山杖", "水杯", "backpack"}},
}

var (
	benchBrands = []string{"华为", "小米", "苹果", "联想", "海尔", "美的", "李宁", "安踏", "Apple",
		"Sony", "Anker", "Nike", "Adidas", "Lenovo", "Xiaomi", "OPPO", "vivo", "格力"}
	benchAdjectives = []string{"无线", "蓝牙", "降噪", "轻薄", "防水", "智能", "大容量", "新款",
		"旗舰", "经典", "Pro", "Max", "Ultra", "Air", "Mini", "Lite", "wireless", "sport", "plus"}
	benchColours  = []string{"黑色", "白色", "红色", "蓝色", "银色", "金色", "black", "white"}
	benchSizes    = []string{"S", "M", "L", "XL", "128GB", "256GB", "512GB", "42码", "43码", "1.5L"}
	benchTaglines = []string{"限时特惠", "官方正品", "全国联保", "包邮", "新品上市", "热销爆款",
		"7天无理由退换", "free shipping", "official store"}
)

// benchDocs generates n products deterministically (fixed PCG seed).
func benchDocs(n int) []catalog.SearchDoc {
	r := rand.New(rand.NewPCG(2025, 3))
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := make([]catalog.SearchDoc, n)
	for i := range docs {
		c := benchCategories[r.IntN(len(benchCategories))]
		title := []string{pick(benchBrands), pick(benchAdjectives), pick(c.nouns)}
		if r.IntN(2) == 0 {
			title = append(title, pick(benchAdjectives))
		}
		if r.IntN(3) == 0 {
			title = append(title, pick(benchColours))
		}
		docs[i] = catalog.SearchDoc{
			ProductID:   ids.ID(1_000_000 + i),
			Title:       strings.Join(title, " "),
			Subtitle:    pick(benchTaglines) + " " + pick(benchAdjectives),
			Categories:  []string{c.name, c.top},
			CategoryIDs: []ids.ID{c.id, c.topID},
			SpecValues:  []string{pick(benchColours), pick(benchSizes)},
			Price:       money.Fen(100 * (1 + r.IntN(20000))),
			Sales:       int64(r.IntN(100000)),
			CreatedAt:   base.Add(time.Duration(r.IntN(365*24*60)) * time.Minute),
		}
	}
	return docs
}

// BenchmarkSearch10k runs a mix of queries against 10,000 indexed products from parallel
// goroutines: two-character Chinese terms, English words, longer Chinese phrases, each
// also with a category filter and sorted by price.
func BenchmarkSearch10k(b *testing.B) {
	ctx := context.Background()
	docs := benchDocs(10_000)
	// One batch, as a full re-index does: one segment, so no background merge runs while
	// the benchmark measures (a memory-only index never merges its segments).
	ix := newIndex(b, docs...)
	if n, err := ix.Count(ctx); err != nil || n != len(docs) {
		b.Fatalf("Count = %d, %v", n, err)
	}

	var queries []catalog.SearchQuery
	for _, text := range []string{"手机", "耳机", "蓝牙", "电脑", "黑色", "wireless", "pro", "sneakers", "蓝牙耳机", "华为 手机"} {
		queries = append(queries,
			catalog.SearchQuery{Text: text, Limit: 20},
			catalog.SearchQuery{Text: text, CategoryID: 1, Limit: 20},
			catalog.SearchQuery{Text: text, Sort: catalog.SortPriceAsc, Limit: 20},
			catalog.SearchQuery{Text: text, CategoryID: 12, Sort: catalog.SortPriceAsc, Offset: 20, Limit: 20},
		)
	}
	queries = append(queries, catalog.SearchQuery{CategoryID: 4, Sort: catalog.SortSales, Limit: 20})
	for _, q := range queries {
		if _, err := ix.Search(ctx, q); err != nil {
			b.Fatal(err)
		}
	}

	var next atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			q := queries[next.Add(1)%uint64(len(queries))]
			if _, err := ix.Search(ctx, q); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
