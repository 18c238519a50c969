package api_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"maps"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The catalog and inventory part of the contract script: staff build a three-level category
// tree, products with SKUs, images and stock through the admin endpoints, and buyers read
// them back through the cached views and the search index.

type category struct {
	ID       string
	ParentID string `json:"parent_id"`
	Name     string
	Level    int
	Hidden   bool
	Children []category
}

type skuView struct {
	ID    string
	Specs map[string]string
	Price int64
	Code  string
	Stock int64
}

type productView struct {
	ID           string
	Title        string
	Description  string
	Status       string
	Images       []string
	PriceMin     int64 `json:"price_min"`
	PriceMax     int64 `json:"price_max"`
	SKUs         []skuView
	Stock        int64
	CategoryPath []struct{ ID, Name string } `json:"category_path"`
}

type productPage struct {
	Items []struct {
		ID       string
		Title    string
		PriceMin int64 `json:"price_min"`
		SKUs     []skuView
	}
	Page           int
	PageSize       int `json:"page_size"`
	Total          int
	PageSizeCapped bool `json:"page_size_capped"`
}

type stockLevel struct {
	SKUID     string `json:"sku_id"`
	Available int64
}

type stockReport struct {
	Level  stockLevel
	Ledger []struct {
		Seq             int64
		Actor, Reason   string
		AvailableBefore int64 `json:"available_before"`
		AvailableAfter  int64 `json:"available_after"`
	}
	NextCursor string `json:"next_cursor"`
}

// status is the status of a GET, unchecked: for polling until a cached answer changes.
func (h *harness) status(t *testing.T, path string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, h.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// eventually retries check, every call of it checked against the document, until it holds;
// buyer reads are cached and the search index is fed by events, so staff changes show late.
func eventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// with returns a copy of body with the given fields set (a nil value removes the field).
func with(body map[string]any, kv ...any) map[string]any {
	out := maps.Clone(body)
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// authErrors sends what every staff endpoint refuses before looking at the request: no
// token, a bad token and a buyer's token.
func authErrors(t *testing.T, h *harness, method, path string, body any, buyer string) {
	t.Helper()
	name := method + " " + path
	h.do(t, name+" without a token", call{method: method, path: path, body: body, want: 401, code: "missing_token", specRejects: true})
	h.do(t, name+" with a bad token", call{method: method, path: path, token: "not.a.jwt", body: body, want: 401, code: "invalid_token"})
	h.do(t, name+" with a buyer's token", call{method: method, path: path, token: buyer, body: body, want: 403, code: "forbidden"})
}

// bodyErrors sends the malformed bodies every JSON endpoint refuses the same way, then the
// auth errors with a good body. wrongType is good JSON with a field of the wrong type.
func bodyErrors(t *testing.T, h *harness, method, path, token string, good, wrongType map[string]any, buyer string) {
	t.Helper()
	name := method + " " + path
	h.do(t, name+" bad JSON", call{method: method, path: path, token: token, raw: "{", hasRaw: true, want: 400, code: "invalid_json", specRejects: true})
	h.do(t, name+" empty body", call{method: method, path: path, token: token, raw: "", hasRaw: true, contentType: "application/json",
		want: 400, code: "empty_body", specRejects: true})
	h.do(t, name+" unknown field", call{method: method, path: path, token: token, body: with(good, "zzz", 1), want: 400, code: "unknown_field", specRejects: true})
	h.do(t, name+" wrong type", call{method: method, path: path, token: token, body: wrongType, want: 400, code: "wrong_type", specRejects: true})
	h.do(t, name+" text/plain", call{method: method, path: path, token: token, raw: "x", hasRaw: true, contentType: "text/plain",
		want: 415, code: "unsupported_media_type", specRejects: true})
	h.do(t, name+" over the limit", call{method: method, path: path, token: token, raw: `{"zzz":"` + strings.Repeat("x", 5000) + `"}`, hasRaw: true,
		want: 413, code: "body_too_large", specRejects: true})
	authErrors(t, h, method, path, good, buyer)
}

func pngImage(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 2, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// multipartBody is a multipart/form-data body with one file part.
func multipartBody(t *testing.T, field, filename string, data []byte) (body, contentType string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	part, err := mw.CreateFormFile(field, filename)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(data)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String(), mw.FormDataContentType()
}

func phoneBody(categoryID string) map[string]any {
	return map[string]any{
		"category_id": categoryID, "title": "华为 Mate 60 手机", "subtitle": "旗舰影像 长续航",
		"description": `<p>好用</p><script>alert(1)</script><a href="javascript:alert(2)">链接</a>`,
		"images":      []string{"https://img.example.com/mate60.jpg"},
		"specs": []map[string]any{
			{"name": "颜色", "values": []string{"黑色", "白色"}},
			{"name": "容量", "values": []string{"256G", "512G"}},
		},
		"skus": []map[string]any{
			{"specs": map[string]string{"颜色": "黑色", "容量": "256G"}, "price": 599900, "list_price": 649900, "code": "MATE60-B256"},
			{"specs": map[string]string{"颜色": "白色", "容量": "512G"}, "price": 699900, "code": "MATE60-W512"},
		},
		"on_shelf": true,
	}
}

// testCatalog drives every catalog and inventory operation; staff is an admin's token,
// operator an operator's and buyer a buyer's.
func testCatalog(t *testing.T, h *harness, staff, operator, buyer string) {
	const (
		get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
		cats                = "/api/v1/admin/categories"
		products            = "/api/v1/admin/products"
	)
	var top, mid, leaf, audio category
	t.Run("categories", func(t *testing.T) {
		tree := decode[struct{ Items []category }](t, h.do(t, "empty buyer tree", call{method: get, path: "/api/v1/categories", want: 200}))
		if len(tree.Items) != 0 {
			t.Fatalf("the test shop starts with %d categories; is the demo catalog loaded?", len(tree.Items))
		}
		create := func(name string, body map[string]any, token string) category {
			return decode[category](t, h.do(t, name, call{method: post, path: cats, token: token, body: body, want: 201}))
		}
		top = create("top level", map[string]any{"name": "数码", "sort_order": 1}, staff)
		mid = create("second level by an operator", map[string]any{"name": "手机通讯", "parent_id": top.ID}, operator)
		leaf = create("third level", map[string]any{"name": "手机", "parent_id": mid.ID, "icon_url": "/media/icon.png"}, staff)
		audio = create("another top level", map[string]any{"name": "音频", "sort_order": 2}, staff)
		temp := create("hidden", map[string]any{"name": "临时", "sort_order": 3, "hidden": true}, staff)
		if top.Level != 1 || top.ParentID != "" || mid.Level != 2 || leaf.Level != 3 || leaf.ParentID != mid.ID {
			t.Errorf("levels: %+v %+v %+v", top, mid, leaf)
		}

		bad := func(name string, body map[string]any, code string, rejects bool) {
			h.do(t, name, call{method: post, path: cats, token: staff, body: body, want: 400, code: code, specRejects: rejects})
		}
		bad("fourth level", map[string]any{"name": "太深", "parent_id": leaf.ID}, "validation_failed", false)
		bad("unknown parent", map[string]any{"name": "孤儿", "parent_id": "999"}, "validation_failed", false)
		for _, topLevel := range []any{nil, "0"} {
			c := create(fmt.Sprintf("top level with parent_id %v", topLevel), map[string]any{"name": "顶层", "parent_id": topLevel}, staff)
			if c.Level != 1 || c.ParentID != "" {
				t.Errorf("parent_id %v: %+v", topLevel, c)
			}
			h.do(t, "delete it", call{method: del, path: cats + "/" + c.ID, token: staff, want: 204})
		}
		bad("blank name", map[string]any{"name": "  "}, "validation_failed", true)
		bad("long name", map[string]any{"name": strings.Repeat("长", 31)}, "validation_failed", true)
		bad("script icon", map[string]any{"name": "图标", "icon_url": "javascript:alert(1)"}, "validation_failed", false)
		bad("sort order out of range", map[string]any{"name": "排序", "sort_order": 2_000_000}, "validation_failed", true)
		bodyErrors(t, h, post, cats, staff, map[string]any{"name": "x"}, map[string]any{"name": 5}, buyer)

		staffTree := decode[struct{ Items []category }](t, h.do(t, "staff tree", call{method: get, path: cats, token: staff, want: 200}))
		if len(staffTree.Items) != 3 || staffTree.Items[2].Name != "临时" || !staffTree.Items[2].Hidden ||
			len(staffTree.Items[0].Children) != 1 || len(staffTree.Items[0].Children[0].Children) != 1 {
			t.Errorf("staff tree = %+v", staffTree.Items)
		}
		h.do(t, "staff tree for an operator", call{method: get, path: cats, token: operator, want: 200})
		authErrors(t, h, get, cats, nil, buyer)

		h.do(t, "rename the leaf", call{method: put, path: cats + "/" + leaf.ID, token: staff,
			body: map[string]any{"name": "智能手机", "parent_id": mid.ID, "icon_url": "/media/icon.png"}, want: 200})
		h.do(t, "move under its own descendant", call{method: put, path: cats + "/" + top.ID, token: staff,
			body: map[string]any{"name": "数码", "parent_id": leaf.ID}, want: 400, code: "validation_failed"})
		h.do(t, "update unknown", call{method: put, path: cats + "/123", token: staff, body: map[string]any{"name": "x"}, want: 404, code: "category_not_found"})
		h.do(t, "update bad id", call{method: put, path: cats + "/abc", token: staff, body: map[string]any{"name": "x"}, want: 400, code: "invalid_parameter", specRejects: true})
		bodyErrors(t, h, put, cats+"/"+leaf.ID, staff, map[string]any{"name": "智能手机", "parent_id": mid.ID}, map[string]any{"name": "x", "hidden": "yes"}, buyer)

		h.do(t, "delete a category that has children", call{method: del, path: cats + "/" + mid.ID, token: staff, want: 409, code: "category_not_empty"})
		h.do(t, "delete", call{method: del, path: cats + "/" + temp.ID, token: operator, want: 204})
		h.do(t, "delete again", call{method: del, path: cats + "/" + temp.ID, token: staff, want: 404, code: "category_not_found"})
		h.do(t, "delete bad id", call{method: del, path: cats + "/abc", token: staff, want: 400, code: "invalid_parameter", specRejects: true})
		authErrors(t, h, del, cats+"/"+audio.ID, nil, buyer)

		eventually(t, "the buyer tree shows the three levels", func() bool {
			tree := decode[struct{ Items []category }](t, h.do(t, "buyer tree", call{method: get, path: "/api/v1/categories", want: 200}))
			return len(tree.Items) == 2 && tree.Items[0].ID == top.ID && tree.Items[1].ID == audio.ID &&
				len(tree.Items[0].Children) == 1 && len(tree.Items[0].Children[0].Children) == 1 &&
				tree.Items[0].Children[0].Children[0].Name == "智能手机"
		})
	})

	var phone, buds, shell productView
	t.Run("products", func(t *testing.T) {
		phone = decode[productView](t, h.do(t, "create on shelf", call{method: post, path: products, token: staff, body: phoneBody(leaf.ID), want: 201}))
		if phone.Status != "on_shelf" || phone.PriceMin != 599900 || phone.PriceMax != 699900 || len(phone.SKUs) != 2 {
			t.Errorf("created phone = %+v", phone)
		}
		if strings.Contains(phone.Description, "script") || strings.Contains(phone.Description, "javascript:") {
			t.Errorf("description not sanitized: %s", phone.Description)
		}
		buds = decode[productView](t, h.do(t, "create off shelf, no specs", call{method: post, path: products, token: operator,
			body: map[string]any{"category_id": audio.ID, "title": "Sony WF-1000XM5 蓝牙耳机", "skus": []map[string]any{{"price": 129900, "code": "BUDS-1"}}},
			want: 201}))
		if buds.Status != "off_shelf" || len(buds.SKUs) != 1 {
			t.Errorf("created buds = %+v", buds)
		}
		r := h.do(t, "create without SKUs", call{method: post, path: products, token: staff,
			body: map[string]any{"category_id": audio.ID, "title": "空壳"}, want: 201})
		shell = decode[productView](t, r)
		if bytes.Contains(r.body, []byte(`"skus"`)) {
			t.Errorf("a product without SKUs answers skus: %s", r.body)
		}

		bad := func(name string, body map[string]any, code string, rejects bool) {
			h.do(t, name, call{method: post, path: products, token: staff, body: body, want: 400, code: code, specRejects: rejects})
		}
		sku := func(kv ...any) []map[string]any {
			s := map[string]any{"specs": map[string]string{"颜色": "黑色", "容量": "256G"}, "price": 100}
			return []map[string]any{with(s, kv...)}
		}
		good := with(phoneBody(leaf.ID), "skus", sku(), "on_shelf", nil)
		bad("on shelf without SKUs", with(good, "skus", nil, "on_shelf", true), "validation_failed", false)
		bad("zero price", with(good, "skus", sku("price", 0)), "validation_failed", false)
		bad("undeclared spec value", with(good, "skus", sku("specs", map[string]string{"颜色": "金色", "容量": "256G"})), "validation_failed", false)
		bad("missing spec", with(good, "skus", sku("specs", map[string]string{"颜色": "黑色"})), "validation_failed", false)
		bad("duplicate spec values", with(good, "skus", append(sku(), sku()...)), "validation_failed", false)
		bad("unknown category", with(good, "category_id", "999"), "validation_failed", false)
		bad("blank title", with(good, "title", " "), "validation_failed", true)
		bad("long title", with(good, "title", strings.Repeat("长", 101)), "validation_failed", true)
		bad("price as a string", with(good, "skus", sku("price", "100")), "wrong_type", true)
		bad("price as a float", with(good, "skus", sku("price", 99.5)), "wrong_type", true)
		h.do(t, "SKU code of another product", call{method: post, path: products, token: staff,
			body: with(good, "skus", sku("code", "MATE60-B256")), want: 409, code: "sku_code_taken"})
		bodyErrors(t, h, post, products, staff, good, with(good, "images", "one.jpg"), buyer)

		list := decode[productPage](t, h.do(t, "staff list", call{method: get, path: products, token: staff, want: 200}))
		if list.Total != 3 || len(list.Items) != 3 || list.Items[0].SKUs != nil {
			t.Errorf("staff list = %+v", list)
		}
		for q, want := range map[string]int{
			"q=" + url.QueryEscape("耳机"): 1, "status=off_shelf": 2, "category_id=" + top.ID: 1,
			"sort=price_asc&page=2&page_size=1": 1,
		} {
			if got := decode[productPage](t, h.do(t, "staff list "+q, call{method: get, path: products + "?" + q, token: operator, want: 200})); len(got.Items) != want {
				t.Errorf("staff list %s: %d items, want %d", q, len(got.Items), want)
			}
		}
		if p := decode[productPage](t, h.do(t, "staff list capped", call{method: get, path: products + "?page_size=1000", token: staff, want: 200})); !p.PageSizeCapped || p.PageSize != 100 {
			t.Errorf("page_size=1000: %+v", p)
		}
		for _, q := range []string{"status=gone", "sort=relevance", "page=0", "page=501", "page_size=0", "min_price=-1", "category_id=abc", "q=" + strings.Repeat("q", 65)} {
			h.do(t, "staff list "+q, call{method: get, path: products + "?" + q, token: staff, want: 400, code: "validation_failed", specRejects: true})
		}
		h.do(t, "staff list min over max", call{method: get, path: products + "?min_price=300&max_price=200", token: staff, want: 400, code: "validation_failed"})
		authErrors(t, h, get, products, nil, buyer)

		detail := decode[productView](t, h.do(t, "staff detail off shelf", call{method: get, path: products + "/" + buds.ID, token: operator, want: 200}))
		if detail.Status != "off_shelf" || len(detail.SKUs) != 1 || detail.Stock != 0 || len(detail.CategoryPath) != 1 {
			t.Errorf("staff detail = %+v", detail)
		}
		detail = decode[productView](t, h.do(t, "staff detail", call{method: get, path: products + "/" + phone.ID, token: staff, want: 200}))
		if len(detail.CategoryPath) != 3 || detail.CategoryPath[0].ID != top.ID || detail.CategoryPath[2].Name != "智能手机" {
			t.Errorf("category path = %+v", detail.CategoryPath)
		}
		h.do(t, "staff detail unknown", call{method: get, path: products + "/123", token: staff, want: 404, code: "product_not_found"})
		h.do(t, "staff detail bad id", call{method: get, path: products + "/abc", token: staff, want: 400, code: "invalid_parameter", specRejects: true})
		authErrors(t, h, get, products+"/"+phone.ID, nil, buyer)
	})

	var imageURL string
	t.Run("images", func(t *testing.T) {
		const images = "/api/v1/admin/images"
		img := pngImage(t)
		upload := func(name, token, field, filename string, data []byte, want int, code string, rejects bool) result {
			body, ct := multipartBody(t, field, filename, data)
			return h.do(t, name, call{method: post, path: images, token: token, raw: body, hasRaw: true, contentType: ct,
				want: want, code: code, specRejects: rejects})
		}
		up := decode[struct {
			URL  string
			Size int
		}](t, upload("upload a PNG", staff, "file", "photo.txt", img, 201, "", false))
		imageURL = up.URL
		if !strings.HasPrefix(up.URL, "/media/") || !strings.HasSuffix(up.URL, ".png") || up.Size != len(img) {
			t.Fatalf("upload answered %+v", up)
		}
		again := decode[struct{ URL string }](t, upload("the same bytes by an operator", operator, "file", "again.png", img, 201, "", false))
		if again.URL != up.URL {
			t.Errorf("same bytes, another URL: %s, %s", again.URL, up.URL)
		}
		upload("a script named .png", staff, "file", "evil.png", []byte("#!/bin/sh\necho hi\n"), 415, "not_an_image", false)
		upload("over the upload limit", staff, "file", "big.png", append(pngImage(t), make([]byte, 8192)...), 413, "upload_too_large", false)
		upload("no file part", staff, "photo", "photo.png", img, 400, "validation_failed", true)
		h.do(t, "upload as JSON", call{method: post, path: images, token: staff, body: map[string]any{"file": "x"}, want: 400, code: "validation_failed", specRejects: true})
		upload("upload without a token", "", "file", "p.png", img, 401, "missing_token", true)
		upload("upload with a bad token", "x.y.z", "file", "p.png", img, 401, "invalid_token", false)
		upload("upload with a buyer's token", buyer, "file", "p.png", img, 403, "forbidden", false)

		m := h.do(t, "get the image", call{method: get, path: up.URL, want: 200})
		if !bytes.Equal(m.body, img) || m.header.Get("Content-Type") != "image/png" || !strings.Contains(m.header.Get("Cache-Control"), "immutable") {
			t.Errorf("media answered %q %q, %d bytes", m.header.Get("Content-Type"), m.header.Get("Cache-Control"), len(m.body))
		}
		etag := m.header.Get("ETag")
		h.do(t, "image not modified", call{method: get, path: up.URL, header: http.Header{"If-None-Match": {etag}}, want: 304})
		if r := h.do(t, "image range", call{method: get, path: up.URL, header: http.Header{"Range": {"bytes=0-7"}}, want: 206}); !bytes.Equal(r.body, img[:8]) {
			t.Errorf("range answered %x", r.body)
		}
		h.do(t, "image range outside", call{method: get, path: up.URL, header: http.Header{"Range": {"bytes=100000-"}}, want: 416})
		h.do(t, "image precondition", call{method: get, path: up.URL, header: http.Header{"If-Match": {`"other"`}}, want: 412})
		h.do(t, "unknown image", call{method: get, path: "/media/" + strings.Repeat("0", 64) + ".png", want: 404, code: "file_not_found"})
		h.do(t, "malformed image name", call{method: get, path: "/media/passwd", want: 404, code: "file_not_found", specRejects: true})
	})

	var added skuView
	t.Run("product changes", func(t *testing.T) {
		path := products + "/" + phone.ID
		update := with(phoneBody(leaf.ID), "skus", nil, "on_shelf", nil, "title", "华为 Mate 60 Pro 手机", "images", []string{imageURL})
		p := decode[productView](t, h.do(t, "update", call{method: put, path: path, token: staff, body: update, want: 200}))
		if p.Title != "华为 Mate 60 Pro 手机" || len(p.Images) != 1 || p.Images[0] != imageURL || len(p.SKUs) != 2 || p.Status != "on_shelf" {
			t.Errorf("updated = %+v", p)
		}
		h.do(t, "specs the SKUs do not fit", call{method: put, path: path, token: staff, body: with(update, "specs", []any{}), want: 400, code: "validation_failed"})
		h.do(t, "blank title", call{method: put, path: path, token: staff, body: with(update, "title", ""), want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "SKUs in an update", call{method: put, path: path, token: staff, body: with(update, "skus", []any{}), want: 400, code: "unknown_field", specRejects: true})
		h.do(t, "update unknown", call{method: put, path: products + "/123", token: staff, body: update, want: 404, code: "product_not_found"})
		h.do(t, "update bad id", call{method: put, path: products + "/abc", token: staff, body: update, want: 400, code: "invalid_parameter", specRejects: true})
		bodyErrors(t, h, put, path, operator, update, with(update, "specs", "颜色"), buyer)

		shelf := func(name, id, action string, want int, code string, rejects bool) productView {
			r := h.do(t, name, call{method: post, path: products + "/" + id + "/" + action, token: operator, want: want, code: code, specRejects: rejects})
			if want != 200 {
				return productView{}
			}
			return decode[productView](t, r)
		}
		if p := shelf("on shelf", buds.ID, "on-shelf", 200, "", false); p.Status != "on_shelf" {
			t.Errorf("on shelf: %+v", p)
		}
		if p := shelf("off shelf", buds.ID, "off-shelf", 200, "", false); p.Status != "off_shelf" {
			t.Errorf("off shelf: %+v", p)
		}
		shelf("on shelf again", buds.ID, "on-shelf", 200, "", false)
		shelf("on shelf without SKUs", shell.ID, "on-shelf", 409, "product_has_no_skus", false)
		for _, action := range []string{"on-shelf", "off-shelf"} {
			shelf(action+" unknown", "123", action, 404, "product_not_found", false)
			shelf(action+" bad id", "abc", action, 400, "invalid_parameter", true)
			authErrors(t, h, post, products+"/"+buds.ID+"/"+action, nil, buyer)
		}

		skus := path + "/skus"
		newSKU := map[string]any{"specs": map[string]string{"颜色": "白色", "容量": "256G"}, "price": 649900, "code": "MATE60-W256"}
		added = decode[skuView](t, h.do(t, "add a SKU", call{method: post, path: skus, token: staff, body: newSKU, want: 201}))
		h.do(t, "add the same specs", call{method: post, path: skus, token: staff, body: with(newSKU, "code", nil), want: 400, code: "validation_failed"})
		h.do(t, "add a SKU without price", call{method: post, path: skus, token: staff, body: with(newSKU, "price", nil, "code", nil), want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "add a SKU with another product's code", call{method: post, path: skus, token: staff,
			body: map[string]any{"specs": map[string]string{"颜色": "黑色", "容量": "512G"}, "price": 1, "code": "BUDS-1"}, want: 409, code: "sku_code_taken"})
		h.do(t, "add a SKU to an unknown product", call{method: post, path: products + "/123/skus", token: staff, body: newSKU, want: 404, code: "product_not_found"})
		h.do(t, "add a SKU bad id", call{method: post, path: products + "/abc/skus", token: staff, body: newSKU, want: 400, code: "invalid_parameter", specRejects: true})
		bodyErrors(t, h, post, skus, staff, newSKU, with(newSKU, "specs", []string{"白色"}), buyer)

		skuPath := "/api/v1/admin/skus/" + added.ID
		changed := decode[skuView](t, h.do(t, "update a SKU", call{method: put, path: skuPath, token: operator, body: with(newSKU, "price", 639900), want: 200}))
		if changed.Price != 639900 || changed.Code != "MATE60-W256" {
			t.Errorf("updated SKU = %+v", changed)
		}
		h.do(t, "update a SKU to another product's code", call{method: put, path: skuPath, token: staff, body: with(newSKU, "code", "BUDS-1"), want: 409, code: "sku_code_taken"})
		h.do(t, "update a SKU to an undeclared value", call{method: put, path: skuPath, token: staff,
			body: with(newSKU, "specs", map[string]string{"颜色": "金色", "容量": "256G"}), want: 400, code: "validation_failed"})
		h.do(t, "update an unknown SKU", call{method: put, path: "/api/v1/admin/skus/123", token: staff, body: newSKU, want: 404, code: "sku_not_found"})
		h.do(t, "update a SKU bad id", call{method: put, path: "/api/v1/admin/skus/abc", token: staff, body: newSKU, want: 400, code: "invalid_parameter", specRejects: true})
		bodyErrors(t, h, put, skuPath, staff, newSKU, with(newSKU, "price", "1"), buyer)
	})

	t.Run("stock", func(t *testing.T) {
		sku1, sku2 := phone.SKUs[0].ID, phone.SKUs[1].ID
		stock := func(id string) string { return "/api/v1/admin/skus/" + id + "/stock" }
		adjust := func(id string) string { return stock(id) + "/adjustments" }

		r := decode[stockReport](t, h.do(t, "never stocked", call{method: get, path: stock(sku1), token: staff, want: 200}))
		if r.Level.SKUID != sku1 || r.Level.Available != 0 || len(r.Ledger) != 0 || r.NextCursor != "" {
			t.Errorf("never stocked = %+v", r)
		}
		if l := decode[stockLevel](t, h.do(t, "set", call{method: put, path: stock(sku1), token: staff, body: map[string]any{"stock": 7}, want: 200})); l.Available != 7 {
			t.Errorf("set: %+v", l)
		}
		h.do(t, "set with a reason", call{method: put, path: stock(sku1), token: operator, body: map[string]any{"stock": 9, "reason": "盘点"}, want: 200})
		if l := decode[stockLevel](t, h.do(t, "adjust", call{method: post, path: adjust(sku2), token: operator,
			body: map[string]any{"delta": 5, "reason": "到货"}, want: 200})); l.Available != 5 {
			t.Errorf("adjust: %+v", l)
		}
		h.do(t, "adjust below zero", call{method: post, path: adjust(sku2), token: staff, body: map[string]any{"delta": -6, "reason": "盘亏"}, want: 409, code: "insufficient_stock"})
		h.do(t, "adjust by zero", call{method: post, path: adjust(sku2), token: staff, body: map[string]any{"delta": 0, "reason": "无"}, want: 400, code: "validation_failed"})
		h.do(t, "adjust without reason", call{method: post, path: adjust(sku2), token: staff, body: map[string]any{"delta": 1}, want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "adjust with a blank reason", call{method: post, path: adjust(sku2), token: staff, body: map[string]any{"delta": 1, "reason": " "}, want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "adjust too much", call{method: post, path: adjust(sku2), token: staff, body: map[string]any{"delta": 100_000_001, "reason": "x"}, want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "set negative", call{method: put, path: stock(sku1), token: staff, body: map[string]any{"stock": -1}, want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "set too much", call{method: put, path: stock(sku1), token: staff, body: map[string]any{"stock": 100_000_001}, want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "set with a long reason", call{method: put, path: stock(sku1), token: staff, body: map[string]any{"stock": 1, "reason": strings.Repeat("长", 201)},
			want: 400, code: "validation_failed", specRejects: true})
		for _, c := range []struct {
			method, path string
			body         any
		}{{get, stock("%s"), nil}, {put, stock("%s"), map[string]any{"stock": 1}}, {post, adjust("%s"), map[string]any{"delta": 1, "reason": "x"}}} {
			h.do(t, c.method+" stock of an unknown SKU", call{method: c.method, path: fmt.Sprintf(c.path, "123"), token: staff, body: c.body, want: 404, code: "sku_not_found"})
			h.do(t, c.method+" stock bad id", call{method: c.method, path: fmt.Sprintf(c.path, "abc"), token: staff, body: c.body, want: 400, code: "invalid_parameter", specRejects: true})
		}
		bodyErrors(t, h, put, stock(sku1), staff, map[string]any{"stock": 9}, map[string]any{"stock": "9"}, buyer)
		bodyErrors(t, h, post, adjust(sku1), staff, map[string]any{"delta": 1, "reason": "x"}, map[string]any{"delta": 1.5, "reason": "x"}, buyer)

		r = decode[stockReport](t, h.do(t, "ledger page 1", call{method: get, path: stock(sku1) + "?limit=1", token: staff, want: 200}))
		if r.Level.Available != 9 || len(r.Ledger) != 1 || r.Ledger[0].Seq != 2 || r.Ledger[0].Reason != "盘点" || r.NextCursor != "2" ||
			r.Ledger[0].AvailableBefore != 7 || r.Ledger[0].AvailableAfter != 9 || !strings.HasPrefix(r.Ledger[0].Actor, "staff:") {
			t.Errorf("ledger page 1 = %+v", r)
		}
		r = decode[stockReport](t, h.do(t, "ledger page 2", call{method: get, path: stock(sku1) + "?limit=1&cursor=" + r.NextCursor, token: staff, want: 200}))
		if len(r.Ledger) != 1 || r.Ledger[0].Seq != 1 || r.Ledger[0].Reason != "stock set" || r.NextCursor != "" {
			t.Errorf("ledger page 2 = %+v", r)
		}
		h.do(t, "ledger limit 0", call{method: get, path: stock(sku1) + "?limit=0", token: staff, want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "ledger bad cursor", call{method: get, path: stock(sku1) + "?cursor=abc", token: staff, want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "ledger cursor 0", call{method: get, path: stock(sku1) + "?cursor=0", token: staff, want: 400, code: "invalid_parameter"})
		authErrors(t, h, get, stock(sku1), nil, buyer)
	})

	t.Run("buyer reads", func(t *testing.T) {
		const list = "/api/v1/products"
		page := func(name, query string) productPage {
			return decode[productPage](t, h.do(t, name, call{method: get, path: list + query, want: 200}))
		}
		eventually(t, "both products on shelf are listed", func() bool { return page("list", "").Total == 2 })
		for q, want := range map[string][]string{
			"?sort=price_asc":                    {buds.ID, phone.ID},
			"?sort=price_desc":                   {phone.ID, buds.ID},
			"?category_id=" + top.ID:             {phone.ID},
			"?category_id=999":                   {},
			"?min_price=200000":                  {phone.ID},
			"?max_price=200000&sort=sales":       {buds.ID},
			"?sort=price_asc&page=2&page_size=1": {phone.ID},
		} {
			p := page("list "+q, q)
			var got []string
			for _, it := range p.Items {
				got = append(got, it.ID)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("list %s = %v, want %v", q, got, want)
			}
		}
		if p := page("list capped", "?page_size=1000"); !p.PageSizeCapped || p.PageSize != 100 {
			t.Errorf("page_size=1000: %+v", p)
		}
		for _, q := range []string{"page=0", "page=501", "page=abc", "page_size=0", "sort=random", "sort=relevance", "min_price=-1", "category_id=abc"} {
			h.do(t, "list "+q, call{method: get, path: list + "?" + q, want: 400, code: "validation_failed", specRejects: true})
		}
		h.do(t, "list min over max", call{method: get, path: list + "?min_price=300&max_price=200", want: 400, code: "validation_failed"})

		detail := func() productView {
			return decode[productView](t, h.do(t, "detail", call{method: get, path: list + "/" + phone.ID, want: 200}))
		}
		eventually(t, "detail shows the stock", func() bool { return detail().Stock == 14 })
		d := detail()
		stock := map[string]int64{}
		for _, k := range d.SKUs {
			stock[k.ID] = k.Stock
		}
		if len(d.SKUs) != 3 || stock[phone.SKUs[0].ID] != 9 || stock[phone.SKUs[1].ID] != 5 || stock[added.ID] != 0 ||
			len(d.CategoryPath) != 3 || d.CategoryPath[2].Name != "智能手机" || d.Images[0] != imageURL {
			t.Errorf("detail = %+v", d)
		}
		h.do(t, "detail of a product never on shelf", call{method: get, path: list + "/" + shell.ID, want: 404, code: "product_not_found"})
		h.do(t, "detail unknown", call{method: get, path: list + "/123", want: 404, code: "product_not_found"})
		h.do(t, "detail id 0", call{method: get, path: list + "/0", want: 400, code: "invalid_parameter"})
		h.do(t, "detail bad id", call{method: get, path: list + "/abc", want: 400, code: "invalid_parameter", specRejects: true})

		search := func(name, query string) productPage {
			return decode[productPage](t, h.do(t, name, call{method: get, path: "/api/v1/search?" + query, want: 200}))
		}
		eventually(t, "both products are indexed", func() bool {
			return search("search 手机", "q="+url.QueryEscape("手机")).Total == 1 && search("search sony", "q=sony").Total == 1
		})
		if p := search("search phone", "q="+url.QueryEscape("华为 手机")+"&sort=relevance"); len(p.Items) != 1 || p.Items[0].ID != phone.ID {
			t.Errorf("search 华为 手机 = %+v", p)
		}
		if p := search("search filtered", "q=sony&category_id="+top.ID); p.Total != 0 {
			t.Errorf("search with another category = %+v", p)
		}
		search("search sorted", "q="+url.QueryEscape("手机")+"&sort=price_desc&min_price=1&max_price=99999999&page=1")
		if p := search("search capped", "q=sony&page_size=1000"); !p.PageSizeCapped {
			t.Errorf("search page_size=1000: %+v", p)
		}
		for _, q := range []string{"", "q=", "q=%20", "q=" + strings.Repeat("搜", 65), "q=x&sort=random", "q=x&page=0", "q=x&min_price=-1"} {
			h.do(t, "search "+q, call{method: get, path: "/api/v1/search?" + q, want: 400, code: "validation_failed", specRejects: true})
		}

		// Staff changes reach buyers: off shelf, a deleted SKU, a deleted product.
		h.do(t, "buds detail (now cached)", call{method: get, path: list + "/" + buds.ID, want: 200})
		h.do(t, "take the buds off shelf", call{method: post, path: products + "/" + buds.ID + "/off-shelf", token: staff, want: 200})
		eventually(t, "the buds leave the buyer's detail", func() bool { return h.status(t, list+"/"+buds.ID) == 404 })
		h.do(t, "detail of a product off shelf", call{method: get, path: list + "/" + buds.ID, want: 404, code: "product_not_found"})
		eventually(t, "the buds leave the list", func() bool { return page("list", "").Total == 1 })
		h.do(t, "delete a SKU", call{method: del, path: "/api/v1/admin/skus/" + added.ID, token: staff, want: 204})
		eventually(t, "the deleted SKU leaves the detail", func() bool { return len(detail().SKUs) == 2 })
		h.do(t, "stock of a deleted SKU", call{method: get, path: "/api/v1/admin/skus/" + added.ID + "/stock", token: staff, want: 404, code: "sku_not_found"})
		h.do(t, "delete the SKU again", call{method: del, path: "/api/v1/admin/skus/" + added.ID, token: staff, want: 404, code: "sku_not_found"})
		h.do(t, "delete a SKU bad id", call{method: del, path: "/api/v1/admin/skus/abc", token: staff, want: 400, code: "invalid_parameter", specRejects: true})
		authErrors(t, h, del, "/api/v1/admin/skus/"+phone.SKUs[0].ID, nil, buyer)

		h.do(t, "delete a product", call{method: del, path: products + "/" + shell.ID, token: operator, want: 204})
		h.do(t, "delete it again", call{method: del, path: products + "/" + shell.ID, token: staff, want: 404, code: "product_not_found"})
		h.do(t, "staff detail of a deleted product", call{method: get, path: products + "/" + shell.ID, token: staff, want: 404, code: "product_not_found"})
		h.do(t, "delete a product bad id", call{method: del, path: products + "/abc", token: staff, want: 400, code: "invalid_parameter", specRejects: true})
		authErrors(t, h, del, products+"/"+phone.ID, nil, buyer)
		h.do(t, "delete a category whose product is off shelf", call{method: del, path: cats + "/" + audio.ID, token: staff, want: 409, code: "category_not_empty"})
	})
}
