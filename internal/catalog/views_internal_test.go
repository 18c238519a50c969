package catalog

import (
	"log/slog"
	"math"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/minimart/minimart/internal/platform/cache"
	"github.com/minimart/minimart/internal/platform/ids"
)

func TestDetailKeys(t *testing.T) {
	for _, id := range []ids.ID{1, 42, 2129809009891340288, math.MaxInt64} {
		if got, want := productKey(id), "catalog:product:"+id.String(); got != want {
			t.Errorf("productKey(%d) = %q, want %q", id, got, want)
		}
		if got, want := productVersionKey(id), "catalog:version:product:"+id.String(); got != want {
			t.Errorf("productVersionKey(%d) = %q, want %q", id, got, want)
		}
	}
}

// Reads are counted under their kind and result, for the kinds looked up in advance and
// for any other alike.
func TestCountRead(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := cache.NewMemory(10)
	defer c.Close()
	v := NewViews(nil, nil, nil, c, reg, slog.New(slog.DiscardHandler))
	v.countRead("product", true)
	v.countRead("product", true)
	v.countRead("product", false)
	v.countRead("search", false)
	v.countRead("other", true)
	for _, c := range []struct {
		kind, result string
		want         float64
	}{{"product", "hit", 2}, {"product", "miss", 1}, {"search", "miss", 1}, {"search", "hit", 0}, {"list", "hit", 0}, {"other", "hit", 1}} {
		if got := readCount(t, reg, c.kind, c.result); got != c.want {
			t.Errorf("%s %s = %v, want %v", c.kind, c.result, got, c.want)
		}
	}
}

// readCount is minimart_cache_reads_total{kind, result} as reg exposes it (0 when absent).
func readCount(t *testing.T, reg *prometheus.Registry, kind, result string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "minimart_cache_reads_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["kind"] == kind && labels["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
