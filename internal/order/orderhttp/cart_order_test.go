package orderhttp_test

import (
	"testing"
)

// An order from the cart takes the selected lines only, and they leave the cart.
func TestOrderFromCart(t *testing.T) {
	sh := newShop(t, nil, 5, 5)
	token, addr := sh.buyer("carter")
	for _, sku := range sh.skus {
		sh.must(200, "POST", "/api/v1/cart/items", token, map[string]any{"sku_id": sku, "quantity": 2})
	}
	sh.must(200, "PUT", "/api/v1/cart/items/"+sh.skus[1], token, map[string]any{"selected": false})
	r := sh.order(token, "cart-1", map[string]any{"from_cart": true, "address_id": addr})
	var o struct {
		Lines []struct {
			SKUID    string `json:"sku_id"`
			Quantity int
		}
	}
	r.Decode(t, &o)
	if r.Status != 201 || len(o.Lines) != 1 || o.Lines[0].SKUID != sh.skus[0] || o.Lines[0].Quantity != 2 {
		t.Fatalf("order from cart: %d %s", r.Status, r.Body)
	}
	view := sh.must(200, "GET", "/api/v1/cart", token, nil)
	lines := view["lines"].([]any)
	if len(lines) != 1 || lines[0].(map[string]any)["sku_id"] != sh.skus[1] {
		t.Fatalf("the ordered line must leave the cart, the other stay: %v", view)
	}
	if l := sh.checkInvariant(sh.skus[0], 5); l.Reserved != 2 {
		t.Fatalf("stock: %+v", l)
	}
}
