package inventoryhttp_test

import (
	"testing"

	"github.com/minimart/minimart/internal/apptest"
)

type lowStock struct {
	Threshold int64
	Items     []struct {
		SKUID     string `json:"sku_id"`
		ProductID string `json:"product_id"`
		Title     string
		Spec      string
		Available int64
		Reserved  int64
		Sold      int64
	}
}

// The low-stock list names each SKU by its product and specs, lowest first, leaves deleted
// SKUs and products out, and refuses bad bounds and anyone but staff.
func TestLowStock(t *testing.T) {
	s := apptest.Start(t, map[string]string{"MINIMART_DEMO": "0"})
	staff := s.StaffToken("ops", "operator")
	admin := s.StaffToken("boss", "admin")
	_, buyer := s.Register("buyer1", "passw0rd-ok")
	cat := s.Expect(201, "POST", "/api/v1/admin/categories", staff, map[string]any{"name": "手机"}, nil)
	product := func(title string, skus ...map[string]any) (id string, skuIDs []string) {
		t.Helper()
		p := s.Expect(201, "POST", "/api/v1/admin/products", staff, map[string]any{"category_id": cat["id"], "title": title, "skus": skus,
			"specs": []map[string]any{{"name": "颜色", "values": []string{"黑", "白"}}, {"name": "容量", "values": []string{"128G", "256G"}}}}, nil)
		for _, k := range p["skus"].([]any) {
			skuIDs = append(skuIDs, k.(map[string]any)["id"].(string))
		}
		return p["id"].(string), skuIDs
	}
	sku := func(color, size string) map[string]any {
		return map[string]any{"specs": map[string]string{"颜色": color, "容量": size}, "price": 100}
	}
	stock := func(sku string, n int) {
		s.Expect(200, "PUT", "/api/v1/admin/skus/"+sku+"/stock", staff, map[string]any{"stock": n}, nil)
	}
	phone, phoneSKUs := product("测试手机", sku("黑", "128G"), sku("白", "128G"), sku("白", "256G"))
	gone, goneSKUs := product("下架删除", sku("黑", "128G"))
	for i, n := range []int{3, 0, 40} {
		stock(phoneSKUs[i], n)
	}
	stock(goneSKUs[0], 1)
	s.Expect(204, "DELETE", "/api/v1/admin/products/"+gone, staff, nil, nil)
	s.Expect(204, "DELETE", "/api/v1/admin/skus/"+phoneSKUs[0], staff, nil, nil)
	stock(phoneSKUs[2], 4)

	r := s.Do("GET", "/api/v1/admin/stock/low", staff, nil)
	if r.Status != 200 {
		t.Fatalf("low stock: %d %s", r.Status, r.Body)
	}
	var got lowStock
	r.Decode(t, &got)
	if got.Threshold != 10 || len(got.Items) != 2 {
		t.Fatalf("low stock = %+v, want the two live SKUs under 10", got)
	}
	white, big := got.Items[0], got.Items[1]
	if white.SKUID != phoneSKUs[1] || white.ProductID != phone || white.Title != "测试手机" || white.Spec != "容量:128G / 颜色:白" ||
		white.Available != 0 || big.SKUID != phoneSKUs[2] || big.Available != 4 || big.Spec != "容量:256G / 颜色:白" {
		t.Fatalf("items = %+v", got.Items)
	}

	cases := []struct {
		name, query, token string
		status             int
		code               string
		threshold, items   int
	}{
		{"admin", "", admin, 200, "", 10, 2},
		{"threshold 0", "?threshold=0", staff, 200, "", 0, 1},
		{"threshold 3, limit 1", "?threshold=3&limit=1", staff, 200, "", 3, 1},
		{"the largest bounds", "?threshold=1000000&limit=200", staff, 200, "", 1000000, 2},
		{"negative threshold", "?threshold=-1", staff, 400, "invalid_parameter", 0, 0},
		{"threshold over the limit", "?threshold=1000001", staff, 400, "invalid_parameter", 0, 0},
		{"threshold not a number", "?threshold=ten", staff, 400, "invalid_parameter", 0, 0},
		{"limit 0", "?limit=0", staff, 400, "invalid_parameter", 0, 0},
		{"limit 201", "?limit=201", staff, 400, "invalid_parameter", 0, 0},
		{"limit a fraction", "?limit=2.5", staff, 400, "invalid_parameter", 0, 0},
		{"no token", "", "", 401, "missing_token", 0, 0},
		{"bad token", "", "not.a.token", 401, "invalid_token", 0, 0},
		{"buyer", "", buyer.AccessToken, 403, "forbidden", 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.Do("GET", "/api/v1/admin/stock/low"+c.query, c.token, nil)
			if r.Status != c.status || (c.code != "" && r.ErrorCode() != c.code) {
				t.Fatalf("got %d %q, want %d %q: %s", r.Status, r.ErrorCode(), c.status, c.code, r.Body)
			}
			if c.status == 200 {
				var got lowStock
				r.Decode(t, &got)
				if got.Threshold != int64(c.threshold) || len(got.Items) != c.items {
					t.Fatalf("threshold %d with %d items, want %d with %d: %s", got.Threshold, len(got.Items), c.threshold, c.items, r.Body)
				}
			}
		})
	}
}
