package cataloghttp_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/minimart/minimart/internal/apptest"
)

type fixture struct {
	s     *apptest.Server
	staff string
	t     *testing.T
}

func newFixture(t *testing.T, env map[string]string) *fixture {
	if env == nil {
		env = map[string]string{}
	}
	env["MINIMART_DEMO"] = "0"
	s := apptest.Start(t, env)
	return &fixture{s: s, staff: s.StaffToken("catalog-admin", "operator"), t: t}
}

// must sends a staff request and fails the test unless the status matches.
func (f *fixture) must(status int, method, path string, body any) map[string]any {
	f.t.Helper()
	return f.s.Expect(status, method, path, f.staff, body, nil)
}

func (f *fixture) category(name string, parent any) string {
	f.t.Helper()
	body := map[string]any{"name": name}
	if parent != nil {
		body["parent_id"] = parent
	}
	return f.must(201, "POST", "/api/v1/admin/categories", body)["id"].(string)
}

func phone(categoryID, title string) map[string]any {
	return map[string]any{
		"category_id": categoryID, "title": title, "subtitle": "旗舰影像 长续航",
		"description": `<p>好用</p><script>alert(1)</script><a href="javascript:alert(2)" onclick="x()">链接</a>`,
		"images":      []string{"https://img.example.com/p1.jpg"},
		"specs":       []map[string]any{{"name": "颜色", "values": []string{"黑色", "白色"}}, {"name": "容量", "values": []string{"256G", "512G"}}},
		"skus": []map[string]any{
			{"specs": map[string]string{"颜色": "黑色", "容量": "256G"}, "price": 599900, "list_price": 649900, "code": "P-" + title + "-1"},
			{"specs": map[string]string{"颜色": "白色", "容量": "512G"}, "price": 699900, "code": "P-" + title + "-2"},
		},
		"on_shelf": true,
	}
}

func (f *fixture) tree() (leaf string) {
	top := f.category("手机数码", nil)
	mid := f.category("手机通讯", top)
	return f.category("手机", mid)
}

func skuIDs(p map[string]any) []string {
	var out []string
	for _, k := range p["skus"].([]any) {
		out = append(out, k.(map[string]any)["id"].(string))
	}
	return out
}

func TestBuyerSeesShelvedProductsWithLiveStock(t *testing.T) {
	f := newFixture(t, nil)
	leaf := f.tree()
	p := f.must(201, "POST", "/api/v1/admin/products", phone(leaf, "华为 Mate 60 手机"))
	id := p["id"].(string)
	skus := skuIDs(p)
	if strings.Contains(p["description"].(string), "script") || strings.Contains(p["description"].(string), "javascript:") || strings.Contains(p["description"].(string), "onclick") {
		t.Fatalf("description not sanitized: %s", p["description"])
	}
	if !strings.Contains(p["description"].(string), "<p>好用</p>") {
		t.Fatalf("sanitizing dropped safe formatting: %s", p["description"])
	}
	if p["price_min"].(float64) != 599900 || p["price_max"].(float64) != 699900 {
		t.Fatalf("price span: %v", p)
	}

	detail := func() map[string]any {
		r := f.s.Do("GET", "/api/v1/products/"+id, "", nil)
		if r.Status != 200 {
			t.Fatalf("detail: %d %s", r.Status, r.Body)
		}
		out := map[string]any{}
		r.Decode(t, &out)
		return out
	}
	d := detail()
	if d["stock"].(float64) != 0 || len(d["skus"].([]any)) != 2 || len(d["category_path"].([]any)) != 3 {
		t.Fatalf("detail before stock: %v", d)
	}
	// Detail is cached; a stock change must still show within a second (event invalidation).
	f.must(200, "PUT", "/api/v1/admin/skus/"+skus[0]+"/stock", map[string]any{"stock": 7})
	f.must(200, "POST", "/api/v1/admin/skus/"+skus[1]+"/stock/adjustments", map[string]any{"delta": 5, "reason": "到货"})
	apptest.Eventually(t, "detail shows the new stock", func() bool { return detail()["stock"].(float64) == 12 })
	for _, k := range detail()["skus"].([]any) {
		sku := k.(map[string]any)
		want := map[string]float64{skus[0]: 7, skus[1]: 5}[sku["id"].(string)]
		if sku["stock"].(float64) != want {
			t.Fatalf("sku %s stock %v, want %v", sku["id"], sku["stock"], want)
		}
	}

	// Ledger: who, why, before, after.
	lv := f.must(200, "GET", "/api/v1/admin/skus/"+skus[1]+"/stock", nil)
	entry := lv["ledger"].([]any)[0].(map[string]any)
	if entry["reason"] != "到货" || entry["available_before"].(float64) != 0 || entry["available_after"].(float64) != 5 || !strings.HasPrefix(entry["actor"].(string), "staff:") {
		t.Fatalf("ledger: %v", lv)
	}

	// Off shelf: buyers get 404, lists drop it (lists are cached: invalidated by the event).
	f.must(200, "POST", "/api/v1/admin/products/"+id+"/off-shelf", nil)
	apptest.Eventually(t, "off-shelf product is 404", func() bool {
		return f.s.Do("GET", "/api/v1/products/"+id, "", nil).ErrorCode() == "product_not_found"
	})
	apptest.Eventually(t, "off-shelf product leaves the list", func() bool {
		var page struct{ Total int }
		f.s.Do("GET", "/api/v1/products", "", nil).Decode(t, &page)
		return page.Total == 0
	})
	// Staff still see it.
	if got := f.must(200, "GET", "/api/v1/admin/products/"+id, nil); got["status"] != "off_shelf" || got["stock"].(float64) != 12 {
		t.Fatalf("staff detail: %v", got)
	}
}

func TestListsFilterSortAndPage(t *testing.T) {
	f := newFixture(t, nil)
	leaf := f.tree()
	other := f.category("家用电器", nil)
	for i, price := range []int{300, 100, 200} {
		body := phone(leaf, fmt.Sprintf("手机 %d", i))
		body["skus"] = []map[string]any{{"specs": map[string]string{"颜色": "黑色", "容量": "256G"}, "price": price}}
		f.must(201, "POST", "/api/v1/admin/products", body)
	}
	kettle := phone(other, "电水壶")
	kettle["specs"] = []any{}
	kettle["skus"] = []map[string]any{{"specs": map[string]string{}, "price": 5000}}
	f.must(201, "POST", "/api/v1/admin/products", kettle)

	type page struct {
		Items []struct {
			Title    string
			PriceMin int `json:"price_min"`
		}
		Total          int
		PageSize       int  `json:"page_size"`
		PageSizeCapped bool `json:"page_size_capped"`
	}
	get := func(q string) page {
		var p page
		r := f.s.Do("GET", "/api/v1/products?"+q, "", nil)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", q, r.Status, r.Body)
		}
		r.Decode(t, &p)
		return p
	}
	topOfTree := f.must(200, "GET", "/api/v1/admin/categories", nil)["items"].([]any)
	var phonesTop string
	for _, c := range topOfTree {
		if c.(map[string]any)["name"] == "手机数码" {
			phonesTop = c.(map[string]any)["id"].(string)
		}
	}
	if p := get("category_id=" + phonesTop); p.Total != 3 {
		t.Fatalf("a top category lists its descendants' products: %+v", p)
	}
	if p := get("sort=price_asc"); p.Items[0].PriceMin != 100 || p.Items[3].PriceMin != 5000 {
		t.Fatalf("price_asc: %+v", p)
	}
	if p := get("sort=price_desc&min_price=150&max_price=300"); p.Total != 2 || p.Items[0].PriceMin != 300 {
		t.Fatalf("price range: %+v", p)
	}
	first, second := get("sort=price_asc&page_size=2&page=1"), get("sort=price_asc&page_size=2&page=2")
	if first.Items[1].PriceMin != 200 || second.Items[0].PriceMin != 300 || len(second.Items) != 2 {
		t.Fatalf("pages: %+v %+v", first, second)
	}
	if p := get("page_size=1000"); p.PageSize != 100 || !p.PageSizeCapped {
		t.Fatalf("page size over the maximum must be capped and said: %+v", p)
	}
	// Hidden categories stay out of the buyer tree.
	f.must(200, "PUT", "/api/v1/admin/categories/"+other, map[string]any{"name": "家用电器", "hidden": true})
	apptest.Eventually(t, "hidden category leaves the buyer tree", func() bool {
		return !strings.Contains(string(f.s.Do("GET", "/api/v1/categories", "", nil).Body), "家用电器")
	})
}

func TestSearchChineseEnglishAndRenames(t *testing.T) {
	f := newFixture(t, nil)
	leaf := f.tree()
	audio := f.category("耳机", nil)
	phoneP := f.must(201, "POST", "/api/v1/admin/products", phone(leaf, "华为 Mate 60 手机"))
	ear := phone(audio, "Sony WH-1000XM5 蓝牙耳机")
	ear["subtitle"] = "降噪"
	f.must(201, "POST", "/api/v1/admin/products", ear)
	search := func(q string) []string {
		r := f.s.Do("GET", "/api/v1/search?q="+url.QueryEscape(q), "", nil)
		if r.Status != 200 {
			t.Fatalf("search %q: %d %s", q, r.Status, r.Body)
		}
		var p struct{ Items []struct{ Title string } }
		r.Decode(t, &p)
		var titles []string
		for _, it := range p.Items {
			titles = append(titles, it.Title)
		}
		return titles
	}
	apptest.Eventually(t, "products indexed", func() bool { return len(search("手机")) == 1 && len(search("耳机")) == 1 })
	for q, want := range map[string]string{"手机": "华为 Mate 60 手机", "耳机": "Sony WH-1000XM5 蓝牙耳机", "sony": "Sony WH-1000XM5 蓝牙耳机", "MATE": "华为 Mate 60 手机"} {
		if got := search(q); len(got) != 1 || got[0] != want {
			t.Errorf("search %q = %v, want [%s]", q, got, want)
		}
	}
	// Rename: old words stop matching, new ones match.
	renamed := phone(leaf, "小米 14 Ultra")
	delete(renamed, "skus")
	delete(renamed, "on_shelf")
	f.must(200, "PUT", "/api/v1/admin/products/"+phoneP["id"].(string), renamed)
	apptest.Eventually(t, "rename reaches the index", func() bool { return len(search("小米")) == 1 })
	apptest.Eventually(t, "the old title stops matching", func() bool { return len(search("华为")) == 0 })
	// The category name is searchable too: the phone still sits under 手机.
	apptest.Eventually(t, "category match shows the new title", func() bool {
		got := search("手机")
		return len(got) == 1 && got[0] == "小米 14 Ultra"
	})
}

func TestBadInput(t *testing.T) {
	f := newFixture(t, nil)
	leaf := f.tree()
	p := f.must(201, "POST", "/api/v1/admin/products", phone(leaf, "华为 Mate 60 手机"))
	sku := skuIDs(p)[0]
	level2 := f.must(200, "GET", "/api/v1/admin/categories", nil)["items"].([]any)[0].(map[string]any)["children"].([]any)[0].(map[string]any)["children"].([]any)[0].(map[string]any)["id"].(string)
	with := func(mod func(m map[string]any)) map[string]any {
		m := phone(leaf, "测试商品")
		mod(m)
		return m
	}
	buyer := func() string { _, tok := f.s.Register("buyer-x", "passw0rd-ok"); return tok.AccessToken }()
	cases := []struct {
		name, method, path string
		token              string
		body               any
		status             int
		code               string
	}{
		{"unknown product", "GET", "/api/v1/products/123", "", nil, 404, "product_not_found"},
		{"non-numeric product id", "GET", "/api/v1/products/abc", "", nil, 400, "invalid_parameter"},
		{"search query over 64 characters", "GET", "/api/v1/search?q=" + strings.Repeat("手", 65), "", nil, 400, "validation_failed"},
		{"empty search", "GET", "/api/v1/search?q=", "", nil, 400, "validation_failed"},
		{"bad sort", "GET", "/api/v1/products?sort=random", "", nil, 400, "validation_failed"},
		{"negative price filter", "GET", "/api/v1/products?min_price=-1", "", nil, 400, "validation_failed"},
		{"bad page", "GET", "/api/v1/products?page=0", "", nil, 400, "validation_failed"},
		{"zero price", "POST", "/api/v1/admin/products", "", with(func(m map[string]any) {
			m["skus"] = []map[string]any{{"specs": map[string]string{"颜色": "黑色", "容量": "256G"}, "price": 0}}
		}), 400, "validation_failed"},
		{"negative price", "POST", "/api/v1/admin/products", "", with(func(m map[string]any) {
			m["skus"] = []map[string]any{{"specs": map[string]string{"颜色": "黑色", "容量": "256G"}, "price": -5}}
		}), 400, "validation_failed"},
		{"empty title", "POST", "/api/v1/admin/products", "", with(func(m map[string]any) { m["title"] = "  " }), 400, "validation_failed"},
		{"duplicate spec values", "POST", "/api/v1/admin/products", "", with(func(m map[string]any) {
			m["skus"] = []map[string]any{
				{"specs": map[string]string{"颜色": "黑色", "容量": "256G"}, "price": 1},
				{"specs": map[string]string{"颜色": "黑色", "容量": "256G"}, "price": 2},
			}
		}), 400, "validation_failed"},
		{"undeclared spec value", "POST", "/api/v1/admin/products", "", with(func(m map[string]any) {
			m["skus"] = []map[string]any{{"specs": map[string]string{"颜色": "金色", "容量": "256G"}, "price": 1}}
		}), 400, "validation_failed"},
		{"undeclared spec name", "POST", "/api/v1/admin/products", "", with(func(m map[string]any) {
			m["skus"] = []map[string]any{{"specs": map[string]string{"颜色": "黑色", "容量": "256G", "尺码": "L"}, "price": 1}}
		}), 400, "validation_failed"},
		{"unknown category", "POST", "/api/v1/admin/products", "", with(func(m map[string]any) { m["category_id"] = "999" }), 400, "validation_failed"},
		{"price as a string", "POST", "/api/v1/admin/products", "", with(func(m map[string]any) {
			m["skus"] = []map[string]any{{"specs": map[string]string{"颜色": "黑色", "容量": "256G"}, "price": "10"}}
		}), 400, "wrong_type"},
		{"unknown field", "POST", "/api/v1/admin/products", "", with(func(m map[string]any) { m["stock"] = 5 }), 400, "unknown_field"},
		{"on shelf without SKUs", "POST", "/api/v1/admin/products", "", with(func(m map[string]any) { delete(m, "skus") }), 400, "validation_failed"},
		{"duplicate SKU on add", "POST", "/api/v1/admin/products/" + p["id"].(string) + "/skus", "", map[string]any{"specs": map[string]string{"颜色": "黑色", "容量": "256G"}, "price": 1}, 400, "validation_failed"},
		{"fourth category level", "POST", "/api/v1/admin/categories", "", map[string]any{"name": "太深", "parent_id": level2}, 400, "validation_failed"},
		{"category not empty", "DELETE", "/api/v1/admin/categories/" + leaf, "", nil, 409, "category_not_empty"},
		{"stock below zero", "PUT", "/api/v1/admin/skus/" + sku + "/stock", "", map[string]any{"stock": -1}, 400, "validation_failed"},
		{"adjust below zero", "POST", "/api/v1/admin/skus/" + sku + "/stock/adjustments", "", map[string]any{"delta": -1, "reason": "盘亏"}, 409, "insufficient_stock"},
		{"adjust without reason", "POST", "/api/v1/admin/skus/" + sku + "/stock/adjustments", "", map[string]any{"delta": 3}, 400, "validation_failed"},
		{"stock of unknown SKU", "PUT", "/api/v1/admin/skus/123/stock", "", map[string]any{"stock": 1}, 404, "sku_not_found"},
		{"buyer on admin route", "POST", "/api/v1/admin/categories", buyer, map[string]any{"name": "x"}, 403, "forbidden"},
		{"no token on admin route", "GET", "/api/v1/admin/products", "none", nil, 401, "missing_token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			token := f.staff
			switch c.token {
			case "none":
				token = ""
			case "":
			default:
				token = c.token
			}
			r := f.s.Do(c.method, c.path, token, c.body)
			if r.Status != c.status || r.ErrorCode() != c.code {
				t.Fatalf("got %d %q, want %d %q: %s", r.Status, r.ErrorCode(), c.status, c.code, r.Body)
			}
		})
	}
	// Validation lists each bad field.
	r := f.s.Do("POST", "/api/v1/admin/products", f.staff, with(func(m map[string]any) {
		m["title"] = ""
		m["skus"] = []map[string]any{{"specs": map[string]string{"颜色": "金色", "容量": "256G"}, "price": 0}}
	}))
	for _, field := range []string{`"title"`, `"skus[0].price"`, `"skus[0].specs.颜色"`} {
		if !strings.Contains(string(r.Body), field) {
			t.Errorf("validation error does not list %s: %s", field, r.Body)
		}
	}
	// Nothing refused was stored.
	var list struct{ Total int }
	f.s.Do("GET", "/api/v1/admin/products", f.staff, nil).Decode(t, &list)
	if list.Total != 1 {
		t.Fatalf("refused products were stored: %d products", list.Total)
	}
}

func TestScriptInTitleIsData(t *testing.T) {
	f := newFixture(t, nil)
	leaf := f.tree()
	p := f.must(201, "POST", "/api/v1/admin/products", phone(leaf, "<script>alert(1)</script>手机"))
	r := f.s.Do("GET", "/api/v1/products/"+p["id"].(string), "", nil)
	if strings.Contains(string(r.Body), "<script>") || !strings.Contains(string(r.Body), `\u003cscript\u003e`) {
		t.Fatalf("title must be JSON data, escaped for HTML contexts: %s", r.Body)
	}
	var d struct{ Title string }
	r.Decode(t, &d)
	if d.Title != "<script>alert(1)</script>手机" {
		t.Fatalf("title not returned verbatim: %q", d.Title)
	}
}

func pngBytes(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func upload(t *testing.T, f *fixture, filename string, data []byte) (int, map[string]any) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreateFormFile("file", filename)
	part.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", f.s.URL+"/api/v1/admin/images", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+f.staff)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestImageUpload(t *testing.T) {
	f := newFixture(t, map[string]string{"MINIMART_MAX_UPLOAD_BYTES": "4096"})
	img := pngBytes(t)
	status, out := upload(t, f, "photo.txt", img) // the name does not matter, the bytes do
	if status != 201 || !strings.HasPrefix(out["url"].(string), "/media/") || !strings.HasSuffix(out["url"].(string), ".png") {
		t.Fatalf("upload: %d %v", status, out)
	}
	resp, err := http.Get(f.s.URL + out["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(served, img) || resp.Header.Get("Content-Type") != "image/png" ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "max-age=31536000") {
		t.Fatalf("serve: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	if status, out := upload(t, f, "evil.png", []byte("#!/bin/sh\nrm -rf /\n")); status != 415 || out["error"].(map[string]any)["code"] != "not_an_image" {
		t.Fatalf("script named .png: %d %v", status, out)
	}
	big := append(pngBytes(t), bytes.Repeat([]byte{0}, 8192)...)
	if status, out := upload(t, f, "big.png", big); status != 413 {
		t.Fatalf("too large: %d %v", status, out)
	}
	if r := f.s.Do("GET", "/media/../../etc/passwd", "", nil); r.Status != 404 {
		t.Fatalf("path traversal: %d", r.Status)
	}
}

func TestCategoryUpdateKeepsOrMovesParent(t *testing.T) {
	f := newFixture(t, nil)
	leaf := f.tree()
	if c := f.must(200, "PUT", "/api/v1/admin/categories/"+leaf, map[string]any{"name": "智能手机"}); c["level"].(float64) != 3 {
		t.Fatalf("an update without parent_id must keep the category in place: %v", c)
	}
	if c := f.must(200, "PUT", "/api/v1/admin/categories/"+leaf, map[string]any{"name": "智能手机", "parent_id": nil}); c["level"].(float64) != 1 || c["parent_id"] != nil {
		t.Fatalf("parent_id null moves it to the top: %v", c)
	}
}

// Category names are searchable: renaming a category re-indexes the products under it.
func TestCategoryRenameReachesSearchAndDetail(t *testing.T) {
	f := newFixture(t, nil)
	top := f.category("数码", nil)
	mid := f.category("通讯", top)
	leaf := f.category("折叠屏", mid)
	p := f.must(201, "POST", "/api/v1/admin/products", phone(leaf, "Mate X5"))
	detailPath := func() string {
		var d struct {
			CategoryPath []struct{ Name string } `json:"category_path"`
		}
		f.s.Do("GET", "/api/v1/products/"+p["id"].(string), "", nil).Decode(t, &d)
		var names []string
		for _, c := range d.CategoryPath {
			names = append(names, c.Name)
		}
		return strings.Join(names, "/")
	}
	if got := detailPath(); got != "数码/通讯/折叠屏" { // now cached
		t.Fatalf("category path %q", got)
	}
	count := func(q string) int {
		var p struct{ Total int }
		f.s.Do("GET", "/api/v1/search?q="+url.QueryEscape(q), "", nil).Decode(t, &p)
		return p.Total
	}
	apptest.Eventually(t, "indexed under its category", func() bool { return count("折叠屏") == 1 })
	f.must(200, "PUT", "/api/v1/admin/categories/"+leaf, map[string]any{"name": "卫星电话"})
	apptest.Eventually(t, "found by the new category name", func() bool { return count("卫星电话") == 1 })
	apptest.Eventually(t, "no longer by the old one", func() bool { return count("折叠屏") == 0 })
	// The cached detail page names its categories: renaming an ancestor refreshes it too.
	f.must(200, "PUT", "/api/v1/admin/categories/"+mid, map[string]any{"name": "移动通讯", "parent_id": top})
	apptest.Eventually(t, "detail shows the new names", func() bool { return detailPath() == "数码/移动通讯/卫星电话" })
}
