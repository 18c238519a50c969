package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestDemoCatalogSearchAndReindex: the embedded first start loads the demo catalog and
// searches it in Chinese; `minimart reindex` rebuilds the index offline with a progress
// line, and the restarted server searches the rebuilt index.
func TestDemoCatalogSearchAndReindex(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	env := "MINIMART_DATA_DIR=" + dataDir

	first := startServer(t, env)
	if !strings.Contains(first.stdout.String(), "Loaded the demo catalog: 200 products") {
		t.Fatalf("first start did not load the demo catalog\n%s", first.output())
	}
	var list struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
		Total int `json:"total"`
	}
	call(t, "GET", first.base+"/api/v1/products?page_size=5", "", nil, http.StatusOK, &list)
	if list.Total < 150 || len(list.Items) != 5 {
		t.Fatalf("demo catalog lists %d products on shelf", list.Total)
	}
	var detail struct {
		SKUs []struct {
			Stock *int64 `json:"stock"`
		} `json:"skus"`
	}
	call(t, "GET", first.base+"/api/v1/products/"+list.Items[0].ID, "", nil, http.StatusOK, &detail)
	if len(detail.SKUs) == 0 || detail.SKUs[0].Stock == nil {
		t.Fatalf("detail has no SKUs with stock: %+v", detail)
	}
	searchCount := func(base, q string) int {
		var page struct {
			Total int `json:"total"`
		}
		call(t, "GET", base+"/api/v1/search?q="+url.QueryEscape(q), "", nil, http.StatusOK, &page)
		return page.Total
	}
	// The demo's events reach the index through the outbox.
	first.waitEventsDrained(t)
	phones := searchCount(first.base, "手机")
	if phones < 5 {
		t.Fatalf("手机 finds %d demo products", phones)
	}
	first.stop(t)

	r := runMinimart(t, t.TempDir(), []string{env}, "reindex")
	if r.code != 0 || !strings.Contains(r.stdout, "indexed ") || !strings.Contains(r.stdout, "search index rebuilt") {
		t.Fatalf("reindex: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	second := startServer(t, env)
	if strings.Contains(second.stdout.String(), "Loaded the demo catalog") {
		t.Fatal("the demo catalog was loaded twice")
	}
	if got := searchCount(second.base, "手机"); got != phones {
		t.Fatalf("after reindex 手机 finds %d products, before %d", got, phones)
	}
	second.stop(t)
}
