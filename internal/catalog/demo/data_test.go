package demo

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/platform/ids"
)

// TestDataFitsTheCatalogLimits checks every name, value and price range in the table, so a
// product that only a large n reaches cannot fail validation.
func TestDataFitsTheCatalogLimits(t *testing.T) {
	runes := utf8.RuneCountInString
	names := map[string]bool{}
	var tops, mids, leaves int
	for _, top := range catalogTree {
		tops++
		for _, mid := range top.mids {
			mids++
			if len(mid.leaves) == 0 {
				t.Errorf("%s › %s has no leaves", top.name, mid.name)
			}
			for _, def := range mid.leaves {
				leaves++
				for _, name := range []string{top.name, mid.name, def.name} {
					if name == "" || runes(name) > 30 {
						t.Errorf("category name %q", name)
					}
				}
				if names[def.name] {
					t.Errorf("leaf %q appears twice", def.name)
				}
				names[def.name] = true
				l := newLeaf(1, def)
				if def.price[0] <= 0 || def.price[0] > def.price[1] {
					t.Errorf("%s: price range %v", def.name, def.price)
				}
				if len(l.nouns) == 0 || len(l.points) < 3 || len(l.specs) == 0 || len(l.specs) > catalog.MaxSpecs {
					t.Errorf("%s: %d nouns, %d points, %d specs", def.name, len(l.nouns), len(l.points), len(l.specs))
				}
				longest := 0
				for _, b := range l.brands {
					if b.name == "" || len(b.series) == 0 {
						t.Errorf("%s: brand %+v", def.name, b)
					}
					for _, s := range b.series {
						for _, n := range l.nouns {
							longest = max(longest, runes(b.name+" "+s+" "+n))
						}
					}
				}
				if longest+len(" 第100000款") > catalog.MaxTitle {
					t.Errorf("%s: titles up to %d runes", def.name, longest)
				}
				specNames := map[string]bool{}
				for _, s := range l.specs {
					if s.name == "" || runes(s.name) > 20 || specNames[s.name] || len(s.values) == 0 || len(s.values) > catalog.MaxSpecValues {
						t.Errorf("%s: spec %q with %d values", def.name, s.name, len(s.values))
					}
					specNames[s.name] = true
					seen := map[string]bool{}
					for _, v := range s.values {
						if strings.TrimSpace(v) == "" || runes(v) > 30 || seen[v] {
							t.Errorf("%s: spec %s value %q", def.name, s.name, v)
						}
						seen[v] = true
					}
				}
			}
		}
	}
	if tops < 8 || mids < 30 || leaves < 60 {
		t.Errorf("%d top-level, %d second-level, %d leaf categories", tops, mids, leaves)
	}
	t.Logf("%d top-level, %d second-level, %d leaf categories", tops, mids, leaves)
}

func TestPretty(t *testing.T) {
	for _, c := range []struct{ in, want int64 }{
		{990, 990}, {991, 1090}, {2500, 2590}, {9990, 9990}, {9999, 10090},
		{25_000, 25_900}, {99_900, 99_900}, {99_901, 100_900}, {100_000, 109_900}, {599_900, 599_900}, {999_900, 999_900},
	} {
		if got := pretty(c.in); got != c.want {
			t.Errorf("pretty(%d) = %d, want %d", c.in, got, c.want)
		}
	}
}

// TestGeneratorTenThousand drafts 10,000 products without a database: titles stay distinct
// (series numbers take over when brand × series × noun runs out), SKU codes stay unique, and
// every draft stays within the catalog's limits.
func TestGeneratorTenThousand(t *testing.T) {
	var leaves []leaf
	next := ids.ID(1)
	for _, top := range catalogTree {
		for _, mid := range top.mids {
			for _, def := range mid.leaves {
				leaves = append(leaves, newLeaf(next, def))
				next++
			}
		}
	}
	g := newGenerator(leaves)
	titles := map[string]bool{}
	codes := map[string]bool{}
	numbered := 0
	for num := 1; num <= 10_000; num++ {
		d := g.next(num)
		if titles[d.product.Title] {
			t.Fatalf("product %d repeats title %q", num, d.product.Title)
		}
		titles[d.product.Title] = true
		if strings.HasSuffix(d.product.Title, "款") {
			numbered++
		}
		if n := utf8.RuneCountInString(d.product.Title); n > catalog.MaxTitle {
			t.Fatalf("title %q has %d runes", d.product.Title, n)
		}
		if len(d.skus) == 0 || len(d.skus) != len(d.stock) {
			t.Fatalf("product %d: %d SKUs, %d stock levels", num, len(d.skus), len(d.stock))
		}
		for _, k := range d.skus {
			if codes[k.Code] || k.Price <= 0 || k.ListPrice < k.Price {
				t.Fatalf("product %d SKU %+v: repeated code or bad price", num, k)
			}
			codes[k.Code] = true
		}
	}
	if numbered == 0 {
		t.Fatal("10,000 products never needed a series number; the test no longer covers that path")
	}
}
