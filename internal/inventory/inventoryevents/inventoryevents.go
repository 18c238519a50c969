// Package inventoryevents is the inventory module's contract with other modules: the events
// it publishes and their payloads. It imports only platform packages.
package inventoryevents

import "github.com/minimart/minimart/internal/platform/ids"

// TypeStockChanged is published after every change of a SKU's stock.
const TypeStockChanged = "inventory.stock.changed"

// StockChanged is the payload of inventory.stock.changed: the levels after the change.
type StockChanged struct {
	SKUID     ids.ID `json:"sku_id"`
	ProductID ids.ID `json:"product_id"`
	Available int64  `json:"available"`
	Reserved  int64  `json:"reserved"`
	Sold      int64  `json:"sold"`
	// DeltaAvailable is how much available changed (negative when it fell).
	DeltaAvailable int64  `json:"delta_available"`
	Reason         string `json:"reason"`
	Source         string `json:"source"`
}
