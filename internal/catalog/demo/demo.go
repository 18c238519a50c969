// Package demo loads a deterministic demo catalog in Chinese: a three-level category tree
// and as many products as asked for, with SKUs, prices and stock, through the catalog and
// inventory use cases (so events, validation and the search index see ordinary writes).
// The content is generated in code from a fixed seed: the same n gives the same titles,
// prices and stock every time, and the first products are the same whatever n is.
package demo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
)

// Stock is how demo sets initial stock; the caller adapts the inventory module to it.
type Stock interface {
	SetStock(ctx context.Context, actor string, skuID ids.ID, stock int64, reason string) error
}

// Result counts what Load created.
type Result struct{ Categories, Products, SKUs int }

// DefaultProducts is the size of the demo catalog unless told otherwise.
const DefaultProducts = 200

// MaxProducts bounds n; larger numbers are typing mistakes.
const MaxProducts = 1_000_000

// Actor and Reason are recorded in the stock ledger for demo stock.
const (
	Actor  = "demo"
	Reason = "demo catalog"
)

// ErrNotEmpty is returned when the catalog already has categories.
var ErrNotEmpty = errors.New("demo: the catalog is not empty")

// Load creates the category tree and n products (about 200 by default) with SKUs, prices and stock.
// It refuses (returns ErrNotEmpty) when the catalog already has categories, so it never doubles up.
// n = 0 creates the tree only. progress, when not nil, is called after each product with the
// number done so far. On an error Result says what was created before it; the check for an
// empty catalog is not atomic, so two Loads must not run at once.
func Load(ctx context.Context, svc *catalog.Service, stock Stock, n int, progress func(done int)) (Result, error) {
	if n < 0 || n > MaxProducts {
		return Result{}, fmt.Errorf("demo: the number of products must be between 0 and %d, not %d", MaxProducts, n)
	}
	existing, err := svc.Categories(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("demo: read categories: %w", err)
	}
	if len(existing) > 0 {
		return Result{}, ErrNotEmpty
	}
	var res Result
	leaves, err := createTree(ctx, svc, &res)
	if err != nil {
		return res, err
	}
	g := newGenerator(leaves)
	for i := range n {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		d := g.next(i + 1)
		p, err := svc.CreateProduct(ctx, d.product, d.skus, d.onShelf)
		if err != nil {
			return res, fmt.Errorf("demo: product %d %q: %w", i+1, d.product.Title, err)
		}
		res.Products++
		res.SKUs += len(p.SKUs)
		for j, sku := range p.SKUs {
			if err := stock.SetStock(ctx, Actor, sku.ID, d.stock[j], Reason); err != nil {
				return res, fmt.Errorf("demo: stock of SKU %s: %w", sku.Code, err)
			}
		}
		if progress != nil {
			progress(i + 1)
		}
	}
	return res, nil
}

// leaf is a leaf category as created, with what its products are made of.
type leaf struct {
	id     ids.ID
	def    leafDef
	nouns  []string
	brands []brand
	specs  []spec
	points []string
}

type brand struct {
	name   string
	series []string
}

type spec struct {
	name   string
	values []string
	step   int
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "|")
}

// parseBrands reads "品牌:系列/系列;品牌" into brands; a brand without series gets fallback.
func parseBrands(s string, fallback []string) []brand {
	var out []brand
	for _, part := range strings.Split(s, ";") {
		name, series, ok := strings.Cut(part, ":")
		b := brand{name: name, series: fallback}
		if ok {
			b.series = strings.Split(series, "/")
		}
		out = append(out, b)
	}
	return out
}

func newLeaf(id ids.ID, def leafDef) leaf {
	series := split(def.series)
	if len(series) == 0 {
		series = split(defaultSeries)
	}
	l := leaf{id: id, def: def, nouns: split(def.nouns), brands: parseBrands(def.brands, series), points: split(def.points)}
	for _, sd := range def.specs {
		l.specs = append(l.specs, spec{name: sd.name, values: split(sd.values), step: sd.step})
	}
	return l
}

// createTree creates the categories, top level first, and returns the leaves in tree order.
func createTree(ctx context.Context, svc *catalog.Service, res *Result) ([]leaf, error) {
	create := func(parent ids.ID, name string, pos int) (ids.ID, error) {
		c, err := svc.CreateCategory(ctx, catalog.CategoryInput{ParentID: parent, Name: name, SortOrder: (pos + 1) * 10})
		if err != nil {
			return 0, fmt.Errorf("demo: category %q: %w", name, err)
		}
		res.Categories++
		return c.ID, nil
	}
	var leaves []leaf
	for i, top := range catalogTree {
		topID, err := create(0, top.name, i)
		if err != nil {
			return nil, err
		}
		for j, mid := range top.mids {
			midID, err := create(topID, mid.name, j)
			if err != nil {
				return nil, err
			}
			for k, def := range mid.leaves {
				id, err := create(midID, def.name, k)
				if err != nil {
					return nil, err
				}
				leaves = append(leaves, newLeaf(id, def))
			}
		}
	}
	return leaves, nil
}

// generator makes products one after another from a fixed seed. Nothing it draws depends
// on the database, so the sequence is the same on every run.
type generator struct {
	r      *rand.Rand
	leaves []leaf
	round  []int // leaf indexes still to use in this round, weighted
	made   []int // products made per leaf
	titles map[string]int
	image  int
}

func newGenerator(leaves []leaf) *generator {
	return &generator{r: rand.New(rand.NewPCG(1, 2)), leaves: leaves, made: make([]int, len(leaves)), titles: map[string]int{}}
}

// draft is one product to create: its input, SKUs and the stock of each SKU.
type draft struct {
	product catalog.ProductInput
	skus    []catalog.SKUInput
	stock   []int64
	onShelf bool
}

// pick returns the leaf of the next product. Leaves come in rounds: each round holds every
// leaf weight times, shuffled, so any n of at least one round covers the whole tree.
func (g *generator) pick() int {
	if len(g.round) == 0 {
		for i, l := range g.leaves {
			for range max(l.def.weight, 1) {
				g.round = append(g.round, i)
			}
		}
		g.r.Shuffle(len(g.round), func(i, j int) { g.round[i], g.round[j] = g.round[j], g.round[i] })
	}
	li := g.round[0]
	g.round = g.round[1:]
	return li
}

// next drafts product number num (1-based).
func (g *generator) next(num int) draft {
	li := g.pick()
	l := g.leaves[li]
	first := g.made[li] == 0
	g.made[li]++

	// A leaf's first product uses its first brand, series and noun and goes on shelf, so the
	// best-known names (Apple iPhone, 蓝牙耳机, 充电器 …) are found in even a small catalog.
	b, series, noun := l.brands[0], l.brands[0].series[0], l.nouns[0]
	if !first {
		b = l.brands[g.r.IntN(len(l.brands))]
		series = b.series[g.r.IntN(len(b.series))]
		noun = l.nouns[g.r.IntN(len(l.nouns))]
	}
	title := b.name + " " + series + " " + noun
	if k := g.titles[title]; k > 0 {
		g.titles[title] = k + 1
		title += " 第" + strconv.Itoa(k+1) + "款"
	} else {
		g.titles[title] = 1
	}

	points := g.points(l)
	d := draft{onShelf: first || g.r.IntN(10) != 0}
	d.product = catalog.ProductInput{
		CategoryID:  l.id,
		Title:       title,
		Subtitle:    strings.Join(points[:2], "｜"),
		Description: description(b.name, noun, points),
		Images:      g.images(),
	}
	g.skus(&d, l, num)
	return d
}

// points returns three to five of the leaf's selling points and one service promise.
func (g *generator) points(l leaf) []string {
	idx := g.r.Perm(len(l.points))
	k := min(len(idx), 3+g.r.IntN(3))
	out := make([]string, 0, k+1)
	for _, i := range idx[:k] {
		out = append(out, l.points[i])
	}
	return append(out, services[g.r.IntN(len(services))])
}

var services = []string{"官方正品保障", "7 天无理由退货", "顺丰包邮", "次日达", "全国联保", "限时满减", "支持花呗分期"}

func description(brandName, noun string, points []string) string {
	var b strings.Builder
	sep := ""
	if r, _ := utf8.DecodeLastRuneInString(brandName); r < utf8.RuneSelf {
		sep = " " // "Apple 手机", "华为手机"
	}
	b.WriteString("<p>" + brandName + sep + noun + "，" + points[0] + "。</p><ul>")
	for _, p := range points[1:] {
		b.WriteString("<li>" + p + "</li>")
	}
	b.WriteString("</ul><p>品牌：" + brandName + "。图片仅供参考，请以实物为准。</p>")
	return b.String()
}

func (g *generator) images() []string {
	out := make([]string, 1+g.r.IntN(3))
	for i := range out {
		g.image++
		out[i] = "https://img.example.com/demo/" + strconv.Itoa(g.image) + ".jpg"
	}
	return out
}

// chosen is a spec a product declares, with the positions of the values it uses.
type chosen struct {
	spec
	idx []int
}

// skus picks one or two of the leaf's specs and some of their values, and makes a SKU for
// every combination (one to six), priced from a base price that larger values raise.
func (g *generator) skus(d *draft, l leaf, num int) {
	var specs []chosen
	if len(l.specs) > 1 && g.r.IntN(10) < 6 {
		// Two specs: the leaf's first (颜色, 口味…) and one of the others.
		other := l.specs[1+g.r.IntN(len(l.specs)-1)]
		specs = []chosen{g.values(l.specs[0], 3), g.values(other, 2)}
	} else {
		specs = []chosen{g.values(l.specs[g.r.IntN(len(l.specs))], 6)}
	}

	lo, hi := l.def.price[0], l.def.price[1]
	maxRaise := 0
	for _, c := range specs {
		maxRaise += c.step * c.idx[len(c.idx)-1]
	}
	top := max(lo, hi*100/int64(100+maxRaise))
	base := lo + g.r.Int64N(top-lo+1)
	markup := int64(105 + g.r.IntN(26)) // list price: 5–30 % above
	soldOut := g.r.IntN(30) == 0

	for _, combo := range combos(specs) {
		raise := 0
		values := map[string]string{}
		for i, c := range specs {
			values[c.name] = c.values[combo[i]]
			raise += c.step * combo[i]
		}
		price := min(pretty(base*int64(100+raise)/100), hi)
		list := pretty(price * markup / 100)
		var n int64
		if !soldOut && g.r.IntN(16) != 0 {
			n = 1 + g.r.Int64N(500)
		}
		d.skus = append(d.skus, catalog.SKUInput{
			Specs:     values,
			Price:     money.Fen(price),
			ListPrice: money.Fen(list),
			Code:      fmt.Sprintf("DEMO-%06d-%02d", num, len(d.skus)+1),
		})
		d.stock = append(d.stock, n)
	}
	for _, c := range specs {
		declared := make([]string, len(c.idx))
		for i, v := range c.idx {
			declared[i] = c.values[v]
		}
		d.product.Specs = append(d.product.Specs, catalog.SpecDef{Name: c.name, Values: declared})
	}
}

// values picks 1 to most of a spec's values, keeping their order.
func (g *generator) values(s spec, most int) chosen {
	k := 1 + g.r.IntN(min(most, len(s.values)))
	idx := g.r.Perm(len(s.values))[:k]
	slices.Sort(idx)
	return chosen{spec: s, idx: idx}
}

// combos lists every combination of the chosen values, as positions in each spec's values.
func combos(specs []chosen) [][]int {
	out := [][]int{{}}
	for _, c := range specs {
		var next [][]int
		for _, prefix := range out {
			for _, v := range c.idx {
				next = append(next, append(slices.Clone(prefix), v))
			}
		}
		out = next
	}
	return out
}

// pretty rounds a price in fen up to what shops charge: ¥5999, ¥259, ¥29.90.
func pretty(fen int64) int64 {
	unit, end := int64(100), int64(90) // below ¥100: x.90
	switch {
	case fen >= 100_000: // from ¥1000: x99
		unit, end = 10_000, 9_900
	case fen >= 10_000: // from ¥100: x9
		unit, end = 1_000, 900
	}
	p := fen/unit*unit + end
	if p < fen {
		p += unit
	}
	return p
}
