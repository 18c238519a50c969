package app

import (
	"github.com/minimart/minimart/internal/cart"
	"github.com/minimart/minimart/internal/inventory"
	"github.com/minimart/minimart/internal/order"
	"github.com/minimart/minimart/internal/payment"
)

// The adapters, for the port conformance suite in ports_test.go, which runs each port over
// the local service and over the module's HTTP client.
var (
	OrderCatalog   = func(src skuSource) order.Catalog { return orderCatalog{src} }
	CartCatalog    = func(src skuSource) cart.Catalog { return cartCatalog{src} }
	OrderStock     = func(src stockSource) order.Stock { return orderStock{src} }
	OrderAddresses = func(src userSource) order.Addresses { return orderAddresses{src} }
	OrderCart      = func(src cartSource) order.Cart { return orderCart{src} }
	PaymentOrders  = func(src orderSource) payment.Orders { return paymentOrders{src} }
	// InventorySKUNames is the catalog as the inventory's staff lists name SKUs with it.
	InventorySKUNames = func(src skuSource) inventory.SKUNames { return inventorySKUNames{src} }
)
