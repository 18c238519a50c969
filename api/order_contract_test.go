package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minimart/minimart/internal/apptest"
	"github.com/minimart/minimart/internal/catalog"
	"github.com/minimart/minimart/internal/order"
	"github.com/minimart/minimart/internal/order/orderdb"
	"github.com/minimart/minimart/internal/platform/auth"
	"github.com/minimart/minimart/internal/platform/ids"
)

// The cart and order part of the contract script: buyers fill and edit carts, place orders
// from SKUs and from the cart (with the Idempotency-Key rules), cancel and confirm them;
// staff search, ship and annotate them; a payment is recorded through the service the
// payments module will call.

type cartLine struct {
	SKUID     string `json:"sku_id"`
	Title     string
	Price     int64
	Quantity  int
	Selected  bool
	LineTotal int64 `json:"line_total"`
	State     string
	Available int64
}

type cartView struct {
	Lines            []cartLine
	LineCount        int   `json:"line_count"`
	SelectedCount    int   `json:"selected_count"`
	SelectedQuantity int   `json:"selected_quantity"`
	SelectedTotal    int64 `json:"selected_total"`
}

// states is the cart's lines as "sku:state" in cart order, with the available stock of
// short lines and a * for selected ones.
func (v cartView) states() string {
	out := make([]string, len(v.Lines))
	for i, l := range v.Lines {
		out[i] = l.SKUID + ":" + l.State
		if l.State == "short" {
			out[i] += fmt.Sprintf("(%d)", l.Available)
		}
		if l.Selected {
			out[i] += "*"
		}
	}
	return strings.Join(out, " ")
}

type orderLineView struct {
	SKUID     string `json:"sku_id"`
	Title     string
	Specs     map[string]string
	UnitPrice int64 `json:"unit_price"`
	Quantity  int
	LineTotal int64 `json:"line_total"`
}

type orderView struct {
	ID             string
	OrderNo        string `json:"order_no"`
	UserID         string `json:"user_id"`
	Status         string
	Lines          []orderLineView
	ItemsTotal     int64 `json:"items_total"`
	ShippingFee    int64 `json:"shipping_fee"`
	Payable        int64
	Remark         string
	Address        struct{ Recipient string }
	PaidAt         *time.Time `json:"paid_at"`
	ShippedAt      *time.Time `json:"shipped_at"`
	CompletedAt    *time.Time `json:"completed_at"`
	CancelledAt    *time.Time `json:"cancelled_at"`
	AutoCompleteAt *time.Time `json:"auto_complete_at"`
	Carrier        string
	TrackingNo     string    `json:"tracking_no"`
	StaffNote      string    `json:"staff_note"`
	CreatedAt      time.Time `json:"created_at"`
	History        []struct {
		From, To, Actor, Reason string
	}
}

type orderPage struct {
	Items          []orderView
	Page           int
	PageSize       int `json:"page_size"`
	Total          int
	PageSizeCapped bool `json:"page_size_capped"`
}

// errorDetails is the details of an error answer, as the cart and order codes fill them.
type errorDetails struct {
	Error struct {
		Code    string
		Details struct {
			Fields []struct{ Field string }
			SKUIDs []string          `json:"sku_ids"`
			SKUs   []json.RawMessage `json:"skus"`
		}
	}
}

// createHash is the request hash the order endpoint keys an Idempotency-Key to: the SHA-256
// of the decoded request re-encoded (see orderhttp). The test needs it only to plant a claim
// that looks like a request still running; if the server hashes otherwise, that case
// answers 422 instead of 409 and says so.
func createHash(t *testing.T, fromCart bool, addressID string) string {
	t.Helper()
	id, err := ids.Parse(addressID)
	if err != nil {
		t.Fatal(err)
	}
	canonical, err := json.Marshal(struct {
		Items []struct {
			SKUID    ids.ID `json:"sku_id"`
			Quantity int    `json:"quantity"`
		} `json:"items"`
		FromCart  bool   `json:"from_cart"`
		AddressID ids.ID `json:"address_id"`
		Remark    string `json:"remark"`
	}{FromCart: fromCart, AddressID: id})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:])
}

// pending is a request sent in the background; wait returns its answer, checked against
// the document like every other.
type pending struct {
	req  *http.Request
	body []byte
	done chan result
	err  chan error
}

func (h *harness) start(t *testing.T, c call) *pending {
	t.Helper()
	body, err := json.Marshal(c.body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), c.method, h.url+c.path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	for k, v := range c.header {
		req.Header[k] = v
	}
	p := &pending{req: req, body: body, done: make(chan result, 1), err: make(chan error, 1)}
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			p.err <- err
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			p.err <- err
			return
		}
		p.done <- result{status: resp.StatusCode, header: resp.Header, body: b}
	}()
	return p
}

func (p *pending) wait(t *testing.T, h *harness, name string, want int, code string) result {
	t.Helper()
	var r result
	select {
	case err := <-p.err:
		t.Fatalf("%s: %v", name, err)
	case r = <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: no answer within 30s", name)
	}
	if r.status != want {
		t.Fatalf("%s: answered %d, want %d: %s", name, r.status, want, r.body)
	}
	if got := decode[errorDetails](t, r).Error.Code; code != "" && got != code {
		t.Errorf("%s: code %q, want %q: %s", name, got, code, r.body)
	}
	if err := h.c.check(p.req, p.body, r.status, r.header, r.body, false); err != nil {
		t.Errorf("%s: %v", name, err)
	}
	return r
}

// buyerAuthErrors sends what every buyer endpoint refuses before looking at the request: no
// token, a bad token and a staff token.
func buyerAuthErrors(t *testing.T, h *harness, method, path string, body any, header http.Header, staff string) {
	t.Helper()
	name := method + " " + path
	h.do(t, name+" without a token", call{method: method, path: path, body: body, header: header, want: 401, code: "missing_token", specRejects: true})
	h.do(t, name+" with a bad token", call{method: method, path: path, token: "not.a.jwt", body: body, header: header, want: 401, code: "invalid_token"})
	h.do(t, name+" with a staff token", call{method: method, path: path, token: staff, body: body, header: header, want: 403, code: "forbidden"})
}

// testCartAndOrders drives every cart and order operation; staff is an admin's token and
// operator an operator's.
func testCartAndOrders(t *testing.T, h *harness, staff, operator string) {
	const (
		get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
		cartPath            = "/api/v1/cart"
		items               = "/api/v1/cart/items"
		selection           = "/api/v1/cart/selection"
		orders              = "/api/v1/orders"
		adminOrders         = "/api/v1/admin/orders"
	)
	ctx := t.Context()
	item := func(sku string) string { return items + "/" + sku }
	type level struct{ Available, Reserved, Sold int64 }
	levelOf := func(sku string) level {
		r := decode[struct{ Level level }](t, h.do(t, "stock of "+sku, call{method: get, path: "/api/v1/admin/skus/" + sku + "/stock", token: staff, want: 200}))
		return r.Level
	}

	// The shop: tea in four flavours (white tea to be deleted), a cup without specs (to go off
	// shelf for a while), a box that is never on shelf.
	cat := decode[category](t, h.do(t, "category", call{method: post, path: "/api/v1/admin/categories", token: staff, body: map[string]any{"name": "茶饮"}, want: 201}))
	tea := decode[productView](t, h.do(t, "tea", call{method: post, path: "/api/v1/admin/products", token: staff, body: map[string]any{
		"category_id": cat.ID, "title": "龙井 <b>茶</b>", "specs": []map[string]any{{"name": "口味", "values": []string{"红茶", "绿茶", "乌龙", "白茶"}}},
		"skus": []map[string]any{
			{"specs": map[string]string{"口味": "红茶"}, "price": 1000}, {"specs": map[string]string{"口味": "绿茶"}, "price": 2000},
			{"specs": map[string]string{"口味": "乌龙"}, "price": 5000}, {"specs": map[string]string{"口味": "白茶"}, "price": 700},
		}, "on_shelf": true}, want: 201}))
	cup := decode[productView](t, h.do(t, "cup", call{method: post, path: "/api/v1/admin/products", token: operator, body: map[string]any{
		"category_id": cat.ID, "title": "马克杯", "skus": []map[string]any{{"price": 3000}}, "on_shelf": true}, want: 201}))
	box := decode[productView](t, h.do(t, "box", call{method: post, path: "/api/v1/admin/products", token: staff, body: map[string]any{
		"category_id": cat.ID, "title": "礼盒", "skus": []map[string]any{{"price": 100}}}, want: 201}))
	if len(tea.SKUs) != 4 || len(cup.SKUs) != 1 || len(box.SKUs) != 1 {
		t.Fatalf("products: tea %+v, cup %+v, box %+v", tea.SKUs, cup.SKUs, box.SKUs)
	}
	red, green, oolong, white, cupSKU, boxSKU := tea.SKUs[0].ID, tea.SKUs[1].ID, tea.SKUs[2].ID, tea.SKUs[3].ID, cup.SKUs[0].ID, box.SKUs[0].ID
	for sku, n := range map[string]int{red: 10, green: 2, white: 5, cupSKU: 5, boxSKU: 5} {
		h.do(t, "stock", call{method: put, path: "/api/v1/admin/skus/" + sku + "/stock", token: staff, body: map[string]any{"stock": n}, want: 200})
	}

	register := func(name string) userLogin {
		return decode[userLogin](t, h.do(t, "register "+name, call{method: post, path: "/api/v1/auth/register",
			body: map[string]any{"username": name, "password": "orders2024"}, want: 201}))
	}
	dave, erin, fay := register("dave"), register("erin"), register("fay")
	buyer, other := dave.Tokens.AccessToken, erin.Tokens.AccessToken
	addr := decode[address](t, h.do(t, "dave's address", call{method: post, path: "/api/v1/me/addresses", token: buyer, body: addressBody("戴夫", false), want: 201})).ID
	otherAddr := decode[address](t, h.do(t, "erin's address", call{method: post, path: "/api/v1/me/addresses", token: other, body: addressBody("艾琳", false), want: 201})).ID
	fayAddr := decode[address](t, h.do(t, "fay's address", call{method: post, path: "/api/v1/me/addresses", token: fay.Tokens.AccessToken, body: addressBody("菲", false), want: 201})).ID
	ghost := tokenFor(t, auth.Principal{ID: ids.ID(4343), Audience: auth.AudienceBuyer})

	t.Run("cart", func(t *testing.T) {
		view := func(r result) cartView { t.Helper(); return decode[cartView](t, r) }
		add := func(name string, body any, want int, code string, rejects bool) cartView {
			t.Helper()
			r := h.do(t, name, call{method: post, path: items, token: buyer, body: body, want: want, code: code, specRejects: rejects})
			if want != 200 {
				return cartView{}
			}
			return view(r)
		}
		r := h.do(t, "empty cart", call{method: get, path: cartPath, token: buyer, want: 200})
		if !bytes.Contains(r.body, []byte(`"lines":[]`)) || view(r).LineCount != 0 {
			t.Errorf("empty cart: %s", r.body)
		}
		add("add one", map[string]any{"sku_id": red}, 200, "", false)
		v := add("add more of it", map[string]any{"sku_id": red, "quantity": 2}, 200, "", false)
		if v.LineCount != 1 || v.Lines[0].Quantity != 3 || v.Lines[0].State != "in_stock" || v.Lines[0].LineTotal != 3000 {
			t.Errorf("after adding 1 + 2 red: %+v", v)
		}
		add("add green", map[string]any{"sku_id": green, "quantity": 3}, 200, "", false)
		add("add oolong", map[string]any{"sku_id": oolong, "quantity": 1}, 200, "", false)
		add("add white", map[string]any{"sku_id": white, "quantity": 1}, 200, "", false)
		v = add("add cup", map[string]any{"sku_id": cupSKU, "quantity": 1}, 200, "", false)
		want := fmt.Sprintf("%s:in_stock* %s:in_stock* %s:out_of_stock* %s:short(2)* %s:in_stock*", cupSKU, white, oolong, green, red)
		if got := v.states(); got != want || v.SelectedCount != 5 || v.SelectedQuantity != 9 || v.SelectedTotal != 3000+700+5000+6000+3000 {
			t.Errorf("cart = %s (%d lines, %d pieces, %d fen), want %s", got, v.SelectedCount, v.SelectedQuantity, v.SelectedTotal, want)
		}

		add("over 99 in one line", map[string]any{"sku_id": red, "quantity": 97}, 400, "validation_failed", false)
		add("quantity 0", map[string]any{"sku_id": red, "quantity": 0}, 400, "validation_failed", true)
		add("quantity 100", map[string]any{"sku_id": red, "quantity": 100}, 400, "validation_failed", true)
		add("without sku_id", map[string]any{"quantity": 1}, 400, "validation_failed", true)
		add("sku_id 0", map[string]any{"sku_id": "0"}, 400, "wrong_type", false)
		add("sku_id not a number", map[string]any{"sku_id": "abc"}, 400, "wrong_type", true)
		add("unknown SKU", map[string]any{"sku_id": "123"}, 404, "sku_not_found", false)
		add("SKU off shelf", map[string]any{"sku_id": boxSKU}, 409, "sku_unavailable", false)
		bodyErrors(t, h, post, items, buyer, map[string]any{"sku_id": red}, map[string]any{"sku_id": red, "quantity": "2"}, staff)

		v = view(h.do(t, "put quantity", call{method: put, path: item(red), token: buyer, body: map[string]any{"quantity": 5}, want: 200}))
		if l := v.Lines[4]; l.SKUID != red || l.Quantity != 5 || !l.Selected || l.LineTotal != 5000 {
			t.Errorf("after setting red to 5: %+v", l)
		}
		v = view(h.do(t, "put selected", call{method: put, path: item(oolong), token: buyer, body: map[string]any{"selected": false}, want: 200}))
		if l := v.Lines[2]; l.SKUID != oolong || l.Selected || l.Quantity != 1 || v.SelectedCount != 4 {
			t.Errorf("after deselecting oolong: %+v", v)
		}
		h.do(t, "put both", call{method: put, path: item(green), token: buyer, body: map[string]any{"quantity": 2, "selected": true}, want: 200})
		h.do(t, "put nothing", call{method: put, path: item(red), token: buyer, body: map[string]any{}, want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "put quantity 0", call{method: put, path: item(red), token: buyer, body: map[string]any{"quantity": 0}, want: 400, code: "validation_failed", specRejects: true})
		h.do(t, "put a line not in the cart", call{method: put, path: item(boxSKU), token: buyer, body: map[string]any{"quantity": 1}, want: 404, code: "cart_line_not_found"})
		h.do(t, "put bad id", call{method: put, path: item("abc"), token: buyer, body: map[string]any{"quantity": 1}, want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "put id 0", call{method: put, path: item("0"), token: buyer, body: map[string]any{"quantity": 1}, want: 400, code: "invalid_parameter"})
		bodyErrors(t, h, put, item(red), buyer, map[string]any{"quantity": 5}, map[string]any{"selected": "yes"}, staff)

		v = view(h.do(t, "deselect all", call{method: post, path: selection, token: buyer, body: map[string]any{"selected": false}, want: 200}))
		if v.SelectedCount != 0 || v.SelectedTotal != 0 {
			t.Errorf("after deselecting all: %+v", v)
		}
		v = view(h.do(t, "select two", call{method: post, path: selection, token: buyer,
			body: map[string]any{"sku_ids": []string{red, cupSKU, red}, "selected": true}, want: 200}))
		if v.SelectedCount != 2 || v.SelectedQuantity != 6 || v.SelectedTotal != 8000 {
			t.Errorf("after selecting red and cup: %+v", v)
		}
		r = h.do(t, "select a SKU not in the cart", call{method: post, path: selection, token: buyer,
			body: map[string]any{"sku_ids": []string{red, "123"}, "selected": false}, want: 404, code: "cart_line_not_found"})
		if d := decode[errorDetails](t, r).Error.Details; !slices.Equal(d.SKUIDs, []string{"123"}) {
			t.Errorf("cart_line_not_found details: %s", r.body)
		}
		h.do(t, "select without selected", call{method: post, path: selection, token: buyer, body: map[string]any{"sku_ids": []string{red}},
			want: 400, code: "validation_failed", specRejects: true})
		bodyErrors(t, h, post, selection, buyer, map[string]any{"selected": true}, map[string]any{"sku_ids": red, "selected": true}, staff)

		// Lines go unavailable: the cup's product goes off shelf, white tea is deleted.
		h.do(t, "cup off shelf", call{method: post, path: "/api/v1/admin/products/" + cup.ID + "/off-shelf", token: staff, want: 200})
		h.do(t, "delete white tea", call{method: del, path: "/api/v1/admin/skus/" + white, token: staff, want: 204})
		h.do(t, "select all", call{method: post, path: selection, token: buyer, body: map[string]any{"sku_ids": []string{}, "selected": true}, want: 200})
		v = view(h.do(t, "cart with unavailable lines", call{method: get, path: cartPath, token: buyer, want: 200}))
		want = fmt.Sprintf("%s:unavailable* %s:unavailable* %s:out_of_stock* %s:in_stock* %s:in_stock*", cupSKU, white, oolong, green, red)
		if got := v.states(); got != want || v.LineCount != 5 || v.SelectedCount != 3 || v.SelectedQuantity != 8 || v.SelectedTotal != 5000+4000+5000 {
			t.Errorf("cart = %s %+v, want %s", got, v, want)
		}
		h.do(t, "put an unavailable line", call{method: put, path: item(white), token: buyer, body: map[string]any{"selected": false}, want: 200})
		h.do(t, "cup back on shelf", call{method: post, path: "/api/v1/admin/products/" + cup.ID + "/on-shelf", token: staff, want: 200})

		v = view(h.do(t, "remove a line", call{method: del, path: item(oolong), token: buyer, want: 200}))
		if v.LineCount != 4 {
			t.Errorf("after removing oolong: %+v", v)
		}
		h.do(t, "remove it again", call{method: del, path: item(oolong), token: buyer, want: 404, code: "cart_line_not_found"})
		h.do(t, "remove bad id", call{method: del, path: item("abc"), token: buyer, want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "another buyer's line", call{method: del, path: item(red), token: other, want: 404, code: "cart_line_not_found"})
		buyerAuthErrors(t, h, del, item(red), nil, nil, staff)
		buyerAuthErrors(t, h, get, cartPath, nil, nil, staff)

		h.do(t, "empty the cart", call{method: del, path: cartPath, token: buyer, want: 204})
		if v := view(h.do(t, "emptied cart", call{method: get, path: cartPath, token: buyer, want: 200})); v.LineCount != 0 {
			t.Errorf("after emptying: %+v", v)
		}
		h.do(t, "empty an empty cart", call{method: del, path: cartPath, token: buyer, want: 204})
		buyerAuthErrors(t, h, del, cartPath, nil, nil, staff)

		// A full cart: 100 lines (put in through the service), then a 101st.
		bulk := make([]catalog.SKUInput, 101)
		for i := range bulk {
			bulk[i] = catalog.SKUInput{Specs: map[string]string{"编号": fmt.Sprint(i / 10), "批次": fmt.Sprint(i % 10)}, Price: 100}
		}
		digits := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}
		catID, _ := ids.Parse(cat.ID)
		p, err := h.app.Catalog.CreateProduct(ctx, catalog.ProductInput{CategoryID: catID, Title: "散装糖果",
			Specs: []catalog.SpecDef{{Name: "编号", Values: digits}, {Name: "批次", Values: digits[:10]}}}, bulk, true)
		if err != nil {
			t.Fatal(err)
		}
		fayID, _ := ids.Parse(fay.User.ID)
		for _, k := range p.SKUs[:100] {
			if err := h.app.Cart.Add(ctx, fayID, k.ID, 1); err != nil {
				t.Fatal(err)
			}
		}
		h.do(t, "the 101st line", call{method: post, path: items, token: fay.Tokens.AccessToken, body: map[string]any{"sku_id": p.SKUs[100].ID.String()},
			want: 409, code: "cart_full"})
		h.do(t, "more of a line of a full cart", call{method: post, path: items, token: fay.Tokens.AccessToken, body: map[string]any{"sku_id": p.SKUs[0].ID.String()}, want: 200})
		// An order takes at most 50 lines; 100 selected lines are refused (details name "from_cart").
		r = h.do(t, "order 100 cart lines", call{method: post, path: orders, token: fay.Tokens.AccessToken, header: http.Header{"Idempotency-Key": {"fay-1"}},
			body: map[string]any{"from_cart": true, "address_id": fayAddr}, want: 400, code: "validation_failed"})
		if f := decode[errorDetails](t, r).Error.Details.Fields; len(f) != 1 || f[0].Field != "from_cart" {
			t.Errorf("100 lines refused with %s", r.body)
		}
	})

	key := func(k string) http.Header { return http.Header{"Idempotency-Key": {k}} }
	placeAs := func(name, token, k string, body any, want int, code string, rejects bool) result {
		t.Helper()
		c := call{method: post, path: orders, token: token, body: body, want: want, code: code, specRejects: rejects}
		if k != "" {
			c.header = key(k)
		}
		return h.do(t, name, c)
	}
	place := func(name, k string, body any, want int, code string, rejects bool) result {
		t.Helper()
		return placeAs(name, buyer, k, body, want, code, rejects)
	}
	lines := func(kv ...any) []map[string]any {
		out := []map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			out = append(out, map[string]any{"sku_id": kv[i], "quantity": kv[i+1]})
		}
		return out
	}
	waitLevel := func(what, sku string, want level) {
		t.Helper()
		eventually(t, what, func() bool { return levelOf(sku) == want })
	}
	var first, third, fromCart orderView

	// A request whose key is held by a request that never finished (planted the way the
	// store records one) waits for it, then gives up; it runs while the script goes on.
	daveID, _ := ids.Parse(dave.User.ID)
	if _, claimed, err := orderdb.New(h.app.DB, nil).ClaimKey(ctx, order.Idempotency{UserID: daveID, Key: "stuck",
		RequestHash: createHash(t, true, addr), CreatedAt: time.Now()}); err != nil || !claimed {
		t.Fatalf("plant an in-progress key: claimed %v, %v", claimed, err)
	}
	stuck := h.start(t, call{method: post, path: orders, token: buyer, header: key("stuck"), body: map[string]any{"from_cart": true, "address_id": addr}})

	t.Run("place", func(t *testing.T) {
		body := map[string]any{"items": lines(red, 2), "address_id": addr, "remark": "请尽快发货 <i>谢谢</i>"}
		r := place("place", "k-1", body, 201, "", false)
		first = decode[orderView](t, r)
		if first.Status != "pending_payment" || len(first.OrderNo) != 27 || first.UserID != dave.User.ID || first.ItemsTotal != 2000 ||
			first.ShippingFee != 1000 || first.Payable != 3000 || len(first.Lines) != 1 || first.Lines[0].Specs["口味"] != "红茶" ||
			first.Lines[0].Title != "龙井 <b>茶</b>" || first.Lines[0].UnitPrice != 1000 || first.Address.Recipient != "戴夫" ||
			first.Remark != "请尽快发货 <i>谢谢</i>" || first.PaidAt != nil {
			t.Errorf("placed = %s", r.body)
		}
		if got := r.header.Get("Idempotent-Replayed"); got != "" {
			t.Errorf("a first request answered Idempotent-Replayed: %q", got)
		}
		if l := levelOf(red); l != (level{Available: 8, Reserved: 2}) {
			t.Errorf("red after the order: %+v", l)
		}
		r = place("the same again", "k-1", map[string]any{"remark": "请尽快发货 <i>谢谢</i>", "address_id": addr, "items": lines(red, 2)}, 201, "", false)
		if again := decode[orderView](t, r); again.ID != first.ID || r.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay: Idempotent-Replayed %q, %s", r.header.Get("Idempotent-Replayed"), r.body)
		}
		if l := levelOf(red); l.Reserved != 2 {
			t.Errorf("a replay reserved again: %+v", l)
		}
		place("the key with another body", "k-1", with(body, "remark", "改了"), 422, "idempotency_key_reused", false)

		// Refusals hold nothing, and free the key.
		place("no key", "", body, 400, "idempotency_key_required", true)
		h.do(t, "no key, bad JSON", call{method: post, path: orders, token: buyer, raw: "{", hasRaw: true, want: 400, code: "idempotency_key_required", specRejects: true})
		place("key over 64 bytes", strings.Repeat("k", 65), body, 400, "idempotency_key_required", true)
		place("blank key", "   ", body, 400, "idempotency_key_required", true)
		place("quantity 0", "k-2", with(body, "items", lines(red, 0)), 400, "validation_failed", true)
		place("quantity 100", "k-2", with(body, "items", lines(red, 100)), 400, "validation_failed", true)
		place("a SKU twice", "k-2", with(body, "items", lines(red, 1, red, 1)), 400, "validation_failed", false)
		place("items and from_cart", "k-2", with(body, "from_cart", true), 400, "validation_failed", false)
		place("no address", "k-2", with(body, "address_id", nil), 400, "validation_failed", true)
		place("remark over 200 characters", "k-2", with(body, "remark", strings.Repeat("长", 201)), 400, "validation_failed", true)
		many := make([]any, 0, 102)
		for i := range 51 {
			many = append(many, fmt.Sprint(1000+i), 1)
		}
		place("51 lines", "k-2", with(body, "items", lines(many...)), 400, "validation_failed", true)
		place("no items", "k-2", with(body, "items", []any{}), 400, "empty_order", false)
		place("nothing to order", "k-2", map[string]any{"address_id": addr}, 400, "empty_order", false)
		place("an empty cart", "k-2", map[string]any{"from_cart": true, "address_id": addr}, 400, "empty_order", false)

		r = place("unknown and off-shelf SKUs", "k-2", with(body, "items", lines(red, 1, "123", 1, boxSKU, 1)), 409, "sku_unavailable", false)
		var unavailable []string
		for _, raw := range decode[errorDetails](t, r).Error.Details.SKUs {
			var id string
			json.Unmarshal(raw, &id)
			unavailable = append(unavailable, id)
		}
		if !slices.Equal(unavailable, []string{"123", boxSKU}) {
			t.Errorf("sku_unavailable details: %s", r.body)
		}
		place("a deleted SKU", "k-2", with(body, "items", lines(white, 1)), 409, "sku_unavailable", false)
		r = place("not enough stock", "k-2", with(body, "items", lines(red, 1, oolong, 1, green, 3)), 409, "out_of_stock", false)
		short := map[string][2]int64{}
		for _, raw := range decode[errorDetails](t, r).Error.Details.SKUs {
			var s struct {
				SKUID     string `json:"sku_id"`
				Requested int64
				Available int64
			}
			json.Unmarshal(raw, &s)
			short[s.SKUID] = [2]int64{s.Requested, s.Available}
		}
		if len(short) != 2 || short[oolong] != [2]int64{1, 0} || short[green] != [2]int64{3, 2} {
			t.Errorf("out_of_stock details: %s", r.body)
		}
		place("another buyer's address", "k-2", with(body, "address_id", otherAddr), 404, "address_not_found", false)
		place("an unknown address", "k-2", with(body, "address_id", "123"), 404, "address_not_found", false)
		placeAs("a buyer that does not exist", ghost, "k-2", body, 404, "address_not_found", false)
		if l := levelOf(red); l != (level{Available: 8, Reserved: 2}) {
			t.Errorf("refused orders held stock: %+v", l)
		}

		const path = orders
		h.do(t, "bad JSON", call{method: post, path: path, token: buyer, header: key("k-2"), raw: "{", hasRaw: true, want: 400, code: "invalid_json", specRejects: true})
		h.do(t, "empty body", call{method: post, path: path, token: buyer, header: key("k-2"), raw: "", hasRaw: true, contentType: "application/json",
			want: 400, code: "empty_body", specRejects: true})
		place("unknown field", "k-2", with(body, "coupon", "FREE"), 400, "unknown_field", true)
		place("wrong type", "k-2", with(body, "from_cart", "yes"), 400, "wrong_type", true)
		place("sku_id not a number", "k-2", with(body, "items", lines("abc", 1)), 400, "wrong_type", true)
		h.do(t, "text/plain", call{method: post, path: path, token: buyer, header: key("k-2"), raw: "x", hasRaw: true, contentType: "text/plain",
			want: 415, code: "unsupported_media_type", specRejects: true})
		place("over the limit", "k-2", with(body, "remark", strings.Repeat("x", 5000)), 413, "body_too_large", true)
		buyerAuthErrors(t, h, post, path, body, key("k-2"), staff)

		// A refused key is free again; keys are per buyer.
		r = place("the refused key again", "k-2", with(body, "items", lines(green, 1, cupSKU, 1), "remark", nil), 201, "", false)
		third = decode[orderView](t, r)
		if third.ID == first.ID || third.Remark != "" || r.header.Get("Idempotent-Replayed") != "" || len(third.Lines) != 2 ||
			!bytes.Contains(r.body, []byte(`"specs":{}`)) {
			t.Errorf("third = %s", r.body)
		}
		r = placeAs("another buyer, the same key", other, "k-1", map[string]any{"items": lines(green, 1), "address_id": otherAddr}, 201, "", false)
		if o := decode[orderView](t, r); o.ID == first.ID || o.UserID != erin.User.ID || r.header.Get("Idempotent-Replayed") != "" {
			t.Errorf("erin's k-1 = %s", r.body)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		cancel := func(name, id, token string, want int, code string, rejects bool) result {
			t.Helper()
			return h.do(t, name, call{method: post, path: orders + "/" + id + "/cancel", token: token, want: want, code: code, specRejects: rejects})
		}
		o := decode[orderView](t, cancel("cancel", first.ID, buyer, 200, "", false))
		if o.Status != "cancelled" || o.CancelledAt == nil {
			t.Errorf("cancelled = %+v", o)
		}
		waitLevel("the cancelled order's stock is back", red, level{Available: 10})
		cancel("cancel again", first.ID, buyer, 409, "invalid_order_state", false)
		cancel("another buyer's order", third.ID, other, 404, "order_not_found", false)
		cancel("unknown order", "123", buyer, 404, "order_not_found", false)
		cancel("bad id", "abc", buyer, 400, "invalid_parameter", true)
		cancel("id 0", "0", buyer, 400, "invalid_parameter", false)
		buyerAuthErrors(t, h, post, orders+"/"+third.ID+"/cancel", nil, nil, staff)

		// A replay answers the order as it is now.
		r := place("replay after the cancel", "k-1", map[string]any{"items": lines(red, 2), "address_id": addr, "remark": "请尽快发货 <i>谢谢</i>"}, 201, "", false)
		if o := decode[orderView](t, r); o.ID != first.ID || o.Status != "cancelled" || r.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay after the cancel: %s", r.body)
		}
	})

	t.Run("from the cart", func(t *testing.T) {
		for _, add := range []struct {
			sku string
			n   int
		}{{green, 1}, {cupSKU, 1}, {red, 3}} {
			h.do(t, "add", call{method: post, path: items, token: buyer, body: map[string]any{"sku_id": add.sku, "quantity": add.n}, want: 200})
		}
		h.do(t, "deselect green", call{method: put, path: item(green), token: buyer, body: map[string]any{"selected": false}, want: 200})
		h.do(t, "cup off shelf", call{method: post, path: "/api/v1/admin/products/" + cup.ID + "/off-shelf", token: staff, want: 200})
		r := place("order the cart", "k-cart", map[string]any{"from_cart": true, "address_id": addr}, 201, "", false)
		fromCart = decode[orderView](t, r)
		if len(fromCart.Lines) != 1 || fromCart.Lines[0].SKUID != red || fromCart.Lines[0].Quantity != 3 || fromCart.ItemsTotal != 3000 || fromCart.Payable != 4000 {
			t.Errorf("from the cart: %s", r.body)
		}
		v := decode[cartView](t, h.do(t, "the cart after", call{method: get, path: cartPath, token: buyer, want: 200}))
		// Erin's order and the third hold green's two pieces.
		if want := fmt.Sprintf("%s:unavailable* %s:out_of_stock", cupSKU, green); v.states() != want {
			t.Errorf("cart after the order = %s, want %s", v.states(), want)
		}
		place("only unavailable lines selected", "k-cart-2", map[string]any{"from_cart": true, "address_id": addr}, 400, "empty_order", false)
		h.do(t, "cup on shelf", call{method: post, path: "/api/v1/admin/products/" + cup.ID + "/on-shelf", token: staff, want: 200})
		h.do(t, "empty the cart", call{method: del, path: cartPath, token: buyer, want: 204})
		if l := levelOf(red); l != (level{Available: 7, Reserved: 3}) {
			t.Errorf("red after the cart order: %+v", l)
		}
	})

	t.Run("pay, ship, note, confirm", func(t *testing.T) {
		apptest.PayOrder(t, h.app, fromCart.ID)
		waitLevel("the paid order's stock is sold", red, level{Available: 7, Sold: 3})
		act := func(name, action, id, token string, body any, want int, code string, rejects bool) orderView {
			t.Helper()
			r := h.do(t, name, call{method: post, path: orders + "/" + id + "/" + action, token: token, body: body, want: want, code: code, specRejects: rejects})
			if want != 200 {
				return orderView{}
			}
			return decode[orderView](t, r)
		}
		staffAct := func(name, action, id, token string, body any, want int, code string, rejects bool) orderView {
			t.Helper()
			r := h.do(t, name, call{method: post, path: adminOrders + "/" + id + "/" + action, token: token, body: body, want: want, code: code, specRejects: rejects})
			if want != 200 {
				return orderView{}
			}
			return decode[orderView](t, r)
		}
		act("cancel a paid order", "cancel", fromCart.ID, buyer, nil, 409, "invalid_order_state", false)
		act("confirm a paid order", "confirm-receipt", fromCart.ID, buyer, nil, 409, "invalid_order_state", false)

		ship := map[string]any{"carrier": "顺丰", "tracking_no": "SF1234567890"}
		staffAct("ship an unpaid order", "ship", third.ID, operator, ship, 409, "invalid_order_state", false)
		staffAct("ship a cancelled order", "ship", first.ID, staff, ship, 409, "invalid_order_state", false)
		staffAct("ship without carrier", "ship", fromCart.ID, staff, with(ship, "carrier", ""), 400, "validation_failed", true)
		staffAct("ship a blank carrier", "ship", fromCart.ID, staff, with(ship, "carrier", "  "), 400, "validation_failed", true)
		staffAct("ship without tracking_no", "ship", fromCart.ID, staff, with(ship, "tracking_no", nil), 400, "validation_failed", true)
		staffAct("ship a long tracking_no", "ship", fromCart.ID, staff, with(ship, "tracking_no", strings.Repeat("9", 65)), 400, "validation_failed", true)
		staffAct("ship an unknown order", "ship", "123", staff, ship, 404, "order_not_found", false)
		staffAct("ship bad id", "ship", "abc", staff, ship, 400, "invalid_parameter", true)
		bodyErrors(t, h, post, adminOrders+"/"+fromCart.ID+"/ship", operator, ship, with(ship, "carrier", 1), buyer)
		o := staffAct("ship", "ship", fromCart.ID, operator, ship, 200, "", false)
		if o.Status != "shipped" || o.Carrier != "顺丰" || o.TrackingNo != "SF1234567890" || o.ShippedAt == nil || o.AutoCompleteAt == nil || o.PaidAt == nil {
			t.Errorf("shipped = %+v", o)
		}
		staffAct("ship again", "ship", fromCart.ID, staff, ship, 409, "invalid_order_state", false)

		note := map[string]any{"note": "客户要求周末送达 <b>!</b>"}
		if o := staffAct("note", "note", fromCart.ID, staff, note, 200, "", false); o.StaffNote != "客户要求周末送达 <b>!</b>" || o.Status != "shipped" {
			t.Errorf("noted = %+v", o)
		}
		staffAct("note a cancelled order", "note", first.ID, operator, map[string]any{"note": "已取消"}, 200, "", false)
		if o := staffAct("clear a note", "note", first.ID, operator, map[string]any{}, 200, "", false); o.StaffNote != "" {
			t.Errorf("cleared note = %+v", o)
		}
		staffAct("note over 500 characters", "note", fromCart.ID, staff, map[string]any{"note": strings.Repeat("长", 501)}, 400, "validation_failed", true)
		staffAct("note an unknown order", "note", "123", staff, note, 404, "order_not_found", false)
		staffAct("note bad id", "note", "abc", staff, note, 400, "invalid_parameter", true)
		bodyErrors(t, h, post, adminOrders+"/"+fromCart.ID+"/note", staff, note, map[string]any{"note": 1}, buyer)

		if o := act("confirm receipt", "confirm-receipt", fromCart.ID, buyer, nil, 200, "", false); o.Status != "completed" || o.CompletedAt == nil {
			t.Errorf("completed = %+v", o)
		}
		act("confirm again", "confirm-receipt", fromCart.ID, buyer, nil, 409, "invalid_order_state", false)
		act("confirm an unpaid order", "confirm-receipt", third.ID, buyer, nil, 409, "invalid_order_state", false)
		act("confirm another buyer's order", "confirm-receipt", fromCart.ID, other, nil, 404, "order_not_found", false)
		act("confirm an unknown order", "confirm-receipt", "123", buyer, nil, 404, "order_not_found", false)
		act("confirm bad id", "confirm-receipt", "abc", buyer, nil, 400, "invalid_parameter", true)
		buyerAuthErrors(t, h, post, orders+"/"+fromCart.ID+"/confirm-receipt", nil, nil, staff)
	})

	t.Run("buyer reads", func(t *testing.T) {
		// The staff note is for staff: buyers never see it.
		o := decode[orderView](t, h.do(t, "get", call{method: get, path: orders + "/" + fromCart.ID, token: buyer, want: 200}))
		if o.Status != "completed" || o.StaffNote != "" {
			t.Errorf("order = %+v", o)
		}
		h.do(t, "get another buyer's", call{method: get, path: orders + "/" + fromCart.ID, token: other, want: 404, code: "order_not_found"})
		h.do(t, "get unknown", call{method: get, path: orders + "/123", token: buyer, want: 404, code: "order_not_found"})
		h.do(t, "get bad id", call{method: get, path: orders + "/abc", token: buyer, want: 400, code: "invalid_parameter", specRejects: true})
		h.do(t, "get id 0", call{method: get, path: orders + "/0", token: buyer, want: 400, code: "invalid_parameter"})
		buyerAuthErrors(t, h, get, orders+"/"+fromCart.ID, nil, nil, staff)

		list := func(name, query, token string) orderPage {
			return decode[orderPage](t, h.do(t, name, call{method: get, path: orders + query, token: token, want: 200}))
		}
		idsOf := func(p orderPage) []string {
			var out []string
			for _, o := range p.Items {
				out = append(out, o.ID)
			}
			return out
		}
		if p := list("list", "", buyer); p.Total != 3 || !slices.Equal(idsOf(p), []string{fromCart.ID, third.ID, first.ID}) || p.Page != 1 || p.PageSize != 20 {
			t.Errorf("list = %v %+v", idsOf(p), p)
		}
		if p := list("list pending", "?status=pending_payment", buyer); p.Total != 1 || p.Items[0].ID != third.ID {
			t.Errorf("pending = %v", idsOf(p))
		}
		if p := list("page 2", "?page=2&page_size=1", buyer); p.Total != 3 || !slices.Equal(idsOf(p), []string{third.ID}) {
			t.Errorf("page 2 = %v", idsOf(p))
		}
		if p := list("capped", "?page_size=1000", buyer); !p.PageSizeCapped || p.PageSize != 100 {
			t.Errorf("page_size=1000: %+v", p)
		}
		if p := list("another buyer's list", "", other); p.Total != 1 {
			t.Errorf("erin's list = %+v", p)
		}
		for _, q := range []string{"status=lost", "page=0", "page=501", "page=abc", "page_size=0"} {
			h.do(t, "list "+q, call{method: get, path: orders + "?" + q, token: buyer, want: 400, code: "validation_failed", specRejects: true})
		}
		buyerAuthErrors(t, h, get, orders, nil, nil, staff)
	})

	t.Run("staff reads", func(t *testing.T) {
		d := decode[orderView](t, h.do(t, "detail", call{method: get, path: adminOrders + "/" + fromCart.ID, token: operator, want: 200}))
		var steps []string
		for _, s := range d.History {
			steps = append(steps, s.From+">"+s.To+"/"+strings.SplitN(s.Actor, ":", 2)[0])
		}
		if got := strings.Join(steps, " "); got != ">pending_payment/user pending_payment>paid/payment paid>shipped/staff shipped>completed/user" || d.StaffNote == "" {
			t.Errorf("history = %s, note %q", got, d.StaffNote)
		}
		h.do(t, "detail unknown", call{method: get, path: adminOrders + "/123", token: staff, want: 404, code: "order_not_found"})
		h.do(t, "detail bad id", call{method: get, path: adminOrders + "/abc", token: staff, want: 400, code: "invalid_parameter", specRejects: true})
		authErrors(t, h, get, adminOrders+"/"+fromCart.ID, nil, buyer)

		search := func(name, query string) orderPage {
			return decode[orderPage](t, h.do(t, name, call{method: get, path: adminOrders + query, token: staff, want: 200}))
		}
		from := url.QueryEscape(first.CreatedAt.Truncate(time.Second).Format(time.RFC3339))
		to := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
		for q, want := range map[string]int{
			"":                                    4,
			"?status=completed":                   1,
			"?order_no=" + fromCart.OrderNo:       1,
			"?order_no=nope":                      0,
			"?user_id=" + dave.User.ID:            3,
			"?user_id=" + fay.User.ID:             0,
			"?from=" + from + "&to=" + to:         4,
			"?to=" + from:                         0,
			"?status=pending_payment&page_size=1": 2,
		} {
			if p := search("search "+q, q); p.Total != want {
				t.Errorf("search %s: total %d, want %d", q, p.Total, want)
			}
		}
		if p := search("search capped", "?page_size=1000&page=1"); !p.PageSizeCapped || p.PageSize != 100 {
			t.Errorf("page_size=1000: %+v", p)
		}
		for _, q := range []string{"status=lost", "user_id=abc", "from=yesterday", "to=2026-13-01", "page=0", "page_size=abc"} {
			h.do(t, "search "+q, call{method: get, path: adminOrders + "?" + q, token: staff, want: 400, code: "validation_failed", specRejects: true})
		}
		h.do(t, "search user_id 0", call{method: get, path: adminOrders + "?user_id=0", token: staff, want: 400, code: "validation_failed"})
		authErrors(t, h, get, adminOrders, nil, buyer)
	})

	t.Run("a key still in progress", func(t *testing.T) {
		stuck.wait(t, h, "a key whose request never finished", 409, "request_in_progress")
	})
}
