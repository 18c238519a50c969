package inventory

import "github.com/prometheus/client_golang/prometheus"

// Metrics counts stock refusals for Prometheus. Make it with NewMetrics and hand it to
// Service.CountWith; a Service without one counts nothing.
type Metrics struct {
	outOfStock prometheus.Counter
}

// NewMetrics makes the inventory metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		outOfStock: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "minimart_inventory_out_of_stock_total",
			Help: "Stock holds refused for lack of stock: orders (and flash-sale holds) answered out_of_stock.",
		}),
	}
	if err := reg.Register(m.outOfStock); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Metrics) refused() {
	if m != nil {
		m.outOfStock.Inc()
	}
}
