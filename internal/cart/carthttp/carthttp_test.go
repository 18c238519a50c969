package carthttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/cart"
	"github.com/minimart/minimart/internal/cart/cartdb"
	"github.com/minimart/minimart/internal/cart/carthttp"
	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/ids"
	"github.com/minimart/minimart/internal/platform/money"
	"github.com/minimart/minimart/internal/platform/sqldb/sqldbtest"
	"github.com/minimart/minimart/internal/platform/web"
)

// catalogMap stands for the catalog module behind the cart's Catalog port.
type catalogMap struct {
	mu    sync.Mutex
	items map[ids.ID]cart.Item
}

func (c *catalogMap) Items(_ context.Context, skuIDs []ids.ID) (map[ids.ID]cart.Item, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[ids.ID]cart.Item{}
	for _, id := range skuIDs {
		if it, ok := c.items[id]; ok {
			out[id] = it
		}
	}
	return out, nil
}

func (c *catalogMap) set(it cart.Item) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items[it.SKUID] = it
}

// stockMap stands for the inventory module behind the cart's Stock port.
type stockMap struct {
	mu     sync.Mutex
	levels map[ids.ID]int64
}

func (s *stockMap) Available(_ context.Context, skuIDs []ids.ID) (map[ids.ID]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[ids.ID]int64{}
	for _, id := range skuIDs {
		if n, ok := s.levels[id]; ok {
			out[id] = n
		}
	}
	return out, nil
}

func (s *stockMap) set(sku ids.ID, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.levels[sku] = n
}

// SKUs of the fixture catalog.
const (
	skuPhone   = "101" // on sale, price 199900, stock 50
	skuCase    = "102" // on sale, price 4900, stock 2
	skuCable   = "103" // on sale, price 2900, no stock
	skuOld     = "104" // product off shelf
	skuDeleted = "105" // SKU deleted
	skuUnknown = "999" // not in the catalog
)

type fixture struct {
	t       testing.TB
	h       http.Handler
	catalog *catalogMap
	stock   *stockMap
	tokens  *auth.Tokens
}

func item(sku string, title string, price money.Fen) cart.Item {
	id, err := ids.Parse(sku)
	if err != nil {
		panic(err)
	}
	return cart.Item{SKUID: id, ProductID: id + 1000, Title: title, Specs: map[string]string{"颜色": "白色"},
		Image: "https://img.example.com/" + sku + ".jpg", Price: price, OnSale: true}
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db := sqldbtest.SQLite(t, cartdb.Migrations)
	tokens, err := auth.NewTokens([]byte("cart-test-signing-key-0123456789abcdef"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, catalog: &catalogMap{items: map[ids.ID]cart.Item{}}, stock: &stockMap{levels: map[ids.ID]int64{}}, tokens: tokens}
	f.catalog.set(item(skuPhone, "手机", 199900))
	f.catalog.set(item(skuCase, "手机壳", 4900))
	f.catalog.set(item(skuCable, "数据线", 2900))
	old := item(skuOld, "旧款手机", 99900)
	old.OnSale = false
	f.catalog.set(old)
	gone := item(skuDeleted, "已删除", 100)
	gone.OnSale, gone.Deleted = false, true
	f.catalog.set(gone)
	f.stock.set(101, 50)
	f.stock.set(102, 2)
	rt := web.NewRouter()
	carthttp.Routes(rt, cart.NewService(cartdb.New(db), f.catalog, f.stock), tokens)
	f.h = rt
	return f
}

// buyer issues an access token for buyer id.
func (f *fixture) buyer(id ids.ID) string {
	f.t.Helper()
	tok, _, err := f.tokens.Issue(auth.Principal{ID: id, Audience: auth.AudienceBuyer})
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) code() string {
	var e web.ErrorBody
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// do sends a request; a string body is sent as is, anything else as JSON.
func (f *fixture) do(method, path, token string, body any) response {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// cartView is the JSON answer of the cart endpoints, with ids and money as the wire has them.
type cartView struct {
	Lines []struct {
		SKUID     string            `json:"sku_id"`
		ProductID string            `json:"product_id"`
		Title     string            `json:"title"`
		Specs     map[string]string `json:"specs"`
		Image     string            `json:"image"`
		Price     int64             `json:"price"`
		Quantity  int               `json:"quantity"`
		Selected  bool              `json:"selected"`
		LineTotal int64             `json:"line_total"`
		State     string            `json:"state"`
		Available *int64            `json:"available"`
		AddedAt   time.Time         `json:"added_at"`
		UpdatedAt time.Time         `json:"updated_at"`
	} `json:"lines"`
	LineCount        int   `json:"line_count"`
	SelectedCount    int   `json:"selected_count"`
	SelectedQuantity int   `json:"selected_quantity"`
	SelectedTotal    int64 `json:"selected_total"`
}

// must sends a request that has to succeed with status and returns the cart it answers.
func (f *fixture) must(status int, method, path, token string, body any) cartView {
	f.t.Helper()
	r := f.do(method, path, token, body)
	if r.Status != status {
		f.t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
	}
	var v cartView
	if len(r.Body) > 0 {
		dec := json.NewDecoder(bytes.NewReader(r.Body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			f.t.Fatalf("%s %s: answer %s: %v", method, path, r.Body, err)
		}
	}
	return v
}

func (v cartView) quantities() string {
	var b strings.Builder
	for _, l := range v.Lines {
		sel := ""
		if l.Selected {
			sel = "*"
		}
		fmt.Fprintf(&b, "%s×%d%s ", l.SKUID, l.Quantity, sel)
	}
	return strings.TrimSpace(b.String())
}

// TestEndpoints walks every endpoint once the way a mini-program would.
func TestEndpoints(t *testing.T) {
	f := newFixture(t)
	buyer, other := f.buyer(7), f.buyer(8)

	r := f.do("GET", "/api/v1/cart", buyer, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"lines":[]`) {
		t.Fatalf("empty cart: %d %s; want lines as an empty array", r.Status, r.Body)
	}

	v := f.must(200, "POST", "/api/v1/cart/items", buyer, map[string]any{"sku_id": skuPhone, "quantity": 2})
	if v.LineCount != 1 || v.Lines[0].SKUID != skuPhone || v.Lines[0].ProductID != "1101" || v.Lines[0].Title != "手机" ||
		v.Lines[0].Price != 199900 || v.Lines[0].LineTotal != 399800 || v.Lines[0].State != "in_stock" || v.SelectedTotal != 399800 {
		t.Fatalf("after adding 2 phones: %+v", v)
	}
	// quantity defaults to 1; a bare-number sku_id is accepted from hand-written requests.
	v = f.must(200, "POST", "/api/v1/cart/items", buyer, `{"sku_id": 102}`)
	if got := v.quantities(); got != "102×1* 101×2*" {
		t.Fatalf("after adding a case: %s", got)
	}
	v = f.must(200, "POST", "/api/v1/cart/items", buyer, map[string]any{"sku_id": skuPhone, "quantity": 1})
	if got := v.quantities(); got != "102×1* 101×3*" {
		t.Fatalf("adding more of a line: %s", got)
	}

	v = f.must(200, "PUT", "/api/v1/cart/items/"+skuPhone, buyer, map[string]any{"quantity": 5})
	if got := v.quantities(); got != "102×1* 101×5*" {
		t.Fatalf("PUT quantity: %s", got)
	}
	v = f.must(200, "PUT", "/api/v1/cart/items/"+skuCase, buyer, map[string]any{"selected": false})
	if got := v.quantities(); got != "102×1 101×5*" || v.SelectedCount != 1 || v.SelectedTotal != 5*199900 {
		t.Fatalf("PUT selected: %s, %+v", got, v)
	}
	v = f.must(200, "PUT", "/api/v1/cart/items/"+skuCase, buyer, map[string]any{"quantity": 2, "selected": true})
	if got := v.quantities(); got != "102×2* 101×5*" {
		t.Fatalf("PUT both: %s", got)
	}

	v = f.must(200, "POST", "/api/v1/cart/selection", buyer, map[string]any{"selected": false})
	if got := v.quantities(); got != "102×2 101×5" || v.SelectedCount != 0 || v.SelectedTotal != 0 {
		t.Fatalf("deselect all: %s", got)
	}
	v = f.must(200, "POST", "/api/v1/cart/selection", buyer, map[string]any{"sku_ids": []string{skuPhone}, "selected": true})
	if got := v.quantities(); got != "102×2 101×5*" {
		t.Fatalf("select one: %s", got)
	}
	v = f.must(200, "POST", "/api/v1/cart/selection", buyer, map[string]any{"sku_ids": []string{}, "selected": true})
	if got := v.quantities(); got != "102×2* 101×5*" || v.SelectedQuantity != 7 || v.SelectedTotal != 5*199900+2*4900 {
		t.Fatalf("select all with an empty list: %s, %+v", got, v)
	}

	// Another buyer's cart is separate, both ways.
	f.must(200, "POST", "/api/v1/cart/items", other, map[string]any{"sku_id": skuCable})
	if r := f.do("DELETE", "/api/v1/cart/items/"+skuPhone, other, nil); r.Status != 404 || r.code() != "cart_line_not_found" {
		t.Fatalf("other buyer removing my line: %d %s", r.Status, r.Body)
	}

	v = f.must(200, "DELETE", "/api/v1/cart/items/"+skuCase, buyer, nil)
	if got := v.quantities(); got != "101×5*" {
		t.Fatalf("after DELETE item: %s", got)
	}
	r = f.do("DELETE", "/api/v1/cart", buyer, nil)
	if r.Status != 204 || len(r.Body) != 0 {
		t.Fatalf("DELETE cart: %d %q", r.Status, r.Body)
	}
	if v := f.must(200, "GET", "/api/v1/cart", buyer, nil); v.LineCount != 0 {
		t.Fatalf("after clear: %s", v.quantities())
	}
	if v := f.must(200, "GET", "/api/v1/cart", other, nil); v.quantities() != "103×1*" {
		t.Fatalf("clearing my cart touched another's: %s", v.quantities())
	}
}

// TestBadInput sends every kind of bad request and checks the status and stable code;
// nothing a refused request carried may reach the cart.
func TestBadInput(t *testing.T) {
	f := newFixture(t)
	buyer := f.buyer(7)
	staff, _, err := f.tokens.Issue(auth.Principal{ID: 1, Audience: auth.AudienceStaff, Role: auth.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	f.must(200, "POST", "/api/v1/cart/items", buyer, map[string]any{"sku_id": skuPhone, "quantity": 3})
	before := f.do("GET", "/api/v1/cart", buyer, nil).Body

	// A second buyer fills a cart to the limit for the 101st-line case.
	full := f.buyer(9)
	for i := range cart.MaxLines {
		sku := fmt.Sprint(5000 + i)
		f.catalog.set(item(sku, "商品", 100))
		f.must(200, "POST", "/api/v1/cart/items", full, map[string]any{"sku_id": sku})
	}
	f.catalog.set(item("6000", "第101个", 100))

	items, phone := "/api/v1/cart/items", "/api/v1/cart/items/"+skuPhone
	cases := []struct {
		name   string
		method string
		path   string
		token  string
		body   any
		status int
		code   string
	}{
		{"add quantity 0", "POST", items, buyer, `{"sku_id":"101","quantity":0}`, 400, "validation_failed"},
		{"add quantity 100", "POST", items, buyer, `{"sku_id":"101","quantity":100}`, 400, "validation_failed"},
		{"add quantity -1", "POST", items, buyer, `{"sku_id":"101","quantity":-1}`, 400, "validation_failed"},
		{"add quantity as a string", "POST", items, buyer, `{"sku_id":"101","quantity":"2"}`, 400, "wrong_type"},
		{"add quantity as a fraction", "POST", items, buyer, `{"sku_id":"101","quantity":1.5}`, 400, "wrong_type"},
		{"add quantity huge", "POST", items, buyer, `{"sku_id":"101","quantity":1e30}`, 400, "wrong_type"},
		{"add over 99 in one line", "POST", items, buyer, `{"sku_id":"101","quantity":97}`, 400, "validation_failed"},
		{"add without sku_id", "POST", items, buyer, `{"quantity":1}`, 400, "validation_failed"},
		{"add non-numeric sku_id", "POST", items, buyer, `{"sku_id":"abc","quantity":1}`, 400, "wrong_type"},
		{"add negative sku_id", "POST", items, buyer, `{"sku_id":"-5","quantity":1}`, 400, "wrong_type"},
		{"add unknown sku", "POST", items, buyer, `{"sku_id":"999","quantity":1}`, 404, "sku_not_found"},
		{"add deleted sku", "POST", items, buyer, `{"sku_id":"105","quantity":1}`, 404, "sku_not_found"},
		{"add off-shelf sku", "POST", items, buyer, `{"sku_id":"104","quantity":1}`, 409, "sku_unavailable"},
		{"add 101st line", "POST", items, full, `{"sku_id":"6000","quantity":1}`, 409, "cart_full"},
		{"add unknown field", "POST", items, buyer, `{"sku_id":"101","quantity":1,"price":1}`, 400, "unknown_field"},
		{"add malformed json", "POST", items, buyer, `{"sku_id":"101",`, 400, "invalid_json"},
		{"add empty body", "POST", items, buyer, ``, 400, "empty_body"},
		{"add array body", "POST", items, buyer, `[{"sku_id":"101"}]`, 400, "wrong_type"},
		{"add two objects", "POST", items, buyer, `{"sku_id":"101"}{}`, 400, "invalid_json"},
		{"add without token", "POST", items, "", `{"sku_id":"101","quantity":1}`, 401, "missing_token"},
		{"add with garbage token", "POST", items, "garbage", `{"sku_id":"101","quantity":1}`, 401, "invalid_token"},
		{"add with a staff token", "POST", items, staff, `{"sku_id":"101","quantity":1}`, 403, "forbidden"},
		{"view without token", "GET", "/api/v1/cart", "", nil, 401, "missing_token"},
		{"clear without token", "DELETE", "/api/v1/cart", "", nil, 401, "missing_token"},
		{"put without token", "PUT", phone, "", `{"quantity":1}`, 401, "missing_token"},
		{"delete without token", "DELETE", phone, "", nil, 401, "missing_token"},
		{"selection without token", "POST", "/api/v1/cart/selection", "", `{"selected":true}`, 401, "missing_token"},
		{"put no field", "PUT", phone, buyer, `{}`, 400, "validation_failed"},
		{"put quantity 0", "PUT", phone, buyer, `{"quantity":0}`, 400, "validation_failed"},
		{"put quantity 100", "PUT", phone, buyer, `{"quantity":100}`, 400, "validation_failed"},
		{"put quantity -1", "PUT", phone, buyer, `{"quantity":-1,"selected":false}`, 400, "validation_failed"},
		{"put quantity as a string", "PUT", phone, buyer, `{"quantity":"2"}`, 400, "wrong_type"},
		{"put selected as a string", "PUT", phone, buyer, `{"selected":"yes"}`, 400, "wrong_type"},
		{"put unknown field", "PUT", phone, buyer, `{"quantity":2,"sku_id":"102"}`, 400, "unknown_field"},
		{"put non-numeric id", "PUT", items + "/abc", buyer, `{"quantity":2}`, 400, "invalid_parameter"},
		{"put zero id", "PUT", items + "/0", buyer, `{"quantity":2}`, 400, "invalid_parameter"},
		{"put line not in cart", "PUT", items + "/" + skuCase, buyer, `{"quantity":2}`, 404, "cart_line_not_found"},
		{"delete non-numeric id", "DELETE", items + "/abc", buyer, nil, 400, "invalid_parameter"},
		{"delete line not in cart", "DELETE", items + "/" + skuUnknown, buyer, nil, 404, "cart_line_not_found"},
		{"selection without selected", "POST", "/api/v1/cart/selection", buyer, `{"sku_ids":["101"]}`, 400, "validation_failed"},
		{"selection sku_ids not a list", "POST", "/api/v1/cart/selection", buyer, `{"sku_ids":"101","selected":false}`, 400, "wrong_type"},
		{"selection non-numeric sku_id", "POST", "/api/v1/cart/selection", buyer, `{"sku_ids":["x"],"selected":false}`, 400, "wrong_type"},
		{"selection sku not in cart", "POST", "/api/v1/cart/selection", buyer, `{"sku_ids":["101","102"],"selected":false}`, 404, "cart_line_not_found"},
		{"selection unknown field", "POST", "/api/v1/cart/selection", buyer, `{"selected":false,"all":true}`, 400, "unknown_field"},
		{"wrong method", "PATCH", "/api/v1/cart", buyer, nil, 405, "method_not_allowed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := f.do(c.method, c.path, c.token, c.body)
			if r.Status != c.status || r.code() != c.code {
				t.Fatalf("got %d %q, want %d %q: %s", r.Status, r.code(), c.status, c.code, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("error answered as %q", ct)
			}
		})
	}
	if after := f.do("GET", "/api/v1/cart", buyer, nil).Body; !bytes.Equal(before, after) {
		t.Fatalf("refused requests changed the cart:\nbefore %s\nafter  %s", before, after)
	}
	if v := f.must(200, "GET", "/api/v1/cart", full, nil); v.LineCount != cart.MaxLines {
		t.Fatalf("full cart holds %d lines", v.LineCount)
	}
	// Validation errors name the field.
	r := f.do("POST", items, buyer, `{"sku_id":"101","quantity":0}`)
	if !strings.Contains(string(r.Body), `"field":"quantity"`) {
		t.Fatalf("validation error does not name the field: %s", r.Body)
	}
	r = f.do("POST", "/api/v1/cart/selection", buyer, `{"sku_ids":["101","102","103"],"selected":false}`)
	if !strings.Contains(string(r.Body), `"sku_ids":["102","103"]`) {
		t.Fatalf("selection error does not list the missing SKUs as strings: %s", r.Body)
	}
	if r := f.do("GET", "/api/v1/cart", "", nil); r.Header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
}

// TestViewStates checks every line state and the totals as the catalog and stock change
// under a cart: price cut, stock running short and out, product off shelf, SKU deleted.
func TestViewStates(t *testing.T) {
	f := newFixture(t)
	buyer := f.buyer(7)
	f.catalog.set(item("201", "耳机", 29900))
	f.catalog.set(item("202", "充电器", 9900))
	f.stock.set(201, 10)
	f.stock.set(202, 10)
	for _, add := range []struct {
		sku string
		qty int
	}{{skuPhone, 2}, {skuCase, 3}, {skuCable, 1}, {"201", 1}, {"202", 2}} {
		f.must(200, "POST", "/api/v1/cart/items", buyer, map[string]any{"sku_id": add.sku, "quantity": add.qty})
	}
	v := f.must(200, "GET", "/api/v1/cart", buyer, nil)
	states := func(v cartView) string {
		var parts []string
		for _, l := range v.Lines {
			s := l.SKUID + ":" + l.State
			if l.Available != nil {
				s += fmt.Sprintf("(%d)", *l.Available)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, " ")
	}
	if got, want := states(v), "202:in_stock 201:in_stock 103:out_of_stock 102:short(2) 101:in_stock"; got != want {
		t.Fatalf("states = %s, want %s", got, want)
	}
	total := int64(2*9900 + 29900 + 2900 + 3*4900 + 2*199900)
	if v.LineCount != 5 || v.SelectedCount != 5 || v.SelectedQuantity != 9 || v.SelectedTotal != total {
		t.Fatalf("totals = %d lines, %d selected, %d pieces, %d fen; want 5, 5, 9, %d",
			v.LineCount, v.SelectedCount, v.SelectedQuantity, v.SelectedTotal, total)
	}

	// The product of 201 goes off shelf, SKU 202 is deleted, the phone gets cheaper and
	// sells down to one piece, cables arrive.
	off := item("201", "耳机", 29900)
	off.OnSale = false
	f.catalog.set(off)
	gone := item("202", "充电器", 9900)
	gone.OnSale, gone.Deleted = false, true
	f.catalog.set(gone)
	f.catalog.set(item(skuPhone, "手机", 189900))
	f.stock.set(101, 1)
	f.stock.set(103, 7)
	v = f.must(200, "GET", "/api/v1/cart", buyer, nil)
	if got, want := states(v), "202:unavailable 201:unavailable 103:in_stock 102:short(2) 101:short(1)"; got != want {
		t.Fatalf("states = %s, want %s", got, want)
	}
	total = int64(2900 + 3*4900 + 2*189900)
	if v.LineCount != 5 || v.SelectedCount != 3 || v.SelectedQuantity != 6 || v.SelectedTotal != total {
		t.Fatalf("totals = %d lines, %d selected, %d pieces, %d fen; want 5, 3, 6, %d",
			v.LineCount, v.SelectedCount, v.SelectedQuantity, v.SelectedTotal, total)
	}
	if l := v.Lines[0]; l.Title != "充电器" || l.Price != 9900 || l.LineTotal != 2*9900 || !l.Selected {
		t.Fatalf("unavailable line must stay visible with its data: %+v", l)
	}
	if l := v.Lines[4]; l.Price != 189900 || l.LineTotal != 2*189900 || l.Specs["颜色"] != "白色" || l.Image == "" || l.AddedAt.IsZero() {
		t.Fatalf("phone line: %+v", l)
	}
	// Deselecting a line takes it out of the totals; the unavailable ones never were in.
	v = f.must(200, "PUT", "/api/v1/cart/items/"+skuCase, buyer, map[string]any{"selected": false})
	if v.SelectedCount != 2 || v.SelectedTotal != int64(2900+2*189900) {
		t.Fatalf("after deselecting the case: %d selected, %d fen", v.SelectedCount, v.SelectedTotal)
	}
	// The SKU disappears from the catalog altogether: the line still shows, unpriced.
	f.catalog.mu.Lock()
	delete(f.catalog.items, 202)
	f.catalog.mu.Unlock()
	v = f.must(200, "GET", "/api/v1/cart", buyer, nil)
	if l := v.Lines[0]; l.SKUID != "202" || l.State != "unavailable" || l.Price != 0 || l.Specs == nil || v.LineCount != 5 {
		t.Fatalf("line of a forgotten SKU: %+v", l)
	}
	// An unavailable line can still be removed.
	v = f.must(200, "DELETE", "/api/v1/cart/items/202", buyer, nil)
	if v.LineCount != 4 {
		t.Fatalf("after removing the forgotten SKU: %s", v.quantities())
	}
}
